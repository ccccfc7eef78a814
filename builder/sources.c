/* SPDX-License-Identifier: GPL-2.0-or-later */
/* whonix-build sources: a mirror of exactly what a release pins. */
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive-util.h"
#include "buildinfo.h"
#include "checked-download.h"
#include "curl-util.h"
#include "fetch.h"
#include "log.h"
#include "parallel.h"
#include "sha256.h"
#include "sources.h"

/* An index decompresses to this at most (main's Packages: ~60 MB). */
#define INDEX_TEXT_MAX PACKAGES_SIZE_MAX
/* A compressed index file. */
#define INDEX_FILE_MAX (256u << 20)

void sources_report_done(SourcesReport *r) {
        free(r->inrelease_from);
        *r = (SourcesReport) {};
}

typedef struct Sources {
        const SourcesOptions *o;
        const char *mirror;
        const char *suite;
        SourcesReport *report;
        /* The .debs, for the download jobs. */
        const PackageList *debs;
        size_t done;
        bool *downloaded;
} Sources;

/* The pinned InRelease: the cache's copy if it is the one, else the
 * mirror's; its signature and Release are checked either way. */
static int get_inrelease(ErrorSlot *err, Sources *s, const Buildinfo *bi, char **ret_data, size_t *ret_size) {
        _cleanup_free_ char *data = NULL, *hex = NULL, *url = NULL, *from = NULL;
        size_t size = 0;
        int r;

        if (s->o->cache_dir) {
                _cleanup_free_ char *dir = path_join(s->o->cache_dir, "sources");
                _cleanup_strv_free_ char **names = NULL;

                if (!dir)
                        return -ENOMEM;
                r = readdir_sorted(dir, NULL, NULL, 1000, &names);
                if (r < 0 && r != -ENOENT)
                        return error_set_errno(err, r, "cannot list '%s'", dir);
                STRV_FOREACH(n, names) {
                        _cleanup_free_ char *sub = path_join(dir, *n), *path = sub ? path_join(sub, "InRelease") : NULL;
                        char *d = NULL;
                        size_t ds;

                        if (!path)
                                return -ENOMEM;
                        if (read_full_file(path, RELEASE_SIZE_MAX, &d, &ds) < 0)
                                continue;
                        free(hex);
                        hex = sha256_hex(d, ds);
                        if (!hex) {
                                free(d);
                                return -ENOMEM;
                        }
                        if (streq(hex, bi->inrelease_sha256)) {
                                data = d;
                                size = ds;
                                from = TAKE_PTR(path);
                                break;
                        }
                        free(d);
                }
        }
        if (!data) {
                url = strdup_printf("%s/dists/%s/InRelease", s->mirror, s->suite);
                if (!url)
                        return -ENOMEM;
                r = curl_download_memory(err, url, s->o->proxy, RELEASE_SIZE_MAX, &data, &size);
                if (r < 0)
                        return r;
                free(hex);
                hex = sha256_hex(data, size);
                if (!hex)
                        return -ENOMEM;
                if (!streq(hex, bi->inrelease_sha256))
                        return error_set(err, -ESTALE,
                                         "the InRelease of '%s' at '%s' (sha256 %.16s) is not the one the release was "
                                         "built from (sha256 %.16s): the archive has moved on since, and the cache "
                                         "holds no copy; give --mirror a snapshot of the archive from the release's "
                                         "time",
                                         s->suite, url, hex, bi->inrelease_sha256);
                from = TAKE_PTR(url);
        }
        s->report->inrelease_from = TAKE_PTR(from);
        *ret_data = TAKE_PTR(data);
        *ret_size = size;
        return 0;
}

/* The architectures the release installs packages of, but "all" (whose
 * packages Debian lists in every architecture's index). */
static int release_architectures(const Buildinfo *bi, char ***ret) {
        _cleanup_strv_free_ char **archs = NULL;

        for (size_t i = 0; i < strv_length(bi->flavors); i++)
                for (size_t j = 0; j < bi->packages[i]->n; j++) {
                        const char *a = bi->packages[i]->items[j].architecture;

                        if (!streq(a, "all") && !strv_contains(archs, a) && strv_extend(&archs, a) < 0)
                                return -ENOMEM;
                }
        strv_sort(archs);
        *ret = TAKE_PTR(archs);
        return 0;
}

/* One index file: from the mirror by hash (what a mirror keeps for a while
 * after the index changed), else by name; kept at its name and by hash. */
static int put_index(ErrorSlot *err, Sources *s, const struct ReleaseEntry *e, char **ret_path) {
        _cleanup_free_ char *dists = NULL, *dest = NULL, *dir = NULL, *by_hash = NULL, *by_hash_rel = NULL;
        int r;

        dists = strdup_printf("%s/dists/%s", s->o->output_dir, s->suite);
        dest = dists ? path_join(dists, e->path) : NULL;
        dir = strdup(e->path);
        if (!dest || !dir)
                return -ENOMEM;
        *strrchr(dir, '/') = 0;
        by_hash_rel = strdup_printf("%s/by-hash/SHA256/%s", dir, e->sha256);
        by_hash = by_hash_rel ? path_join(dists, by_hash_rel) : NULL;
        if (!by_hash)
                return -ENOMEM;

        r = index_download(err, s->mirror, s->suite, s->o->proxy, e, dest);
        if (r < 0)
                return r;
        if (r > 0)
                s->report->n_downloaded++;
        r = mkdir_parent(err, by_hash);
        if (r < 0)
                return r;
        if (unlink(by_hash) < 0 && errno != ENOENT)
                return error_set_errno(err, -errno, "cannot replace '%s'", by_hash);
        if (link(dest, by_hash) < 0)
                return error_set_errno(err, -errno, "cannot link '%s' to '%s'", by_hash, dest);
        s->report->n_indexes++;
        if (ret_path)
                *ret_path = TAKE_PTR(dest);
        return 0;
}

static bool index_file_wanted(const char *path, char * const *components, char * const *archs) {
        STRV_FOREACH(c, components)
                STRV_FOREACH(a, archs) {
                        _cleanup_free_ char *dir = strdup_printf("%s/binary-%s/", *c, *a);
                        const char *name = dir ? startswith(path, dir) : NULL;

                        /* Not the component's Release file: neither apt nor
                         * debootstrap reads it, and mirrors serve it out of
                         * step with the InRelease. */
                        if (name && (streq(name, "Packages.xz") || streq(name, "Packages.gz")))
                                return true;
                }
        return false;
}

/* Every wanted index of the Release into the mirror; the packages pinned
 * get their Filename from the Packages.xz (or .gz) indexes. */
static int put_indexes(ErrorSlot *err, Sources *s, const ReleaseFile *rel, char * const *archs, PackageList *debs) {
        int r;

        for (size_t i = 0; i < rel->n_entries; i++) {
                const struct ReleaseEntry *e = &rel->entries[i];
                _cleanup_free_ char *path = NULL, *packed = NULL, *text = NULL;
                size_t packed_size, text_size;

                if (!index_file_wanted(e->path, rel->components, archs))
                        continue;
                r = put_index(err, s, e, &path);
                if (r < 0)
                        return r;
                /* Each index once: the .xz, or the .gz where there is no .xz. */
                if (!endswith(e->path, "/Packages.xz") && !endswith(e->path, "/Packages.gz"))
                        continue;
                if (endswith(e->path, ".gz")) {
                        _cleanup_free_ char *xz = strdup_printf("%.*sxz", (int) strlen(e->path) - 2, e->path);

                        if (!xz)
                                return -ENOMEM;
                        if (release_find(rel, xz))
                                continue;
                }
                r = read_full_file(path, INDEX_FILE_MAX, &packed, &packed_size);
                if (r < 0)
                        return error_set_errno(err, r, "cannot read '%s'", path);
                r = archive_decompress_memory(err, e->path, packed, packed_size, INDEX_TEXT_MAX, &text, &text_size);
                if (r < 0)
                        return r;
                r = package_list_match_index(err, debs, text, text_size);
                if (r < 0)
                        return error_prefix(err, r, "'%s' against the release's pinned packages", e->path);
        }
        /* Every pinned package must be in an index the InRelease signs. */
        for (size_t i = 0; i < debs->n; i++)
                if (!debs->items[i].filename)
                        return error_set(err, -ENOENT,
                                         "'%s' %s (%s), pinned by the buildinfo, is in no index of the pinned "
                                         "InRelease",
                                         debs->items[i].name, debs->items[i].version, debs->items[i].architecture);
        return 0;
}

static int put_deb(ErrorSlot *err, size_t i, void *userdata) {
        Sources *s = userdata;
        const Package *p = &s->debs->items[i];
        _cleanup_free_ char *dest = path_join(s->o->output_dir, p->filename), *url = NULL, *what = NULL;
        int r;

        if (!dest)
                return -ENOMEM;
        r = checked_file_present(dest, p->size, p->sha256);
        if (r < 0)
                return error_set_errno(err, r, "cannot read '%s'", dest);
        if (r == 0) {
                url = strdup_printf("%s/%s", s->mirror, p->filename);
                what = strdup_printf("%s %s (%s)", p->name, p->version, p->architecture);
                if (!url || !what)
                        return -ENOMEM;
                r = download_checked(err, url, s->o->proxy, dest, p->size, p->sha256, what);
                if (r < 0)
                        return r;
                s->downloaded[i] = true;
        }
        /* Jobs finish in any order: the count is what the user sees. */
        log_progress("sources", p->name, __atomic_add_fetch(&s->done, 1, __ATOMIC_RELAXED), s->debs->n);
        return 0;
}

int sources_write(ErrorSlot *err, const SourcesOptions *o, SourcesReport *ret) {
        _cleanup_(buildinfo_freep) Buildinfo *bi = NULL;
        _cleanup_(release_freep) ReleaseFile *rel = NULL;
        _cleanup_(package_list_freep) PackageList *debs = NULL;
        _cleanup_free_ char *keys_dir = NULL, *mirror = NULL, *data = NULL, *signer = NULL, *inrelease = NULL,
                            *info_copy = NULL, *info_text = NULL, *what = NULL;
        _cleanup_free_ bool *downloaded = NULL;
        _cleanup_strv_free_ char **archs = NULL;
        SourcesReport report = {};
        size_t size = 0, n;
        int r;

        r = buildinfo_load(err, o->buildinfo_path, &bi);
        if (r < 0)
                return r;
        mirror = strdup(o->mirror ?: bi->mirror);
        keys_dir = path_join(o->data_dir, "keys");
        if (!mirror || !keys_dir)
                return -ENOMEM;
        for (n = strlen(mirror); n > 0 && mirror[n - 1] == '/'; n--)
                mirror[n - 1] = 0;

        Sources s = { .o = o, .mirror = mirror, .suite = bi->suite, .report = &report };
        r = get_inrelease(err, &s, bi, &data, &size);
        if (r < 0)
                goto fail;
        what = strdup_printf("the InRelease of '%s' from '%s'", bi->suite, report.inrelease_from);
        if (!what) {
                r = -ENOMEM;
                goto fail;
        }
        r = inrelease_check(err, what, data, size, bi->suite, keys_dir, true, &rel, &signer);
        if (r < 0)
                goto fail;
        if (!streq(signer, bi->inrelease_signer)) {
                r = error_set(err, -EBADMSG, "%s is signed by %s, the buildinfo says %s", what, signer,
                              bi->inrelease_signer);
                goto fail;
        }
        log_notice("sources: %s, sha256 %.16s, signed by %s", what, bi->inrelease_sha256, signer);

        r = mkdir_p(o->output_dir, 0755);
        if (r < 0) {
                r = error_set_errno(err, r, "cannot create '%s'", o->output_dir);
                goto fail;
        }
        inrelease = strdup_printf("%s/dists/%s/InRelease", o->output_dir, bi->suite);
        if (!inrelease) {
                r = -ENOMEM;
                goto fail;
        }
        if ((r = mkdir_parent(err, inrelease)) < 0)
                goto fail;
        r = write_file_atomic(inrelease, data, size, 0644);
        if (r < 0) {
                r = error_set_errno(err, r, "cannot write '%s'", inrelease);
                goto fail;
        }

        if ((r = release_architectures(bi, &archs)) < 0 ||
            (r = package_list_merge(err, bi->packages, strv_length(bi->flavors), &debs)) < 0)
                goto fail;
        /* The tools the build took from the archive (debootstrap): a
         * rebuild from these sources needs them too.  Each is in the
         * architecture-independent part of the indexes ("all"). */
        for (size_t i = 0; i < bi->n_tools; i++)
                if (streq(bi->tools[i].from, "archive") &&
                    (r = package_list_add(err, debs, bi->tools[i].name, bi->tools[i].version, "all")) < 0)
                        goto fail;
        r = put_indexes(err, &s, rel, archs, debs);
        if (r < 0)
                goto fail;

        downloaded = calloc(debs->n ?: 1, sizeof(bool));
        if (!downloaded) {
                r = -ENOMEM;
                goto fail;
        }
        s.debs = debs;
        s.downloaded = downloaded;
        r = parallel_run(err, debs->n, o->jobs ?: 4, put_deb, &s);
        if (r < 0)
                goto fail;
        for (size_t i = 0; i < debs->n; i++) {
                report.bytes += debs->items[i].size;
                report.n_downloaded += downloaded[i];
        }
        report.n_packages = debs->n;

        info_copy = path_join(o->output_dir, BUILDINFO_NAME);
        if (!info_copy) {
                r = -ENOMEM;
                goto fail;
        }
        r = buildinfo_format(err, bi, &info_text);
        if (r < 0)
                goto fail;
        r = write_file_atomic(info_copy, info_text, strlen(info_text), 0644);
        if (r < 0) {
                r = error_set_errno(err, r, "cannot write '%s'", info_copy);
                goto fail;
        }
        *ret = report;
        return 0;
fail:
        sources_report_done(&report);
        return r;
}
