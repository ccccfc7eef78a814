/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Debian Release files: the text of an InRelease file once its signature has
 * been verified (gpgme_verify_clearsigned() returns it), or of a Release.
 *
 *     ReleaseFile *rel;
 *     r = release_parse(&err, plaintext, plain_size, &rel);
 *     const struct ReleaseEntry *e = release_find(rel, "main/binary-amd64/Packages.xz");
 *     ... e->size, e->sha256 ...
 *     release_free(rel);
 *
 * Read: Origin, Label, Suite, Codename, Version, Date, Valid-Until,
 * Architectures, Components (split on blanks), and the SHA256 section, whose
 * lines are " <64 hex digits> <size> <path>".  Other fields (MD5Sum,
 * Description, Acquire-By-Hash, ...) are checked for syntax and skipped.
 * Missing optional fields stay NULL; architectures and components are never
 * NULL (possibly empty).
 *
 * The parser is strict, because everything later trusts these hashes:
 * a malformed field or SHA256 line, a duplicate field or path, a path that is
 * absolute or contains "..", a NUL byte, a second paragraph, or a missing
 * SHA256 field is -EBADMSG with "line N: ..." in the error slot.  Limits:
 * RELEASE_SIZE_MAX bytes of text (-EFBIG) and RELEASE_ENTRIES_MAX SHA256
 * entries (-E2BIG).  Hashes are stored in lowercase.
 *
 * release_parse_date() turns a Release date ("Sat, 21 Nov 2026 09:15:44 UTC";
 * zones UTC, GMT, Z or +hhmm/-hhmm) into seconds since the epoch.
 */

#include "error.h"

#define RELEASE_SIZE_MAX (16u * 1024u * 1024u)
#define RELEASE_ENTRIES_MAX 100000u

typedef struct ReleaseFile {
        char *origin, *label, *suite, *codename, *version, *date, *valid_until;
        char **architectures, **components;
        size_t n_entries;
        struct ReleaseEntry {
                char *path;
                uint64_t size;
                char sha256[65];
        } *entries;
} ReleaseFile;

int release_parse(ErrorSlot *err, const char *text, size_t size, ReleaseFile **ret);
ReleaseFile *release_free(ReleaseFile *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(ReleaseFile *, release_free);

/* The SHA256 entry for path, or NULL. */
const struct ReleaseEntry *release_find(const ReleaseFile *r, const char *path);

int release_parse_date(const char *s, int64_t *ret_epoch);
