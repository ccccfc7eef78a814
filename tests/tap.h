/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Minimal TAP producer for meson's 'tap' protocol.
 *
 *     tap_plan_lazy();
 *     tap_ok(r == 0, "parses %s", name);
 *     return tap_done();
 *
 * tap_skip_all() prints "1..0 # SKIP why" and returns the exit status of a
 * skipped test (below).
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned tap_n, tap_failed;

/* A description may quote a multi-line message: a newline would end the TAP
 * line and leave the rest as unparsable output, so each becomes " | ". */
static inline void tap_vprint_line(const char *fmt, va_list ap) {
        char *s = NULL;

        if (vasprintf(&s, fmt, ap) < 0) {
                printf("(out of memory)\n");
                return;
        }
        for (const char *p = s; *p; p++)
                if (*p == '\n')
                        fputs(" | ", stdout);
                else
                        putchar(*p);
        putchar('\n');
        free(s);
}

static inline void tap_plan_lazy(void) {
        setvbuf(stdout, NULL, _IOLBF, 0);
}

__attribute__((format(printf, 2, 3))) static inline bool tap_ok(bool ok, const char *fmt, ...) {
        va_list ap;

        tap_n++;
        if (!ok)
                tap_failed++;
        printf("%s %u - ", ok ? "ok" : "not ok", tap_n);
        va_start(ap, fmt);
        tap_vprint_line(fmt, ap);
        va_end(ap);
        fflush(stdout);
        return ok;
}

__attribute__((format(printf, 1, 2))) static inline void tap_diag(const char *fmt, ...) {
        va_list ap;

        printf("# ");
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
}

/* The exit status of a skipped test: 77, except under meson's TAP runner
 * (WB_MESON_TAP=1), which reports the plan "1..0 # SKIP" as a skip only
 * with status 0. */
static inline int tap_skip_all(const char *why) {
        const char *m = getenv("WB_MESON_TAP");

        printf("1..0 # SKIP %s\n", why);
        return m && strcmp(m, "1") == 0 ? 0 : 77;
}

/* One check that cannot run here: "ok N # SKIP why". */
static inline void tap_skip_one(const char *why) {
        tap_n++;
        printf("ok %u # SKIP %s\n", tap_n, why);
}

static inline int tap_done(void) {
        printf("1..%u\n", tap_n);
        return tap_failed ? 1 : 0;
}
