/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The stages that make the disks: the bases (bootstrap), the layers
 * (customize) and the final disks (finalize), each cached by key. */
#include <pthread.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "bootstrap.h"
#include "build-internal.h"
#include "cancel.h"
#include "customize.h"
#include "finalize.h"
#include "guestfs-util.h"
#include "log.h"
#include "parallel.h"
#include "tor-connection.h"

/* The package cache disk: the cache's own, or the one a verification
 * shares with the cache it rebuilds beside. */
static char *debs_disk_path(const Build *b) {
        return b->o->debs_disk ? strdup(b->o->debs_disk) : cache_path(b->cache, "debs.img", NULL);
}

static void bootstrap_spec_for(const Build *b, const Recipe *rc, BootstrapSpec *ret) {
        *ret = (BootstrapSpec) {
                .mirror = b->appliance_mirror,
                .suite = b->suite,
                .architecture = rc->architecture,
                .variant = rc->variant,
                .components = rc->components,
                .include = rc->bootstrap_packages,
                .keyring_path = b->sources->keyring_path,
                .inrelease_sha256 = b->sources->inrelease_sha256,
                .proxy = b->appliance_proxy,
                .debootstrap_version = b->debootstrap.version,
                .debootstrap_sha256 = b->debootstrap.sha256,
                .debootstrap_tar = b->debootstrap.tar_path,
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
        log_warning("%s: %s; trying again with a fresh appliance (attempt %u of %u)", what, error_text(err, r),
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

int stage_bootstrap(ErrorSlot *err, Build *b) {
        _cleanup_free_ char *debs = debs_disk_path(b);
        int r;

        if (!debs)
                return -ENOMEM;
        for (size_t i = 0; i < b->n_flavors; i++) {
                Flavor *f = &b->flavors[i];
                uint64_t start = now_usec();
                BootstrapSpec spec;
                BootstrapJob job = { .b = b, .spec = &spec, .debs = debs };
                bool built;

                /* The pinned debootstrap, once per build (every flavor of
                 * a build has the same architecture today). */
                if (!b->debootstrap.tar_path) {
                        r = debootstrap_pin(err, b->sources, f->recipe->architecture, b->o->proxy, b->cache->dir,
                                            &b->debootstrap);
                        if (r < 0)
                                return r;
                }
                bootstrap_spec_for(b, f->recipe, &spec);
                r = bootstrap_key(&spec, &f->base_key);
                if (r < 0)
                        return r;
                log_step_begin("bootstrap", cache_step_seconds(b->cache, "bootstrap"));
                r = cache_produce(err, b->cache, "base", f->base_key, ".qcow2", produce_base, &job, &f->base_disk, &built);
                log_step_end("bootstrap");
                if (r < 0)
                        return r;
                if (built)
                        cache_note_step_seconds(b->cache, "bootstrap", (double) (now_usec() - start) / 1e6);
                stage_report(b, "bootstrap",
                             &(StepFacts) { .flavor = f->name, .subject = "base", .key = f->base_key,
                                            .outcome = built ? BUILD_STEP_BUILT : BUILD_STEP_REUSED },
                             start, "%s base %.16s (%s)", built ? "built" : "cached", f->base_key, f->name);
                r = check_cancel(err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int overlay_paths(ErrorSlot *err, const Build *b, char * const *names, char ***ret) {
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

/* How many flavors run side by side, each in an appliance of its own (one
 * appliance is 1.5 GiB; what the guest sees does not change with this). */
static unsigned threads_for(const Build *b, size_t n) {
        return b->o->jobs < n ? b->o->jobs : (unsigned) n;
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
        _cleanup_free_ char *step = strdup_printf("customize %s", shown);
        if (!step)
                return -ENOMEM;
        log_step_begin(spec->label, cache_step_seconds(b->cache, step));
        r = cache_produce(err, b->cache, "layers", key, ".qcow2", produce_layer, &job, &disk, &built);
        log_step_end(spec->label);
        if (r < 0)
                return error_prefix(err, r, "layer step '%s'", shown);
        if (built)
                cache_note_step_seconds(b->cache, step, (double) (now_usec() - start) / 1e6);
        if (built)
                stage_report(b, "customize",
                             &(StepFacts) { .subject = "layer", .name = shown, .key = key, .outcome = BUILD_STEP_BUILT },
                             start, "built layer %.16s (%s: %zu packages, %zu early overlays, %zu overlays, %zu scripts)", key,
                             shown, strv_length(spec->packages), strv_length(spec->early_overlay_dirs),
                             strv_length(spec->overlay_dirs), strv_length(spec->scripts));
        else
                stage_report(b, "customize",
                             &(StepFacts) { .subject = "layer", .name = shown, .key = key, .outcome = BUILD_STEP_REUSED },
                             start, "cached layer %.16s (%s)", key, shown);
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
                            const char *hostname, const char *tor_connection, const char *parent_key, const char *parent_disk, char **ret_key,
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
                .tor_connection = tor_connection,
                .user_name = rc->user_name,
                .user_groups = rc->user_groups,
                .source_date_epoch = b->source_date_epoch,
                .proxy = b->appliance_proxy,
                .mirror = b->appliance_mirror,
                .suite = b->suite,
                .components = rc->components,
        };
        return build_layer(err, b, &spec, parent_key, parent_disk, ret_key, ret_disk);
}

/* The gateway's connection file, from its recipe's [Tor] section; NULL if
 * the section is empty (Tor connects at boot, directly). */
static int tor_connection_file(ErrorSlot *err, const Recipe *rc, char **ret) {
        int r;

        *ret = NULL;
        if (!rc->tor_connect_at_boot && !rc->tor_bridges[0])
                return 0;
        r = tor_connection_render(!streq_ptr(rc->tor_connect_at_boot, "no"), rc->tor_bridges, ret);
        if (r < 0)
                return error_set_errno(err, r, "%s: cannot write the [Tor] section as a torrc file", rc->path);
        return 0;
}

/* The recipe a flavor builds at a level: its layers bottom first, then its
 * own; NULL above its top. */
static const Recipe *recipe_at(const Flavor *f, size_t level) {
        return level < f->n_layers ? f->layers[level] : level == f->n_layers ? f->recipe : NULL;
}

static const char *parent_key_at(const Flavor *f, size_t level) {
        return level == 0 ? f->base_key : f->layer_keys[level - 1];
}

static const char *parent_disk_at(const Flavor *f, size_t level) {
        return level == 0 ? f->base_disk : f->layer_disks[level - 1];
}

typedef struct Level {
        Build *b;
        size_t level;
        size_t *flavors;        /* indexes of the flavors whose steps run now */
} Level;

/* One recipe's layer for one flavor: what it adds to the recipe below it.
 * A recipe that makes a machine (Flavor=) sets its host name and, a
 * gateway's, the Tor connection, wherever it stands: a workstation layer
 * below a desktop is the very layer the workstation flavor builds, and
 * found in the cache. */
static int customize_level_job(ErrorSlot *err, size_t i, void *userdata) {
        Level *l = userdata;
        Build *b = l->b;
        Flavor *f = &b->flavors[l->flavors[i]];
        const Recipe *rc = recipe_at(f, l->level), *below = l->level > 0 ? recipe_at(f, l->level - 1) : NULL;
        _cleanup_free_ char *tor = NULL;
        int r;

        if (rc->flavor) {
                r = tor_connection_file(err, rc, &tor);
                if (r < 0)
                        return r;
        }
        return customize_recipe(err, b, rc->flavor ?: rc->name, rc, below, rc->flavor ? rc->hostname : NULL, tor,
                                parent_key_at(f, l->level), parent_disk_at(f, l->level),
                                &f->layer_keys[l->level], &f->layer_disks[l->level]);
}

/* The same recipe on the same parent is the same step: built once. */
static bool same_step(const Flavor *a, const Flavor *c, size_t level) {
        return streq(recipe_at(a, level)->path, recipe_at(c, level)->path) &&
               streq(parent_key_at(a, level), parent_key_at(c, level));
}

/* Level by level, bottom up: at each, the distinct steps side by side, then
 * the flavors whose step another flavor has just built (from the cache). */
int stage_customize(ErrorSlot *err, Build *b) {
        _cleanup_free_ size_t *order = calloc(b->n_flavors, sizeof(size_t));
        size_t levels = 0;
        int r;

        if (!order)
                return -ENOMEM;
        for (size_t i = 0; i < b->n_flavors; i++)
                if (b->flavors[i].n_layers + 1 > levels)
                        levels = b->flavors[i].n_layers + 1;
        for (size_t level = 0; level < levels; level++) {
                Level l = { .b = b, .level = level, .flavors = order };
                size_t n = 0, n_dup = 0;
                _cleanup_free_ size_t *dups = calloc(b->n_flavors, sizeof(size_t));

                if (!dups)
                        return -ENOMEM;
                for (size_t i = 0; i < b->n_flavors; i++) {
                        bool seen = false;

                        if (!recipe_at(&b->flavors[i], level))
                                continue;
                        for (size_t j = 0; j < n && !seen; j++)
                                seen = same_step(&b->flavors[order[j]], &b->flavors[i], level);
                        if (seen)
                                dups[n_dup++] = i;
                        else
                                order[n++] = i;
                }
                r = parallel_run(err, n, threads_for(b, n), customize_level_job, &l);
                if (r < 0 || (r = check_cancel(err)) < 0)
                        return r;
                memcpy(order, dups, n_dup * sizeof(size_t));
                r = parallel_run(err, n_dup, 1, customize_level_job, &l);
                if (r < 0 || (r = check_cancel(err)) < 0)
                        return r;
        }
        return 0;
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

        /* Under TCG the appliance has failed transiently here.  The common
         * case ('Structure needs cleaning', a partition node that never
         * came, a partition "in use") was the kernel naming the disks out of
         * order and the shell commands being given libguestfs's names: sgdisk
         * wrote onto the appliance's root (appliance_kernel_device() now).
         * Other transient faults remain possible under an overloaded
         * emulator; the stage is a pure function of its inputs, so fresh
         * attempts are safe, and a real fault fails every time and is
         * reported. */
        for (unsigned attempt = 1;; attempt++) {
                r = finalize_run(err, j->spec, j->b->appliance_path, j->layer_disk, tmp, j->b->o->verbose);
                if (r >= 0 || r == -ECANCELED || r == -ENOSPC || cancel_requested() || attempt >= FINALIZE_ATTEMPTS)
                        return r;
                log_warning("finalize of '%s' failed (%s); trying again with a fresh appliance (attempt %u of %u)",
                            j->spec->label, error_text(err, r), attempt + 1, FINALIZE_ATTEMPTS);
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
        FinalizeJob job = { .b = b, .spec = &spec, .layer_disk = f->layer_disks[f->n_layers] };
        bool built;
        int r;

        r = finalize_key(err, &spec, f->layer_keys[f->n_layers], &f->final_key);
        if (r < 0)
                return r;
        /* Written beside the disk before the disk is moved into place, so a
         * cached disk always has its list. */
        f->packages = strdup_printf("%s/final/%s.packages", b->cache->dir, f->final_key);
        if (!f->packages)
                return -ENOMEM;
        spec.packages_path = f->packages;
        _cleanup_free_ char *step = strdup_printf("finalize %s", f->name);
        if (!step)
                return -ENOMEM;
        log_step_begin(f->name, cache_step_seconds(b->cache, step));
        r = cache_produce(err, b->cache, "final", f->final_key, ".img", produce_final, &job, &f->final_disk, &built);
        log_step_end(f->name);
        if (r < 0)
                return r == -ECANCELED ? r : error_prefix(err, r, "finalize of '%s'", f->name);
        if (built)
                cache_note_step_seconds(b->cache, step, (double) (now_usec() - start) / 1e6);
        if (access(f->packages, R_OK) < 0)
                return error_set_errno(err, -errno, "the cached final disk of '%s' has no package list '%s'", f->name,
                                       f->packages);
        stage_report(b, "finalize",
                     &(StepFacts) { .flavor = f->name, .subject = "disk", .key = f->final_key,
                                    .outcome = built ? BUILD_STEP_BUILT : BUILD_STEP_REUSED },
                     start, "%s disk %.16s (%s)", built ? "built" : "cached", f->final_key, f->name);
        return check_cancel(err);
}

typedef struct FinalizeOrder {
        Build *b;
        size_t *order;
} FinalizeOrder;

static int finalize_in_order(ErrorSlot *err, size_t i, void *userdata) {
        FinalizeOrder *o = userdata;

        return finalize_flavor(err, o->order[i], o->b);
}

/* The flavor with the most layers (the largest disk, the longest
 * finalize: the desktop) starts first, so that it does not run alone at
 * the end while the other CPU idles. */
int stage_finalize(ErrorSlot *err, Build *b) {
        _cleanup_free_ size_t *order = calloc(b->n_flavors, sizeof(size_t));
        FinalizeOrder o = { .b = b, .order = order };

        if (!order)
                return -ENOMEM;
        for (size_t i = 0; i < b->n_flavors; i++) {
                size_t j = i;

                /* Insertion sort, stable: deeper first, else in order. */
                while (j > 0 && b->flavors[order[j - 1]].n_layers < b->flavors[i].n_layers) {
                        order[j] = order[j - 1];
                        j--;
                }
                order[j] = i;
        }
        return parallel_run(err, b->n_flavors, threads_for(b, b->n_flavors), finalize_in_order, &o);
}
