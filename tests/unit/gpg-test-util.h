/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Throwaway OpenPGP keys for tests, made with GPGME in an isolated GnuPG
 * home (never the user's).  This plays the archive's signer, which is why it
 * talks to GPGME directly instead of through builder/gpgme-util, which only
 * ever verifies.
 *
 *     TestSigner s = {};
 *     test_signer_new(&s, "Test Archive <archive@example.org>", 0);
 *     test_signer_clearsign(&s, text, &signed_text, &size);
 *     test_signer_export(&s, "keysdir/test.asc");
 *     test_signer_done(&s);
 */

#include <gpgme.h>
#include <sys/stat.h>

#include "spawn.h"
#include "util.h"

typedef struct TestSigner {
        char *home;
        char *fpr;
        gpgme_ctx_t ctx;
} TestSigner;

static inline void test_signer_done(TestSigner *s) {
        if (s->ctx)
                gpgme_release(s->ctx);
        if (s->home) {
                /* Key generation and signing start a gpg-agent. */
                char *argv[] = { (char *) "gpgconf", (char *) "--homedir", s->home, (char *) "--kill", (char *) "all",
                                 NULL };
                (void) spawn_run(NULL, argv, NULL, NULL);
                (void) rm_rf(s->home);
        }
        free(s->home);
        free(s->fpr);
        *s = (TestSigner) {};
}

/* expires: seconds from now, 0 for never. */
static inline int test_signer_new(TestSigner *s, const char *uid, unsigned long expires) {
        gpgme_genkey_result_t res;
        gpgme_error_t ge;
        int r;

        (void) gpgme_check_version(NULL);
        r = mkdtemp_in(NULL, "test-signer", &s->home);
        if (r < 0)
                return r;
        if (gpgme_new(&s->ctx) || gpgme_set_protocol(s->ctx, GPGME_PROTOCOL_OpenPGP) ||
            gpgme_ctx_set_engine_info(s->ctx, GPGME_PROTOCOL_OpenPGP, NULL, s->home))
                return -EIO;
        gpgme_set_offline(s->ctx, 1);
        (void) gpgme_set_pinentry_mode(s->ctx, GPGME_PINENTRY_MODE_LOOPBACK);

        /* ed25519: generated in milliseconds, unlike RSA. */
        ge = gpgme_op_createkey(s->ctx, uid, "ed25519", 0, expires, NULL,
                                GPGME_CREATE_NOPASSWD | GPGME_CREATE_SIGN | GPGME_CREATE_FORCE |
                                        (expires ? 0 : GPGME_CREATE_NOEXPIRE));
        if (ge) {
                fprintf(stderr, "# createkey: %s\n", gpgme_strerror(ge));
                return -EIO;
        }
        res = gpgme_op_genkey_result(s->ctx);
        if (!res || !res->fpr)
                return -EIO;
        s->fpr = strdup(res->fpr);
        return s->fpr ? 0 : -ENOMEM;
}

static inline int test_signer_clearsign(TestSigner *s, const char *text, char **ret, size_t *ret_size) {
        gpgme_data_t in = NULL, out = NULL;
        gpgme_key_t key = NULL;
        gpgme_error_t ge;
        char *mem, *copy;
        size_t len;

        ge = gpgme_get_key(s->ctx, s->fpr, &key, 1);
        if (!ge) {
                gpgme_signers_clear(s->ctx);
                ge = gpgme_signers_add(s->ctx, key);
        }
        gpgme_key_unref(key);
        if (!ge)
                ge = gpgme_data_new_from_mem(&in, text, strlen(text), 0);
        if (!ge)
                ge = gpgme_data_new(&out);
        if (!ge) {
                gpgme_set_armor(s->ctx, 1);
                ge = gpgme_op_sign(s->ctx, in, out, GPGME_SIG_MODE_CLEAR);
        }
        gpgme_data_release(in);
        if (ge) {
                fprintf(stderr, "# clearsign: %s\n", gpgme_strerror(ge));
                gpgme_data_release(out);
                return -EIO;
        }
        mem = gpgme_data_release_and_get_mem(out, &len);
        copy = mem ? malloc(len + 1) : NULL;
        if (copy) {
                memcpy(copy, mem, len);
                copy[len] = 0;
        }
        gpgme_free(mem);
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        *ret_size = len;
        return 0;
}

/* Writes the public key, ASCII-armored, to path. */
static inline int test_signer_export(TestSigner *s, const char *path) {
        gpgme_data_t out = NULL;
        gpgme_error_t ge;
        char *mem;
        size_t len;
        int r;

        gpgme_set_armor(s->ctx, 1);
        ge = gpgme_data_new(&out);
        if (!ge)
                ge = gpgme_op_export(s->ctx, s->fpr, 0, out);
        if (ge) {
                gpgme_data_release(out);
                return -EIO;
        }
        mem = gpgme_data_release_and_get_mem(out, &len);
        if (!mem)
                return -EIO;
        r = write_file_atomic(path, mem, len, 0644);
        gpgme_free(mem);
        return r;
}
