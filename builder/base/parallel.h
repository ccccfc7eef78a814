/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Independent jobs on a few threads: the build runs each flavor's layer and
 * its finalize in an appliance of its own, side by side when it may use
 * more than one CPU.
 *
 * Each job gets its own error slot.  Once a job fails no new job starts, the
 * running ones finish, and parallel_run() returns the failure of the lowest
 * index with that job's message in err: the same error a sequential run
 * would have reported first.
 */

#include "error.h"

typedef int (*ParallelJob)(ErrorSlot *err, size_t index, void *userdata);

/* Run job(0) .. job(n - 1) on at most max_threads threads; 1 (or n == 1)
 * runs them in order in the calling thread. */
int parallel_run(ErrorSlot *err, size_t n, unsigned max_threads, ParallelJob job, void *userdata);
