/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * OpenPGP through GPGME; the only file that includes <gpgme.h>.
 *
 * Every verification runs in an isolated engine home: a fresh temporary
 * GNUPGHOME (mode 0700) into which every keys_dir/ *.asc and *.gpg file is
 * imported, and which is removed afterwards (its gpg-agent, if one started,
 * is stopped first).  The user's keyring and configuration are never used,
 * so exactly the keys in keys_dir are trusted, and nothing else.  Only
 * signing (signing_key_*, below) uses the publisher's own GnuPG home.
 *
 *     r = gpgme_verify_clearsigned(&err, "keys", inrelease, size, &plain, &plain_size, &fpr);
 *
 * checks a clearsigned text (an InRelease file).  It succeeds if at least one
 * signature is good and made by one of the imported keys (or their subkeys);
 * signatures by keys not in keys_dir are ignored when another one is good,
 * as apt does.  Trust and validity are not consulted: being in keys_dir is
 * what makes a key trusted.  Returned are the signed text exactly as GnuPG
 * verified it (never the input: text outside the signed part must not
 * reach the caller) and the fingerprint of the (sub)key that made the first
 * good signature (uppercase hex).  Errors:
 *   -ENOMSG       the text is not signed ("text is not signed")
 *   -EBADMSG      a signature is bad ("signature is bad (key FPR)"), or the
 *                 input is not exactly one clearsigned message
 *   -ENOKEY       only signatures by unknown keys ("signed by unknown key FPR"),
 *                 or keys_dir holds no keys
 *   -EKEYEXPIRED  the key or the signature has expired
 *   -EKEYREVOKED  the key has been revoked
 * Callers add what was being verified (error_prefix()).
 *
 * gpgme_export_keyring() writes the keys of keys_dir (only the pinned ones
 * if pins is not NULL) as one binary
 * (non-armored) OpenPGP keyring, the format debootstrap --keyring and apt's
 * Signed-By take; dest_path is replaced atomically.
 *
 * Detached signatures over release files.  Signing uses the publisher's own
 * GnuPG home (gpg_home, or NULL for $GNUPGHOME or ~/.gnupg) and the secret
 * key with exactly the given fingerprint:
 *
 *     r = signing_key_open(&err, NULL, "0123...CDEF", &key);
 *     r = signing_key_sign_file(&err, key, "out/Whonix.ova", &asc, &asc_size);
 *     signing_key_free(key);
 *
 * gives an ASCII-armored detached signature.  It never prompts: pinentry
 * runs in loopback mode with a callback that refuses, so a key whose
 * passphrase gpg-agent has not cached fails at once instead of hanging.
 * Errors name the key:
 *   -EINVAL       not a fingerprint (40 or 64 hex digits)
 *   -ENOKEY       no secret key with that fingerprint, or none that can sign
 *   -EKEYEXPIRED  the key (or every signing subkey) has expired
 *   -EKEYREVOKED  it has been revoked
 *   -EKEYREJECTED it is disabled, invalid or otherwise refused by GnuPG
 *   -EACCES       it needs a passphrase
 *
 * Verifying runs in an isolated engine home holding only the key of one key
 * file (which must hold exactly one key):
 *
 *     r = trusted_key_load(&err, "release-key.asc", &tk);
 *     r = trusted_key_verify_file(&err, tk, "out/Whonix.ova", asc, asc_size, &fpr);
 *
 * succeeds only if a signature is good and made by that key or one of its
 * subkeys (fpr: the one that signed, uppercase); a signature by any other
 * key counts as by an unknown key.  Errors as for gpgme_verify_clearsigned(),
 * plus -ENOMSG if sig is not an armored detached signature.
 */

#include "error.h"

#define GPGME_KEY_FILE_MAX (4u * 1024u * 1024u)

int gpgme_verify_clearsigned(ErrorSlot *err, const char *keys_dir, const char *signed_text, size_t size,
                             char **ret_plaintext, size_t *ret_plain_size, char **ret_fingerprint);

/* The same, but a signature counts only if its key is one of pins (primary
 * key fingerprints, uppercase; a pinned key's subkeys count with it): a
 * good signature by another key of keys_dir is -ENOKEY ("signed only by
 * key X, which is in the keys directory but not pinned").  pins NULL:
 * every key of keys_dir counts. */
int gpgme_verify_clearsigned_pinned(ErrorSlot *err, const char *keys_dir, char * const *pins,
                                    const char *signed_text, size_t size, char **ret_plaintext,
                                    size_t *ret_plain_size, char **ret_fingerprint);

int gpgme_export_keyring(ErrorSlot *err, const char *keys_dir, char * const *pins, const char *dest_path);

bool openpgp_fingerprint_valid(const char *s);

typedef struct SigningKey SigningKey;
int signing_key_open(ErrorSlot *err, const char *gpg_home, const char *fingerprint, SigningKey **ret);
SigningKey *signing_key_free(SigningKey *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(SigningKey *, signing_key_free);
/* The primary key's fingerprint, uppercase. */
const char *signing_key_fingerprint(const SigningKey *k);
int signing_key_sign_file(ErrorSlot *err, SigningKey *k, const char *path, char **ret_sig, size_t *ret_size);

typedef struct TrustedKey TrustedKey;
int trusted_key_load(ErrorSlot *err, const char *key_file, TrustedKey **ret);
TrustedKey *trusted_key_free(TrustedKey *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(TrustedKey *, trusted_key_free);
/* The primary key's fingerprint, uppercase. */
const char *trusted_key_fingerprint(const TrustedKey *k);
int trusted_key_verify_file(ErrorSlot *err, TrustedKey *k, const char *path, const char *sig, size_t sig_size,
                            char **ret_fingerprint);
