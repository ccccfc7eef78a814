/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compare.h"
#include "guestfs-util.h"
#include "log.h"


#define META_NAME MANIFEST_META_NAME
#define SUMS_NAME MANIFEST_SUMS_NAME
#define META_FILE "/" META_NAME
#define SUMS_FILE "/" SUMS_NAME

int image_check(ErrorSlot *err, const char *image, DiskHeader *ret) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ uint8_t *buf = NULL;
        struct stat st;
        size_t n = 0;
        int r;

        /* O_NONBLOCK: a FIFO must not hang us before fstat() refuses it. */
        fd = open(image, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return error_set_errno(err, -errno, "cannot read '%s'", image);
        if (fstat(fd, &st) < 0)
                return error_set_errno(err, -errno, "cannot read '%s'", image);
        if (!S_ISREG(st.st_mode))
                return error_set(err, -EINVAL, "'%s' is not a regular file", image);
        buf = malloc(DISK_HEADER_READ);
        if (!buf)
                return -ENOMEM;
        r = read_full_at(fd, buf, DISK_HEADER_READ, 0, &n);
        if (r < 0)
                return error_set_errno(err, r, "cannot read '%s'", image);
        return disk_header_parse(err, image, buf, n, (uint64_t) st.st_size, ret);
}

/* The manifest of an image that image_check() passed, opened as h says. */
static int manifest_of(ErrorSlot *err, const char *appliance_path, const char *image, const DiskHeader *h,
                       Manifest **ret) {
        _cleanup_(appliance_freep) Appliance *a = NULL;
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_free_ char *root = NULL, *meta = NULL, *sums = NULL;
        uint8_t sb[SUPERBLOCK_SIZE];
        ApplianceConfig cfg = { .path = appliance_path, .label = "compare" };
        size_t meta_size, sums_size;
        int r;

        if ((r = appliance_new(err, &cfg, &a)) < 0 ||
            (r = appliance_add_drive(err, a, image, disk_format_name(h->format), true, NULL)) < 0 ||
            (r = appliance_launch(err, a)) < 0 || (r = appliance_find_root(err, a, "root", &root)) < 0)
                return error_prefix(err, r, "cannot open '%s'", image);
        /* The superblock as the image has it: mounting stamps s_mtime,
         * s_wtime, the mount count and the checksum (in the appliance's
         * throwaway overlay), so it is read first. */
        r = appliance_pread_device(err, a, root, SUPERBLOCK_OFFSET, sizeof sb, sb);
        if (r < 0)
                return error_prefix(err, r, "cannot read the superblock of '%s'", image);
        r = appliance_mount(err, a, root, "/");
        if (r < 0)
                return error_prefix(err, r, "cannot open '%s'", image);

        log_progress("compare", image, 0, 0);
        r = appliance_run(err, a, NULL,
                          ARGV("sh", "-c",
                               "cd /sysroot && "
                               "find . -xdev -printf '%y %m %U %G %s %T@ %P\\t%l\\n' > ." META_FILE " && "
                               "find . -xdev -type f ! -path ./" META_NAME " ! -path ./" SUMS_NAME " -print0 | "
                               "xargs -0 -r sha256sum > ." SUMS_FILE),
                          NULL);
        if (r < 0)
                return error_prefix(err, r, "cannot list the files of '%s'", image);
        if ((r = appliance_read_file(err, a, META_FILE, MANIFEST_SIZE_MAX, &meta, &meta_size)) < 0 ||
            (r = appliance_read_file(err, a, SUMS_FILE, MANIFEST_SIZE_MAX, &sums, &sums_size)) < 0)
                return r;
        r = manifest_parse(err, meta, meta_size, sums, sums_size, &m);
        if (r < 0)
                return error_prefix(err, r, "'%s'", image);
        manifest_set_superblock(m, sb);
        *ret = TAKE_PTR(m);
        return 0;
}

int image_manifest(ErrorSlot *err, const char *appliance_path, const char *image, Manifest **ret) {
        DiskHeader h;
        int r;

        /* The format from the content; nothing it names is opened. */
        r = image_check(err, image, &h);
        if (r < 0)
                return r;
        return manifest_of(err, appliance_path, image, &h, ret);
}

int image_compare(ErrorSlot *err, const char *appliance_path, const char *a, const char *b, char ***ret_lines) {
        _cleanup_(manifest_freep) Manifest *ma = NULL, *mb = NULL;
        DiskHeader ha, hb;
        int r;

        /* Both refused before either is opened. */
        if ((r = image_check(err, a, &ha)) < 0 || (r = image_check(err, b, &hb)) < 0)
                return r;
        r = manifest_of(err, appliance_path, a, &ha, &ma);
        if (r < 0)
                return r;
        r = manifest_of(err, appliance_path, b, &hb, &mb);
        if (r < 0)
                return r;
        return manifest_diff(ma, mb, ret_lines);
}
