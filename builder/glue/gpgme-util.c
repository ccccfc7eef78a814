/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <fcntl.h>
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
        char **fingerprints; /* of every imported primary key and subkey (only the pinned keys', with pins) */
        char **primaries;    /* of every imported primary key */
        char * const *pins;  /* NULL: every key counts; else only these primary keys (and their subkeys) */
        char **unpinned;     /* fingerprints of the keys in keys_dir that the pins leave out */
} Engine;

static bool fingerprint_in(char * const *l, const char *fpr);

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
        strv_free(e->primaries);
        e->primaries = NULL;
        strv_free(e->unpinned);
        e->unpinned = NULL;
}

static int gpg_error_to_errno(gpgme_error_t e) {
        int r = gpgme_err_code_to_errno(gpgme_err_code(e));
        return r > 0 ? -r : -EIO;
}

static bool key_file_name(int dfd, const char *name, void *userdata) {
        return name[0] != '.' && (endswith(name, ".asc") || endswith(name, ".gpg"));
}

/* 0 if 64 KiB can be written in dir, else the negative errno (-ENOSPC for a
 * full filesystem). */
static int probe_writable(const char *dir) {
        _cleanup_free_ char *path = path_join(dir, ".space-probe");
        static const char zeros[65536];
        int fd, r = 0;

        if (!path)
                return -ENOMEM;
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        errno = 0;
        if (write(fd, zeros, sizeof zeros) != (ssize_t) sizeof zeros || fsync(fd) < 0)
                r = errno ? -errno : -ENOSPC;
        (void) close(fd);
        (void) unlink(path);
        return r;
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
        if (!res || res->imported + res->unchanged <= 0) {
                /* Nothing stored: say so when it is the temporary home's
                 * filesystem (gpg then reports no key at all), not the key. */
                r = probe_writable(e->home);
                if (r < 0)
                        return error_set_errno(err, r, "cannot import '%s' into the temporary keyring in '%s' "
                                               "(set TMPDIR to a filesystem with free space)", path, e->home);
        }
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
                int r = key->subkeys && key->subkeys->fpr ? strv_extend(&e->primaries, key->subkeys->fpr) : 0;
                bool pinned = !e->pins;

                STRV_FOREACH(pin, e->pins)
                        if (key->subkeys && key->subkeys->fpr && strcasecmp(*pin, key->subkeys->fpr) == 0)
                                pinned = true;
                for (gpgme_subkey_t sk = key->subkeys; sk && r >= 0; sk = sk->next)
                        if (sk->fpr)
                                r = strv_extend(pinned ? &e->fingerprints : &e->unpinned, sk->fpr);
                gpgme_key_unref(key);
                if (r < 0) {
                        (void) gpgme_op_keylist_end(e->ctx);
                        return r;
                }
        }
        if (gpgme_err_code(ge) != GPG_ERR_EOF)
                return error_set(err, gpg_error_to_errno(ge), "failed to list keys: %s", gpgme_strerror(ge));
        if (!e->fingerprints && e->pins)
                return error_set(err, -ENOKEY, "none of the keys pinned for this suite is in the keys directory");
        if (!e->fingerprints)
                return error_set(err, -ENOKEY, "no keys were imported");
        return 0;
}

/* A temporary home and a context for it; no keys yet. */
static int engine_new(ErrorSlot *err, Engine *e) {
        gpgme_error_t ge;
        int r;

        (void) pthread_once(&gpgme_once, gpgme_global_init);

        ge = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP);
        if (ge)
                return error_set(err, -EOPNOTSUPP, "GnuPG is not usable through GPGME: %s", gpgme_strerror(ge));

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
        return 0;
}

/* All GPGME engine setup is here: temporary home, context, keys. */
static int engine_open(ErrorSlot *err, const char *keys_dir, char * const *pins, Engine *e) {
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = readdir_sorted(keys_dir, key_file_name, NULL, 0, &names);
        if (r < 0)
                return error_set_errno(err, r, "failed to open keys directory '%s'", keys_dir);
        if (!names[0])
                return error_set(err, -ENOKEY, "no keys (*.asc, *.gpg) in '%s'", keys_dir);

        r = engine_new(err, e);
        if (r < 0)
                return r;
        e->pins = pins;
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

/* The first good signature by a key of the engine.  Like apt: one bad
 * signature spoils the lot, even next to a good one; signatures by keys we
 * do not have are fine if one is good. */
static int pick_good_signature(ErrorSlot *err, const Engine *e, gpgme_verify_result_t res,
                               gpgme_signature_t *ret) {
        gpgme_signature_t worst = NULL, good = NULL, unpinned = NULL;
        int r, worst_r = 0;

        if (!res || !res->signatures)
                return error_set(err, -ENOMSG, "text is not signed");

        for (gpgme_signature_t s = res->signatures; s; s = s->next) {
                if (gpgme_err_code(s->status) == GPG_ERR_NO_ERROR && !good && !fingerprint_known(e, s->fpr) &&
                    fingerprint_in(e->unpinned, s->fpr))
                        unpinned = s;
                if (gpgme_err_code(s->status) == GPG_ERR_NO_ERROR && fingerprint_known(e, s->fpr)) {
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

        if (!good && unpinned && worst_r != -EBADMSG)
                return error_set(err, -ENOKEY, "signed only by key %s, which is in the keys directory but not pinned "
                                 "for this suite", unpinned->fpr);
        if (worst && (worst_r == -EBADMSG || !good))
                return report_signature(err, worst_r, worst);
        if (!good)
                return error_set(err, -ENOMSG, "text is not signed");
        *ret = good;
        return 0;
}

int gpgme_verify_clearsigned(ErrorSlot *err, const char *keys_dir, const char *signed_text, size_t size,
                             char **ret_plaintext, size_t *ret_plain_size, char **ret_fingerprint) {
        return gpgme_verify_clearsigned_pinned(err, keys_dir, NULL, signed_text, size, ret_plaintext, ret_plain_size,
                                               ret_fingerprint);
}

int gpgme_verify_clearsigned_pinned(ErrorSlot *err, const char *keys_dir, char * const *pins,
                                    const char *signed_text, size_t size, char **ret_plaintext,
                                    size_t *ret_plain_size, char **ret_fingerprint) {
        _cleanup_(engine_done) Engine e = {};
        _cleanup_gpgme_data_ gpgme_data_t sig = NULL, plain = NULL;
        _cleanup_free_ char *plaintext = NULL, *fpr = NULL;
        gpgme_signature_t good = NULL;
        gpgme_verify_result_t res;
        gpgme_error_t ge;
        char *mem;
        size_t len;
        int r;

        r = check_clearsigned_structure(err, signed_text, size);
        if (r < 0)
                return r;

        r = engine_open(err, keys_dir, pins, &e);
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

        r = pick_good_signature(err, &e, res, &good);
        if (r < 0)
                return r;

        fpr = hex_upper(strdup(good->fpr));
        if (!fpr)
                return -ENOMEM;

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

int gpgme_export_keyring(ErrorSlot *err, const char *keys_dir, char * const *pins, const char *dest_path) {
        _cleanup_(engine_done) Engine e = {};
        _cleanup_gpgme_data_ gpgme_data_t out = NULL;
        gpgme_error_t ge;
        char *mem;
        size_t len;
        int r;

        r = engine_open(err, keys_dir, pins, &e);
        if (r < 0)
                return r;

        ge = gpgme_data_new(&out);
        if (!ge)
                ge = pins ? gpgme_op_export_ext(e.ctx, (const char **) pins, 0, out)
                          : gpgme_op_export(e.ctx, NULL, 0, out);
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

bool openpgp_fingerprint_valid(const char *s) {
        size_t n = strlen(s);

        if (n != 40 && n != 64)
                return false;
        for (const char *p = s; *p; p++)
                if (!strchr("0123456789abcdefABCDEF", *p))
                        return false;
        return true;
}

static char *fingerprint_dup(const char *fpr) {
        return hex_upper(strdup(fpr));
}

static bool fingerprint_in(char * const *l, const char *fpr) {
        if (!fpr)
                return false;
        STRV_FOREACH(f, l)
                if (strcasecmp(*f, fpr) == 0)
                        return true;
        return false;
}

struct SigningKey {
        gpgme_ctx_t ctx;
        char *fingerprint;   /* the primary key's, uppercase */
        char **fingerprints; /* the primary key's and every subkey's */
};

SigningKey *signing_key_free(SigningKey *k) {
        if (!k)
                return NULL;
        if (k->ctx)
                gpgme_release(k->ctx);
        free(k->fingerprint);
        strv_free(k->fingerprints);
        free(k);
        return NULL;
}

const char *signing_key_fingerprint(const SigningKey *k) {
        return k->fingerprint;
}

/* Never block on a prompt: nobody may be there to answer it.  Refusing here
 * fails the operation at once. */
static gpgme_error_t refuse_passphrase(void *hook, const char *uid_hint, const char *info, int prev_was_bad,
                                       int fd) {
        return gpg_error(GPG_ERR_CANCELED);
}

static bool passphrase_error(gpgme_error_t ge) {
        switch (gpgme_err_code(ge)) {
        case GPG_ERR_CANCELED:
        case GPG_ERR_FULLY_CANCELED:
        case GPG_ERR_NO_PASSPHRASE:
        case GPG_ERR_BAD_PASSPHRASE:
        case GPG_ERR_NO_PIN:
        case GPG_ERR_BAD_PIN:
        case GPG_ERR_NO_PIN_ENTRY:
        case GPG_ERR_PIN_ENTRY:
                return true;
        default:
                return false;
        }
}

static int check_signing_key(ErrorSlot *err, gpgme_key_t key, const char *fpr) {
        bool expired = false, revoked = false;

        if (key->revoked)
                return error_set(err, -EKEYREVOKED, "signing key %s has been revoked", fpr);
        if (key->expired)
                return error_set(err, -EKEYEXPIRED, "signing key %s has expired", fpr);
        if (key->disabled || key->invalid)
                return error_set(err, -EKEYREJECTED, "signing key %s is %s", fpr,
                                 key->disabled ? "disabled" : "not valid");
        /* Some subkey must be able to sign, have its secret part here, and
         * still be current. */
        for (gpgme_subkey_t sk = key->subkeys; sk; sk = sk->next) {
                if (!sk->can_sign || !sk->secret)
                        continue;
                if (sk->expired)
                        expired = true;
                else if (sk->revoked)
                        revoked = true;
                else if (!sk->disabled && !sk->invalid)
                        return 0;
        }
        if (expired)
                return error_set(err, -EKEYEXPIRED, "the signing subkeys of key %s have expired", fpr);
        if (revoked)
                return error_set(err, -EKEYREVOKED, "the signing subkeys of key %s have been revoked", fpr);
        return error_set(err, -ENOKEY, "key %s has no usable secret signing key", fpr);
}

int signing_key_open(ErrorSlot *err, const char *gpg_home, const char *fingerprint, SigningKey **ret) {
        _cleanup_(signing_key_freep) SigningKey *k = NULL;
        _cleanup_free_ char *fpr = NULL, *where = NULL;
        gpgme_key_t key = NULL;
        gpgme_error_t ge;
        int r;

        if (!openpgp_fingerprint_valid(fingerprint))
                return error_set(err, -EINVAL, "'%s' is not a key fingerprint (40 or 64 hex digits)", fingerprint);
        fpr = fingerprint_dup(fingerprint);
        where = gpg_home ? strdup_printf("'%s'", gpg_home) : strdup("the default GnuPG home");
        if (!fpr || !where)
                return -ENOMEM;

        (void) pthread_once(&gpgme_once, gpgme_global_init);
        ge = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP);
        if (ge)
                return error_set(err, -EOPNOTSUPP, "GnuPG is not usable through GPGME: %s", gpgme_strerror(ge));

        k = calloc(1, sizeof(SigningKey));
        if (!k)
                return -ENOMEM;
        ge = gpgme_new(&k->ctx);
        if (!ge)
                ge = gpgme_set_protocol(k->ctx, GPGME_PROTOCOL_OpenPGP);
        if (!ge)
                ge = gpgme_ctx_set_engine_info(k->ctx, GPGME_PROTOCOL_OpenPGP, NULL, gpg_home);
        if (!ge)
                ge = gpgme_set_pinentry_mode(k->ctx, GPGME_PINENTRY_MODE_LOOPBACK);
        if (ge)
                return error_set(err, gpg_error_to_errno(ge), "failed to set up GPGME: %s", gpgme_strerror(ge));
        gpgme_set_passphrase_cb(k->ctx, refuse_passphrase, NULL);
        gpgme_set_offline(k->ctx, 1);
        gpgme_set_armor(k->ctx, 1);
        gpgme_set_textmode(k->ctx, 0);
        (void) gpgme_set_keylist_mode(k->ctx, GPGME_KEYLIST_MODE_LOCAL);

        ge = gpgme_get_key(k->ctx, fpr, &key, 1);
        if (gpgme_err_code(ge) == GPG_ERR_EOF)
                return error_set(err, -ENOKEY, "no secret key %s in %s", fpr, where);
        if (ge)
                return error_set(err, gpg_error_to_errno(ge), "failed to look up signing key %s in %s: %s", fpr,
                                 where, gpgme_strerror(ge));

        r = check_signing_key(err, key, fpr);
        if (r >= 0 && key->subkeys && key->subkeys->fpr && !(k->fingerprint = fingerprint_dup(key->subkeys->fpr)))
                r = -ENOMEM;
        for (gpgme_subkey_t sk = key->subkeys; r >= 0 && sk; sk = sk->next)
                if (sk->fpr)
                        r = strv_extend(&k->fingerprints, sk->fpr);
        if (r >= 0) {
                gpgme_signers_clear(k->ctx);
                ge = gpgme_signers_add(k->ctx, key);
                if (ge)
                        r = error_set(err, gpg_error_to_errno(ge), "cannot sign with key %s: %s", fpr,
                                      gpgme_strerror(ge));
        }
        gpgme_key_unref(key);
        if (r < 0)
                return r;
        if (!k->fingerprint)
                return error_set(err, -ENOKEY, "key %s has no fingerprint", fpr);

        log_debug("gpgme: signing with key %s from %s", k->fingerprint, where);
        *ret = TAKE_PTR(k);
        return 0;
}

/* Hand over the memory of a GPGME data object as a NUL-terminated string. */
static int data_take_string(gpgme_data_t *d, char **ret, size_t *ret_size) {
        _cleanup_free_ char *copy = NULL;
        size_t len;
        char *mem;

        mem = gpgme_data_release_and_get_mem(*d, &len);
        *d = NULL;
        if (!mem)
                return -ENOMEM;
        copy = malloc(len + 1);
        if (copy) {
                memcpy(copy, mem, len);
                copy[len] = 0;
        }
        gpgme_free(mem);
        if (!copy)
                return -ENOMEM;
        *ret = TAKE_PTR(copy);
        if (ret_size)
                *ret_size = len;
        return 0;
}

int signing_key_sign_file(ErrorSlot *err, SigningKey *k, const char *path, char **ret_sig, size_t *ret_size) {
        _cleanup_gpgme_data_ gpgme_data_t in = NULL, out = NULL;
        _cleanup_close_ int fd = -EBADF;
        gpgme_sign_result_t res;
        gpgme_error_t ge;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return error_set_errno(err, -errno, "cannot open '%s'", path);
        ge = gpgme_data_new_from_fd(&in, fd);
        if (!ge)
                ge = gpgme_data_new(&out);
        if (ge)
                return error_set(err, gpg_error_to_errno(ge), "failed to create GPGME data: %s", gpgme_strerror(ge));

        ge = gpgme_op_sign(k->ctx, in, out, GPGME_SIG_MODE_DETACH);
        if (ge && passphrase_error(ge))
                return error_set(err, -EACCES,
                                 "secret key %s needs a passphrase, and whonix-build never asks for one "
                                 "(unlock it in gpg-agent first): %s", k->fingerprint, gpgme_strerror(ge));
        res = gpgme_op_sign_result(k->ctx);
        if (res && res->invalid_signers) {
                gpgme_error_t reason = res->invalid_signers->reason;

                if (gpgme_err_code(reason) == GPG_ERR_KEY_EXPIRED || gpgme_err_code(reason) == GPG_ERR_SIG_EXPIRED)
                        return error_set(err, -EKEYEXPIRED, "signing key %s has expired", k->fingerprint);
                if (gpgme_err_code(reason) == GPG_ERR_CERT_REVOKED)
                        return error_set(err, -EKEYREVOKED, "signing key %s has been revoked", k->fingerprint);
                if (passphrase_error(reason))
                        return error_set(err, -EACCES, "secret key %s needs a passphrase, and whonix-build never "
                                         "asks for one (unlock it in gpg-agent first)", k->fingerprint);
                return error_set(err, -EKEYREJECTED, "key %s cannot sign: %s", k->fingerprint,
                                 gpgme_strerror(reason));
        }
        if (ge)
                return error_set(err, gpg_error_to_errno(ge), "failed to sign '%s' with key %s: %s", path,
                                 k->fingerprint, gpgme_strerror(ge));
        if (!res || !res->signatures || res->signatures->next)
                return error_set(err, -EIO, "signing '%s' with key %s gave no single signature", path, k->fingerprint);
        if (!fingerprint_in(k->fingerprints, res->signatures->fpr))
                return error_set(err, -EIO, "'%s' was signed by %s, not by key %s", path,
                                 strempty(res->signatures->fpr), k->fingerprint);
        return data_take_string(&out, ret_sig, ret_size);
}

struct TrustedKey {
        Engine e;
        char *fingerprint; /* the primary key's, uppercase */
};

TrustedKey *trusted_key_free(TrustedKey *k) {
        if (!k)
                return NULL;
        engine_done(&k->e);
        free(k->fingerprint);
        free(k);
        return NULL;
}

const char *trusted_key_fingerprint(const TrustedKey *k) {
        return k->fingerprint;
}

int trusted_key_load(ErrorSlot *err, const char *key_file, TrustedKey **ret) {
        _cleanup_(trusted_key_freep) TrustedKey *k = NULL;
        size_t n;
        int r;

        k = calloc(1, sizeof(TrustedKey));
        if (!k)
                return -ENOMEM;
        r = engine_new(err, &k->e);
        if (r < 0)
                return r;
        r = import_key_file(err, &k->e, key_file);
        if (r < 0)
                return r;
        r = collect_fingerprints(err, &k->e);
        if (r < 0)
                return error_prefix(err, r, "'%s'", key_file);
        /* One file, one key: the signatures must be that key's, so it must
         * be clear which one it is. */
        n = strv_length(k->e.primaries);
        if (n != 1)
                return error_set(err, -EINVAL, "'%s' holds %zu keys; expected exactly one", key_file, n);
        k->fingerprint = fingerprint_dup(k->e.primaries[0]);
        if (!k->fingerprint)
                return -ENOMEM;
        *ret = TAKE_PTR(k);
        return 0;
}

int trusted_key_verify_file(ErrorSlot *err, TrustedKey *k, const char *path, const char *sig, size_t sig_size,
                            char **ret_fingerprint) {
        static const char armor[] = "-----BEGIN PGP SIGNATURE-----";
        _cleanup_gpgme_data_ gpgme_data_t signed_data = NULL, sig_data = NULL;
        _cleanup_close_ int fd = -EBADF;
        gpgme_signature_t good = NULL;
        gpgme_error_t ge;
        char *fpr;
        int r;

        /* Only an armored detached signature: anything else (a signed
         * message carrying its own text, a key) is not what was asked for. */
        if (sig_size < sizeof(armor) - 1 || memcmp(sig, armor, sizeof(armor) - 1) != 0)
                return error_set(err, -ENOMSG, "not an armored detached signature");

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return error_set_errno(err, -errno, "cannot open '%s'", path);
        ge = gpgme_data_new_from_fd(&signed_data, fd);
        if (!ge)
                ge = gpgme_data_new_from_mem(&sig_data, sig, sig_size, 0);
        if (ge)
                return error_set(err, gpg_error_to_errno(ge), "failed to create GPGME data: %s", gpgme_strerror(ge));

        ge = gpgme_op_verify(k->e.ctx, sig_data, signed_data, NULL);
        if (gpgme_err_code(ge) == GPG_ERR_NO_DATA)
                return error_set(err, -ENOMSG, "not a signature");
        if (ge)
                return error_set(err, gpg_error_to_errno(ge), "failed to verify: %s", gpgme_strerror(ge));

        r = pick_good_signature(err, &k->e, gpgme_op_verify_result(k->e.ctx), &good);
        if (r < 0)
                return r;
        if (ret_fingerprint) {
                fpr = fingerprint_dup(good->fpr);
                if (!fpr)
                        return -ENOMEM;
                *ret_fingerprint = fpr;
        }
        return 0;
}
