/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <sys/stat.h>

#include "cancel.h"
#include "image-io.h"
#include "util.h"

bool buffer_all_zero(const uint8_t *p, size_t n) {
        /* Compare the buffer with itself shifted by one byte after checking
         * the first: cheap and vectorised by libc. */
        return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

int raw_reader_open(ErrorSlot *err, const char *path, uint64_t max_size, const char *what_max, RawReader *ret) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return error_set_errno(err, -errno, "cannot open '%s'", path);
        if (fstat(fd, &st) < 0)
                return error_set_errno(err, -errno, "cannot stat '%s'", path);
        if (!S_ISREG(st.st_mode))
                return error_set(err, -EINVAL, "'%s' is not a regular file", path);
        if (st.st_size <= 0 || st.st_size % 512 != 0)
                return error_set(err, -EINVAL, "size of '%s' (%jd bytes) is not a positive multiple of 512", path,
                                 (intmax_t) st.st_size);
        if ((uint64_t) st.st_size > max_size)
                return error_set(err, -EFBIG, "'%s' is larger than %s", path, what_max);
        *ret = (RawReader) { .fd = TAKE_FD(fd), .path = path, .size = (uint64_t) st.st_size, .err = err };
        return 0;
}

void raw_reader_close(RawReader *r) {
        if (r->fd >= 0)
                (void) close(r->fd);
        r->fd = -EBADF;
}

/* First offset >= offset that may hold data, or the size if none.  Where
 * SEEK_DATA is not supported everything may hold data. */
static int next_data(RawReader *r, uint64_t offset) {
        off_t d = lseek(r->fd, (off_t) offset, SEEK_DATA);

        if (d < 0) {
                if (errno == ENXIO) {
                        r->data = r->size;
                        return 0;
                }
                if (errno == EINVAL || errno == EOPNOTSUPP) {
                        r->data = offset;
                        return 0;
                }
                return error_set_errno(r->err, -errno, "cannot look for data in '%s'", r->path);
        }
        r->data = (uint64_t) d;
        return 0;
}

int raw_reader_chunk(RawReader *r, uint64_t i, uint8_t *buf, size_t chunk_size, bool *ret_data) {
        uint64_t start = i * chunk_size;
        size_t want, got = 0;
        int k;

        /* A Ctrl-C is obeyed within a few chunks, not at the end. */
        if (i % 64 == 0 && cancel_requested())
                return error_set(r->err, -ECANCELED, "interrupted");
        if (start >= r->size)
                return -EINVAL;
        want = (size_t) (r->size - start < chunk_size ? r->size - start : chunk_size);
        /* data < start: what lies here is unknown (the first chunk, or the
         * one after a chunk that was read), so ask. */
        if (r->data < start && (k = next_data(r, start)) < 0)
                return k;
        *ret_data = false;
        if (r->data >= start + want)
                return 0;
        k = read_full_at(r->fd, buf, want, start, &got);
        if (k < 0)
                return error_set_errno(r->err, k, "cannot read '%s'", r->path);
        if (got != want)
                return error_set(r->err, -EIO, "'%s' shrank while being converted", r->path);
        /* The tail of a partial last chunk reads as zeros. */
        memset(buf + want, 0, chunk_size - want);
        *ret_data = !buffer_all_zero(buf, chunk_size);
        return 0;
}

int image_out_write(ImageOut *o, const void *p, size_t n) {
        const uint8_t *b = p;

        while (n > 0) {
                ssize_t k = write(o->fd, b, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return error_set_errno(o->err, -errno, "cannot write '%s'", o->path);
                }
                b += k;
                n -= (size_t) k;
                o->pos += (uint64_t) k;
        }
        return 0;
}

int image_out_pad(ImageOut *o, uint64_t align) {
        static const uint8_t zeros[4096];
        uint64_t rest = o->pos & (align - 1);
        int r = 0;

        for (uint64_t left = rest ? align - rest : 0; r >= 0 && left > 0;) {
                size_t n = left < sizeof zeros ? (size_t) left : sizeof zeros;
                r = image_out_write(o, zeros, n);
                left -= n;
        }
        return r;
}

void put_le16(uint8_t *p, uint16_t v) {
        p[0] = v & 0xff;
        p[1] = v >> 8;
}

void put_le32(uint8_t *p, uint32_t v) {
        for (unsigned i = 0; i < 4; i++)
                p[i] = (v >> (8 * i)) & 0xff;
}

void put_le64(uint8_t *p, uint64_t v) {
        for (unsigned i = 0; i < 8; i++)
                p[i] = (v >> (8 * i)) & 0xff;
}

void put_be16(uint8_t *p, uint16_t v) {
        p[0] = v >> 8;
        p[1] = v & 0xff;
}

void put_be32(uint8_t *p, uint32_t v) {
        for (unsigned i = 0; i < 4; i++)
                p[i] = (v >> (8 * (3 - i))) & 0xff;
}

void put_be64(uint8_t *p, uint64_t v) {
        for (unsigned i = 0; i < 8; i++)
                p[i] = (v >> (8 * (7 - i))) & 0xff;
}
