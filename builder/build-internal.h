/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * What the orchestrator's files share (build.c: the Build, the pipeline and
 * the first stages; build-disks.c: bootstrap, customize, finalize;
 * build-export.c: export, buildinfo, sign).  Not for anything outside
 * builder/'s top.
 */

#include "build.h"
#include "debootstrap-pin.h"
#include "fetch.h"
#include "recipe.h"
#include "cache.h"
#include "sums.h"

typedef struct Flavor {
        char *name;
        Recipe *recipe;
        /* The layers below the flavor's own, bottom first: the recipe its
         * recipe includes first, the one that one includes first, and so
         * on (workstation-desktop: kicksecure, whonix-workstation).  Each
         * is built once for every flavor that stands on it. */
        Recipe **layers;
        size_t n_layers;
        char *base_key;         /* bootstrap */
        char *base_disk;
        char **layer_keys;      /* n_layers + 1 of each: the layers', then the flavor's own */
        char **layer_disks;
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
        bool snapshot;          /* the mirror is a snapshot of the archive */
        char *appliance_mirror; /* mirror as the appliance reaches it (appliance_url()) */
        char *appliance_proxy;  /* o->proxy as the appliance reaches it (appliance_url()), or NULL */
        SourceInfo *sources;
        DebootstrapPin debootstrap; /* the pinned debootstrap, once the bootstrap stage asked for it */
        char *appliance_path;
        char *appliance_id;
        int64_t source_date_epoch;
        char **artifacts;       /* what export published in the output directory; sign covers these */
        SumsEntry *digests;     /* the SHA-256 of artifacts as export read them (not read twice) */
        size_t n_digests;
} Build;

/* What a stage line is about, for the report (build.h: BuildStep). */
typedef struct StepFacts {
        const char *flavor, *subject, *name, *key;
        BuildStepOutcome outcome;
} StepFacts;

/* One line per stage: name, duration, what happened; and a step in the
 * report, if one was asked for (from any flavor's thread). */
void stage_report(const Build *b, const char *stage, const StepFacts *facts, uint64_t start, const char *fmt, ...)
        _printf_(5, 6);
/* -ECANCELED ("interrupted") once a cancellation was requested. */
int check_cancel(ErrorSlot *err);
/* The seed of identifiers: --seed, or BUILD_DEFAULT_SEED. */
const char *build_seed(const Build *b);
/* The overlay directories names stand for, in the data directory. */
int overlay_paths(ErrorSlot *err, const Build *b, char * const *names, char ***ret);

int stage_bootstrap(ErrorSlot *err, Build *b);
int stage_customize(ErrorSlot *err, Build *b);
int stage_finalize(ErrorSlot *err, Build *b);
int stage_export(ErrorSlot *err, Build *b);
int stage_sign(ErrorSlot *err, Build *b);
