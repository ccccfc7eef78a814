/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The sign stage: SHA256SUMS and detached OpenPGP signatures over the files
 * of a release, and the check a third party makes of them.
 *
 *     r = sign_artifacts(&err, "out", names, &(SignOptions) { .key = fpr });
 *
 * writes into dir:
 *   SHA256SUMS       one line per name, sorted by name (byte order), in the
 *                    form sha256sum prints: "<lowercase hex>  <name>\n"
 *   NAME.asc         an armored detached signature of every name   } only
 *   SHA256SUMS.asc   an armored detached signature of SHA256SUMS   } with a key
 * All or nothing: everything is made in a hidden staging directory inside
 * dir and moved in only when every signature has been made, so a failure
 * (no such key, expired, needs a passphrase) leaves no new file behind.
 * Names are plain file names in dir (no '/', not hidden, not ending in .asc,
 * not SHA256SUMS itself).
 *
 * sign_check_key() makes sure that key can sign now (it signs nothing with
 * it), so that a build can stop at once instead of after its long stages;
 * errors as for signing_key_open() and signing_key_sign_file().
 *
 * sign_remove_stale() removes SHA256SUMS, SHA256SUMS.asc and NAME.asc for
 * every name: after the files have been replaced, what was said about the
 * old ones is void.
 *
 * sign_list_artifacts() lists the files of dir that sign_artifacts() would
 * sign (regular, not hidden, not signatures or SHA256SUMS), sorted; for
 * signing an existing directory.
 *
 *     r = sign_verify_dir(&err, "out", "release-key.asc", &report);
 *
 * checks, with only the key in key_file trusted (an isolated GnuPG home),
 * that SHA256SUMS.asc is its good signature over SHA256SUMS, and for every
 * file SHA256SUMS lists that NAME.asc is its good signature over NAME and that
 * NAME's SHA256 is the listed one.  It returns 0 when it could make the
 * checks, and the report says how each one went (n_bad == 0: all good);
 * it fails only when it cannot check at all (unreadable key file, missing or
 * malformed SHA256SUMS: the message names the file).
 *
 * The SHA256SUMS format itself is format/sums.h.
 */

#include "error.h"
#include "sums.h"

#define SIGN_SUMS_NAME SUMS_NAME
#define SIGN_SUMS_SIG_NAME "SHA256SUMS.asc"
#define SIGN_SIG_MAX (64u * 1024u)     /* bytes of one .asc file */

typedef struct SignOptions {
        const char *key;      /* fingerprint of the secret key; NULL: SHA256SUMS only */
        const char *gpg_home; /* NULL: $GNUPGHOME or ~/.gnupg */
        const SumsEntry *known; /* SHA-256 of some of the names, read by the caller from the
                                 * same files just now: not hashed again (may be NULL) */
        size_t n_known;
} SignOptions;


int sign_artifacts(ErrorSlot *err, const char *dir, char * const *names, const SignOptions *o);
int sign_check_key(ErrorSlot *err, const char *key, const char *gpg_home);
int sign_remove_stale(ErrorSlot *err, const char *dir, char * const *names);
int sign_list_artifacts(ErrorSlot *err, const char *dir, char ***ret);
/* dir's SHA256SUMS, parsed (sums.h). */
int sign_read_sums(ErrorSlot *err, const char *dir, SumsEntry **ret, size_t *ret_n);


typedef struct SignVerdict {
        char *name;
        int r;         /* 0: good; else why not, a negative errno */
        char *message; /* what was found, good or bad */
} SignVerdict;

typedef struct SignReport {
        char *key_fingerprint;  /* the trusted key's (primary) */
        SignVerdict *verdicts;  /* SHA256SUMS first, then each file it lists, in its order */
        size_t n_verdicts;
        size_t n_bad;
} SignReport;

SignReport *sign_report_free(SignReport *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(SignReport *, sign_report_free);

int sign_verify_dir(ErrorSlot *err, const char *dir, const char *key_file, SignReport **ret);
/* The same for SHA256SUMS and only the names given (each must be listed in
 * it and be in dir): for checking a few files of a release without the rest
 * (the buildinfo of a release on a server). */
int sign_verify_names(ErrorSlot *err, const char *dir, const char *key_file, char * const *names, SignReport **ret);
