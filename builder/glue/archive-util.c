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

int archive_decompress_memory(ErrorSlot *err, const char *what, const void *data, size_t size, size_t max,
                              char **ret, size_t *ret_size) {
        _cleanup_(archive_read_freep) struct archive *a = archive_read_new();
        _cleanup_free_ char *buf = NULL;
        struct archive_entry *e;
        size_t n = 0, alloc = 0;

        if (!a)
                return -ENOMEM;
        /* Only the two compressions Debian's indexes come in. */
        if (archive_read_support_filter_xz(a) != ARCHIVE_OK || archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
            archive_read_support_format_raw(a) != ARCHIVE_OK)
                return archive_error(err, a, "%s", what);
        if (archive_read_open_memory(a, data, size) != ARCHIVE_OK || archive_read_next_header(a, &e) != ARCHIVE_OK)
                return archive_error(err, a, "cannot decompress %s", what);
        if (archive_filter_code(a, 0) != ARCHIVE_FILTER_XZ && archive_filter_code(a, 0) != ARCHIVE_FILTER_GZIP)
                return error_set(err, -EBADMSG, "%s is neither xz nor gzip data", what);
        for (;;) {
                if (alloc - n < 65536) {
                        size_t want = alloc ? alloc * 2 : 1u << 20;
                        char *p;

                        if (want > max + 1)
                                want = max + 1;
                        if (want <= n)
                                return error_set(err, -EFBIG, "%s decompresses to more than %zu bytes", what, max);
                        p = realloc(buf, want + 1);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                        alloc = want;
                }
                la_ssize_t got = archive_read_data(a, buf + n, alloc - n);
                if (got < 0)
                        return archive_error(err, a, "cannot decompress %s", what);
                if (got == 0)
                        break;
                n += (size_t) got;
                if (n > max)
                        return error_set(err, -EFBIG, "%s decompresses to more than %zu bytes", what, max);
        }
        if (!buf && !(buf = malloc(1)))
                return -ENOMEM;
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        *ret_size = n;
        return 0;
}
