/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>

#include "guest-apt.h"
#include "log.h"
#include "sha256.h"

#define DPKG_STATUS_MAX (64u * 1024u * 1024u)

int guest_installed_packages(ErrorSlot *err, Appliance *a, PackageList **ret) {
        _cleanup_free_ char *status = NULL;
        size_t size;
        int r;

        r = appliance_read_file(err, a, GUEST_DPKG_STATUS, DPKG_STATUS_MAX, &status, &size);
        if (r < 0)
                return error_prefix(err, r, "cannot read dpkg's status");
        return package_list_from_status(err, status, size, ret);
}

int guest_match_indexes(ErrorSlot *err, Appliance *a, PackageList *l, size_t *ret_n_indexes) {
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0;
        int r;

        r = appliance_ls(err, a, GUEST_APT_LISTS, &names);
        if (r < 0)
                return r;
        STRV_FOREACH(name, names) {
                _cleanup_free_ char *path = NULL, *data = NULL;
                size_t size;

                if (!endswith(*name, "_Packages"))
                        continue;
                path = path_join(GUEST_APT_LISTS, *name);
                if (!path)
                        return -ENOMEM;
                r = appliance_read_file(err, a, path, PACKAGES_SIZE_MAX, &data, &size);
                if (r < 0)
                        return r;
                r = package_list_match_index(err, l, data, size);
                if (r < 0)
                        return error_prefix(err, r, "'%s'", *name);
                n++;
        }
        *ret_n_indexes = n;
        return 0;
}

int guest_check_archive(ErrorSlot *err, Appliance *a, const char *archive_dir, char * const *wanted,
                        const char *label) {
        _cleanup_(package_list_freep) PackageList *installed = NULL, *files = NULL;
        _cleanup_strv_free_ char **names = NULL, **present = NULL;
        size_t n_indexes, n_checked = 0;
        uint64_t bytes_done = 0, bytes_total = 0;
        int r;

        r = guest_installed_packages(err, a, &installed);
        if (r < 0)
                return r;
        r = appliance_ls(err, a, archive_dir, &names);
        if (r < 0)
                return r;
        /* Only the files apt is about to take: another cached file, even a
         * bad one, is none of this layer's business. */
        STRV_FOREACH(n, names)
                if ((!wanted || strv_contains(wanted, *n)) && strv_extend(&present, *n) < 0)
                        return -ENOMEM;
        r = package_list_from_archive(err, present, installed, &files);
        if (r < 0)
                return r;
        if (files->n == 0)
                return 0;
        r = guest_match_indexes(err, a, files, &n_indexes);
        if (r < 0)
                return r;

        for (size_t i = 0; i < files->n; i++)
                if (files->items[i].sha256[0])
                        bytes_total += files->items[i].size;

        for (size_t i = 0; i < files->n; i++) {
                const Package *p = &files->items[i];
                _cleanup_free_ char *name = NULL, *path = NULL;
                char sha[65];

                /* No index lists it: not a candidate, apt does not take it. */
                if (!p->sha256[0])
                        continue;
                name = package_archive_name(p);
                path = name ? path_join(archive_dir, name) : NULL;
                if (!path)
                        return -ENOMEM;
                log_progress(label, "checking cached .debs against the signed index", bytes_done, bytes_total);
                r = appliance_sha256(err, a, path, sha);
                if (r < 0)
                        return r;
                n_checked++;
                bytes_done += p->size;
                if (streq(sha, p->sha256))
                        continue;
                /* Synced: the build fails next, and the appliance is
                 * killed, not shut down. */
                r = appliance_rm_rf(err, a, path);
                if (r >= 0)
                        r = appliance_run(err, a, NULL, (char *[]) { (char *) "sync", NULL }, NULL);
                if (r < 0)
                        return error_prefix(err, r, "cannot remove the altered '%s' from the package cache", name);
                return error_set(err, -EBADMSG,
                                 "the package cache held '%s' (%s %s %s) with SHA256 %s, but the signed index says %s: "
                                 "the file is corrupt or was altered; it was removed from the package cache and nothing "
                                 "was installed; the next build downloads it again",
                                 name, p->name, p->version, p->architecture, sha, p->sha256);
        }
        log_debug("%s: %zu cached .debs (%" PRIu64 " bytes) match the signed index", label, n_checked, bytes_total);
        return 0;
}

int guest_check_inrelease(ErrorSlot *err, Appliance *a, const char *suite, const char *sha256) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *suffix = strdup_printf("_dists_%s_InRelease", suite);
        bool seen = false;
        int r;

        if (!suffix)
                return -ENOMEM;
        r = appliance_ls(err, a, GUEST_APT_LISTS, &names);
        if (r < 0)
                return error_prefix(err, r, "cannot list apt's lists");
        STRV_FOREACH(n, names) {
                _cleanup_free_ char *path = NULL, *data = NULL, *hex = NULL;
                size_t size;

                if (!endswith(*n, suffix))
                        continue;
                path = path_join(GUEST_APT_LISTS, *n);
                if (!path)
                        return -ENOMEM;
                r = appliance_read_file(err, a, path, 16u << 20, &data, &size);
                if (r < 0)
                        return r;
                hex = sha256_hex(data, size);
                if (!hex)
                        return -ENOMEM;
                if (!streq(hex, sha256))
                        return error_set(err, -ESTALE,
                                         "the guest's apt lists hold an InRelease of '%s' (sha256 %.16s) other than the "
                                         "one verified at the start of the build (sha256 %.16s): the mirror changed "
                                         "during the build, or serves different files to different requests; build again",
                                         suite, hex, sha256);
                seen = true;
        }
        if (!seen)
                return error_set(err, -ENOENT, "no InRelease of '%s' in the guest's %s", suite, GUEST_APT_LISTS);
        return 0;
}
