/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * whonix.buildinfo: every input of a build, and every output's SHA256, so
 * that a third party can rebuild and compare (whonix-build verify).
 *
 *     Format: whonix-buildinfo 2
 *     Tool-Version: 0.1.0
 *     Tool-Commit: 3149ed09a953
 *     Recipe-Tree-SHA256: <hex>          recipes/, overlays/, keys/
 *     Target: kvm
 *     Flavors: gateway workstation
 *     Suite: trixie
 *     Mirror: http://deb.debian.org/debian
 *     InRelease-SHA256: <hex>
 *     InRelease-Signer: <fingerprint>
 *     Source-Date-Epoch: 1764000000
 *     Seed: whonix-build
 *     Tools:
 *      debootstrap 1.0.141 archive
 *      e2fsprogs 1.47.2-3+b12 image
 *      ...
 *     Packages-gateway:
 *      base-files 13.8 amd64 <sha256> <size>
 *      ...
 *     Packages-workstation:
 *      ...
 *     Artifacts:
 *      <sha256> <size> Whonix-Gateway.qcow2
 *      ...
 *
 * Tools: the programs that wrote the bytes of the artifacts, beyond the
 * pinned packages and this program: name, version and where each came from
 * ("host": the build machine's, the one thing a rebuild elsewhere may have
 * differently; "image": the image's own, from the pinned archive;
 * "archive": from the pinned archive, not in the image).  Format
 * 1 (before Tools) is still read, with no tools, and written back as it was.
 *
 * The text is deterministic: fields in this order, tools, packages and
 * artifacts sorted by name.  buildinfo_parse() is strict (it reads a file that comes
 * from whoever published the release): every field exactly once and in
 * this order, one Packages-<flavor> per flavor, values checked, at most
 * BUILDINFO_SIZE_MAX bytes; errors say "line N".
 */

#include "error.h"
#include "packages.h"

#define BUILDINFO_NAME "whonix.buildinfo"
#define BUILDINFO_FORMAT "whonix-buildinfo 2"
#define BUILDINFO_FORMAT_1 "whonix-buildinfo 1"
#define BUILDINFO_SIZE_MAX (64u * 1024u * 1024u)
#define BUILDINFO_ARTIFACTS_MAX 1000u

typedef struct BuildinfoArtifact {
        char *name;
        uint64_t size;
        char sha256[65];
} BuildinfoArtifact;

#define BUILDINFO_TOOLS_MAX 100u

typedef struct BuildinfoTool {
        char *name;
        char *version;
        char *from;     /* "host", "image" or "archive" (the pinned archive, outside the image) */
} BuildinfoTool;

typedef struct Buildinfo {
        unsigned format;                /* 1 or 2 as read; a new one (0) is written as 2 */
        char *tool_version;
        char *tool_commit;
        char *recipe_tree_sha256;
        char *target;
        char **flavors;
        char *suite;
        char *mirror;
        char *inrelease_sha256;
        char *inrelease_signer;
        int64_t source_date_epoch;
        char *seed;
        BuildinfoTool *tools;           /* sorted by name, then from */
        size_t n_tools;
        PackageList **packages;         /* one per flavor, in the order of flavors */
        BuildinfoArtifact *artifacts;   /* sorted by name */
        size_t n_artifacts;
} Buildinfo;

Buildinfo *buildinfo_free(Buildinfo *b);
DEFINE_TRIVIAL_CLEANUP_FUNC(Buildinfo *, buildinfo_free);

/* -EINVAL (with a message) if a value cannot be written on one line. */
int buildinfo_format(ErrorSlot *err, const Buildinfo *b, char **ret);
int buildinfo_parse(ErrorSlot *err, const char *text, size_t size, Buildinfo **ret);
/* buildinfo_parse() of the file at path, errors naming it. */
int buildinfo_load(ErrorSlot *err, const char *path, Buildinfo **ret);

/* Add an artifact (name, SHA256 and size of the file at path), keeping the
 * list sorted; a name that is not a plain file name is -EINVAL. */
int buildinfo_add_artifact(ErrorSlot *err, Buildinfo *b, const char *name, const char *path);
/* The same with the file's SHA-256 known (lowercase hex) already: only its
 * size is read; sha256 NULL hashes the file. */
int buildinfo_add_artifact_digest(ErrorSlot *err, Buildinfo *b, const char *name, const char *path,
                                  const char *sha256);
const BuildinfoArtifact *buildinfo_find_artifact(const Buildinfo *b, const char *name);

/* Add a tool, keeping the list sorted; -EINVAL (with a message) for a
 * value that cannot be written, -EEXIST for a name and origin listed
 * already. */
int buildinfo_add_tool(ErrorSlot *err, Buildinfo *b, const char *name, const char *version, const char *from);
const BuildinfoTool *buildinfo_find_tool(const Buildinfo *b, const char *name, const char *from);

