/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <sys/stat.h>

#include "log.h"
#include "packages.h"
#include "spawn.h"
#include "supermin.h"

#define SUPERMIN_FORMAT "2"
#define SUPERMIN_LIST_MAX (1024u * 1024u)

/* Packages added to the system's appliance list: debootstrap needs perl and
 * wget, and gpgv to check the Release signature. */
static const char * const extra_packages[] = { "perl-base", "wget", "gpgv", NULL };

static const char * const system_dirs[] = {
        "/usr/lib/x86_64-linux-gnu/guestfs/supermin.d",
        "/usr/lib64/guestfs/supermin.d",
        "/usr/lib/guestfs/supermin.d",
};

/* Host files that must exist for the extra packages to be usable. */
static const struct {
        const char *path, *package;
} required_host_files[] = {
        { "/usr/bin/perl", "perl-base" },
        { "/usr/bin/wget", "wget" },
        { "/usr/bin/gpgv", "gpgv" },
        { "/usr/sbin/debootstrap", "debootstrap" },
};

int supermin_find_system_dir(ErrorSlot *err, char **ret) {
        for (size_t i = 0; i < ELEMENTSOF(system_dirs); i++) {
                _cleanup_free_ char *p = path_join(system_dirs[i], "packages");
                if (!p)
                        return -ENOMEM;
                if (access(p, R_OK) == 0) {
                        *ret = strdup(system_dirs[i]);
                        return *ret ? 0 : -ENOMEM;
                }
        }
        return error_set(err, -ENOENT,
                         "libguestfs's supermin.d was not found (is libguestfs0 installed?), looked in '%s'",
                         system_dirs[0]);
}

static bool not_hidden(int dfd, const char *name, void *userdata) {
        return name[0] != '.';
}

static int list_dir_sorted(const char *dir, char ***ret) {
        return readdir_sorted(dir, not_hidden, NULL, 0, ret);
}

/* supermin copies the appliance's packages from the host: their installed
 * versions (and the host kernels it boots) are what the appliance depends
 * on.  Installing an unrelated package on the host (a test's tcpdump, say)
 * must not rebuild it, so only the packages the appliance lists count.  A
 * status file our strict parser refuses is hashed whole instead. */
static int add_host_packages(ErrorSlot *err, CacheKey *k, const char *sysdir) {
        _cleanup_(package_list_freep) PackageList *installed = NULL;
        _cleanup_free_ char *status = NULL, *list = NULL, *listed = path_join(sysdir, "packages");
        _cleanup_strv_free_ char **names = NULL, **kernels = NULL;
        ErrorSlot ignored = {};
        size_t size;
        int r;

        if (!listed)
                return -ENOMEM;
        r = read_full_file(listed, SUPERMIN_LIST_MAX, &list, NULL);
        if (r < 0)
                return error_set_errno(err, r, "cannot read '%s'", listed);
        r = read_full_file("/var/lib/dpkg/status", PACKAGES_SIZE_MAX, &status, &size);
        if (r < 0)
                return error_set_errno(err, r, "cannot read '/var/lib/dpkg/status'");
        r = package_list_from_status(&ignored, status, size, &installed);
        error_done(&ignored);
        if (r < 0) {
                cache_key_add(k, "dpkg-status", status);
                return 0;
        }
        if (strv_split(list, " \t\n", &names) < 0 || strv_extend_strv(&names, (char **) extra_packages) < 0)
                return -ENOMEM;
        strv_sort(names);
        STRV_FOREACH(n, names)
                for (size_t i = 0; i < installed->n; i++)
                        if (streq(installed->items[i].name, *n)) {
                                cache_key_add(k, "package", *n);
                                cache_key_add(k, "version", installed->items[i].version);
                                cache_key_add(k, "arch", installed->items[i].architecture);
                        }
        if (list_dir_sorted("/boot", &kernels) < 0)
                return error_set_errno(err, -errno, "cannot list '/boot'");
        STRV_FOREACH(n, kernels)
                if (startswith(*n, "vmlinuz-") || startswith(*n, "initrd.img-"))
                        cache_key_add(k, "boot", *n);
        return 0;
}

static int compute_key(ErrorSlot *err, const char *sysdir, char * const *names, char **ret) {
        CacheKey k;
        int r;

        cache_key_init(&k, "appliance");
        cache_key_add(&k, "format", SUPERMIN_FORMAT);
        for (size_t i = 0; extra_packages[i]; i++)
                cache_key_add(&k, "extra", extra_packages[i]);
        STRV_FOREACH(n, names) {
                _cleanup_free_ char *p = path_join(sysdir, *n);
                struct stat st;

                if (!p)
                        return -ENOMEM;
                if (stat(p, &st) < 0)
                        return error_set_errno(err, -errno, "cannot stat '%s'", p);
                cache_key_add(&k, "file", *n);
                cache_key_add_u64(&k, "size", (uint64_t) st.st_size);
                cache_key_add_u64(&k, "mtime", (uint64_t) st.st_mtime);
        }
        r = add_host_packages(err, &k, sysdir);
        if (r < 0)
                return r;
        *ret = cache_key_final(&k);
        return *ret ? 0 : -ENOMEM;
}

static int make_supermin_d(ErrorSlot *err, const char *sysdir, char * const *names, const char *dest) {
        int r;

        if (mkdir(dest, 0755) < 0)
                return error_set_errno(err, -errno, "cannot create '%s'", dest);
        STRV_FOREACH(n, names) {
                _cleanup_free_ char *from = path_join(sysdir, *n), *to = path_join(dest, *n);

                if (!from || !to)
                        return -ENOMEM;
                if (streq(*n, "packages")) {
                        _cleanup_free_ char *list = NULL, *extra = NULL, *extended = NULL;
                        size_t size;

                        r = read_full_file(from, SUPERMIN_LIST_MAX, &list, &size);
                        if (r < 0)
                                return error_set_errno(err, r, "cannot read '%s'", from);
                        extra = strv_join((char **) extra_packages, "\n");
                        if (!extra)
                                return -ENOMEM;
                        extended = strdup_printf("%s%s%s\n", list, size > 0 && list[size - 1] != '\n' ? "\n" : "",
                                                 extra);
                        if (!extended)
                                return -ENOMEM;
                        r = write_file_atomic(to, extended, strlen(extended), 0644);
                        if (r < 0)
                                return error_set_errno(err, r, "cannot write '%s'", to);
                } else if (symlink(from, to) < 0)
                        return error_set_errno(err, -errno, "cannot link '%s'", to);
        }
        return 0;
}

/* Remove appliances built for other keys: each is a few hundred MB. */
static void remove_stale(const char *parent, const char *keep) {
        _cleanup_strv_free_ char **names = NULL;

        if (list_dir_sorted(parent, &names) < 0)
                return;
        STRV_FOREACH(n, names)
                if (!streq(*n, keep)) {
                        _cleanup_free_ char *p = path_join(parent, *n);
                        if (p)
                                (void) rm_rf(p);
                }
}

int supermin_prepare(ErrorSlot *err, Cache *cache, char **ret_path, bool *ret_reused) {
        _cleanup_free_ char *sysdir = NULL, *key = NULL, *parent = NULL, *final = NULL, *tmp = NULL,
                            *sd = NULL, *out = NULL, *fixed = NULL, *scratch = NULL, *tmpdir_env = NULL;
        _cleanup_strv_free_ char **names = NULL;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(required_host_files); i++)
                if (access(required_host_files[i].path, X_OK) < 0)
                        return error_set(err, -ENOENT,
                                         "the appliance needs the host package '%s' ('%s' is missing): "
                                         "apt-get install %s",
                                         required_host_files[i].package, required_host_files[i].path,
                                         required_host_files[i].package);
        if (!program_in_path("supermin"))
                return error_set(err, -ENOENT, "'supermin' is not installed: apt-get install supermin");

        r = supermin_find_system_dir(err, &sysdir);
        if (r < 0)
                return r;
        r = list_dir_sorted(sysdir, &names);
        if (r < 0)
                return error_set_errno(err, r, "cannot read '%s'", sysdir);
        if (!strv_contains(names, "packages"))
                return error_set(err, -ENOENT, "'%s' has no packages file", sysdir);

        r = compute_key(err, sysdir, names, &key);
        if (r < 0)
                return r;
        key[16] = 0; /* 64 bits name a directory well enough */

        parent = cache_path(cache, "appliance", NULL);
        final = cache_path(cache, "appliance", key);
        if (!parent || !final)
                return -ENOMEM;
        fixed = path_join(final, "README.fixed");
        if (!fixed)
                return -ENOMEM;
        if (access(fixed, F_OK) == 0) {
                log_debug("reusing appliance '%s'", final);
                cache_note_use(cache, "appliance", key);
                *ret_path = TAKE_PTR(final);
                if (ret_reused)
                        *ret_reused = true;
                return 0;
        }

        r = mkdir_p(parent, 0755);
        if (r < 0)
                return error_set_errno(err, r, "cannot create '%s'", parent);
        remove_stale(parent, key);

        r = mkdtemp_in(parent, ".tmp", &tmp);
        if (r < 0)
                return error_set_errno(err, r, "cannot create a temporary directory in '%s'", parent);
        sd = path_join(tmp, "supermin.d");
        out = path_join(tmp, "appliance.d");
        scratch = path_join(tmp, "tmp");
        tmpdir_env = scratch ? strdup_printf("TMPDIR=%s", scratch) : NULL;
        if (!sd || !out || !tmpdir_env) {
                r = -ENOMEM;
                goto fail;
        }
        /* supermin's own scratch ("supermin.*.tmpdir") inside ours, so
         * that an interrupted build removes it too. */
        if (mkdir(scratch, 0700) < 0) {
                r = error_set_errno(err, -errno, "cannot create '%s'", scratch);
                goto fail;
        }
        r = make_supermin_d(err, sysdir, names, sd);
        if (r < 0)
                goto fail;

        log_progress("appliance", "building the supermin appliance", 0, 0);
        r = spawn_run(err,
                      (char *[]) { (char *) "supermin", (char *) "--build", (char *) "--copy-kernel", (char *) "-f",
                                   (char *) "ext2", (char *) "--host-cpu", (char *) "x86_64", (char *) "-o", out, sd,
                                   NULL },
                      (char *[]) { tmpdir_env, NULL }, NULL);
        if (r < 0) {
                error_prefix(err, r, "cannot build the appliance");
                goto fail;
        }
        {
                _cleanup_free_ char *readme = path_join(out, "README.fixed");
                static const char text[] = "Built by whonix-build from the system's supermin.d plus perl-base, wget and gpgv.\n";
                if (!readme) {
                        r = -ENOMEM;
                        goto fail;
                }
                r = write_file_atomic(readme, text, sizeof text - 1, 0644);
                if (r < 0) {
                        error_set_errno(err, r, "cannot write '%s'", readme);
                        goto fail;
                }
        }
        if (rename(out, final) < 0) {
                r = error_set_errno(err, -errno, "cannot move the appliance to '%s'", final);
                goto fail;
        }
        (void) rm_rf(tmp);
        cache_note_use(cache, "appliance", key);
        *ret_path = TAKE_PTR(final);
        if (ret_reused)
                *ret_reused = false;
        return 0;
fail:
        (void) rm_rf(tmp);
        return r;
}
