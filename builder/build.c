/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <pthread.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apt-sources.h"
#include "config.h"
#include "git-commit.h"
#include "bootstrap.h"
#include "buildinfo.h"
#include "overlay.h"
#include "build-internal.h"
#include "cache.h"
#include "cache-entries.h"
#include "cancel.h"
#include "customize.h"
#include "export-kvm.h"
#include "export-ova.h"
#include "ids.h"
#include "vmdk.h"
#include "fetch.h"
#include "finalize.h"
#include "guestfs-util.h"
#include "spawn.h"
#include "log.h"
#include "parallel.h"
#include "recipe.h"
#include "sign.h"
#include "supermin.h"


static void build_done(Build *b) {
        for (size_t i = 0; i < b->n_flavors; i++) {
                Flavor *f = &b->flavors[i];
                free(f->name);
                recipe_free(f->recipe);
                for (size_t k = 0; k < f->n_layers; k++)
                        recipe_free(f->layers[k]);
                for (size_t k = 0; f->layer_keys && k <= f->n_layers; k++) {
                        free(f->layer_keys[k]);
                        free(f->layer_disks[k]);
                }
                free(f->layers);
                free(f->layer_keys);
                free(f->layer_disks);
                free(f->base_key);
                free(f->base_disk);
                free(f->final_key);
                free(f->final_disk);
                free(f->packages);
        }
        free(b->flavors);
        free(b->suite);
        free(b->mirror);
        free(b->appliance_proxy);
        free(b->appliance_mirror);
        source_info_free(b->sources);
        debootstrap_pin_done(&b->debootstrap);
        free(b->appliance_path);
        free(b->appliance_id);
        strv_free(b->artifacts);
        sums_entries_free(b->digests, b->n_digests);
        cache_free(b->cache);
}

const char *target_to_string(Target t) {
        return t == TARGET_VIRTUALBOX ? "virtualbox" : "kvm";
}

int target_from_string(const char *s, Target *ret) {
        if (streq(s, "kvm"))
                *ret = TARGET_KVM;
        else if (streq(s, "virtualbox"))
                *ret = TARGET_VIRTUALBOX;
        else
                return -EINVAL;
        return 0;
}

const char *build_step_outcome_to_string(BuildStepOutcome o) {
        return o == BUILD_STEP_BUILT ? "built" : o == BUILD_STEP_REUSED ? "reused" : "done";
}

void build_report_done(BuildReport *r) {
        for (size_t i = 0; i < r->n_steps; i++) {
                BuildStep *s = &r->steps[i];
                free(s->stage);
                free(s->flavor);
                free(s->subject);
                free(s->name);
                free(s->key);
                free(s->summary);
        }
        free(r->steps);
        for (size_t i = 0; i < r->n_artifacts; i++)
                free(r->artifacts[i].name);
        free(r->artifacts);
        free(r->buildinfo);
        free(r->sums);
        *r = (BuildReport) {};
}

static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

/* Out of memory loses the step from the report, never the build. */
static void report_step(BuildReport *r, const char *stage, const StepFacts *f, double seconds, const char *what) {
        BuildStep *steps, *s;

        pthread_mutex_lock(&report_lock);
        steps = reallocarray(r->steps, r->n_steps + 1, sizeof *steps);
        if (steps) {
                r->steps = steps;
                s = &steps[r->n_steps];
                *s = (BuildStep) {
                        .stage = strdup(stage),
                        .flavor = f->flavor ? strdup(f->flavor) : NULL,
                        .subject = f->subject ? strdup(f->subject) : NULL,
                        .name = f->name ? strdup(f->name) : NULL,
                        .key = f->key ? strdup(f->key) : NULL,
                        .outcome = f->outcome,
                        .seconds = seconds,
                        .summary = strdup(strempty(what)),
                };
                r->n_steps++;
        }
        pthread_mutex_unlock(&report_lock);
}

void stage_report(const Build *b, const char *stage, const StepFacts *facts, uint64_t start, const char *fmt, ...) {
        _cleanup_free_ char *what = NULL;
        double seconds = (double) (now_usec() - start) / 1e6;
        va_list ap;

        va_start(ap, fmt);
        what = strdup_vprintf(fmt, ap);
        va_end(ap);
        log_notice("stage %-10s %7.1f s  %s", stage, seconds, strempty(what));
        if (b->o->report)
                report_step(b->o->report, stage, facts, seconds, what);
}

const char *build_seed(const Build *b) {
        return b->o->seed ?: BUILD_DEFAULT_SEED;
}

int check_cancel(ErrorSlot *err) {
        if (cancel_requested())
                return error_set(err, -ECANCELED, "interrupted");
        return 0;
}

/* What would otherwise fail only after the long stages: each flavor's
 * overlays exist (and are directories of the data directory), its disk fits
 * the target, and the output directory can be written. */
static int check_early(ErrorSlot *err, const Build *b) {
        _cleanup_free_ char *probe = NULL;
        struct stat st;
        int r;

        for (size_t i = 0; i < b->n_flavors; i++) {
                const Recipe *rc = b->flavors[i].recipe;
                _cleanup_strv_free_ char **early = NULL, **late = NULL;

                if ((r = overlay_paths(err, b, rc->early_overlays, &early)) < 0 ||
                    (r = overlay_paths(err, b, rc->overlays, &late)) < 0)
                        return error_prefix(err, r, "flavor '%s'", b->flavors[i].name);
                if (b->o->target == TARGET_VIRTUALBOX && rc->disk_size > VMDK_CAPACITY_MAX)
                        return error_set(err, -EFBIG,
                                         "flavor '%s': DiskSize=%" PRIu64 " bytes is larger than a VMDK can hold for "
                                         "--target virtualbox (1 TiB)",
                                         b->flavors[i].name, rc->disk_size);
        }
        if (!b->o->output_dir)
                return 0;
        /* Nothing is written under --output before the export; but the
         * directory, or the nearest ancestor that exists, must be a
         * directory the export can write into (not a file, not read-only,
         * not someone else's). */
        probe = strdup(b->o->output_dir);
        if (!probe)
                return -ENOMEM;
        for (;;) {
                char *slash;

                if (stat(probe, &st) == 0)
                        break;
                if (errno != ENOENT && errno != ENOTDIR)
                        return error_set_errno(err, -errno, "cannot use the output '%s'", b->o->output_dir);
                slash = strrchr(probe, '/');
                if (!slash) {
                        free(probe);
                        probe = strdup(".");
                        if (!probe)
                                return -ENOMEM;
                        continue;
                }
                if (slash == probe)
                        slash[1] = 0;
                else
                        *slash = 0;
        }
        if (!S_ISDIR(st.st_mode))
                return error_set(err, -ENOTDIR, "the output '%s' cannot be made: '%s' is not a directory",
                                 b->o->output_dir, probe);
        if (access(probe, W_OK | X_OK) < 0)
                return error_set_errno(err, -errno, "the output '%s' cannot be written: '%s'", b->o->output_dir,
                                       probe);
        return 0;
}

/* The recipes below a flavor's: the first file a recipe includes is the
 * layer it stands on (whonix-workstation-desktop.conf on
 * whonix-workstation.conf, that on kicksecure.conf), built once for every
 * flavor above it.  Bottom first. */
#define LAYERS_MAX 8u

static int load_layers(ErrorSlot *err, const Build *b, Flavor *f) {
        const Recipe *rc = f->recipe;

        while (strv_length(rc->includes) > 0) {
                Recipe *l = NULL, **layers;
                int r;

                if (f->n_layers >= LAYERS_MAX)
                        return error_set(err, -ELOOP, "'%s' stands on more than %u layers", f->recipe->path,
                                         LAYERS_MAX);
                r = recipe_load(err, rc->includes[0], b->o->data_dir, &l);
                if (r < 0)
                        return r;
                layers = reallocarray(f->layers, f->n_layers + 1, sizeof *layers);
                if (!layers) {
                        recipe_free(l);
                        return -ENOMEM;
                }
                memmove(layers + 1, layers, f->n_layers * sizeof *layers);
                layers[0] = l;
                f->layers = layers;
                f->n_layers++;
                rc = l;
        }
        f->layer_keys = calloc(f->n_layers + 1, sizeof(char *));
        f->layer_disks = calloc(f->n_layers + 1, sizeof(char *));
        return f->layer_keys && f->layer_disks ? 0 : -ENOMEM;
}

static int stage_recipe(ErrorSlot *err, Build *b) {
        _cleanup_free_ char *recipes_dir = path_join(b->o->data_dir, "recipes");
        uint64_t start = now_usec();
        int r;

        if (!recipes_dir)
                return -ENOMEM;
        b->n_flavors = strv_length(b->o->flavors);
        b->flavors = calloc(b->n_flavors, sizeof(Flavor));
        if (!b->flavors)
                return -ENOMEM;
        for (size_t i = 0; i < b->n_flavors; i++) {
                Flavor *f = &b->flavors[i];
                _cleanup_free_ char *path = recipe_path_for_flavor(recipes_dir, b->o->flavors[i]);

                if (!path && errno == EINVAL) {
                        _cleanup_free_ char *shown = escape_for_message(strempty(b->o->flavors[i]), true);

                        return error_set(err, -EINVAL, "unknown flavor '%s' (gateway, workstation or "
                                         "workstation-VARIANT)", strempty(shown));
                }
                f->name = strdup(b->o->flavors[i]);
                if (!path || !f->name)
                        return -ENOMEM;
                if (access(path, F_OK) < 0 && errno == ENOENT)
                        return error_set(err, -ENOENT, "unknown flavor '%s': there is no recipe '%s' "
                                         "(whonix-build recipes lists them)", f->name, path);
                r = recipe_load(err, path, b->o->data_dir, &f->recipe);
                if (r < 0)
                        return r;
                if (!streq_ptr(f->recipe->flavor, f->name))
                        return error_set(err, -EINVAL, "'%s' does not define the flavor '%s'", path, f->name);
                r = load_layers(err, b, f);
                if (r < 0)
                        return r;
        }

        /* Both flavors must agree on the distribution: they share one base
         * and one verified archive. */
        b->suite = strdup(b->o->suite ?: b->flavors[0].recipe->suite);
        if (!b->suite)
                return -ENOMEM;
        for (size_t i = 1; i < b->n_flavors; i++)
                if (!b->o->suite && !streq(b->flavors[i].recipe->suite, b->suite))
                        return error_set(err, -EINVAL, "the recipes disagree on the suite ('%s' and '%s')", b->suite,
                                         b->flavors[i].recipe->suite);

        const char *snapshot = b->o->mirror ? NULL : b->o->snapshot ?: b->flavors[0].recipe->snapshot;
        if (b->o->mirror && b->o->snapshot)
                return error_set(err, -EINVAL, "--mirror and --snapshot both say where the packages come from: give one");
        if (!b->o->snapshot && snapshot && b->flavors[0].recipe->mirror)
                return error_set(err, -EINVAL, "%s: Mirror= and Snapshot= both say where the packages come from: give one",
                                 b->flavors[0].recipe->path);
        if (snapshot) {
                b->mirror = recipe_snapshot_url(snapshot);
                b->snapshot = true;
        } else if (b->o->mirror)
                b->mirror = strdup(b->o->mirror);
        else if (b->flavors[0].recipe->mirror)
                b->mirror = strdup(b->flavors[0].recipe->mirror);
        else {
                r = apt_sources_find_debian_mirror(err, "/", &b->mirror);
                if (r < 0)
                        return error_prefix(err, r, "no --mirror given and none found in the host's apt sources");
        }
        if (!b->mirror || !(b->appliance_mirror = appliance_url(b->mirror)))
                return -ENOMEM;
        if (b->o->proxy && !(b->appliance_proxy = appliance_url(b->o->proxy)))
                return -ENOMEM;

        r = check_early(err, b);
        if (r < 0)
                return r;
        stage_report(b, "recipe", &(StepFacts) {}, start, "%zu flavor(s), suite %s, mirror %s%s", b->n_flavors, b->suite,
                     b->mirror, b->snapshot ? " (a snapshot of the archive)" : "");
        return 0;
}

static int stage_fetch(ErrorSlot *err, Build *b) {
        _cleanup_free_ char *keys_dir = path_join(b->o->data_dir, "keys");
        uint64_t start = now_usec();
        int r;

        if (!keys_dir)
                return -ENOMEM;
        r = cache_open(err, b->o->cache_dir, &b->cache);
        if (r < 0)
                return r;
        /* A rebuild names its InRelease by hash; a snapshot is of its time
         * on purpose: neither is refused for its age or Valid-Until, nor
         * moves the cache's newest date (fetch.h). */
        r = fetch_sources(err, b->mirror, b->o->proxy, b->suite, keys_dir, b->cache->dir,
                          b->o->expect_inrelease_sha256 != NULL || b->snapshot, &b->sources);
        if (r < 0)
                return r;
        if (b->o->expect_inrelease_sha256 && !streq(b->o->expect_inrelease_sha256, b->sources->inrelease_sha256))
                return error_set(err, -ESTALE,
                                 "the mirror's InRelease of '%s' (sha256 %s) is not the pinned one (sha256 %s): the "
                                 "archive has changed since, so the pinned packages cannot be obtained from '%s'",
                                 b->suite, b->sources->inrelease_sha256, b->o->expect_inrelease_sha256, b->mirror);
        if (b->o->source_date_epoch >= 0)
                b->source_date_epoch = b->o->source_date_epoch;
        else if (!b->sources->release->date ||
                 release_parse_date(b->sources->release->date, &b->source_date_epoch) < 0)
                return error_set(err, -EBADMSG, "the Release file of '%s' has no usable Date", b->suite);
        stage_report(b, "fetch", &(StepFacts) { .key = b->sources->inrelease_sha256 }, start, "InRelease of %s (%s) signed by %s, sha256 %.16s", b->suite,
                     strempty(b->sources->codename), b->sources->signer_fingerprint, b->sources->inrelease_sha256);
        return 0;
}

static int stage_appliance(ErrorSlot *err, Build *b) {
        uint64_t start = now_usec();
        bool reused = false;
        const char *slash;
        int r;

        r = supermin_prepare(err, b->cache, &b->appliance_path, &reused);
        if (r < 0)
                return r;
        slash = strrchr(b->appliance_path, '/');
        b->appliance_id = strdup(slash ? slash + 1 : b->appliance_path);
        if (!b->appliance_id)
                return -ENOMEM;
        stage_report(b, "appliance",
                     &(StepFacts) { .subject = "appliance", .key = b->appliance_id,
                                    .outcome = reused ? BUILD_STEP_REUSED : BUILD_STEP_BUILT },
                     start, "%s %s", reused ? "cached" : "built", b->appliance_id);
        return 0;
}

/* The pipeline.  --until names one of these; the build checks for a
 * cancellation before each and stops after the one --until names. */
static const struct {
        const char *name;
        int (*run)(ErrorSlot *err, Build *b);
} stages[] = {
        { "recipe",    stage_recipe },
        { "fetch",     stage_fetch },     /* nothing is built from an archive whose signature was not checked */
        { "appliance", stage_appliance },
        { "bootstrap", stage_bootstrap },
        { "customize", stage_customize },
        { "finalize",  stage_finalize },
        { "export",    stage_export },
        { "sign",      stage_sign },
};

const char *build_stage_name(size_t i) {
        return i < ELEMENTSOF(stages) ? stages[i].name : NULL;
}

bool build_stage_valid(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(stages); i++)
                if (streq(stages[i].name, name))
                        return true;
        return false;
}

/* The configured limits on the cache, after a build that ended well (the
 * build still holds the cache's lock).  A failure here is a warning: the
 * build's results stand. */
static void auto_prune(Build *b) {
        CachePrunePolicy p = {
                .max_age = (int64_t) b->o->cache_max_age_days * 86400,
                .max_bytes = b->o->cache_max_bytes,
                .now = (int64_t) time(NULL),
        };
        CacheEntry *e = NULL;
        ErrorSlot err = {};
        uint64_t freed = 0;
        size_t n = 0;
        int r;

        if (p.max_age == 0 && p.max_bytes == 0)
                return;
        r = cache_prune(&err, b->cache, &p, &e, &n);
        if (r < 0) {
                log_warning("the cache was not pruned to its configured limits: %s", error_text(&err, r));
                error_done(&err);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                log_info("cache: removed %s (%.1f MiB), past the configured limits", e[i].name,
                         (double) e[i].bytes / 1048576.0);
                freed += e[i].bytes;
        }
        if (n > 0)
                log_notice("cache: %zu entries removed (%.1f MiB) to keep within the configured limits", n,
                           (double) freed / 1048576.0);
        cache_entries_free(e, n);
}

int build_run(ErrorSlot *err, const BuildOptions *o) {
        _cleanup_(build_done) Build b = { .o = o };
        int r;

        if (strv_length(o->flavors) == 0)
                return error_set(err, -EINVAL, "no flavor to build");
        if (o->until && !build_stage_valid(o->until))
                return error_set(err, -EINVAL, "unknown stage '%s'", o->until);
        appliance_set_stall_seconds(o->stall_seconds);
        /* A key that cannot sign stops the build now, not after it. */
        if (o->sign_key && (!o->until || streq(o->until, "sign"))) {
                r = sign_check_key(err, o->sign_key, o->gpg_home);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < ELEMENTSOF(stages); i++) {
                if ((r = check_cancel(err)) < 0 || (r = stages[i].run(err, &b)) < 0)
                        break;
                if (o->until && streq(o->until, stages[i].name))
                        break;
        }
        /* What this build used, done or not: a prune keeps it. */
        if (b.cache) {
                ErrorSlot e = {};
                int k = cache_write_last_build(&e, b.cache);
                if (k < 0)
                        log_warning("%s", error_text(&e, k));
                error_done(&e);
                if (r >= 0 && k >= 0)
                        auto_prune(&b);
        }
        return r < 0 ? r : 0;
}
