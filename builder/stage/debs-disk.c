/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <sys/stat.h>

#include "debs-disk.h"
#include "log.h"

int debs_disk_prepare(ErrorSlot *err, const char *path) {
        struct stat st;

        if (stat(path, &st) == 0)
                return 0;
        if (errno != ENOENT)
                return error_set_errno(err, -errno, "cannot stat '%s'", path);
        return disk_create(err, path, "raw", DEBS_DISK_SIZE, NULL, NULL);
}

int debs_disk_format_if_new(ErrorSlot *err, Appliance *a, const char *path, const char *device, const char *label) {
        _cleanup_free_ char *fstype = NULL;
        struct stat st;
        int r;

        if (stat(path, &st) < 0)
                return error_set_errno(err, -errno, "cannot stat '%s'", path);
        r = appliance_check_device_size(err, a, device, (uint64_t) st.st_size);
        if (r < 0)
                return r;
        r = appliance_vfs_type(err, a, device, &fstype);
        if (r < 0)
                return r;
        if (!isempty(fstype))
                return 0;
        log_progress(label, "formatting the package cache disk", 0, 0);
        return appliance_mkfs(err, a, "ext4", device, "wb-debs");
}
