/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * whonix-build sources: the published sources of a release, as a Debian
 * mirror that holds exactly what its buildinfo pins, so that the release
 * can be rebuilt (verify --mirror) after Debian's mirrors have moved on:
 *
 *     DIR/dists/SUITE/InRelease      the pinned bytes (InRelease-SHA256), signed by a
 *                                    key keys/suites pins for SUITE
 *     DIR/dists/SUITE/C/binary-A/    Packages.xz and Packages.gz of every
 *                                    component C, for every architecture A the release
 *                                    installs (not "all"), as the InRelease lists them;
 *                                    each also under by-hash/SHA256/HASH (apt asks by hash)
 *     DIR/pool/...                   every pinned .deb at its index's Filename
 *     DIR/whonix.buildinfo           the buildinfo it was made for
 *
 *     SourcesOptions o = { .buildinfo_path = "out/whonix.buildinfo", .output_dir = "mirror", ... };
 *     r = sources_write(&err, &o, &report);
 *
 * The InRelease is taken from the cache when it holds the pinned one,
 * otherwise from the mirror (o->mirror, or the buildinfo's), and must have
 * the pinned SHA256 (-ESTALE otherwise: the mirror has moved on; a
 * snapshot of the archive has it).  Every index file and .deb is checked
 * against the hashes the InRelease signs (indexes) or the buildinfo pins
 * (.debs) before it is kept; a file already in DIR with the right hash is
 * kept as is, so an interrupted run continues where it stopped.  Files are
 * written to a temporary name and renamed: DIR never holds a partial or
 * unchecked file under a name apt would take.
 */

#include "error.h"

typedef struct SourcesOptions {
        const char *buildinfo_path;
        const char *output_dir;
        const char *cache_dir;          /* its sources/SUITE/InRelease is used if it is the pinned one */
        const char *data_dir;           /* keys/ and keys/suites */
        const char *mirror;             /* NULL: the buildinfo's Mirror */
        const char *proxy;              /* NULL, or an HTTP proxy for every download */
        unsigned jobs;                  /* downloads side by side (0: 4) */
} SourcesOptions;

typedef struct SourcesReport {
        size_t n_indexes;               /* index files in the mirror */
        size_t n_packages;              /* .debs in the mirror */
        size_t n_downloaded;            /* files downloaded by this run (the others were there) */
        uint64_t bytes;                 /* size of the .debs */
        char *inrelease_from;           /* where the InRelease came from (a path or URL) */
} SourcesReport;

void sources_report_done(SourcesReport *r);

int sources_write(ErrorSlot *err, const SourcesOptions *o, SourcesReport *ret);
