/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cancel.h"
#include "publish-copy.h"
#include "util.h"

#define CHUNK (1024u * 1024u)

static void hex_of(Sha256 *s, char ret[static SHA256_HEX_SIZE]) {
        uint8_t d[SHA256_DIGEST_SIZE];
        static const char digits[] = "0123456789abcdef";

        sha256_final(s, d);
        for (size_t i = 0; i < sizeof d; i++) {
                ret[2 * i] = digits[d[i] >> 4];
                ret[2 * i + 1] = digits[d[i] & 15];
        }
        ret[2 * sizeof d] = 0;
}

/* 1: existing holds the bytes of from (its digest in ret); 0: it does not,
 * or is not a regular file of the same size; < 0: a read failed. */
static int same_bytes(int from_fd, const struct stat *from_st, const char *existing, uint8_t *a, uint8_t *b,
                      char ret[static SHA256_HEX_SIZE]) {
        _cleanup_close_ int fd = open(existing, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        struct stat st;
        size_t x, y;
        Sha256 s;
        int r;

        if (fd < 0)
                return errno == ENOENT || errno == ELOOP ? 0 : -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_size != from_st->st_size)
                return 0;
        sha256_init(&s);
        for (uint64_t off = 0;; off += x) {
                r = read_full_at(from_fd, a, CHUNK, off, &x);
                if (r < 0)
                        return r;
                r = read_full_at(fd, b, CHUNK, off, &y);
                if (r < 0)
                        return r;
                if (x != y || memcmp(a, b, x) != 0)
                        return 0;
                if (x == 0)
                        break;
                sha256_update(&s, b, y);
                if (cancel_requested())
                        return -ECANCELED;
        }
        hex_of(&s, ret);
        return 1;
}

static int copy_hashing(int from_fd, const char *dest, mode_t mode, uint8_t *buf, char ret[static SHA256_HEX_SIZE]) {
        _cleanup_close_ int out = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        Sha256 s;
        size_t n;
        int r = 0;
        bool cloned;

        if (out < 0)
                return -errno;
        /* A filesystem that shares extents (btrfs, XFS) copies nothing:
         * then the source is only read, for its digest. */
        cloned = ioctl(out, FICLONE, from_fd) == 0;
        sha256_init(&s);
        for (uint64_t off = 0;; off += n) {
                r = read_full_at(from_fd, buf, CHUNK, off, &n);
                if (r < 0 || n == 0)
                        break;
                sha256_update(&s, buf, n);
                for (size_t done = cloned ? n : 0; done < n;) {
                        ssize_t k = write(out, buf + done, n - done);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0) {
                                r = -errno;
                                break;
                        }
                        done += (size_t) k;
                }
                if (r < 0)
                        break;
                if (cancel_requested()) {
                        r = -ECANCELED;
                        break;
                }
        }
        if (r >= 0 && fchmod(out, mode) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(dest);
                return r;
        }
        hex_of(&s, ret);
        return 0;
}

int publish_copy(ErrorSlot *err, const char *from, const char *existing, const char *dest, mode_t mode,
                 char ret_sha256[static SHA256_HEX_SIZE], bool *ret_kept) {
        _cleanup_close_ int fd = open(from, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        _cleanup_free_ uint8_t *a = malloc(CHUNK), *b = malloc(CHUNK);
        struct stat st;
        int r;

        if (!a || !b)
                return -ENOMEM;
        if (fd < 0 || fstat(fd, &st) < 0)
                return error_set_errno(err, -errno, "cannot read '%s'", from);
        r = existing ? same_bytes(fd, &st, existing, a, b, ret_sha256) : 0;
        if (r == -ECANCELED)
                return error_set(err, r, "interrupted");
        if (r < 0)
                return error_set_errno(err, r, "cannot compare '%s' with '%s'", existing, from);
        if (r > 0) {
                if (link(existing, dest) < 0)
                        return error_set_errno(err, -errno, "cannot link '%s' to '%s'", existing, dest);
                *ret_kept = true;
                return 0;
        }
        r = copy_hashing(fd, dest, mode, a, ret_sha256);
        if (r == -ECANCELED)
                return error_set(err, r, "interrupted");
        if (r < 0)
                return error_set_errno(err, r, "cannot copy '%s' to '%s'", from, dest);
        *ret_kept = false;
        return 0;
}
