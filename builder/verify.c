/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build.h"
#include "buildinfo.h"
#include "overlay.h"
#include "cache.h"
#include "compare.h"
#include "log.h"
#include "recipe.h"
#include "sha256.h"
#include "supermin.h"
#include "verify.h"

VerifyReport *verify_report_free(VerifyReport *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n; i++) {
                free(r->items[i].name);
                strv_free(r->items[i].explain);
        }
        free(r->items);
        strv_free(r->package_diffs);
        strv_free(r->tool_diffs);
        free(r->rebuilt_dir);
        free(r);
        return NULL;
}

const char *verify_status_to_string(VerifyStatus s) {
        switch (s) {
        case VERIFY_MATCH:
                return "MATCH";
        case VERIFY_DIFFER:
                return "DIFFERS";
        case VERIFY_MISSING:
                return "MISSING";
        case VERIFY_PUBLISHED_BAD:
                return "PUBLISHED FILE DOES NOT MATCH ITS BUILDINFO";
        }
        return "?";
}

static VerifyItem *add_item(VerifyReport *rep, const BuildinfoArtifact *a) {
        VerifyItem *items = reallocarray(rep->items, rep->n + 1, sizeof(VerifyItem));

        if (!items)
                return NULL;
        rep->items = items;
        items[rep->n] = (VerifyItem) { .name = strdup(a->name) };
        if (!items[rep->n].name)
                return NULL;
        memcpy(items[rep->n].pinned_sha256, a->sha256, sizeof a->sha256);
        return &items[rep->n++];
}

/* "<name> (<from>): ..." for every tool that differs between the release's
 * build and the rebuild.  They do not decide the verdict (the bytes do);
 * they say where to look when an artifact differs. */
static int diff_tools(const Buildinfo *a, const Buildinfo *b, char ***lines) {
        int r;

        if (a->n_tools == 0)
                return strv_consume(lines, strdup("the release's buildinfo (format 1) records no tools"));
        for (size_t i = 0; i < a->n_tools; i++) {
                const BuildinfoTool *t = &a->tools[i], *u = buildinfo_find_tool(b, t->name, t->from);

                if (u && streq(t->version, u->version))
                        continue;
                r = strv_consume(lines, u ? strdup_printf("%s (%s): %s in the release, %s in the rebuild", t->name,
                                                          t->from, t->version, u->version)
                                          : strdup_printf("%s (%s): %s in the release, not in the rebuild", t->name,
                                                          t->from, t->version));
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < b->n_tools; i++) {
                const BuildinfoTool *u = &b->tools[i];

                if (buildinfo_find_tool(a, u->name, u->from))
                        continue;
                r = strv_consume(lines, strdup_printf("%s (%s): %s in the rebuild, not in the release", u->name,
                                                      u->from, u->version));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* "<flavor>: ..." for every package that differs between two lists. */
static int diff_packages(const char *flavor, const PackageList *a, const PackageList *b, char ***lines) {
        size_t i = 0, j = 0;

        while (i < a->n || j < b->n) {
                const Package *p = i < a->n ? &a->items[i] : NULL, *q = j < b->n ? &b->items[j] : NULL;
                int c = !p ? 1 : !q ? -1 : strcmp(p->name, q->name);
                char *line = NULL;

                if (c == 0)
                        c = strcmp(p->architecture, q->architecture);
                if (c < 0) {
                        line = strdup_printf("%s: %s %s (%s) is in the release, not in the rebuild", flavor, p->name,
                                             p->version, p->architecture);
                        i++;
                } else if (c > 0) {
                        line = strdup_printf("%s: %s %s (%s) is in the rebuild, not in the release", flavor, q->name,
                                             q->version, q->architecture);
                        j++;
                } else {
                        if (!streq(p->version, q->version))
                                line = strdup_printf("%s: %s (%s) %s in the release, %s in the rebuild", flavor,
                                                     p->name, p->architecture, p->version, q->version);
                        else if (!streq(p->sha256, q->sha256))
                                line = strdup_printf("%s: %s %s (%s) comes from another .deb (sha256 %.16s, not %.16s)",
                                                     flavor, p->name, p->version, p->architecture, q->sha256, p->sha256);
                        else {
                                i++;
                                j++;
                                continue;
                        }
                        i++;
                        j++;
                }
                if (!line || strv_consume(lines, line) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* Rebuild into out_dir with a fresh stage cache under cache->dir that
 * shares only the package cache disk, or with the verifier's own stage
 * cache (o->rebuild_cache_dir), kept. */
static int rebuild(ErrorSlot *err, const VerifyOptions *o, const Cache *cache, const Buildinfo *bi, const char *out_dir) {
        _cleanup_free_ char *stage_cache = NULL, *debs = cache_path(cache, "debs.img", NULL);
        Target target;
        int r;

        if (!debs)
                return -ENOMEM;
        if (target_from_string(bi->target, &target) < 0)
                return error_set(err, -EINVAL, "unknown target '%s'", bi->target);
        if (o->rebuild_cache_dir)
                stage_cache = strdup(o->rebuild_cache_dir);
        else {
                r = mkdtemp_in(cache->dir, "verify-", &stage_cache);
                if (r < 0)
                        return error_set_errno(err, r, "cannot create a stage cache in '%s'", cache->dir);
        }
        if (!stage_cache)
                return -ENOMEM;

        /* A release made with --ova-per-vm has one OVA per VM besides one
         * per pair (a Workstation with the Gateway, or what was built). */
        size_t n_ova = 0;
        for (size_t i = 0; i < bi->n_artifacts; i++)
                n_ova += endswith(bi->artifacts[i].name, ".ova") ? 1 : 0;
        bool per_vm = n_ova > recipe_pair_count(bi->flavors);

        BuildOptions b = {
                .target = target,
                .flavors = bi->flavors,
                .suite = bi->suite,
                .mirror = o->mirror ?: bi->mirror,
                .proxy = o->proxy,
                .output_dir = out_dir,
                .cache_dir = stage_cache,
                .data_dir = o->data_dir,
                .jobs = o->jobs ?: 1,
                .verbose = o->verbose,
                .source_date_epoch = bi->source_date_epoch,
                .seed = bi->seed,
                .expect_inrelease_sha256 = bi->inrelease_sha256,
                .debs_disk = debs,
                .ova_per_vm = per_vm,
        };
        if (o->rebuild_cache_dir)
                log_notice("verify: rebuilding in your own cache '%s' (what it holds from earlier rebuilds is reused; "
                           "the package cache disk is '%s')", stage_cache, debs);
        else
                log_notice("verify: rebuilding every stage in '%s' (only the package cache disk is shared)",
                           stage_cache);
        if (o->mirror)
                log_notice("verify: the pinned InRelease and packages from '%s' (the release was built from '%s')",
                           o->mirror, bi->mirror);
        r = build_run(err, &b);
        if (!o->rebuild_cache_dir)
                (void) rm_rf(stage_cache);
        if (r < 0)
                return error_prefix(err, r, "the rebuild failed");
        return 0;
}

static int explain(ErrorSlot *err, const VerifyOptions *o, Cache *cache, const char *published,
                   const char *rebuilt, VerifyItem *it) {
        _cleanup_free_ char *appliance = NULL;
        bool reused;
        int r;

        if (!endswith(it->name, ".qcow2")) {
                r = strv_extend(&it->explain, endswith(it->name, ".ova")
                                                      ? "extract both OVAs and run 'whonix-build compare' on the VMDKs"
                                                      : "compare the two files directly (e.g. with diffoscope)");
                return r;
        }
        _cleanup_strv_free_ char **lines = NULL;
        DiskHeader h;

        /* A published image may be hostile: one that names a backing or
         * data file of this machine is not opened; that is the answer. */
        r = image_check(err, published, &h);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                _cleanup_free_ char *why = strdup_printf("not compared: %s", strempty(err->message));

                error_clear(err);
                if (!why)
                        return -ENOMEM;
                return strv_consume(&it->explain, TAKE_PTR(why));
        }
        r = supermin_prepare(err, cache, &appliance, &reused);
        if (r < 0)
                return r;
        log_notice("verify: %s differs; comparing the files inside the published and the rebuilt image", it->name);
        r = image_compare(err, appliance, published, rebuilt, &lines);
        if (r < 0)
                return r;
        if (strv_length(lines) == 0)
                return strv_extend(&it->explain, "every file is the same: the difference is in the disk or filesystem "
                                                 "layout (partition table, boot loader, inode order or metadata)");
        /* A = the published image, B = the rebuilt one. */
        return strv_extend_strv(&it->explain, lines);
}

int verify_run(ErrorSlot *err, const VerifyOptions *o, VerifyReport **ret) {
        _cleanup_(buildinfo_freep) Buildinfo *bi = NULL, *rebuilt = NULL;
        _cleanup_(verify_report_freep) VerifyReport *rep = calloc(1, sizeof(VerifyReport));
        _cleanup_(cache_freep) Cache *cache = NULL;
        _cleanup_free_ char *tree = NULL, *tmp_out = NULL, *rebuilt_info = NULL;
        const char *out_dir;
        int r;

        if (!rep)
                return -ENOMEM;
        r = buildinfo_load(err, o->buildinfo_path, &bi);
        if (r < 0)
                return r;
        r = overlay_data_dir_hash(err, o->data_dir, &tree);
        if (r < 0)
                return r;
        if (!streq(tree, bi->recipe_tree_sha256))
                return error_set(err, -EBADMSG,
                                 "the recipes, overlays and keys in '%s' (tree sha256 %.16s) are not the ones the release "
                                 "was built from (%.16s): check out its source, commit %s",
                                 o->data_dir, tree, bi->recipe_tree_sha256, bi->tool_commit);

        /* The main cache is locked for the whole run: its package disk is
         * shared with the rebuild. */
        r = cache_open(err, o->cache_dir, &cache);
        if (r < 0)
                return r;

        if (o->rebuild_cache_dir) {
                _cleanup_free_ char *a = realpath(o->rebuild_cache_dir, NULL), *c = realpath(cache->dir, NULL);

                if (o->rebuilt_dir)
                        return error_set(err, -EINVAL, "a rebuild cache is for a rebuild: not with an earlier "
                                         "rebuild to compare (--rebuilt)");
                if (a && c && streq(a, c))
                        return error_set(err, -EINVAL, "the rebuild cache '%s' is the main cache: a rebuild must "
                                         "use a cache of its own", o->rebuild_cache_dir);
        }
        if (o->rebuilt_dir)
                out_dir = o->rebuilt_dir;
        else {
                if (o->output_dir)
                        out_dir = o->output_dir;
                else {
                        r = mkdtemp_in(cache->dir, "verify-out-", &tmp_out);
                        if (r < 0)
                                return error_set_errno(err, r, "cannot create a directory in '%s'", cache->dir);
                        out_dir = tmp_out;
                }
                r = rebuild(err, o, cache, bi, out_dir);
                if (r < 0)
                        goto finish;
        }
        rebuilt_info = path_join(out_dir, BUILDINFO_NAME);
        if (!rebuilt_info) {
                r = -ENOMEM;
                goto finish;
        }
        r = buildinfo_load(err, rebuilt_info, &rebuilt);
        if (r < 0)
                goto finish;

        for (size_t i = 0; bi->flavors[i]; i++) {
                size_t j;
                for (j = 0; rebuilt->flavors[j] && !streq(rebuilt->flavors[j], bi->flavors[i]); j++)
                        ;
                if (!rebuilt->flavors[j]) {
                        r = strv_consume(&rep->package_diffs, strdup_printf("%s: not rebuilt", bi->flavors[i]));
                } else
                        r = diff_packages(bi->flavors[i], bi->packages[i], rebuilt->packages[j], &rep->package_diffs);
                if (r < 0)
                        goto finish;
        }

        r = diff_tools(bi, rebuilt, &rep->tool_diffs);
        if (r < 0)
                goto finish;
        rep->ok = strv_length(rep->package_diffs) == 0;
        for (size_t i = 0; i < bi->n_artifacts; i++) {
                const BuildinfoArtifact *a = &bi->artifacts[i], *b = buildinfo_find_artifact(rebuilt, a->name);
                _cleanup_free_ char *published = o->artifacts_dir ? path_join(o->artifacts_dir, a->name) : NULL,
                                    *rebuilt_file = path_join(out_dir, a->name);
                VerifyItem *it = add_item(rep, a);

                if (!it || !rebuilt_file || (o->artifacts_dir && !published)) {
                        r = -ENOMEM;
                        goto finish;
                }
                /* The rebuilt file itself, not only what its buildinfo says
                 * of it: an earlier rebuild (--rebuilt) may have changed
                 * since it was made. */
                if (b) {
                        _cleanup_free_ char *hex = NULL;
                        r = sha256_file(rebuilt_file, &hex);
                        if (r < 0) {
                                r = strv_consume(&it->explain, strdup_printf("cannot read the rebuilt '%s': %s",
                                                                             rebuilt_file, strerror(-r)));
                                if (r < 0)
                                        goto finish;
                                b = NULL;
                        } else {
                                memcpy(it->rebuilt_sha256, hex, sizeof it->rebuilt_sha256);
                                if (!streq(hex, b->sha256) &&
                                    (r = strv_consume(&it->explain,
                                                      strdup_printf("the rebuilt '%s' is not the file its buildinfo "
                                                                    "describes (sha256 %s there)",
                                                                    rebuilt_file, b->sha256))) < 0)
                                        goto finish;
                        }
                }
                if (published) {
                        _cleanup_free_ char *hex = NULL;
                        r = sha256_file(published, &hex);
                        if (r < 0 || !streq(hex, a->sha256)) {
                                it->status = VERIFY_PUBLISHED_BAD;
                                r = strv_consume(&it->explain, r < 0 ? strdup_printf("cannot read '%s': %s", published,
                                                                                     strerror(-r))
                                                                     : strdup_printf("'%s' has sha256 %s", published, hex));
                                if (r < 0)
                                        goto finish;
                        }
                }
                if (it->status == VERIFY_MATCH) {
                        if (!b)
                                it->status = VERIFY_MISSING;
                        else if (!streq(a->sha256, it->rebuilt_sha256))
                                it->status = VERIFY_DIFFER;
                }
                if (it->status != VERIFY_MATCH && b && published && access(published, R_OK) == 0 &&
                    access(rebuilt_file, R_OK) == 0) {
                        r = explain(err, o, cache, published, rebuilt_file, it);
                        if (r < 0)
                                goto finish;
                }
                if (it->status != VERIFY_MATCH)
                        rep->ok = false;
        }
        if (!tmp_out && !(rep->rebuilt_dir = strdup(out_dir))) {
                r = -ENOMEM;
                goto finish;
        }
        *ret = TAKE_PTR(rep);
        r = 0;
finish:
        if (tmp_out)
                (void) rm_rf(tmp_out);
        return r;
}
