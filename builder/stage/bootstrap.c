/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <sys/stat.h>

#include "bootstrap.h"
#include "cache.h"
#include "debs-disk.h"
#include "guest-apt.h"
#include "guestfs-util.h"
#include "log.h"
#include "package-progress.h"

/* Bump when the way a base is made changes, so old bases are not reused. */
#define BOOTSTRAP_FORMAT "3"

/* Inside the appliance, relative to the guest root /sysroot. */
#define WORK_DIR "/.whonix-build"
#define CACHE_MOUNT WORK_DIR "/cache"
#define KEYRING WORK_DIR "/keyring.gpg"
#define UNSAFE_IO_DIR "/etc/dpkg/dpkg.cfg.d"
#define UNSAFE_IO_FILE UNSAFE_IO_DIR "/whonix-build-bootstrap"
/* The pinned debootstrap's files (debootstrap-pin.h), unpacked here. */
#define DEBOOTSTRAP_DIR WORK_DIR "/debootstrap"

int bootstrap_key(const BootstrapSpec *spec, char **ret) {
        _cleanup_strv_free_ char **inc = strv_copy(spec->include), **comp = strv_copy(spec->components);
        CacheKey k;

        if ((spec->include && !inc) || (spec->components && !comp))
                return -ENOMEM;
        strv_sort(inc);
        strv_sort(comp);
        cache_key_init(&k, "base");
        cache_key_add(&k, "format", BOOTSTRAP_FORMAT);
        cache_key_add(&k, "suite", spec->suite);
        cache_key_add(&k, "architecture", spec->architecture);
        cache_key_add(&k, "variant", spec->variant);
        cache_key_add_strv(&k, "components", comp);
        cache_key_add_strv(&k, "include", inc);
        cache_key_add(&k, "inrelease", spec->inrelease_sha256);
        cache_key_add(&k, "debootstrap", spec->debootstrap_sha256);
        *ret = cache_key_final(&k);
        return *ret ? 0 : -ENOMEM;
}

static int run_debootstrap(ErrorSlot *err, Appliance *a, const BootstrapSpec *spec) {
        _cleanup_free_ char *include = NULL, *components = NULL, *cache_dir = NULL, *opt_inc = NULL,
                            *opt_comp = NULL, *opt_variant = NULL, *opt_arch = NULL, *opt_keyring = NULL,
                            *opt_cache = NULL, *opt_http_proxy = NULL, *opt_https_proxy = NULL;
        _cleanup_strv_free_ char **argv = NULL, **env = NULL;
        int r;

        cache_dir = strdup_printf("%s/debootstrap/%s-%s", CACHE_MOUNT, spec->suite, spec->architecture);
        if (!cache_dir)
                return -ENOMEM;
        r = appliance_mkdir_p(err, a, cache_dir);
        if (r < 0)
                return r;

        components = strv_join(spec->components, ",");
        opt_comp = strdup_printf("--components=%s", components ?: "main");
        opt_variant = strdup_printf("--variant=%s", spec->variant);
        opt_arch = strdup_printf("--arch=%s", spec->architecture);
        opt_keyring = strdup_printf("--keyring=/sysroot%s", KEYRING);
        opt_cache = strdup_printf("--cache-dir=/sysroot%s", cache_dir);
        if (!components || !opt_comp || !opt_variant || !opt_arch || !opt_keyring || !opt_cache)
                return -ENOMEM;

        /* debootstrap downloads with wget, which takes its proxy from the
         * environment. */
        if (spec->proxy) {
                opt_http_proxy = strdup_printf("http_proxy=%s", spec->proxy);
                opt_https_proxy = strdup_printf("https_proxy=%s", spec->proxy);
                if (!opt_http_proxy || !opt_https_proxy || strv_extend(&env, opt_http_proxy) < 0 ||
                    strv_extend(&env, opt_https_proxy) < 0)
                        return -ENOMEM;
        }
        /* The pinned debootstrap, not the appliance's (the host's): its
         * program and the scripts and functions it reads from
         * DEBOOTSTRAP_DIR. */
        r = appliance_mkdir_p(err, a, DEBOOTSTRAP_DIR);
        if (r < 0)
                return r;
        r = appliance_tar_in(err, a, spec->debootstrap_tar, DEBOOTSTRAP_DIR);
        if (r < 0)
                return error_prefix(err, r, "cannot unpack the pinned debootstrap %s", spec->debootstrap_version);
        if (strv_extend(&env, "DEBOOTSTRAP_DIR=/sysroot" DEBOOTSTRAP_DIR "/usr/share/debootstrap") < 0)
                return -ENOMEM;
        if (strv_extend(&argv, "/sysroot" DEBOOTSTRAP_DIR "/usr/sbin/debootstrap") < 0 ||
            strv_extend(&argv, opt_variant) < 0 ||
            strv_extend(&argv, opt_arch) < 0 || strv_extend(&argv, opt_comp) < 0 ||
            strv_extend(&argv, opt_keyring) < 0 || strv_extend(&argv, opt_cache) < 0 ||
            strv_extend(&argv, "--force-check-gpg") < 0)
                return -ENOMEM;
        if (strv_length(spec->include) > 0) {
                include = strv_join(spec->include, ",");
                opt_inc = strdup_printf("--include=%s", include ?: "");
                if (!include || !opt_inc || strv_extend(&argv, opt_inc) < 0)
                        return -ENOMEM;
        }
        if (strv_extend(&argv, spec->suite) < 0 || strv_extend(&argv, "/sysroot") < 0 ||
            strv_extend(&argv, spec->mirror) < 0)
                return -ENOMEM;

        /* How many of the packages it retrieved debootstrap has installed. */
        PackageProgress pp = PACKAGE_PROGRESS_INIT("bootstrap", 0);
        appliance_set_line_hook(a, package_progress_line, &pp);
        r = appliance_run(err, a, env, argv, NULL);
        appliance_set_line_hook(a, NULL, NULL);
        if (r < 0)
                return error_prefix(err, r, "debootstrap of '%s' from '%s' failed", spec->suite, spec->mirror);
        return 0;
}

int bootstrap_run(ErrorSlot *err, const BootstrapSpec *spec, const char *appliance_path, const char *debs_disk,
                  const char *dest_disk, bool verbose) {
        _cleanup_(appliance_freep) Appliance *a = NULL;
        _cleanup_free_ char *root_dev = NULL, *debs_dev = NULL;
        ApplianceConfig cfg = {
                .path = appliance_path,
                .label = "bootstrap",
                .network = true,
                .verbose = verbose,
        };
        int r;

        r = debs_disk_prepare(err, debs_disk);
        if (r < 0)
                return r;
        r = disk_create(err, dest_disk, "qcow2", BOOTSTRAP_DISK_SIZE, NULL, NULL);
        if (r < 0)
                return r;

        r = appliance_new(err, &cfg, &a);
        if (r < 0)
                goto fail;
        /* The base disk is scratch until it is renamed into the cache. */
        r = appliance_add_drive(err, a, dest_disk, "qcow2", false, "unsafe");
        if (r < 0)
                goto fail;
        r = appliance_add_drive(err, a, debs_disk, "raw", false, NULL);
        if (r < 0)
                goto fail;
        r = appliance_launch(err, a);
        if (r < 0)
                goto fail;

        if ((r = appliance_device(err, a, 0, &root_dev)) < 0 || (r = appliance_device(err, a, 1, &debs_dev)) < 0)
                goto fail;

        /* Never format another disk than these two (the appliance's own
         * root, say): each has the size it was made with. */
        if ((r = appliance_check_device_size(err, a, root_dev, BOOTSTRAP_DISK_SIZE)) < 0 ||
            (r = debs_disk_format_if_new(err, a, debs_disk, debs_dev, "bootstrap")) < 0)
                goto fail;

        r = appliance_mkfs(err, a, "ext4", root_dev, "wb-base");
        if (r < 0)
                goto fail;
        if ((r = appliance_mount(err, a, root_dev, "/")) < 0 || (r = appliance_mkdir_p(err, a, CACHE_MOUNT)) < 0 ||
            (r = appliance_mount(err, a, debs_dev, CACHE_MOUNT)) < 0 ||
            (r = appliance_upload(err, a, spec->keyring_path, KEYRING)) < 0)
                goto fail;

        /* dpkg in debootstrap's second stage syncs every file it unpacks;
         * under emulation each sync costs the guest kernel a journal
         * commit, and the disk is scratch until the base is renamed into
         * the cache.  The switch is dpkg's own configuration, in place
         * before dpkg first runs and gone before the base is kept (the
         * files it unpacks are the same either way). */
        if ((r = appliance_mkdir_p(err, a, UNSAFE_IO_DIR)) < 0 ||
            (r = appliance_write(err, a, UNSAFE_IO_FILE, "force-unsafe-io\n", strlen("force-unsafe-io\n"))) < 0)
                goto fail;
        r = run_debootstrap(err, a, spec);
        if (r < 0)
                goto fail;
        r = appliance_rm_rf(err, a, UNSAFE_IO_FILE);
        if (r < 0)
                goto fail;
        /* debootstrap fetches the InRelease again itself: the base must
         * come from the very bytes the fetch stage verified (a mirror could
         * serve it another, older, validly signed one). */
        if (spec->inrelease_sha256 && (r = guest_check_inrelease(err, a, spec->suite, spec->inrelease_sha256)) < 0)
                goto fail;

        /* Leave nothing of the build's own in the base. */
        r = appliance_run(err, a, NULL,
                          (char *[]) { (char *) "find", (char *) "/sysroot/var/cache/apt/archives", (char *) "-maxdepth",
                                       (char *) "1", (char *) "-name", (char *) "*.deb", (char *) "-delete", NULL },
                          NULL);
        if (r < 0)
                goto fail;
        if ((r = appliance_umount(err, a, CACHE_MOUNT)) < 0 || (r = appliance_rm_rf(err, a, WORK_DIR)) < 0)
                goto fail;
        r = appliance_shutdown(err, a);
        if (r < 0)
                goto fail;
        return 0;
fail:
        a = appliance_free(a);
        (void) unlink(dest_disk);
        return r;
}
