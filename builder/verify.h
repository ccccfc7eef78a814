/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * whonix-build verify: rebuild a release from its buildinfo and compare.
 *
 *     VerifyOptions o = { .buildinfo_path = "whonix.buildinfo", .artifacts_dir = "release/", ... };
 *     r = verify_run(&err, &o, &report);
 *
 * 1. The buildinfo is read (strictly) and the recipes of data_dir must be
 *    the ones it pins (Recipe-Tree-SHA256): rebuilding other recipes proves
 *    nothing.
 * 2. With artifacts_dir, every published artifact must match its SHA256 in
 *    the buildinfo.
 * 3. The rebuild re-runs every stage in a fresh stage cache (a directory
 *    under cache_dir, removed afterwards): nothing built before is reused.
 *    Only the package cache disk of cache_dir is shared; every package on
 *    it is checked by debootstrap/apt against the signed index.  Suite,
 *    mirror, SOURCE_DATE_EPOCH, seed, target and flavors come from the
 *    buildinfo, and the mirror's InRelease must be the pinned one (same
 *    SHA256), else the pinned packages cannot be had and verify refuses
 *    (-ESTALE) before building anything.  With rebuilt_dir, an earlier
 *    rebuild (its whonix.buildinfo and artifacts) is compared instead.
 *    With rebuild_cache_dir, the rebuild uses that stage cache instead of
 *    a fresh one and keeps it: a verifier's own cache, reused from one
 *    release to the next.  What it reuses was built there, from the same
 *    keys, never taken from the publisher; it must differ from cache_dir.
 * 4. Every artifact's SHA256 is compared, and the installed packages per
 *    flavor; the tools that wrote the bytes (the buildinfo's Tools) are
 *    compared too, and each one whose version differs is named (it does
 *    not change the verdict).  A disk image (qcow2) that differs from the published one is
 *    explained file by file (compare.h).
 *
 * The report holds one item per artifact; report->ok only when every item
 * matches and the package lists are equal.  verify_run() returns < 0 only
 * when verification could not be carried out (the report is then NULL).
 */

#include "error.h"

typedef enum VerifyStatus {
        VERIFY_MATCH,
        VERIFY_DIFFER,          /* the rebuild made other bytes */
        VERIFY_MISSING,         /* the rebuild did not make it */
        VERIFY_PUBLISHED_BAD,   /* the published file is not the one the buildinfo describes */
} VerifyStatus;

typedef struct VerifyItem {
        char *name;
        VerifyStatus status;
        char pinned_sha256[65];
        char rebuilt_sha256[65];        /* "" when missing */
        char **explain;                 /* difference lines (compare.h), or a note */
} VerifyItem;

typedef struct VerifyReport {
        VerifyItem *items;
        size_t n;
        char **package_diffs;           /* "<flavor>: <what>" lines */
        char **tool_diffs;              /* "<tool> (<from>): <what>" lines: tools (buildinfo Tools:) whose
                                         * version differs between the release's build and the rebuild */
        char *rebuilt_dir;              /* where the rebuilt artifacts are (if kept) */
        bool ok;
} VerifyReport;

VerifyReport *verify_report_free(VerifyReport *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(VerifyReport *, verify_report_free);

typedef struct VerifyOptions {
        const char *buildinfo_path;
        const char *artifacts_dir;      /* the published artifacts (may be NULL) */
        const char *rebuilt_dir;        /* compare this earlier rebuild instead of rebuilding (may be NULL) */
        const char *rebuild_cache_dir;  /* rebuild with this stage cache, kept (NULL: a fresh one, removed) */
        const char *output_dir;         /* keep the rebuild here (NULL: removed afterwards) */
        const char *cache_dir;
        const char *data_dir;
        const char *proxy;              /* NULL, or an HTTP proxy for every download (BuildOptions.proxy) */
        const char *mirror;             /* NULL: the buildinfo's; else where to get the pinned InRelease and
                                         * packages from (a snapshot, a release's published sources) */
        unsigned jobs;                  /* flavors rebuilt side by side (0: one at a time) */
        bool verbose;
} VerifyOptions;

int verify_run(ErrorSlot *err, const VerifyOptions *o, VerifyReport **ret);
const char *verify_status_to_string(VerifyStatus s);
