/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The build pipeline, stage by stage:
 *
 *   recipe -> fetch -> appliance -> bootstrap -> customize -> finalize -> export -> sign
 *
 * build_run() is the orchestrator and the one place below main() that logs
 * at info level: one line per stage with its duration and whether its output
 * was built or reused from the cache.  Artifacts are written under a
 * temporary name in the output directory and renamed only when complete.
 */

#include "error.h"

typedef enum Target {
        TARGET_KVM,
        TARGET_VIRTUALBOX,
} Target;

/* What one stage did, for the machine-readable report (--json). */
typedef enum BuildStepOutcome {
        BUILD_STEP_DONE,   /* a stage that always runs (recipe, fetch, export, sign) */
        BUILD_STEP_BUILT,  /* made now, and stored in the cache */
        BUILD_STEP_REUSED, /* taken from the cache */
} BuildStepOutcome;

typedef struct BuildStep {
        char *stage;      /* "bootstrap" */
        char *flavor;     /* "gateway", or NULL: not one flavor's (a shared layer, the export) */
        char *subject;    /* "appliance", "base", "layer", "disk", or NULL */
        char *name;       /* a layer step's name ("kicksecure packages"), or NULL */
        char *key;        /* its cache key in full (fetch: the InRelease's SHA256), or NULL */
        BuildStepOutcome outcome;
        double seconds;
        char *summary;    /* the stage line's text */
} BuildStep;

typedef struct BuildArtifact {
        char *name;       /* in the output directory */
        char sha256[65];
        uint64_t size;
} BuildArtifact;

typedef struct BuildReport {
        BuildStep *steps;          /* in the order they ended */
        size_t n_steps;
        BuildArtifact *artifacts;  /* after the sign stage: what SHA256SUMS lists, sorted */
        size_t n_artifacts;
        char *buildinfo;           /* its path, once written */
        char *sums;                /* SHA256SUMS's path, once written */
        bool signed_output;        /* a detached signature beside every artifact */
} BuildReport;

void build_report_done(BuildReport *r);
const char *build_step_outcome_to_string(BuildStepOutcome o);

typedef struct BuildOptions {
        Target target;
        char **flavors;         /* "gateway", "workstation" */
        const char *suite;      /* NULL: the recipe's */
        const char *mirror;     /* NULL: the recipe's, else the host's apt mirror */
        const char *snapshot;   /* NULL: the recipe's Snapshot=, if any; else a snapshot of the archive
                                 * (recipe_check_snapshot()), its InRelease taken as of its time:
                                 * no rollback or Valid-Until refusal, the signature checked */
        const char *proxy;      /* NULL, or an HTTP proxy for every download (the fetch, debootstrap, apt);
                                 * 127.0.0.1 or localhost means the host's loopback, from the appliance too */
        const char *output_dir;
        const char *cache_dir;
        const char *data_dir;   /* holds recipes/, keys/, overlays/ */
        unsigned jobs;
        unsigned stall_seconds; /* the appliance watchdog's limit (0: APPLIANCE_STALL_SECONDS_DEFAULT) */
        bool verbose;
        const char *until;      /* stop successfully after this stage (NULL: run all) */
        int64_t source_date_epoch; /* < 0: the Date of the signed Release file */
        const char *seed;       /* derives UUIDs and MACs; NULL: BUILD_DEFAULT_SEED */
        const char *expect_inrelease_sha256; /* non-NULL: the archive's InRelease must have this SHA256 */
        const char *debs_disk;  /* non-NULL: the package cache disk to use instead of <cache>/debs.img */
        bool ova_per_vm;        /* virtualbox: also one OVA per VM (<vm_name>.ova) */
        const char *sign_key;   /* fingerprint of the signing key; NULL: unsigned (a loud warning) */
        const char *gpg_home;   /* where that key is; NULL: $GNUPGHOME or ~/.gnupg */
        BuildReport *report;    /* non-NULL: filled in as the stages end (also when the build fails) */
        /* After a build that ended well (and opened the cache), remove the
         * cache's least recently used entries until they take no more than
         * this (0: no limit), and those unused for longer than this many
         * days (0: no limit); never what this build used (cache-entries.h). */
        uint64_t cache_max_bytes;
        unsigned cache_max_age_days;
} BuildOptions;

/* Whether --until may name it: recipe, fetch, appliance, bootstrap,
 * customize, finalize, export, sign. */
bool build_stage_valid(const char *name);
/* The i-th stage's name, in pipeline order; NULL past the last. */
const char *build_stage_name(size_t i);

/* The seed when none is given: builds with the same inputs get the same
 * identifiers, so that they can be reproduced. */
#define BUILD_DEFAULT_SEED "whonix-build"

const char *target_to_string(Target t);
int target_from_string(const char *s, Target *ret);

int build_run(ErrorSlot *err, const BuildOptions *o);
