/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qcow2 from raw, by our own writer: a sparse image with compressible and
 * incompressible clusters, many small clusters sharing a host cluster, data
 * across the 512 MiB an L2 table covers, an allocated all-zero region and a
 * partial last cluster, checked by qemu-img (check: refcounts and leaks;
 * info; compare with the raw image); determinism, an all-zero disk, the
 * header fields and refused inputs.  The checks by an independent reader
 * are the point: without qemu-img the test skips (and in CI a skip of it is a
 * failure: tests/guarantees.txt).
 */
#include <inttypes.h>

#include "disk-test-util.h"
#include "qcow2.h"

#define MIB (UINT64_C(1) << 20)
/* Past one L2 table's 512 MiB, and not a multiple of the 64 KiB cluster. */
#define RAW_SIZE (600 * MIB + 3 * 512)

static int make_raw(const char *path, uint64_t size, bool with_data) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        _cleanup_free_ uint8_t *noise = malloc(3 * 65536);
        uint8_t pattern[5000], zeros[8192] = {};
        uint64_t x = 88172645463325252u;
        int r = 0;

        if (fd < 0 || !noise)
                return -errno;
        if (ftruncate(fd, (off_t) size) < 0)
                return -errno;
        if (!with_data)
                return 0;
        for (size_t i = 0; i < sizeof pattern; i++)
                pattern[i] = (uint8_t) (i * 7 + 1);
        /* xorshift64: does not compress, so stored whole. */
        for (size_t i = 0; i < 3 * 65536; i++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                noise[i] = (uint8_t) x;
        }
        r = r ?: write_at(fd, 0, "first sector", 12);
        r = r ?: write_at(fd, MIB + 123, pattern, sizeof pattern);
        r = r ?: write_at(fd, 2 * MIB + 100, noise, 3 * 65536);
        /* Forty clusters that compress to a few dozen bytes each: they
         * share host clusters, whose refcounts are then above 1. */
        for (unsigned i = 0; r == 0 && i < 40; i++) {
                char s[32];
                int n = snprintf(s, sizeof s, "cluster %u", i);
                r = write_at(fd, 8 * MIB + i * UINT64_C(65536) + 7 * i, s, (size_t) n);
        }
        /* Straddles clusters 8191/8192, the end of the first L2 table. */
        r = r ?: write_at(fd, 512 * MIB - 2000, pattern, sizeof pattern);
        /* Allocated but zero: must not be stored. */
        r = r ?: write_at(fd, 520 * MIB, zeros, sizeof zeros);
        /* The last bytes of the disk, inside the partial last cluster. */
        r = r ?: write_at(fd, size - 10, "last bytes", 10);
        return r;
}

static void check_with_qemu_img(const char *raw, const char *qcow2, uint64_t raw_size) {
        _cleanup_free_ char *out = NULL, *vsize = NULL;
        int r;

        r = qemu_img(&out, "check", "-f", "qcow2", qcow2, NULL);
        tap_ok(r == 0 && strstr(strempty(out), "No errors were found"),
               "qemu-img check: no errors, no leaked clusters (refcounts right)");
        if (r != 0 || !strstr(strempty(out), "No errors"))
                diag_lines(out);
        free(TAKE_PTR(out));
        r = qemu_img(&out, "info", "--output=json", "-f", "qcow2", qcow2, NULL);
        vsize = strdup_printf("\"virtual-size\": %" PRIu64 ",", raw_size);
        tap_ok(r == 0 && strstr(out, "\"format\": \"qcow2\"") && strstr(out, "\"compat\": \"1.1\"") &&
               strstr(out, "\"cluster-size\": 65536"), "qemu-img info: qcow2, compat 1.1, 64 KiB clusters");
        tap_ok(r == 0 && vsize && strstr(out, vsize), "virtual size is the raw size");
        r = qemu_img(NULL, "compare", "-f", "raw", "-F", "qcow2", raw, qcow2, NULL);
        tap_ok(r == 0, "qemu-img compare: raw and qcow2 read the same");
}

static uint32_t be32(const uint8_t *p) {
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p) {
        return (uint64_t) be32(p) << 32 | be32(p + 4);
}

static void check_header(const char *qcow2, uint64_t file_bytes) {
        _cleanup_free_ char *data = NULL;
        const uint8_t *h;
        size_t size = 0;
        int r;

        r = read_full_file(qcow2, 64 * MIB, &data, &size);
        if (!tap_ok(r == 0 && size == file_bytes && size % 65536 == 0, "the file is whole clusters"))
                return;
        h = (const uint8_t *) data;
        tap_ok(memcmp(h, "QFI\xfb", 4) == 0 && be32(h + 4) == 3 && be32(h + 20) == 16 && be32(h + 100) == 104 &&
               be32(h + 96) == 4, "header: magic, version 3, cluster bits 16, 104 bytes, 16-bit refcounts");
        tap_ok(be64(h + 24) == RAW_SIZE && be32(h + 36) == 2, "header: size, two L1 entries for 600 MiB");
        tap_ok(be64(h + 8) == 0 && be32(h + 32) == 0 && be32(h + 60) == 0 && be64(h + 72) == 0 && be64(h + 80) == 0 &&
               be64(h + 88) == 0, "header: no backing file, encryption, snapshots or feature bits");
        tap_ok(be64(h + 40) % 65536 == 0 && be64(h + 48) % 65536 == 0 && be64(h + 48) < size,
               "header: L1 and refcount table cluster-aligned inside the file");
}

int main(void) {
        _cleanup_free_ char *dir = NULL, *raw = NULL, *q1 = NULL, *q2 = NULL, *zraw = NULL, *zq = NULL, *a = NULL,
                            *b = NULL, *odd = NULL, *ref = NULL;
        uint64_t size1 = 0, size2 = 0, zsize = 0, fs = 0, ref_size = 0;
        bool have_qemu_img = program_in_path("qemu-img");
        ErrorSlot err = {};
        size_t na = 0, nb = 0;
        int r;

        tap_plan_lazy();
        if (!have_qemu_img)
                return tap_skip_all("qemu-img is not installed");
        r = mkdtemp_in(NULL, "test-qcow2", &dir);
        if (r < 0)
                return tap_skip_all("cannot create a temporary directory");
        raw = path_join(dir, "disk.raw");
        q1 = path_join(dir, "disk.qcow2");
        q2 = path_join(dir, "again.qcow2");
        zraw = path_join(dir, "zero.raw");
        zq = path_join(dir, "zero.qcow2");
        odd = path_join(dir, "odd.raw");
        ref = path_join(dir, "qemu.qcow2");
        if (!raw || !q1 || !q2 || !zraw || !zq || !odd || !ref)
                return 1;

        r = make_raw(raw, RAW_SIZE, true);
        if (!tap_ok(r == 0, "make a sparse raw image with patterns"))
                goto finish;

        r = qcow2_from_raw(&err, raw, q1, 1, &size1);
        if (!tap_ok(r == 0, "convert: %s", r < 0 ? error_text(&err, r) : "ok"))
                goto finish;
        tap_ok(file_size(q1, &fs) == 0 && fs == size1, "ret_size is the file size (%" PRIu64 ")", size1);
        tap_ok(size1 < 2 * MIB, "holes and zero clusters are not stored (%" PRIu64 " bytes)", size1);
        check_header(q1, size1);
        check_with_qemu_img(raw, q1, RAW_SIZE);
        /* qemu-img's own compressed conversion, for scale. */
        r = qemu_img(NULL, "convert", "-c", "-f", "raw", "-O", "qcow2", raw, ref, NULL);
        if (r == 0 && file_size(ref, &ref_size) == 0)
                printf("# ours %" PRIu64 " bytes, qemu-img convert -c %" PRIu64 " bytes\n", size1, ref_size);
        tap_ok(r == 0 && size1 <= ref_size + 4 * 65536, "no bigger than qemu-img's (beyond its metadata clusters)");

        /* Three threads, batches that straddle the two L2 tables: the same
         * bytes as one thread. */
        r = qcow2_from_raw(&err, raw, q2, 3, &size2);
        tap_ok(r == 0 && read_full_file(q1, 64 * MIB, &a, &na) == 0 && read_full_file(q2, 64 * MIB, &b, &nb) == 0 &&
               na == nb && memcmp(a, b, na) == 0, "a second conversion, on three threads, gives the same bytes");

        r = make_raw(zraw, 256 * MIB, false);
        r = r ?: qcow2_from_raw(&err, zraw, zq, 2, &zsize);
        tap_ok(r == 0 && zsize == 4 * 65536, "an all-zero disk: header, L1, refcount block and table only (%" PRIu64 ")",
               zsize);
        check_with_qemu_img(zraw, zq, 256 * MIB);

        error_clear(&err);
        r = make_raw(odd, 1000, false);
        r = r ?: qcow2_from_raw(&err, odd, zq, 2, NULL);
        tap_ok(r == -EINVAL && strstr(error_text(&err, r), "multiple of 512"), "a size that is not whole sectors is refused");
        error_clear(&err);
        r = qcow2_from_raw(&err, "/nonexistent/disk.raw", zq, 2, NULL);
        tap_ok(r == -ENOENT && strstr(error_text(&err, r), "'/nonexistent/disk.raw'"), "a missing input is reported");

finish:
        error_done(&err);
        (void) rm_rf(dir);
        return tap_done();
}
