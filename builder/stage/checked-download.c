/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checked-download.h"
#include "curl-util.h"
#include "sha256.h"

/* 1 if path is a file of that size and SHA256, 0 if not (or absent). */
int checked_file_present(const char *path, uint64_t size, const char *sha256) {
        _cleanup_free_ char *hex = NULL;
        struct stat st;
        int r;

        if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t) st.st_size != size)
                return 0;
        r = sha256_file(path, &hex);
        if (r < 0)
                return r;
        return streq(hex, sha256);
}

int mkdir_parent(ErrorSlot *err, const char *path) {
        _cleanup_free_ char *dir = strdup(path);
        int r;

        if (!dir)
                return -ENOMEM;
        *strrchr(dir, '/') = 0;
        r = mkdir_p(dir, 0755);
        if (r < 0)
                return error_set_errno(err, r, "cannot create '%s'", dir);
        return 0;
}

/* Download url to dest, then check it; a file that does not match is
 * removed and the error names what it should have been. */
int download_checked(ErrorSlot *err, const char *url, const char *proxy, const char *dest, uint64_t size,
                            const char *sha256, const char *what) {
        _cleanup_free_ char *tmp = strdup_printf("%s.part", dest);
        int r;

        if (!tmp)
                return -ENOMEM;
        r = mkdir_parent(err, dest);
        if (r < 0)
                return r;
        r = curl_download_file(err, url, proxy, tmp, size, what);
        if (r == -EFBIG)
                return error_set(err, -EBADMSG, "'%s' is larger than the %" PRIu64 " bytes pinned for %s", url,
                                 size, what);
        if (r < 0)
                return r;
        r = checked_file_present(tmp, size, sha256);
        if (r <= 0) {
                (void) unlink(tmp);
                if (r < 0)
                        return error_set_errno(err, r, "cannot read '%s'", tmp);
                return error_set(err, -EBADMSG, "'%s' is not %s: its size or SHA256 differs from the pinned sha256 %s",
                                 url, what, sha256);
        }
        if (rename(tmp, dest) < 0) {
                r = -errno;
                (void) unlink(tmp);
                return error_set_errno(err, r, "cannot rename '%s' to '%s'", tmp, dest);
        }
        return 0;
}

int index_download(ErrorSlot *err, const char *mirror, const char *suite, const char *proxy,
                   const struct ReleaseEntry *e, const char *dest) {
        _cleanup_free_ char *dir = strdup(e->path), *url = NULL;
        int r;

        if (!dir)
                return -ENOMEM;
        r = checked_file_present(dest, e->size, e->sha256);
        if (r < 0)
                return error_set_errno(err, r, "cannot read '%s'", dest);
        if (r > 0)
                return 0;
        *strrchr(dir, '/') = 0;
        url = strdup_printf("%s/dists/%s/%s/by-hash/SHA256/%s", mirror, suite, dir, e->sha256);
        if (!url)
                return -ENOMEM;
        r = download_checked(err, url, proxy, dest, e->size, e->sha256, e->path);
        if (r == -ENOENT) {
                error_clear(err);
                free(url);
                url = strdup_printf("%s/dists/%s/%s", mirror, suite, e->path);
                if (!url)
                        return -ENOMEM;
                r = download_checked(err, url, proxy, dest, e->size, e->sha256, e->path);
        }
        if (r < 0)
                return error_prefix(err, r, "index file '%s'", e->path);
        return 1;
}
