/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The "fetch/verify sources" stage: establish, from the Debian archive's
 * signature, what the build will install from.
 *
 *     SourceInfo *si;
 *     r = fetch_sources(&err, "http://deb.debian.org/debian", NULL, "trixie", "keys", cache_dir, &si);
 *
 * fetch_sources() downloads <mirror>/dists/<suite>/InRelease (at most
 * RELEASE_SIZE_MAX bytes), verifies its signature against the keys in
 * keys_dir that keys_dir/suites pins for the suite (a key in keys_dir alone
 * counts for nothing; gpgme_verify_clearsigned_pinned()), parses the text
 * that was signed
 * (never the downloaded bytes around it), and checks that
 *   - the Release file's Suite or Codename is the suite asked for (a mirror
 *     must not pass off another suite's signed index, e.g. an older one),
 *   - its Valid-Until, if any, is not in the past (unless pinned: a
 *     release's own InRelease, from a snapshot or a published mirror),
 *   - it lists main/binary-amd64/Packages.xz or .../Packages,
 *   - its Date is not more than FETCH_DATE_SKEW ahead of the clock, and not
 *     older than the newest Date this cache accepted for the suite
 *     (<cache_dir>/sources/<codename>/newest-date): a mirror cannot roll the
 *     build back to an older signed archive (-ESTALE; a Date older than
 *     FETCH_MAX_AGE is only warned about).  With pinned (a rebuild that
 *     names its InRelease by hash) the Date is not checked or recorded.
 * Only then is anything written into the cache:
 *   <cache_dir>/sources/<codename or suite>/InRelease  the bytes as downloaded
 *   <cache_dir>/sources/keyring.gpg                    the pinned keys as a binary keyring,
 *                                                      for debootstrap --keyring and
 *                                                      apt's Signed-By in the guest
 * both replaced atomically.  A failed signature check is reported as
 * "signature check of 'URL' failed: ..." with the errno of
 * gpgme_verify_clearsigned() (-EBADMSG, -ENOKEY, -ENOMSG, ...); the other
 * checks give -EBADMSG (wrong suite, missing index) or -ESTALE (expired).
 * Download errors name the URL (a 404 is -ENOENT).
 *
 * suite must be a plain name ([A-Za-z0-9._-], not starting with '.').
 */

#include "error.h"
#include "release.h"

typedef struct SourceInfo {
        char *mirror;             /* normalized, no trailing slash */
        char *suite;              /* as asked */
        char *codename;           /* from the Release file */
        char *inrelease_path;     /* verified InRelease kept in the cache: <cache_dir>/sources/<codename-or-suite>/InRelease */
        char *inrelease_sha256;   /* SHA256 of the InRelease file as downloaded */
        char *signer_fingerprint;
        char *keyring_path;       /* binary keyring exported from keys/ for debootstrap/apt: <cache_dir>/sources/keyring.gpg */
        ReleaseFile *release;
} SourceInfo;

/* A Date more than this ahead of the clock is refused; one older than
 * FETCH_MAX_AGE is warned about. */
#define FETCH_DATE_SKEW (60 * 60)
/* In keys_dir: which keys may sign which suite (format/key-pins.h). */
#define KEY_PINS_FILE "suites"
#define FETCH_MAX_AGE (INT64_C(120) * 24 * 60 * 60)

int fetch_sources(ErrorSlot *err, const char *mirror, const char *proxy, const char *suite, const char *keys_dir, const char *cache_dir,
                  bool pinned, SourceInfo **ret);
/* The checks fetch_sources() makes of a download (signature by a key
 * keys_dir/suites pins for suite, the Release's suite, its Valid-Until
 * unless pinned, a main/binary-amd64 index), of InRelease bytes already
 * in hand: a cached copy, a published mirror's.  what names them in
 * messages.  Returns the Release file and the signer's fingerprint. */
int inrelease_check(ErrorSlot *err, const char *what, const char *data, size_t size, const char *suite,
                    const char *keys_dir, bool pinned, ReleaseFile **ret_release, char **ret_signer);
SourceInfo *source_info_free(SourceInfo *si);
DEFINE_TRIVIAL_CLEANUP_FUNC(SourceInfo *, source_info_free);
