/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Cancellation (Ctrl-C).  The front end's signal handler calls
 * cancel_request(), which is async-signal-safe: it sets a flag and kills
 * every watched process (each running appliance), so the blocked libguestfs
 * call fails at once.
 * Downloads poll cancel_requested() from their progress callback.  Every
 * stage then unwinds through its cleanup handlers, removing temporary files;
 * nothing calls exit() below main().
 */

#include <stdbool.h>
#include <sys/types.h>

void cancel_request(void);
bool cancel_requested(void);
/* The same from a signal handler, remembering the signal; cancel_signal()
 * is that signal, or 0. */
void cancel_request_by_signal(int sig);
int cancel_signal(void);

/* The processes cancel_request() kills (SIGKILL): the appliances' qemu,
 * registered by guestfs-util.  At most 16 at once; all async-signal-safe. */
void cancel_watch_pid(pid_t pid);
void cancel_unwatch_pid(pid_t pid);
void cancel_kill_watched(void);
