/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * OpenPGP through GPGME; the only file that includes <gpgme.h>.
 *
 * Every operation runs in an isolated engine home: a fresh temporary
 * GNUPGHOME (mode 0700) into which every keys_dir/ *.asc and *.gpg file is
 * imported, and which is removed afterwards (its gpg-agent, if one started,
 * is stopped first).  The user's keyring and configuration are never used,
 * so exactly the keys in keys_dir are trusted, and nothing else.
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
 * gpgme_export_keyring() writes the keys of keys_dir as one binary
 * (non-armored) OpenPGP keyring, the format debootstrap --keyring and apt's
 * Signed-By take; dest_path is replaced atomically.
 */

#include "error.h"

#define GPGME_KEY_FILE_MAX (4u * 1024u * 1024u)

int gpgme_verify_clearsigned(ErrorSlot *err, const char *keys_dir, const char *signed_text, size_t size,
                             char **ret_plaintext, size_t *ret_plain_size, char **ret_fingerprint);

int gpgme_export_keyring(ErrorSlot *err, const char *keys_dir, const char *dest_path);
