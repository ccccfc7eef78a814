/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>

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

int archive_deb_data_tar(ErrorSlot *err, const char *deb_path, size_t max, char **ret, size_t *ret_size) {
        _cleanup_(archive_read_freep) struct archive *a = archive_read_new();
        _cleanup_free_ char *member = NULL;
        struct archive_entry *e;
        int k;

        if (!a)
                return -ENOMEM;
        if (archive_read_support_format_ar(a) != ARCHIVE_OK)
                return archive_error(err, a, "'%s'", deb_path);
        if (archive_read_open_filename(a, deb_path, 65536) != ARCHIVE_OK)
                return archive_error(err, a, "cannot open '%s'", deb_path);
        while ((k = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
                const char *name = archive_entry_pathname(e);
                la_int64_t size = archive_entry_size(e);
                size_t n = 0;

                if (!name || !startswith(name, "data.tar"))
                        continue;
                if (!streq(name, "data.tar.xz") && !streq(name, "data.tar.gz") && !streq(name, "data.tar"))
                        return error_set(err, -EBADMSG, "'%s': its data member '%s' is not tar, tar.xz or tar.gz",
                                         deb_path, name);
                if (size < 0 || (uint64_t) size > max)
                        return error_set(err, -EFBIG, "'%s': '%s' is larger than %zu bytes", deb_path, name, max);
                member = malloc((size_t) size + 1);
                if (!member)
                        return -ENOMEM;
                while (n < (size_t) size) {
                        la_ssize_t got = archive_read_data(a, member + n, (size_t) size - n);
                        if (got < 0)
                                return archive_error(err, a, "cannot read '%s' of '%s'", name, deb_path);
                        if (got == 0)
                                return error_set(err, -EBADMSG, "'%s': '%s' is cut short", deb_path, name);
                        n += (size_t) got;
                }
                if (streq(name, "data.tar")) {
                        member[n] = 0;
                        *ret = TAKE_PTR(member);
                        *ret_size = n;
                        return 0;
                }
                return archive_decompress_memory(err, name, member, n, max, ret, ret_size);
        }
        if (k != ARCHIVE_EOF)
                return archive_error(err, a, "cannot read '%s'", deb_path);
        return error_set(err, -EBADMSG, "'%s' has no data.tar member: not a Debian package", deb_path);
}

int archive_library_dir(ErrorSlot *err, char **ret) {
        Dl_info info = {};
        _cleanup_free_ char *path = NULL;
        char *slash;

        if (dladdr((void *) archive_read_new, &info) == 0 || !info.dli_fname)
                return error_set(err, -ENOENT, "cannot tell where this program's libarchive is loaded from");
        path = realpath(info.dli_fname, NULL);
        if (!path)
                return error_set_errno(err, -errno, "cannot resolve '%s'", info.dli_fname);
        slash = strrchr(path, '/');
        if (!slash || slash == path)
                return error_set(err, -EINVAL, "libarchive is loaded from '%s', not from a library directory", path);
        *slash = 0;
        *ret = TAKE_PTR(path);
        return 0;
}
