/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <sys/stat.h>

#include "apt-sources.h"
#include "bootstrap.h"
#include "build.h"
#include "cache.h"
#include "cancel.h"
#include "fetch.h"
#include "log.h"
#include "recipe.h"
#include "supermin.h"

typedef struct Flavor {
        char *name;
        Recipe *recipe;
        char *base_key;
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
        char *base_disk;        /* shared by the flavors when their bootstrap specs agree */
} Build;

static void build_done(Build *b) {
        for (size_t i = 0; i < b->n_flavors; i++) {
                free(b->flavors[i].name);
                recipe_free(b->flavors[i].recipe);
                free(b->flavors[i].base_key);
        }
        free(b->flavors);
        free(b->suite);
        free(b->mirror);
        source_info_free(b->sources);
        free(b->appliance_path);
        free(b->appliance_id);
        free(b->base_disk);
        cache_free(b->cache);
}

const char * const build_stages[] = {
        "recipe", "fetch", "appliance", "bootstrap", "customize", "finalize", "export", "sign", NULL,
};

bool build_stage_valid(const char *name) {
        for (size_t i = 0; build_stages[i]; i++)
                if (streq(build_stages[i], name))
                        return true;
        return false;
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

                f->name = strdup(b->o->flavors[i]);
                if (!path || !f->name)
                        return -ENOMEM;
                r = recipe_load(err, path, &f->recipe);
                if (r < 0)
                        return r;
                if (!streq_ptr(f->recipe->flavor, f->name))
                        return error_set(err, -EINVAL, "'%s' does not define the flavor '%s'", path, f->name);
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

        stage_report("recipe", start, "%zu flavor(s), suite %s, mirror %s", b->n_flavors, b->suite, b->mirror);
        return 0;
}

static int stage_fetch(ErrorSlot *err, Build *b) {
        _cleanup_free_ char *keys_dir = path_join(b->o->data_dir, "keys");
        uint64_t start = now_usec();
        int r;

        if (!keys_dir)
                return -ENOMEM;
        r = fetch_sources(err, b->mirror, b->suite, keys_dir, b->cache->dir, &b->sources);
        if (r < 0)
                return r;
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

static int stage_bootstrap(ErrorSlot *err, Build *b) {
        for (size_t i = 0; i < b->n_flavors; i++) {
                Flavor *f = &b->flavors[i];
                _cleanup_free_ char *disk = NULL, *tmp = NULL, *dir = NULL;
                uint64_t start = now_usec();
                BootstrapSpec spec;
                struct stat st;
                int r;

                bootstrap_spec_for(b, f->recipe, &spec);
                r = bootstrap_key(&spec, b->appliance_id, &f->base_key);
                if (r < 0)
                        return r;
                dir = cache_path(b->cache, "base", NULL);
                disk = strdup_printf("%s/%s.qcow2", dir ?: "", f->base_key);
                tmp = strdup_printf("%s/.%s.qcow2.tmp", dir ?: "", f->base_key);
                if (!dir || !disk || !tmp)
                        return -ENOMEM;

                if (stat(disk, &st) == 0) {
                        stage_report("bootstrap", start, "cached base %.16s (%s)", f->base_key, f->name);
                } else {
                        r = mkdir_p(dir, 0755);
                        if (r < 0)
                                return error_set_errno(err, r, "cannot create '%s'", dir);
                        (void) unlink(tmp);
                        _cleanup_free_ char *debs = cache_path(b->cache, "debs.img", NULL);
                        if (!debs)
                                return -ENOMEM;
                        r = bootstrap_run(err, &spec, b->appliance_path, debs, tmp, b->o->verbose);
                        if (r < 0)
                                return r;
                        if (rename(tmp, disk) < 0) {
                                r = -errno;
                                (void) unlink(tmp);
                                return error_set_errno(err, r, "cannot move the base into '%s'", disk);
                        }
                        stage_report("bootstrap", start, "built base %.16s (%s)", f->base_key, f->name);
                }
                if (!b->base_disk) {
                        b->base_disk = TAKE_PTR(disk);
                }
                r = check_cancel(err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int build_run(ErrorSlot *err, const BuildOptions *o) {
        _cleanup_(build_done) Build b = { .o = o };
        int r;

        if (strv_length(o->flavors) == 0)
                return error_set(err, -EINVAL, "no flavor to build");

#define STOP_AFTER(stage) \
        if (o->until && streq(o->until, stage)) \
                return 0

        r = stage_recipe(err, &b);
        if (r < 0)
                return r;
        STOP_AFTER("recipe");

        r = cache_open(err, o->cache_dir, &b.cache);
        if (r < 0)
                return r;

        /* Nothing is built from an archive whose signature was not checked. */
        r = stage_fetch(err, &b);
        if (r < 0 || (r = check_cancel(err)) < 0)
                return r;
        STOP_AFTER("fetch");
        r = stage_appliance(err, &b);
        if (r < 0 || (r = check_cancel(err)) < 0)
                return r;
        STOP_AFTER("appliance");
        r = stage_bootstrap(err, &b);
        if (r < 0)
                return r;
        STOP_AFTER("bootstrap");

        /* customize -> finalize -> export -> sign follow in the next steps. */
        return error_set(err, -EOPNOTSUPP,
                         "stage 'customize' is not implemented yet: the bootstrapped base is cached at '%s'",
                         b.base_disk);
}
