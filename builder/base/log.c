/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <pthread.h>

#include "log.h"

/* The build runs flavors on threads: one message or progress report at a
 * time reaches the front end's sinks. */
static pthread_mutex_t sink_lock = PTHREAD_MUTEX_INITIALIZER;

static LogSink log_sink;
static void *log_userdata;
static ProgressSink progress_sink;
static void *progress_userdata;
static int max_level = LOG_INFO;

void log_set_sink(LogSink sink, void *userdata) {
        log_sink = sink;
        log_userdata = userdata;
}

void log_set_progress_sink(ProgressSink sink, void *userdata) {
        progress_sink = sink;
        progress_userdata = userdata;
}

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

_printf_(2, 0) static void log_vmsg(int level, const char *fmt, va_list ap) {
        _cleanup_free_ char *m = NULL;

        if (!log_sink || level > max_level)
                return;
        m = strdup_vprintf(fmt, ap);
        if (!m)
                return;
        pthread_mutex_lock(&sink_lock);
        log_sink(level, m, log_userdata);
        pthread_mutex_unlock(&sink_lock);
}

void log_msg(int level, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        log_vmsg(level, fmt, ap);
        va_end(ap);
}

int log_msg_errno(int level, int r, const char *fmt, ...) {
        int saved = errno;
        va_list ap;

        /* Allow %m in fmt to mean the error r. */
        errno = r < 0 ? -r : r;
        va_start(ap, fmt);
        log_vmsg(level, fmt, ap);
        va_end(ap);
        errno = saved;
        return r < 0 ? r : -r;
}

/* The steps running now (one per flavor at most, and the shared ones). */
#define MAX_STEPS 16u
static struct {
        char stage[64];
        uint64_t started;
        double expected;
} steps[MAX_STEPS];

static void emit(const char *stage, const char *what, uint64_t done, uint64_t total, ProgressUnit unit) {
        ProgressEvent e = { .stage = stage, .what = what, .done = done, .total = total, .unit = unit };

        if (!progress_sink || !stage)
                return;
        pthread_mutex_lock(&sink_lock);
        for (size_t i = 0; i < MAX_STEPS; i++)
                if (steps[i].started && streq(steps[i].stage, stage)) {
                        e.step_started_usec = steps[i].started;
                        e.step_expected_seconds = steps[i].expected;
                        break;
                }
        progress_sink(&e, progress_userdata);
        pthread_mutex_unlock(&sink_lock);
}

void log_progress(const char *stage, const char *what, uint64_t done, uint64_t total) {
        emit(stage, what, done, total, PROGRESS_BYTES);
}

void log_progress_packages(const char *stage, const char *what, uint64_t done, uint64_t total) {
        emit(stage, what, done, total, PROGRESS_PACKAGES);
}

void log_step_begin(const char *stage, double expected_seconds) {
        size_t free_slot = MAX_STEPS;

        if (!stage || strlen(stage) >= sizeof steps[0].stage)
                return;
        pthread_mutex_lock(&sink_lock);
        for (size_t i = 0; i < MAX_STEPS; i++) {
                if (steps[i].started && streq(steps[i].stage, stage)) {
                        free_slot = i;
                        break;
                }
                if (!steps[i].started && free_slot == MAX_STEPS)
                        free_slot = i;
        }
        if (free_slot < MAX_STEPS) {
                strcpy(steps[free_slot].stage, stage);
                steps[free_slot].started = now_usec();
                steps[free_slot].expected = expected_seconds > 0 ? expected_seconds : 0;
        }
        pthread_mutex_unlock(&sink_lock);
}

void log_step_end(const char *stage) {
        if (!stage)
                return;
        pthread_mutex_lock(&sink_lock);
        for (size_t i = 0; i < MAX_STEPS; i++)
                if (steps[i].started && streq(steps[i].stage, stage))
                        steps[i].started = 0;
        pthread_mutex_unlock(&sink_lock);
}
