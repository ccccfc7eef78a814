/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * A published release as rebuilderd's package report: what `rebuildctl pkgs
 * sync-stdin whonix SUITE` reads to queue the release's rebuild on its
 * workers (contrib/rebuilderd/ has the backend they run).
 *
 *     RebuilderdOptions o = { .base_url = "https://example.org/whonix/17.0/", .key_file = "release-key.asc" };
 *     r = rebuilderd_report(&err, &o, &json);
 *
 * The release's SHA256SUMS and whonix.buildinfo are downloaded from
 * base_url; with key_file, SHA256SUMS.asc and whonix.buildinfo.asc must be
 * good signatures by that key (sign.h), else at least the buildinfo must
 * have the SHA256 that SHA256SUMS lists for it.  Every artifact the
 * buildinfo names must be listed in SHA256SUMS with the same SHA256.  The
 * report is one group (JSON array of one object):
 *
 *     name          "whonix-<target>-<flavors joined by '-'>"
 *     version       "<Tool-Version>+<the buildinfo's SHA256, 12 digits>": each release its own
 *     distro        "whonix"
 *     suite         the target ("kvm" or "virtualbox")
 *     architecture  "amd64"
 *     input_url     base_url/whonix.buildinfo: the worker's backend input
 *     artifacts     one per artifact: name, version (the group's), url base_url/NAME
 *
 * The worker downloads input_url and each artifact, runs the backend with
 * the buildinfo, and compares what the backend writes under each name.
 */

#include "buildinfo.h"
#include "error.h"

typedef struct RebuilderdOptions {
        const char *base_url;  /* the release's folder, http(s):// or file:// */
        const char *key_file;  /* the publisher's public key (may be NULL: hashes only) */
        const char *proxy;
} RebuilderdOptions;

int rebuilderd_report(ErrorSlot *err, const RebuilderdOptions *o, char **ret_json);

/* The report of a buildinfo whose file has that SHA256, published at
 * base_url (exposed for tests). */
int rebuilderd_report_format(ErrorSlot *err, const Buildinfo *bi, const char *buildinfo_sha256, const char *base_url,
                             char **ret_json);
