/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The library never prints.  It reports what it is doing through one sink
 * that the front end installs (log_set_sink()); without a sink, messages are
 * dropped.  Levels follow syslog.  Only the orchestrator (build.c) logs above
 * LOG_DEBUG; modules below it report failures through their ErrorSlot.
 *
 * Progress of long steps (downloads, appliance commands) goes through a
 * separate progress sink so a front end can draw it on one line.
 */

#include <syslog.h>

#include "util.h"

typedef void (*LogSink)(int level, const char *message, void *userdata);

typedef enum ProgressUnit {
        PROGRESS_BYTES,         /* done/total are bytes (total 0: unknown) */
        PROGRESS_PACKAGES,      /* done/total are packages installed */
} ProgressUnit;

typedef struct ProgressEvent {
        const char *stage;              /* the step's label: "bootstrap", a flavor, "export" */
        const char *what;               /* what it does now (may be NULL) */
        uint64_t done, total;
        ProgressUnit unit;
        uint64_t step_started_usec;     /* when the label's step began (log_step_begin()), 0: unknown */
        double step_expected_seconds;   /* how long it took the last time it was built, 0: unknown */
} ProgressEvent;

typedef void (*ProgressSink)(const ProgressEvent *e, void *userdata);

void log_set_sink(LogSink sink, void *userdata);
void log_set_progress_sink(ProgressSink sink, void *userdata);
void log_set_max_level(int level);
int log_get_max_level(void);

void log_msg(int level, const char *fmt, ...) _printf_(2, 3);
/* Log and return r, for "return log_error_errno(r, ...)" in the orchestrator. */
int log_msg_errno(int level, int r, const char *fmt, ...) _printf_(3, 4);
/* Report progress: total 0 means unknown; what may be NULL. */
void log_progress(const char *stage, const char *what, uint64_t done, uint64_t total);
void log_progress_packages(const char *stage, const char *what, uint64_t done, uint64_t total);
/* A step of that label begins now (and is expected to take this long, 0:
 * unknown): the label's progress events carry both until it ends. */
void log_step_begin(const char *stage, double expected_seconds);
void log_step_end(const char *stage);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_error_errno(r, ...) log_msg_errno(LOG_ERR, r, __VA_ARGS__)
