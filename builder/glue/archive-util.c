/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "archive-util.h"

int archive_error(ErrorSlot *err, struct archive *a, const char *fmt, ...) {
        _cleanup_free_ char *what = NULL;
        const char *m = archive_error_string(a);
        int e = archive_errno(a);
        int r = e > 0 ? -e : -EIO;
        va_list ap;

        va_start(ap, fmt);
        what = strdup_vprintf(fmt, ap);
        va_end(ap);
        if (!what)
                return error_set(err, r, "%s", m ?: "unknown libarchive error");
        return error_set(err, r, "%s: %s", what, m ?: "unknown libarchive error");
}
