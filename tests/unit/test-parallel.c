/* SPDX-License-Identifier: GPL-2.0-or-later */
/* parallel_run(): every job runs once; two jobs really overlap when two
 * threads are allowed (a barrier that only two concurrent jobs can pass);
 * the failure of the lowest index and its message are what the caller
 * sees; after a failure no new job starts; one thread runs in order. */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "parallel.h"
#include "tap.h"

#define N 16

typedef struct Ctx {
        atomic_int runs[N];
        atomic_int order[N];
        atomic_int seq;
        int fail_at[N];             /* -errno to return, 0 to succeed */
        atomic_int active;          /* for the overlap test: jobs running now */
        bool overlap;
} Ctx;

static int job(ErrorSlot *err, size_t i, void *userdata) {
        Ctx *c = userdata;

        atomic_fetch_add(&c->runs[i], 1);
        c->order[i] = atomic_fetch_add(&c->seq, 1);
        if (c->fail_at[i])
                return error_set(err, c->fail_at[i], "job %zu failed", i);
        return 0;
}

/* Each job waits (bounded, 2 s) for another one to be running with it. */
static int rendezvous(ErrorSlot *err, size_t i, void *userdata) {
        Ctx *c = userdata;
        struct timespec pause = { 0, 10 * 1000 * 1000 };

        (void) err;
        (void) i;
        atomic_fetch_add(&c->active, 1);
        for (int t = 0; t < 200; t++) {
                if (atomic_load(&c->active) >= 2) {
                        c->overlap = true;
                        break;
                }
                nanosleep(&pause, NULL);
        }
        atomic_fetch_sub(&c->active, 1);
        return 0;
}

int main(void) {
        ErrorSlot err = {};
        int r;

        tap_plan_lazy();

        {
                Ctx c = {};
                r = parallel_run(&err, N, 4, job, &c);
                bool once = true;
                for (size_t i = 0; i < N; i++)
                        once = once && c.runs[i] == 1;
                tap_ok(r == 0 && once, "4 threads: each of %d jobs runs exactly once (r=%d)", N, r);
        }
        {
                Ctx c = {};
                r = parallel_run(&err, 2, 2, rendezvous, &c);
                tap_ok(r == 0 && c.overlap, "2 threads: two jobs run at the same time");
        }
        {
                Ctx c = {};
                r = parallel_run(&err, 2, 1, rendezvous, &c);
                tap_ok(r == 0 && !c.overlap, "1 thread: jobs never overlap");
        }
        {
                Ctx c = {};
                c.fail_at[3] = -EIO;
                c.fail_at[5] = -EPERM;
                r = parallel_run(&err, N, 1, job, &c);
                tap_ok(r == -EIO && err.message && strcmp(err.message, "job 3 failed") == 0,
                       "1 thread: the first failure is returned with its message (%d, '%s')", r,
                       strempty(err.message));
                bool in_order = true;
                for (size_t i = 0; i <= 3; i++)
                        in_order = in_order && c.order[i] == (int) i;
                tap_ok(in_order && c.runs[4] == 0 && c.runs[5] == 0, "1 thread: in order, nothing after the failure");
                error_clear(&err);
        }
        {
                /* With 2 threads, job 0 and job 1 both fail: the caller
                 * sees job 0's error whichever finished first. */
                Ctx c = {};
                c.fail_at[0] = -ENOENT;
                c.fail_at[1] = -EIO;
                r = parallel_run(&err, N, 2, job, &c);
                tap_ok(r == -ENOENT && err.message && strcmp(err.message, "job 0 failed") == 0,
                       "2 threads: the lowest failing index wins (%d, '%s')", r, strempty(err.message));
                unsigned started = 0;
                for (size_t i = 0; i < N; i++)
                        started += (unsigned) c.runs[i];
                tap_ok(started < N, "2 threads: jobs after a failure do not start (%u of %d ran)", started, N);
                error_clear(&err);
        }
        {
                Ctx c = {};
                r = parallel_run(&err, 0, 2, job, &c);
                tap_ok(r == 0 && c.seq == 0, "no jobs: nothing runs");
        }
        return tap_done();
}
