/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Files of a Debian archive fetched against the hashes a signed index gives
 * for them: downloaded to DEST.part, checked, and only then renamed to DEST
 * (a file that does not match is removed, and the error names the hash it
 * should have had).  Used for the published sources (sources.h) and the
 * tools taken from the pinned archive (debootstrap-pin.h).
 */

#include "error.h"
#include "release.h"

/* 1 if path is a file of that size and SHA256, 0 if not (or absent). */
int checked_file_present(const char *path, uint64_t size, const char *sha256);
/* mkdir -p of the directory that holds path. */
int mkdir_parent(ErrorSlot *err, const char *path);
/* url to dest, checked; what names the file in messages. */
int download_checked(ErrorSlot *err, const char *url, const char *proxy, const char *dest, uint64_t size,
                     const char *sha256, const char *what);
/* An index file the Release lists (e), from mirror/dists/suite: by hash
 * (by-hash/SHA256/, where the mirror keeps it while the archive moves on)
 * first, else by its path.  1 if downloaded, 0 if dest was already it. */
int index_download(ErrorSlot *err, const char *mirror, const char *suite, const char *proxy,
                   const struct ReleaseEntry *e, const char *dest);
