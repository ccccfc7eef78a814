/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <pthread.h>

#include "parallel.h"

typedef struct Pool {
        pthread_mutex_t lock;
        size_t next;            /* the next job to start */
        size_t n;
        bool failed;            /* a job failed: start no more */
        ParallelJob job;
        void *userdata;
        ErrorSlot *errors;      /* one per job */
        int *results;
} Pool;

static void *worker(void *userdata) {
        Pool *p = userdata;

        for (;;) {
                size_t i;
                int r;

                pthread_mutex_lock(&p->lock);
                if (p->failed || p->next >= p->n) {
                        pthread_mutex_unlock(&p->lock);
                        return NULL;
                }
                i = p->next++;
                pthread_mutex_unlock(&p->lock);

                r = p->job(&p->errors[i], i, p->userdata);
                p->results[i] = r;
                if (r < 0) {
                        pthread_mutex_lock(&p->lock);
                        p->failed = true;
                        pthread_mutex_unlock(&p->lock);
                }
        }
}

static int run_in_order(ErrorSlot *err, size_t n, ParallelJob job, void *userdata) {
        for (size_t i = 0; i < n; i++) {
                int r = job(err, i, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

int parallel_run(ErrorSlot *err, size_t n, unsigned max_threads, ParallelJob job, void *userdata) {
        _cleanup_free_ pthread_t *threads = NULL;
        _cleanup_free_ ErrorSlot *errors = NULL;
        _cleanup_free_ int *results = NULL;
        size_t n_threads = (size_t) max_threads < n ? (size_t) max_threads : n, started = 0;
        int r = 0;

        if (n_threads <= 1)
                return run_in_order(err, n, job, userdata);

        threads = calloc(n_threads, sizeof(pthread_t));
        errors = calloc(n, sizeof(ErrorSlot));
        results = calloc(n, sizeof(int));
        if (!threads || !errors || !results)
                return -ENOMEM;

        Pool p = {
                .lock = PTHREAD_MUTEX_INITIALIZER,
                .n = n,
                .job = job,
                .userdata = userdata,
                .errors = errors,
                .results = results,
        };
        for (; started < n_threads; started++) {
                r = -pthread_create(&threads[started], NULL, worker, &p);
                if (r < 0)
                        break;
        }
        if (started == 0)
                /* No thread at all: do the work here. */
                return run_in_order(err, n, job, userdata);
        /* With fewer threads than asked, the started ones take all jobs. */
        for (size_t t = 0; t < started; t++)
                (void) pthread_join(threads[t], NULL);

        r = 0;
        for (size_t i = 0; i < n; i++)
                if (results[i] < 0 && r == 0) {
                        r = results[i];
                        if (errors[i].message)
                                error_set(err, r, "%s", errors[i].message);
                }
        for (size_t i = 0; i < n; i++)
                error_done(&errors[i]);
        return r;
}
