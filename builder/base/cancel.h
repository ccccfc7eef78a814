/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Cancellation (Ctrl-C).  The front end's signal handler calls
 * cancel_request(), which is async-signal-safe: it sets a flag and kills
 * every running appliance, so the blocked libguestfs call fails at once.
 * Downloads poll cancel_requested() from their progress callback.  Every
 * stage then unwinds through its cleanup handlers, removing temporary files;
 * nothing calls exit() below main().
 */

#include <stdbool.h>

void cancel_request(void);
bool cancel_requested(void);
