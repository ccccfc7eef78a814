/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <signal.h>
#include <stddef.h>

#include "cancel.h"

#define MAX_WATCHED 16

static volatile sig_atomic_t cancelled, cancel_sig;
static volatile pid_t watched[MAX_WATCHED];

/* Children start on several threads: a slot is claimed atomically (and
 * read from the signal handler). */
void cancel_watch_pid(pid_t pid) {
        for (size_t i = 0; i < MAX_WATCHED; i++) {
                pid_t free_slot = 0;

                if (__atomic_compare_exchange_n(&watched[i], &free_slot, pid, false, __ATOMIC_SEQ_CST,
                                                __ATOMIC_SEQ_CST))
                        return;
        }
}

void cancel_unwatch_pid(pid_t pid) {
        for (size_t i = 0; i < MAX_WATCHED; i++) {
                pid_t mine = pid;

                (void) __atomic_compare_exchange_n(&watched[i], &mine, 0, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
        }
}

void cancel_kill_watched(void) {
        for (size_t i = 0; i < MAX_WATCHED; i++)
                if (watched[i] > 0)
                        (void) kill(watched[i], SIGKILL);
}

void cancel_request(void) {
        cancelled = 1;
        cancel_kill_watched();
}

void cancel_request_by_signal(int sig) {
        cancel_sig = sig;
        cancel_request();
}

int cancel_signal(void) {
        return cancel_sig;
}

bool cancel_requested(void) {
        return cancelled;
}
