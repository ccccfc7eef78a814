/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <signal.h>

#include "cancel.h"
#include "guestfs-util.h"

static volatile sig_atomic_t cancelled;

void cancel_request(void) {
        cancelled = 1;
        appliance_kill_all();
}

bool cancel_requested(void) {
        return cancelled;
}
