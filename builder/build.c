/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <pthread.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apt-sources.h"
#include "config.h"
#include "git-commit.h"
#include "bootstrap.h"
#include "buildinfo.h"
#include "overlay.h"
#include "build.h"
#include "cache.h"
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


/* Where the libvirt XML expects the images (the README says how to install
 * them there). */
#define KVM_IMAGES_DIR "/var/lib/libvirt/images"

typedef struct Flavor {
        char *name;
        Recipe *recipe;
        Recipe *layer;          /* the shared layer the flavor's recipe includes first, or NULL */
        char *base_key;         /* bootstrap */
        char *base_disk;
        char *layer_key;        /* shared layer */
        char *layer_disk;
        char *flavor_key;       /* the flavor's own layer */
        char *flavor_disk;
        char *final_key;
        char *final_disk;       /* raw, sparse */
        char *packages;         /* the final disk's installed packages (packages.h format) */
} Flavor;

typedef struct Build {
        const BuildOptions *o;
        Cache *cache;
        Flavor *flavors;
        size_t n_flavors;
        char *suite;
        char *mirror;
        SourceInfo *sources;
        char *appliance_path;
        char *appliance_id;
        int64_t source_date_epoch;
        char **artifacts;       /* what export published in the output directory; sign covers these */
} Build;

static void build_done(Build *b) {
        for (size_t i = 0; i < b->n_flavors; i++) {
                Flavor *f = &b->flavors[i];
                free(f->name);
                recipe_free(f->recipe);
                recipe_free(f->layer);
                free(f->base_key);
                free(f->base_disk);
                free(f->layer_key);
                free(f->layer_disk);
                free(f->flavor_key);
                free(f->flavor_disk);
                free(f->final_key);
                free(f->final_disk);
                free(f->packages);
        }
        free(b->flavors);
        free(b->suite);
        free(b->mirror);
        source_info_free(b->sources);
        free(b->appliance_path);
        free(b->appliance_id);
        strv_free(b->artifacts);
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

/* One line per stage: name, duration, what happened. */
static void stage_report(const char *stage, uint64_t start, const char *fmt, ...) _printf_(3, 4);
static void stage_report(const char *stage, uint64_t start, const char *fmt, ...) {
        _cleanup_free_ char *what = NULL;
        va_list ap;

        va_start(ap, fmt);
        what = strdup_vprintf(fmt, ap);
        va_end(ap);
        log_notice("stage %-10s %7.1f s  %s", stage, (double) (now_usec() - start) / 1e6, strempty(what));
}

static int check_cancel(ErrorSlot *err) {
        if (cancel_requested())
                return error_set(err, -ECANCELED, "interrupted");
        return 0;
}

static int overlay_paths(ErrorSlot *err, const Build *b, char * const *names, char ***ret);

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

                        return error_set(err, -EINVAL, "unknown flavor '%s' (gateway or workstation)",
                                         strempty(shown));
                }
                f->name = strdup(b->o->flavors[i]);
                if (!path || !f->name)
                        return -ENOMEM;
                r = recipe_load(err, path, b->o->data_dir, &f->recipe);
                if (r < 0)
                        return r;
                if (!streq_ptr(f->recipe->flavor, f->name))
                        return error_set(err, -EINVAL, "'%s' does not define the flavor '%s'", path, f->name);
                /* The first file a flavor's recipe includes is its shared
                 * layer (kicksecure.conf): built once, below both flavors. */
                if (strv_length(f->recipe->includes) > 0) {
                        r = recipe_load(err, f->recipe->includes[0], b->o->data_dir, &f->layer);
                        if (r < 0)
                                return r;
                }
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

        if (b->o->mirror)
                b->mirror = strdup(b->o->mirror);
        else if (b->flavors[0].recipe->mirror)
                b->mirror = strdup(b->flavors[0].recipe->mirror);
        else {
                r = apt_sources_find_debian_mirror(err, "/", &b->mirror);
                if (r < 0)
                        return error_prefix(err, r, "no --mirror given and none found in the host's apt sources");
        }
        if (!b->mirror)
                return -ENOMEM;

        r = check_early(err, b);
        if (r < 0)
                return r;
        stage_report("recipe", start, "%zu flavor(s), suite %s, mirror %s", b->n_flavors, b->suite, b->mirror);
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
        r = fetch_sources(err, b->mirror, b->suite, keys_dir, b->cache->dir, b->o->expect_inrelease_sha256 != NULL,
                          &b->sources);
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
        stage_report("fetch", start, "InRelease of %s (%s) signed by %s, sha256 %.16s", b->suite,
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
        stage_report("appliance", start, "%s %s", reused ? "cached" : "built", b->appliance_id);
        return 0;
}

/* The package cache disk: the cache's own, or the one a verification
 * shares with the cache it rebuilds beside. */
static char *debs_disk_path(const Build *b) {
        return b->o->debs_disk ? strdup(b->o->debs_disk) : cache_path(b->cache, "debs.img", NULL);
}

static void bootstrap_spec_for(const Build *b, const Recipe *rc, BootstrapSpec *ret) {
        *ret = (BootstrapSpec) {
                .mirror = b->mirror,
                .suite = b->suite,
                .architecture = rc->architecture,
                .variant = rc->variant,
                .components = rc->components,
                .include = rc->bootstrap_packages,
                .keyring_path = b->sources->keyring_path,
                .inrelease_sha256 = b->sources->inrelease_sha256,
        };
}

typedef struct BootstrapJob {
        const Build *b;
        const BootstrapSpec *spec;
        const char *debs;
} BootstrapJob;

/* A stalled appliance (the watchdog stopped it) is tried once more with a
 * fresh one, saying why; any other failure is final. */
#define STALL_ATTEMPTS 2u

static bool try_again_after_stall(ErrorSlot *err, int r, const char *what, unsigned attempt) {
        if (r != -ETIMEDOUT || cancel_requested() || attempt >= STALL_ATTEMPTS)
                return false;
        log_warning("%s: %s; trying again with a fresh appliance (attempt %u of %u)", what, error_message(err, r),
                    attempt + 1, STALL_ATTEMPTS);
        error_clear(err);
        return true;
}

static int produce_base(ErrorSlot *err, const char *tmp, void *userdata) {
        BootstrapJob *j = userdata;
        int r;

        for (unsigned attempt = 1;; attempt++) {
                r = bootstrap_run(err, j->spec, j->b->appliance_path, j->debs, tmp, j->b->o->verbose);
                if (!try_again_after_stall(err, r, "bootstrap", attempt))
                        return r;
        }
}

static int stage_bootstrap(ErrorSlot *err, Build *b) {
        _cleanup_free_ char *debs = debs_disk_path(b), *tool_id = NULL;
        int r;

        if (!debs)
                return -ENOMEM;
        r = bootstrap_tool_id(err, b->suite, &tool_id);
        if (r < 0)
                return r;
        for (size_t i = 0; i < b->n_flavors; i++) {
                Flavor *f = &b->flavors[i];
                uint64_t start = now_usec();
                BootstrapSpec spec;
                BootstrapJob job = { .b = b, .spec = &spec, .debs = debs };
                bool built;

                bootstrap_spec_for(b, f->recipe, &spec);
                r = bootstrap_key(&spec, tool_id, &f->base_key);
                if (r < 0)
                        return r;
                r = cache_produce(err, b->cache, "base", f->base_key, ".qcow2", produce_base, &job, &f->base_disk, &built);
                if (r < 0)
                        return r;
                stage_report("bootstrap", start, "%s base %.16s (%s)", built ? "built" : "cached", f->base_key, f->name);
                r = check_cancel(err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int overlay_paths(ErrorSlot *err, const Build *b, char * const *names, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;

        STRV_FOREACH(n, names) {
                _cleanup_free_ char *p = strdup_printf("%s/overlays/%s", b->o->data_dir, *n);
                if (!p)
                        return -ENOMEM;
                struct stat st;

                if (lstat(p, &st) < 0)
                        return error_set_errno(err, -errno, "overlay '%s' not found at '%s'", *n, p);
                /* A symlink could name any directory of the build host. */
                if (S_ISLNK(st.st_mode))
                        return error_set(err, -ELOOP, "overlay '%s': '%s' is a symlink; an overlay must be a "
                                         "directory of the data directory itself", *n, p);
                if (!S_ISDIR(st.st_mode))
                        return error_set(err, -ENOTDIR, "overlay '%s': '%s' is not a directory", *n, p);
                if (strv_consume(&l, TAKE_PTR(p)) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* Elements of a that are not in b, in a's order. */
static int strv_minus(char * const *a, char * const *b, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;

        STRV_FOREACH(s, a)
                if (!strv_contains(b, *s) && strv_extend(&l, *s) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

/* How many flavors run side by side after the shared layer, each in an
 * appliance of its own (one appliance is 1.5 GiB; what the guest sees does
 * not change with this). */
static unsigned flavor_threads(const Build *b) {
        return b->o->jobs < b->n_flavors ? b->o->jobs : (unsigned) b->n_flavors;
}

typedef struct LayerJob {
        const Build *b;
        const CustomizeSpec *spec;
        const char *parent_disk;
} LayerJob;

/* The package cache disk is one ext4 filesystem that apt writes: the
 * flavors' steps that use it take turns. */
static pthread_mutex_t debs_disk_lock = PTHREAD_MUTEX_INITIALIZER;

static int produce_layer(ErrorSlot *err, const char *tmp, void *userdata) {
        LayerJob *j = userdata;
        _cleanup_free_ char *debs = NULL;
        int r;

        if (customize_needs_packages_disk(j->spec)) {
                debs = debs_disk_path(j->b);
                if (!debs)
                        return -ENOMEM;
        }
        for (unsigned attempt = 1;; attempt++) {
                if (debs)
                        pthread_mutex_lock(&debs_disk_lock);
                r = customize_run(err, j->spec, j->b->appliance_path, debs, j->parent_disk, tmp, j->b->o->verbose);
                if (debs)
                        pthread_mutex_unlock(&debs_disk_lock);
                if (!try_again_after_stall(err, r, j->spec->label, attempt))
                        return r;
        }
}

/* Make one step of a layer unless its key is cached; *ret_disk is its qcow2.
 * shown names the step in the stage line. */
static int build_step(ErrorSlot *err, const Build *b, const CustomizeSpec *spec, const char *shown,
                      const char *parent_key, const char *parent_disk, char **ret_key, char **ret_disk) {
        _cleanup_free_ char *key = NULL, *disk = NULL;
        LayerJob job = { .b = b, .spec = spec, .parent_disk = parent_disk };
        uint64_t start = now_usec();
        bool built;
        int r;

        r = customize_key(err, spec, parent_key, &key);
        if (r < 0)
                return r;
        r = cache_produce(err, b->cache, "layers", key, ".qcow2", produce_layer, &job, &disk, &built);
        if (r < 0)
                return error_prefix(err, r, "layer step '%s'", shown);
        if (built)
                stage_report("customize", start,
                             "built layer %.16s (%s: %zu packages, %zu early overlays, %zu overlays, %zu scripts)", key,
                             shown, strv_length(spec->packages), strv_length(spec->early_overlay_dirs),
                             strv_length(spec->overlay_dirs), strv_length(spec->scripts));
        else
                stage_report("customize", start, "cached layer %.16s (%s)", key, shown);
        *ret_key = TAKE_PTR(key);
        *ret_disk = TAKE_PTR(disk);
        return 0;
}

/* One recipe layer, in the two cached steps customize_split() makes of
 * it; a step with nothing to do is skipped. */
static int build_layer(ErrorSlot *err, const Build *b, const CustomizeSpec *whole, const char *parent_key,
                       const char *parent_disk, char **ret_key, char **ret_disk) {
        _cleanup_free_ char *pkg_key = NULL, *pkg_disk = NULL, *shown = NULL;
        CustomizeSteps steps;
        int r;

        customize_split(whole, &steps);
        if (steps.has_packages) {
                shown = strdup_printf("%s packages", whole->label);
                if (!shown)
                        return -ENOMEM;
                r = build_step(err, b, &steps.packages, shown, parent_key, parent_disk, &pkg_key, &pkg_disk);
                if (r < 0 || (r = check_cancel(err)) < 0)
                        return r;
                parent_key = pkg_key;
                parent_disk = pkg_disk;
        }
        if (steps.has_files)
                return build_step(err, b, &steps.files, whole->label, parent_key, parent_disk, ret_key, ret_disk);

        *ret_key = strdup(parent_key);
        *ret_disk = strdup(parent_disk);
        return *ret_key && *ret_disk ? 0 : -ENOMEM;
}

/* A recipe's own layer: what rc adds to the recipe below it (NULL: all of
 * rc), on parent.  The host name is the flavor's; the shared layer has none. */
static int customize_recipe(ErrorSlot *err, const Build *b, const char *label, const Recipe *rc, const Recipe *below,
                            const char *hostname, const char *parent_key, const char *parent_disk, char **ret_key,
                            char **ret_disk) {
        _cleanup_strv_free_ char **packages = NULL, **early_names = NULL, **overlay_names = NULL, **scripts = NULL,
                                 **early = NULL, **overlays = NULL;
        int r;

        if (strv_minus(rc->packages, below ? below->packages : NULL, &packages) < 0 ||
            strv_minus(rc->early_overlays, below ? below->early_overlays : NULL, &early_names) < 0 ||
            strv_minus(rc->overlays, below ? below->overlays : NULL, &overlay_names) < 0 ||
            strv_minus(rc->scripts, below ? below->scripts : NULL, &scripts) < 0)
                return -ENOMEM;
        if ((r = overlay_paths(err, b, early_names, &early)) < 0 ||
            (r = overlay_paths(err, b, overlay_names, &overlays)) < 0)
                return r;
        CustomizeSpec spec = {
                .label = label,
                .early_overlay_dirs = early,
                .packages = packages,
                .remove_packages = rc->remove_packages,
                .overlay_dirs = overlays,
                .scripts = scripts,
                .hostname = hostname,
                .user_name = rc->user_name,
                .user_groups = rc->user_groups,
                .source_date_epoch = b->source_date_epoch,
        };
        return build_layer(err, b, &spec, parent_key, parent_disk, ret_key, ret_disk);
}

/* The flavor's own layer: what its recipe adds to the shared one. */
static int customize_flavor(ErrorSlot *err, size_t i, void *userdata) {
        Build *b = userdata;
        Flavor *f = &b->flavors[i];

        return customize_recipe(err, b, f->name, f->recipe, f->layer, f->recipe->hostname,
                                f->layer ? f->layer_key : f->base_key, f->layer ? f->layer_disk : f->base_disk,
                                &f->flavor_key, &f->flavor_disk);
}

static int stage_customize(ErrorSlot *err, Build *b) {
        int r;

        /* The shared layer (the recipe every flavor includes first): built
         * for the first flavor, found cached by the others. */
        for (size_t i = 0; i < b->n_flavors; i++) {
                Flavor *f = &b->flavors[i];

                if (!f->layer)
                        continue;
                r = customize_recipe(err, b, f->layer->name, f->layer, NULL, NULL, f->base_key, f->base_disk,
                                     &f->layer_key, &f->layer_disk);
                if (r < 0 || (r = check_cancel(err)) < 0)
                        return r;
        }
        r = parallel_run(err, b->n_flavors, flavor_threads(b), customize_flavor, b);
        if (r < 0)
                return r;
        return check_cancel(err);
}

static const char *build_seed(const Build *b) {
        return b->o->seed ?: BUILD_DEFAULT_SEED;
}

#define FINALIZE_ATTEMPTS 3u

typedef struct FinalizeJob {
        const Build *b;
        const FinalizeSpec *spec;
        const char *layer_disk;
} FinalizeJob;

static int produce_final(ErrorSlot *err, const char *tmp, void *userdata) {
        FinalizeJob *j = userdata;
        int r;

        /* Under TCG the appliance has failed transiently here (a partition
         * node late; 'Structure needs cleaning' from the tree's filesystem
         * right after the new disk is partitioned, cause not yet found),
         * once in two or three builds, twice in a row in one.  The stage is
         * a pure function of its inputs, so fresh attempts are safe; a real
         * fault fails every time and is reported. */
        for (unsigned attempt = 1;; attempt++) {
                r = finalize_run(err, j->spec, j->b->appliance_path, j->layer_disk, tmp, j->b->o->verbose);
                if (r >= 0 || r == -ECANCELED || cancel_requested() || attempt >= FINALIZE_ATTEMPTS)
                        return r;
                log_warning("finalize of '%s' failed (%s); trying again with a fresh appliance (attempt %u of %u)",
                            j->spec->label, error_message(err, r), attempt + 1, FINALIZE_ATTEMPTS);
                error_clear(err);
        }
}

static int finalize_flavor(ErrorSlot *err, size_t i, void *userdata) {
        Build *b = userdata;
        Flavor *f = &b->flavors[i];
        uint64_t start = now_usec();
        FinalizeSpec spec = {
                .label = f->name,
                .recipe = f->recipe,
                .seed = build_seed(b),
                .source_date_epoch = b->source_date_epoch,
                .suite = b->suite,
                .inrelease_sha256 = b->sources->inrelease_sha256,
        };
        FinalizeJob job = { .b = b, .spec = &spec, .layer_disk = f->flavor_disk };
        bool built;
        int r;

        r = finalize_key(err, &spec, f->flavor_key, &f->final_key);
        if (r < 0)
                return r;
        /* Written beside the disk before the disk is moved into place, so a
         * cached disk always has its list. */
        f->packages = strdup_printf("%s/final/%s.packages", b->cache->dir, f->final_key);
        if (!f->packages)
                return -ENOMEM;
        spec.packages_path = f->packages;
        r = cache_produce(err, b->cache, "final", f->final_key, ".img", produce_final, &job, &f->final_disk, &built);
        if (r < 0)
                return r;
        if (access(f->packages, R_OK) < 0)
                return error_set_errno(err, -errno, "the cached final disk of '%s' has no package list '%s'", f->name,
                                       f->packages);
        stage_report("finalize", start, "%s disk %.16s (%s)", built ? "built" : "cached", f->final_key, f->name);
        return check_cancel(err);
}

static int stage_finalize(ErrorSlot *err, Build *b) {
        return parallel_run(err, b->n_flavors, flavor_threads(b), finalize_flavor, b);
}

/* Move every file of a staging directory into the output directory. */
static int publish(ErrorSlot *err, const char *staging, const char *output, char * const *names) {
        STRV_FOREACH(n, names) {
                _cleanup_free_ char *from = path_join(staging, *n), *to = path_join(output, *n);

                if (!from || !to)
                        return -ENOMEM;
                if (rename(from, to) < 0)
                        return error_set_errno(err, -errno, "cannot move '%s' into '%s'", *n, output);
        }
        return 0;
}

static int produce_qcow2(ErrorSlot *err, const char *tmp, void *userdata) {
        const char *raw = userdata;

        /* Compressed: only the used blocks are stored. */
        return spawn_run(err, ARGV("qemu-img", "convert", "-q", "-c", "-f", "raw", "-O", "qcow2", raw, tmp), NULL,
                         NULL);
}

typedef struct ExportJobs {
        const Build *b;
        const char *staging;
} ExportJobs;

/* The published qcow2 of a final disk is cached under the disk's key: a
 * rebuild that changed one flavor converts only that one. */
static int export_qcow2(ErrorSlot *err, size_t i, void *userdata) {
        ExportJobs *ej = userdata;
        const Flavor *f = &ej->b->flavors[i];
        _cleanup_free_ char *name = strdup_printf("%s.qcow2", f->recipe->vm_name), *dest = NULL, *cached = NULL;
        bool built;
        int r;

        if (!name || !(dest = path_join(ej->staging, name)))
                return -ENOMEM;
        log_progress("export", name, 0, 0);
        r = cache_produce(err, ej->b->cache, "qcow2", f->final_key, ".qcow2", produce_qcow2, f->final_disk, &cached,
                          &built);
        if (r < 0)
                return error_prefix(err, r, "cannot write '%s'", name);
        r = copy_file(cached, dest, 0644);
        if (r < 0)
                return error_set_errno(err, r, "cannot copy '%s' to '%s'", cached, dest);
        return 0;
}

/* The qcow2 images and the libvirt XML of the domains and their networks. */
static int export_kvm_into(ErrorSlot *err, const Build *b, const char *staging, char ***names) {
        _cleanup_free_ Recipe **recipes = calloc(b->n_flavors, sizeof(Recipe *));
        ExportJobs ej = { .b = b, .staging = staging };
        int r;

        if (!recipes)
                return -ENOMEM;
        for (size_t i = 0; i < b->n_flavors; i++) {
                recipes[i] = b->flavors[i].recipe;
                if ((r = strv_consume(names, strdup_printf("%s.qcow2", b->flavors[i].recipe->vm_name))) < 0 ||
                    (r = strv_consume(names, strdup_printf("%s.xml", b->flavors[i].recipe->vm_name))) < 0)
                        return r;
        }
        r = parallel_run(err, b->n_flavors, b->o->jobs, export_qcow2, &ej);
        if (r < 0)
                return r;
        r = kvm_export(err, recipes, b->n_flavors, staging, KVM_IMAGES_DIR, build_seed(b));
        if (r < 0)
                return r;
        /* The networks the domains use. */
        STRV_FOREACH(net, ((char *[]) { (char *) "external", (char *) "internal", NULL })) {
                _cleanup_free_ char *file = strdup_printf("%s.xml", kvm_network_name(*net)), *p = NULL;
                if (!file || !(p = path_join(staging, file)))
                        return -ENOMEM;
                if (access(p, F_OK) == 0 && (r = strv_consume(names, TAKE_PTR(file))) < 0)
                        return r;
        }
        return 0;
}

/* Both VMs in one OVA: streamOptimized VMDKs written from the final raw
 * disks, then the tar (ovf, mf, disks); with --ova-per-vm one OVA per VM
 * too, for importers that take one machine per OVA (virt-v2v). */
static int export_ova_into(ErrorSlot *err, const Build *b, const char *staging, char ***names) {
        _cleanup_free_ OvaVm *vms = calloc(b->n_flavors, sizeof(OvaVm));
        _cleanup_free_ char *ova = path_join(staging, "Whonix.ova");
        _cleanup_strv_free_ char **vmdks = NULL;
        OvaOptions opts = { .seed = build_seed(b), .mtime = b->source_date_epoch, .ovf_name = "Whonix" };
        int r;

        if (!vms || !ova)
                return -ENOMEM;
        for (size_t i = 0; i < b->n_flavors; i++) {
                const Flavor *f = &b->flavors[i];
                _cleanup_free_ char *name = ova_disk_name(f->recipe), *cid_hex = NULL, *what = NULL;
                VmdkOptions vo = { .adapter_type = "ide", .extent_name = name };

                if (!name || !(what = strdup_printf("vmdk-cid:%s", f->recipe->vm_name)))
                        return -ENOMEM;
                r = id_hex(build_seed(b), what, 4, &cid_hex);
                if (r < 0)
                        return r;
                vo.cid = (uint32_t) strtoul(cid_hex, NULL, 16);
                if ((r = strv_consume(&vmdks, path_join(staging, name))) < 0)
                        return r;
                log_progress("export", name, 0, 0);
                r = vmdk_from_raw(err, f->final_disk, vmdks[i], &vo, NULL);
                if (r < 0)
                        return r;
                vms[i] = (OvaVm) {
                        .recipe = f->recipe,
                        .vmdk_path = vmdks[i],
                        .capacity_bytes = f->recipe->disk_size,
                };
        }
        log_progress("export", "Whonix.ova", 0, 0);
        r = ova_write(err, vms, b->n_flavors, ova, &opts);
        if (r < 0 || (r = strv_extend(names, "Whonix.ova")) < 0)
                return r;
        for (size_t i = 0; b->o->ova_per_vm && i < b->n_flavors; i++) {
                const char *vm = b->flavors[i].recipe->vm_name;
                _cleanup_free_ char *name = strdup_printf("%s.ova", vm), *p = NULL;
                OvaOptions one = opts;

                if (!name || !(p = path_join(staging, name)))
                        return -ENOMEM;
                one.ovf_name = vm;
                log_progress("export", name, 0, 0);
                r = ova_write(err, &vms[i], 1, p, &one);
                if (r < 0 || (r = strv_consume(names, TAKE_PTR(name))) < 0)
                        return r;
        }
        return 0;
}

static int write_buildinfo(ErrorSlot *err, Build *b);

/* Everything is made in a hidden directory beside the results and moved in
 * only when all of it is complete; then the buildinfo that describes it. */
static int stage_export(ErrorSlot *err, Build *b) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *staging = NULL, *list = NULL;
        uint64_t start = now_usec();
        int r;

        r = mkdir_p(b->o->output_dir, 0755);
        if (r < 0)
                return error_set_errno(err, r, "cannot create the output directory '%s'", b->o->output_dir);
        r = mkdtemp_in(b->o->output_dir, ".whonix-build", &staging);
        if (r < 0)
                return error_set_errno(err, r, "cannot create a temporary directory in '%s'", b->o->output_dir);
        r = b->o->target == TARGET_VIRTUALBOX ? export_ova_into(err, b, staging, &names)
                                                : export_kvm_into(err, b, staging, &names);
        if (r >= 0)
                r = publish(err, staging, b->o->output_dir, names);
        (void) rm_rf(staging);
        if (r < 0)
                return r;
        list = strv_join(names, ", ");
        stage_report("export", start, "%s in '%s'", strempty(list), b->o->output_dir);
        r = strv_extend_strv(&b->artifacts, names);
        if (r < 0)
                return r;
        return write_buildinfo(err, b);
}

/* whonix.buildinfo beside the artifacts: every input of this build and every
 * artifact's SHA256, for whonix-build verify.  Written atomically, and then
 * one more artifact for the sign stage to cover. */
static int write_buildinfo(ErrorSlot *err, Build *b) {
        _cleanup_(buildinfo_freep) Buildinfo *bi = calloc(1, sizeof(Buildinfo));
        _cleanup_free_ char *text = NULL, *path = path_join(b->o->output_dir, BUILDINFO_NAME);
        int r;

        if (!bi || !path)
                return -ENOMEM;
        bi->tool_version = strdup(PACKAGE_VERSION);
        bi->tool_commit = strdup(GIT_COMMIT);
        bi->target = strdup(target_to_string(b->o->target));
        bi->suite = strdup(b->suite);
        bi->mirror = strdup(b->mirror);
        bi->inrelease_sha256 = strdup(b->sources->inrelease_sha256);
        bi->inrelease_signer = strdup(b->sources->signer_fingerprint);
        bi->seed = strdup(build_seed(b));
        bi->source_date_epoch = b->source_date_epoch;
        bi->packages = calloc(b->n_flavors, sizeof(PackageList *));
        if (!bi->tool_version || !bi->tool_commit || !bi->target || !bi->suite || !bi->mirror ||
            !bi->inrelease_sha256 || !bi->inrelease_signer || !bi->seed || !bi->packages)
                return -ENOMEM;
        r = overlay_data_dir_hash(err, b->o->data_dir, &bi->recipe_tree_sha256);
        if (r < 0)
                return r;
        for (size_t i = 0; i < b->n_flavors; i++) {
                _cleanup_free_ char *list = NULL;
                size_t size;

                if (strv_extend(&bi->flavors, b->flavors[i].name) < 0)
                        return -ENOMEM;
                r = read_full_file(b->flavors[i].packages, PACKAGES_SIZE_MAX, &list, &size);
                if (r < 0)
                        return error_set_errno(err, r, "cannot read '%s'", b->flavors[i].packages);
                r = package_list_parse(err, list, size, &bi->packages[i]);
                if (r < 0)
                        return error_prefix(err, r, "'%s'", b->flavors[i].packages);
        }
        STRV_FOREACH(name, b->artifacts) {
                _cleanup_free_ char *p = path_join(b->o->output_dir, *name);
                if (!p)
                        return -ENOMEM;
                r = buildinfo_add_artifact(err, bi, *name, p);
                if (r < 0)
                        return r;
        }
        r = buildinfo_format(err, bi, &text);
        if (r < 0)
                return r;
        r = write_file_atomic(path, text, strlen(text), 0644);
        if (r < 0)
                return error_set_errno(err, r, "cannot write '%s'", path);
        return strv_extend(&b->artifacts, BUILDINFO_NAME);
}

/* SHA256SUMS and, with a key, a detached signature of every artifact and of
 * SHA256SUMS.  Signatures and sums from an earlier build spoke of files that
 * export has just replaced: they go first, whatever happens next. */
static int stage_sign(ErrorSlot *err, Build *b) {
        SignOptions so = { .key = b->o->sign_key, .gpg_home = b->o->gpg_home };
        uint64_t start = now_usec();
        int r;

        r = sign_remove_stale(err, b->o->output_dir, b->artifacts);
        if (r < 0)
                return r;
        r = sign_artifacts(err, b->o->output_dir, b->artifacts, &so);
        if (r < 0)
                return r;
        if (so.key)
                stage_report("sign", start, "%zu file(s) and SHA256SUMS signed by %s", strv_length(b->artifacts),
                             so.key);
        else {
                stage_report("sign", start, "SHA256SUMS of %zu file(s)", strv_length(b->artifacts));
                log_warning("THE OUTPUT IS NOT SIGNED: no --sign-key was given, so nobody can check that the "
                            "files in '%s' are the ones this build made", b->o->output_dir);
        }
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

bool build_stage_valid(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(stages); i++)
                if (streq(stages[i].name, name))
                        return true;
        return false;
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
                        return r;
                if (o->until && streq(o->until, stages[i].name))
                        break;
        }
        return 0;
}
