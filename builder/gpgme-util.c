/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <gpgme.h>
#include <pthread.h>
#include <sys/stat.h>

#include "gpgme-util.h"
#include "log.h"
#include "spawn.h"

static pthread_once_t gpgme_once = PTHREAD_ONCE_INIT;

static void gpgme_global_init(void) {
        /* Must run before any other GPGME call; also makes GPGME ignore
         * SIGPIPE from engine pipes. */
        (void) gpgme_check_version(NULL);
}

static void gpgme_data_releasep(gpgme_data_t *d) {
        if (*d)
                gpgme_data_release(*d);
}
#define _cleanup_gpgme_data_ _cleanup_(gpgme_data_releasep)

/* A temporary GnuPG home holding exactly the keys of one keys directory. */
typedef struct Engine {
        char *home;
        gpgme_ctx_t ctx;
        char **fingerprints; /* of every imported primary key and subkey */
} Engine;

static void engine_done(Engine *e) {
        if (e->ctx) {
                gpgme_release(e->ctx);
                e->ctx = NULL;
        }
        if (e->home) {
                /* Importing and verifying do not normally start an agent,
                 * but never leave one behind for a directory we delete. */
                if (program_in_path("gpgconf")) {
                        char *argv[] = { (char *) "gpgconf", (char *) "--homedir", e->home, (char *) "--kill",
                                         (char *) "all", NULL };
                        (void) spawn_run(NULL, argv, NULL, NULL);
                }
                (void) rm_rf(e->home);
                free(e->home);
                e->home = NULL;
        }
        strv_free(e->fingerprints);
        e->fingerprints = NULL;
}

static int gpg_error_to_errno(gpgme_error_t e) {
        int r = gpgme_err_code_to_errno(gpgme_err_code(e));
        return r > 0 ? -r : -EIO;
}

static bool key_file_name(const char *name) {
        return name[0] != '.' && (endswith(name, ".asc") || endswith(name, ".gpg"));
}

static int import_key_file(ErrorSlot *err, Engine *e, const char *path) {
        _cleanup_gpgme_data_ gpgme_data_t data = NULL;
        _cleanup_free_ char *buf = NULL;
        gpgme_import_result_t res;
        gpgme_error_t ge;
        size_t size;
        int r;

        r = read_full_file(path, GPGME_KEY_FILE_MAX, &buf, &size);
        if (r < 0)
                return error_set_errno(err, r, "failed to read key file '%s'", path);

        ge = gpgme_data_new_from_mem(&data, buf, size, 0);
        if (ge)
                return error_set(err, gpg_error_to_errno(ge), "failed to wrap '%s': %s", path, gpgme_strerror(ge));
        ge = gpgme_op_import(e->ctx, data);
        if (ge)
                return error_set(err, gpg_error_to_errno(ge), "failed to import '%s': %s", path, gpgme_strerror(ge));
        res = gpgme_op_import_result(e->ctx);
        if (!res || res->considered <= 0 || res->imported + res->unchanged <= 0)
                return error_set(err, -ENOKEY, "'%s' contains no usable OpenPGP key", path);
        log_debug("gpgme: imported %d key(s) from %s", res->imported + res->unchanged, path);
        return 0;
}

static int collect_fingerprints(ErrorSlot *err, Engine *e) {
        gpgme_error_t ge;
        gpgme_key_t key;

        ge = gpgme_op_keylist_start(e->ctx, NULL, 0);
        if (ge)
                return error_set(err, gpg_error_to_errno(ge), "failed to list keys: %s", gpgme_strerror(ge));
        while (!(ge = gpgme_op_keylist_next(e->ctx, &key))) {
                int r = 0;

                for (gpgme_subkey_t sk = key->subkeys; sk && r >= 0; sk = sk->next)
                        if (sk->fpr)
                                r = strv_extend(&e->fingerprints, sk->fpr);
                gpgme_key_unref(key);
                if (r < 0) {
                        (void) gpgme_op_keylist_end(e->ctx);
                        return r;
                }
        }
        if (gpgme_err_code(ge) != GPG_ERR_EOF)
                return error_set(err, gpg_error_to_errno(ge), "failed to list keys: %s", gpgme_strerror(ge));
        if (!e->fingerprints)
                return error_set(err, -ENOKEY, "no keys were imported");
        return 0;
}

/* All GPGME engine setup is here: temporary home, context, keys. */
static int engine_open(ErrorSlot *err, const char *keys_dir, Engine *e) {
        _cleanup_strv_free_ char **names = NULL;
        gpgme_error_t ge;
        struct dirent *de;
        DIR *d;
        int r;

        (void) pthread_once(&gpgme_once, gpgme_global_init);

        ge = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP);
        if (ge)
                return error_set(err, -EOPNOTSUPP, "GnuPG is not usable through GPGME: %s", gpgme_strerror(ge));

        d = opendir(keys_dir);
        if (!d)
                return error_set_errno(err, -errno, "failed to open keys directory '%s'", keys_dir);
        while ((de = readdir(d)))
                if (key_file_name(de->d_name) && strv_extend(&names, de->d_name) < 0) {
                        closedir(d);
                        return -ENOMEM;
                }
        closedir(d);
        if (!names)
                return error_set(err, -ENOKEY, "no keys (*.asc, *.gpg) in '%s'", keys_dir);
        strv_sort(names);

        r = mkdtemp_in(NULL, "whonix-build-gnupg", &e->home);
        if (r < 0)
                return error_set_errno(err, r, "failed to create a temporary GnuPG home");
        if (chmod(e->home, 0700) < 0)
                return error_set_errno(err, -errno, "failed to set the mode of '%s'", e->home);

        ge = gpgme_new(&e->ctx);
        if (!ge)
                ge = gpgme_set_protocol(e->ctx, GPGME_PROTOCOL_OpenPGP);
        if (!ge)
                ge = gpgme_ctx_set_engine_info(e->ctx, GPGME_PROTOCOL_OpenPGP, NULL, e->home);
        if (ge)
                return error_set(err, gpg_error_to_errno(ge), "failed to set up GPGME: %s", gpgme_strerror(ge));
        /* Never fetch keys or revocation data from the network. */
        gpgme_set_offline(e->ctx, 1);
        gpgme_set_armor(e->ctx, 0);
        (void) gpgme_set_keylist_mode(e->ctx, GPGME_KEYLIST_MODE_LOCAL);

        STRV_FOREACH(n, names) {
                _cleanup_free_ char *path = path_join(keys_dir, *n);

                if (!path)
                        return -ENOMEM;
                r = import_key_file(err, e, path);
                if (r < 0)
                        return r;
        }
        return collect_fingerprints(err, e);
}

static bool fingerprint_known(const Engine *e, const char *fpr) {
        if (!fpr)
                return false;
        STRV_FOREACH(f, e->fingerprints)
                if (strcasecmp(*f, fpr) == 0)
                        return true;
        return false;
}

/* An attacker who controls the mirror could wrap a validly signed message
 * in extra text, or chain several signed messages, hoping that something
 * unsigned is used.  We only use what GnuPG returns as signed, but refuse
 * such inputs outright: one clearsigned message, nothing around it. */
static int check_clearsigned_structure(ErrorSlot *err, const char *text, size_t size) {
        static const char begin[] = "-----BEGIN PGP SIGNED MESSAGE-----";
        static const char sig_begin[] = "\n-----BEGIN PGP SIGNATURE-----";
        static const char sig_end[] = "\n-----END PGP SIGNATURE-----";
        const char *end = text + size, *p;

        if (size < sizeof(begin) - 1 || memcmp(text, begin, sizeof(begin) - 1) != 0) {
                if (memmem(text, size, begin, sizeof(begin) - 1))
                        return error_set(err, -EBADMSG, "text before the clearsigned message");
                return error_set(err, -ENOMSG, "text is not signed");
        }
        if (memchr(text, 0, size))
                return error_set(err, -EBADMSG, "signed text contains a NUL byte");
        if (memmem(text + 1, size - 1, begin, sizeof(begin) - 1))
                return error_set(err, -EBADMSG, "more than one clearsigned message");

        p = memmem(text, size, sig_begin, sizeof(sig_begin) - 1);
        if (!p || memmem(p + 1, (size_t) (end - p - 1), sig_begin, sizeof(sig_begin) - 1))
                return error_set(err, -EBADMSG, "clearsigned message needs exactly one signature block");
        p = memmem(p, (size_t) (end - p), sig_end, sizeof(sig_end) - 1);
        if (!p)
                return error_set(err, -EBADMSG, "signature block is not terminated");
        for (p += sizeof(sig_end) - 1; p < end; p++)
                if (!strchr(" \t\r\n", *p))
                        return error_set(err, -EBADMSG, "text after the signature block");
        return 0;
}

/* How bad a failed signature is, so that the most telling one is reported:
 * a bad signature beats an expired or revoked key beats an unknown key. */
static int classify_signature(gpgme_signature_t s) {
        switch (gpgme_err_code(s->status)) {
        case GPG_ERR_BAD_SIGNATURE:
                return -EBADMSG;
        case GPG_ERR_KEY_EXPIRED:
        case GPG_ERR_SIG_EXPIRED:
                return -EKEYEXPIRED;
        case GPG_ERR_CERT_REVOKED:
                return -EKEYREVOKED;
        case GPG_ERR_NO_PUBKEY:
                return -ENOKEY;
        default:
                return -EBADMSG;
        }
}

static int severity(int r) {
        switch (r) {
        case -EBADMSG:
                return 4;
        case -EKEYREVOKED:
                return 3;
        case -EKEYEXPIRED:
                return 2;
        case -ENOKEY:
                return 1;
        default:
                return 0;
        }
}

static int report_signature(ErrorSlot *err, int r, gpgme_signature_t s) {
        const char *fpr = s->fpr ?: "(unknown)";

        switch (r) {
        case -ENOKEY:
                return error_set(err, r, "signed by unknown key %s", fpr);
        case -EKEYEXPIRED:
                return error_set(err, r, gpgme_err_code(s->status) == GPG_ERR_SIG_EXPIRED
                                 ? "signature by key %s has expired" : "key %s has expired", fpr);
        case -EKEYREVOKED:
                return error_set(err, r, "key %s has been revoked", fpr);
        default:
                if (gpgme_err_code(s->status) == GPG_ERR_BAD_SIGNATURE)
                        return error_set(err, r, "signature is bad (key %s)", fpr);
                return error_set(err, r, "signature by key %s is not valid: %s", fpr, gpgme_strerror(s->status));
        }
}

int gpgme_verify_clearsigned(ErrorSlot *err, const char *keys_dir, const char *signed_text, size_t size,
                             char **ret_plaintext, size_t *ret_plain_size, char **ret_fingerprint) {
        _cleanup_(engine_done) Engine e = {};
        _cleanup_gpgme_data_ gpgme_data_t sig = NULL, plain = NULL;
        _cleanup_free_ char *plaintext = NULL, *fpr = NULL;
        gpgme_signature_t worst = NULL, good = NULL;
        gpgme_verify_result_t res;
        gpgme_error_t ge;
        char *mem;
        size_t len;
        int r, worst_r = 0;

        r = check_clearsigned_structure(err, signed_text, size);
        if (r < 0)
                return r;

        r = engine_open(err, keys_dir, &e);
        if (r < 0)
                return r;

        ge = gpgme_data_new_from_mem(&sig, signed_text, size, 0);
        if (!ge)
                ge = gpgme_data_new(&plain);
        if (ge)
                return error_set(err, gpg_error_to_errno(ge), "failed to create GPGME data: %s", gpgme_strerror(ge));

        ge = gpgme_op_verify(e.ctx, sig, NULL, plain);
        if (gpgme_err_code(ge) == GPG_ERR_NO_DATA)
                return error_set(err, -ENOMSG, "text is not signed");
        if (ge)
                return error_set(err, gpg_error_to_errno(ge), "failed to verify: %s", gpgme_strerror(ge));

        res = gpgme_op_verify_result(e.ctx);
        if (!res || !res->signatures)
                return error_set(err, -ENOMSG, "text is not signed");

        for (gpgme_signature_t s = res->signatures; s; s = s->next) {
                if (gpgme_err_code(s->status) == GPG_ERR_NO_ERROR && fingerprint_known(&e, s->fpr)) {
                        log_debug("gpgme: good signature by %s", s->fpr);
                        if (!good)
                                good = s;
                        continue;
                }
                r = gpgme_err_code(s->status) == GPG_ERR_NO_ERROR ? -ENOKEY : classify_signature(s);
                log_debug("gpgme: signature by %s not accepted: %s", strempty(s->fpr), gpgme_strerror(s->status));
                if (!worst || severity(r) > severity(worst_r)) {
                        worst = s;
                        worst_r = r;
                }
        }

        /* Like apt: one bad signature spoils the lot, even next to a good
         * one; signatures by keys we do not have are fine if one is good. */
        if (worst && (worst_r == -EBADMSG || !good))
                return report_signature(err, worst_r, worst);
        if (!good)
                return error_set(err, -ENOMSG, "text is not signed");

        fpr = strdup(good->fpr);
        if (!fpr)
                return -ENOMEM;
        for (char *c = fpr; *c; c++)
                if (*c >= 'a' && *c <= 'f')
                        *c = (char) (*c - 'a' + 'A');

        mem = gpgme_data_release_and_get_mem(plain, &len);
        plain = NULL;
        if (!mem && len > 0)
                return -ENOMEM;
        plaintext = malloc(len + 1);
        if (!plaintext) {
                gpgme_free(mem);
                return -ENOMEM;
        }
        if (len > 0)
                memcpy(plaintext, mem, len);
        plaintext[len] = 0;
        gpgme_free(mem);

        *ret_plaintext = TAKE_PTR(plaintext);
        if (ret_plain_size)
                *ret_plain_size = len;
        if (ret_fingerprint)
                *ret_fingerprint = TAKE_PTR(fpr);
        return 0;
}

int gpgme_export_keyring(ErrorSlot *err, const char *keys_dir, const char *dest_path) {
        _cleanup_(engine_done) Engine e = {};
        _cleanup_gpgme_data_ gpgme_data_t out = NULL;
        gpgme_error_t ge;
        char *mem;
        size_t len;
        int r;

        r = engine_open(err, keys_dir, &e);
        if (r < 0)
                return r;

        ge = gpgme_data_new(&out);
        if (!ge)
                ge = gpgme_op_export(e.ctx, NULL, 0, out);
        if (ge)
                return error_set(err, gpg_error_to_errno(ge), "failed to export keys of '%s': %s", keys_dir,
                                 gpgme_strerror(ge));

        mem = gpgme_data_release_and_get_mem(out, &len);
        out = NULL;
        if (!mem || len == 0) {
                gpgme_free(mem);
                return error_set(err, -ENOKEY, "exporting the keys of '%s' gave nothing", keys_dir);
        }
        r = write_file_atomic(dest_path, mem, len, 0644);
        gpgme_free(mem);
        if (r < 0)
                return error_set_errno(err, r, "failed to write keyring '%s'", dest_path);
        log_debug("gpgme: wrote keyring %s (%zu bytes, %zu keys and subkeys)", dest_path, len,
                  strv_length(e.fingerprints));
        return 0;
}
