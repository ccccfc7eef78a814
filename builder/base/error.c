/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "error.h"

_printf_(4, 0) static int error_vset(ErrorSlot *e, int r, bool with_errno, const char *fmt, va_list ap) {
        _cleanup_free_ char *m = NULL;

        if (!e || e->message)
                return r;
        m = strdup_vprintf(fmt, ap);
        if (!m)
                return r;
        if (with_errno) {
                char *t = strdup_printf("%s: %s", m, strerror(-r));
                if (!t)
                        return r;
                free(m);
                m = t;
        }
        e->message = TAKE_PTR(m);
        e->code = r;
        return r;
}

int error_set(ErrorSlot *e, int r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        r = error_vset(e, r, false, fmt, ap);
        va_end(ap);
        return r;
}

int error_set_errno(ErrorSlot *e, int r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        r = error_vset(e, r, true, fmt, ap);
        va_end(ap);
        return r;
}

int error_prefix(ErrorSlot *e, int r, const char *fmt, ...) {
        _cleanup_free_ char *p = NULL;
        va_list ap;

        if (!e)
                return r;
        va_start(ap, fmt);
        p = strdup_vprintf(fmt, ap);
        va_end(ap);
        if (!p)
                return r;
        if (!e->message) {
                e->message = strdup_printf("%s: %s", p, strerror(-r));
                e->code = r;
        } else {
                char *m = strdup_printf("%s: %s", p, e->message);
                if (m) {
                        free(e->message);
                        e->message = m;
                }
        }
        return r;
}

void error_clear(ErrorSlot *e) {
        if (!e)
                return;
        free(e->message);
        e->message = NULL;
        e->code = 0;
}

const char *error_text(const ErrorSlot *e, int r) {
        if (e && e->message)
                return e->message;
        return strerror(r < 0 ? -r : r);
}
