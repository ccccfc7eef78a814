/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <zlib.h>

#include "archive-util.h"
#include "tools.h"

static const char * const host_packages[] = {
        "gdisk", "e2fsprogs", "qemu-system-x86", "libguestfs0", "supermin",
};

static const char * const image_packages[] = { "e2fsprogs", "grub-pc-bin" };

static const char *installed_version(const PackageList *l, const char *name) {
        const Package *p = package_list_find(l, name, NULL);
        return p ? p->version : NULL;
}

static bool vmlinuz(int dfd, const char *name, void *userdata) {
        return startswith(name, "vmlinuz-");
}

int tools_appliance_kernel(ErrorSlot *err, const char *boot_dir, char **ret) {
        _cleanup_strv_free_ char **names = NULL;
        const char *best = NULL;
        int r;

        r = readdir_sorted(boot_dir, vmlinuz, NULL, 0, &names);
        if (r < 0)
                return error_set_errno(err, r, "cannot list '%s'", boot_dir);
        STRV_FOREACH(n, names)
                if (!best || strverscmp(*n, best) > 0)
                        best = *n;
        if (!best)
                return error_set(err, -ENOENT, "no kernel in '%s' for the appliance", boot_dir);
        *ret = strdup(best + strlen("vmlinuz-"));
        return *ret ? 0 : -ENOMEM;
}

int tools_record(ErrorSlot *err, Buildinfo *bi, const PackageList *image, const char *debootstrap_version) {
        _cleanup_(package_list_freep) PackageList *host = NULL;
        _cleanup_free_ char *status = NULL, *kernel = NULL, *kernel_pkg = NULL, *archive_version = NULL;
        ErrorSlot ignored = {};
        const char *v;
        size_t size;
        int r;

        /* The host's package database is the host's own: one our strict
         * reader refuses leaves the versions unknown, not the build failed. */
        if (read_full_file("/var/lib/dpkg/status", PACKAGES_SIZE_MAX, &status, &size) >= 0)
                (void) package_list_from_status(&ignored, status, size, &host);
        error_done(&ignored);

        for (size_t i = 0; i < ELEMENTSOF(host_packages); i++) {
                _cleanup_free_ char *t64 = strdup_printf("%st64", host_packages[i]);

                if (!t64)
                        return -ENOMEM;
                /* Debian 13 renamed libraries for 64-bit time_t
                 * (libguestfs0t64): the same tool, recorded by its name. */
                v = host ? installed_version(host, host_packages[i]) ?: installed_version(host, t64) ?: "none"
                         : "unknown";
                if ((r = buildinfo_add_tool(err, bi, host_packages[i], v, "host")) < 0)
                        return r;
        }
        r = tools_appliance_kernel(err, "/boot", &kernel);
        if (r < 0)
                return r;
        kernel_pkg = strdup_printf("linux-image-%s", kernel);
        if (!kernel_pkg)
                return -ENOMEM;
        /* The package's version if dpkg knows it, else the release. */
        v = host ? installed_version(host, kernel_pkg) : NULL;
        if ((r = buildinfo_add_tool(err, bi, kernel_pkg, v ?: kernel, "host")) < 0)
                return r;
        if ((r = buildinfo_add_tool(err, bi, "zlib", zlibVersion(), "host")) < 0)
                return r;
        /* "libarchive 3.6.2" */
        v = archive_version_string();
        archive_version = strdup(startswith(v, "libarchive ") ?: v);
        if (!archive_version)
                return -ENOMEM;
        if ((r = buildinfo_add_tool(err, bi, "libarchive", archive_version, "host")) < 0)
                return r;
        if (debootstrap_version && (r = buildinfo_add_tool(err, bi, "debootstrap", debootstrap_version, "archive")) < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(image_packages); i++)
                if ((r = buildinfo_add_tool(err, bi, image_packages[i],
                                            installed_version(image, image_packages[i]) ?: "none", "image")) < 0)
                        return r;
        return 0;
}
