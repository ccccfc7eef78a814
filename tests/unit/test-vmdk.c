/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * streamOptimized VMDK from raw: a small sparse image with data in the
 * first grain, across a grain-table boundary, an allocated all-zero
 * region and a partial last grain, converted and then checked by qemu-img
 * (check, info, compare with the raw image); plus determinism, an all-zero
 * disk, the header fields and refused inputs.
 */
#include <inttypes.h>

#include "disk-test-util.h"
#include "vmdk.h"

#define MIB (UINT64_C(1) << 20)
/* Not a multiple of the 64 KiB grain: the last grain is partial. */
#define RAW_SIZE (64 * MIB + 3 * 512)

static int make_raw(const char *path, uint64_t size, bool with_data) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        uint8_t pattern[5000], zeros[8192] = {};
        int r = 0;

        if (fd < 0)
                return -errno;
        if (ftruncate(fd, (off_t) size) < 0)
                return -errno;
        if (!with_data)
                return 0;
        for (size_t i = 0; i < sizeof pattern; i++)
                pattern[i] = (uint8_t) (i * 7 + 1);
        r = r ?: write_at(fd, 0, "first sector", 12);
        r = r ?: write_at(fd, MIB + 123, pattern, sizeof pattern);
        /* Straddles grains 511/512, the end of the first grain table. */
        r = r ?: write_at(fd, 32 * MIB - 2000, pattern, sizeof pattern);
        /* Allocated but zero: must not be stored. */
        r = r ?: write_at(fd, 40 * MIB, zeros, sizeof zeros);
        r = r ?: write_at(fd, 50 * MIB + 65536 - 1, "x", 1);
        /* The last bytes of the disk, inside the partial last grain. */
        r = r ?: write_at(fd, size - 10, "last bytes", 10);
        return r;
}

static void check_with_qemu_img(const char *raw, const char *vmdk) {
        _cleanup_free_ char *out = NULL, *vsize = NULL;
        int r;

        if (!program_in_path("qemu-img")) {
                for (unsigned i = 0; i < 5; i++)
                        tap_skip_one("qemu-img is not installed");
                return;
        }
        r = qemu_img(NULL, "check", "-f", "vmdk", vmdk, NULL);
        tap_ok(r == 0, "qemu-img check accepts the VMDK");

        r = qemu_img(&out, "info", "--output=json", "-f", "vmdk", vmdk, NULL);
        vsize = strdup_printf("\"virtual-size\": %" PRIu64 ",", (uint64_t) RAW_SIZE);
        tap_ok(r == 0 && strstr(out, "\"format\": \"vmdk\""), "qemu-img info says vmdk");
        tap_ok(r == 0 && vsize && strstr(out, vsize), "virtual size is the raw size");
        tap_ok(r == 0 && strstr(out, "\"create-type\": \"streamOptimized\"") &&
               strstr(out, "\"compressed\": true"), "qemu-img info says streamOptimized, compressed");
        if (r == 0 && !strstr(out, "streamOptimized"))
                diag_lines(out);

        r = qemu_img(NULL, "compare", "-f", "raw", "-F", "vmdk", raw, vmdk, NULL);
        tap_ok(r == 0, "qemu-img compare: raw and VMDK are identical");
}

static uint32_t le32(const uint8_t *p) {
        return p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint64_t le64(const uint8_t *p) {
        return le32(p) | (uint64_t) le32(p + 4) << 32;
}

static void check_layout(const char *vmdk, uint32_t cid) {
        _cleanup_free_ char *data = NULL, *cid_line = NULL;
        const uint8_t *h, *footer;
        size_t size = 0;
        int r;

        r = read_full_file(vmdk, 64 * MIB, &data, &size);
        if (!tap_ok(r == 0 && size >= 128 * 512 + 3 * 512 && size % 512 == 0, "VMDK is whole sectors"))
                return;
        h = (const uint8_t *) data;
        tap_ok(memcmp(h, "KDMV", 4) == 0 && le32(h + 4) == 3 && le32(h + 8) == 0x30001 && le64(h + 20) == 128 &&
               le32(h + 44) == 512 && le64(h + 56) == UINT64_MAX && h[77] == 1 && h[78] == 0,
               "header: magic, version 3, flags 0x30001, 128-sector grains, GD at end, deflate");
        tap_ok(le64(h + 12) == RAW_SIZE / 512, "header capacity in sectors");
        cid_line = strdup_printf("\nCID=%08" PRIx32 "\n", cid);
        tap_ok(cid_line && strstr(data + 512, cid_line) && strstr(data + 512, "createType=\"streamOptimized\"") &&
               strstr(data + 512, "ddb.adapterType = \"ide\""), "descriptor: CID, createType, adapter");
        footer = h + size - 1024;
        tap_ok(le32(footer - 512 + 12) == 3 && memcmp(footer, "KDMV", 4) == 0 && le64(footer + 56) != UINT64_MAX &&
               le64(footer + 56) * 512 < size, "footer marker and header copy with the GD offset");
        tap_ok(le64(h + size - 512) == 0 && le32(h + size - 512 + 12) == 0, "end-of-stream marker");
}

int main(void) {
        _cleanup_free_ char *dir = NULL, *raw = NULL, *v1 = NULL, *v2dir = NULL, *v2 = NULL, *zraw = NULL,
                            *zvmdk = NULL, *a = NULL, *b = NULL, *odd = NULL;
        VmdkOptions opts = { .cid = 0x1234abcd, .compression_level = 6 };
        uint64_t size1 = 0, size2 = 0, zsize = 0, fs = 0;
        ErrorSlot err = {};
        size_t na = 0, nb = 0;
        int r;

        tap_plan_lazy();
        r = mkdtemp_in(NULL, "test-vmdk", &dir);
        if (r < 0)
                return tap_skip_all("cannot create a temporary directory");
        raw = path_join(dir, "disk.raw");
        v1 = path_join(dir, "disk.vmdk");
        v2dir = path_join(dir, "again");
        v2 = path_join(v2dir, "disk.vmdk");
        zraw = path_join(dir, "zero.raw");
        zvmdk = path_join(dir, "zero.vmdk");
        odd = path_join(dir, "odd.raw");
        if (!raw || !v1 || !v2dir || !v2 || !zraw || !zvmdk || !odd || mkdir_p(v2dir, 0755) < 0)
                return 1;

        r = make_raw(raw, RAW_SIZE, true);
        if (!tap_ok(r == 0, "make a sparse raw image with patterns"))
                goto finish;

        r = vmdk_from_raw(&err, raw, v1, &opts, &size1);
        if (!tap_ok(r == 0, "convert: %s", r < 0 ? error_text(&err, r) : "ok"))
                goto finish;
        tap_ok(file_size(v1, &fs) == 0 && fs == size1, "ret_size is the file size (%" PRIu64 ")", size1);
        tap_ok(size1 < 2 * MIB, "holes and zero grains are not stored (%" PRIu64 " bytes)", size1);
        check_layout(v1, opts.cid);
        check_with_qemu_img(raw, v1);

        /* Three threads, batches across grain tables: the same bytes as
         * one thread. */
        opts.threads = 3;
        r = vmdk_from_raw(&err, raw, v2, &opts, &size2);
        opts.threads = 0;
        tap_ok(r == 0 && read_full_file(v1, 64 * MIB, &a, &na) == 0 && read_full_file(v2, 64 * MIB, &b, &nb) == 0 &&
               na == nb && memcmp(a, b, na) == 0, "a second conversion, on three threads, gives the same bytes");

        r = make_raw(zraw, 256 * MIB, false);
        r = r ?: vmdk_from_raw(&err, zraw, zvmdk, NULL, &zsize);
        tap_ok(r == 0 && zsize < 128 * 1024, "an all-zero 256 MiB disk gives a small VMDK (%" PRIu64 " bytes)", zsize);
        if (program_in_path("qemu-img")) {
                r = qemu_img(NULL, "check", "-f", "vmdk", zvmdk, NULL);
                tap_ok(r == 0, "qemu-img check accepts the all-zero VMDK");
        } else
                tap_skip_one("qemu-img is not installed");

        error_clear(&err);
        r = make_raw(odd, 1000, false);
        r = r ?: vmdk_from_raw(&err, odd, zvmdk, NULL, NULL);
        tap_ok(r == -EINVAL && strstr(error_text(&err, r), "multiple of 512"), "a size that is not whole sectors is refused");
        error_clear(&err);
        opts.adapter_type = "scsi";
        r = vmdk_from_raw(&err, raw, zvmdk, &opts, NULL);
        tap_ok(r == -EINVAL && strstr(error_text(&err, r), "'scsi'"), "an unknown adapter type is refused");
        error_clear(&err);
        r = vmdk_from_raw(&err, "/nonexistent/disk.raw", zvmdk, NULL, NULL);
        tap_ok(r == -ENOENT && strstr(error_text(&err, r), "'/nonexistent/disk.raw'"), "a missing input is reported");

finish:
        error_done(&err);
        (void) rm_rf(dir);
        return tap_done();
}
