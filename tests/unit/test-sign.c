/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sign stage: SHA256SUMS bytes, signing with throwaway keys in
 * temporary GnuPG homes, and verification of good, tampered, missing,
 * foreign-key signatures; signing failures (no such key, expired, needs a
 * passphrase) must leave nothing behind.  The signatures are also checked
 * with plain `gpg --verify`.
 */
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>

#include "gpg-test-util.h"
#include "gpgme-util.h"
#include "sha256.h"
#include "sign.h"
#include "tap.h"

static char *tmp_root;

static char *tmp_path(const char *name) {
        return path_join(tmp_root, name);
}

static int write_in(const char *dir, const char *name, const char *text) {
        _cleanup_free_ char *p = path_join(dir, name);
        return p ? write_file_atomic(p, text, strlen(text), 0644) : -ENOMEM;
}

/* Names of the entries of dir, sorted, joined by spaces ("" if empty). */
static char *dir_listing(const char *dir) {
        _cleanup_strv_free_ char **l = NULL;
        struct dirent *de;
        DIR *d = opendir(dir);

        if (!d)
                return NULL;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        (void) strv_extend(&l, de->d_name);
        closedir(d);
        strv_sort(l);
        return l ? strv_join(l, " ") : strdup("");
}

#define HEX_A "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define HEX_B "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"

static void test_sums_format(void) {
        SumsEntry e[] = {
                { (char *) "b.xml", (char *) HEX_B },
                { (char *) "Whonix.ova", (char *) HEX_A },
                { (char *) "a.qcow2", (char *) HEX_B },
        };
        _cleanup_free_ char *text = NULL;
        int r;

        r = sums_format(e, ELEMENTSOF(e), &text);
        tap_ok(r == 0 && streq(text, HEX_A "  Whonix.ova\n" HEX_B "  a.qcow2\n" HEX_B "  b.xml\n"),
               "SHA256SUMS is sorted by name (byte order), two spaces, one line each");

        static const char * const bad_names[] = { "", "dir/x", ".hidden", "x.asc", "SHA256SUMS", "a\nb", "back\\slash" };
        for (size_t i = 0; i < ELEMENTSOF(bad_names); i++) {
                _cleanup_free_ char *t = NULL;
                SumsEntry b = { (char *) bad_names[i], (char *) HEX_A };

                r = sums_format(&b, 1, &t);
                tap_ok(r == -EINVAL && !t, "name '%s' is refused", bad_names[i][0] == 'a' ? "a\\nb" : bad_names[i]);
        }
        {
                _cleanup_free_ char *t = NULL;
                SumsEntry d[] = { { (char *) "x", (char *) HEX_A }, { (char *) "x", (char *) HEX_B } };
                SumsEntry u = { (char *) "x", (char *) "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855" };

                tap_ok(sums_format(d, 2, &t) == -EEXIST && !t, "duplicate names are refused");
                tap_ok(sums_format(&u, 1, &t) == -EINVAL && !t, "uppercase hex is refused");
                tap_ok(sums_format(d, 0, &t) == -EINVAL && !t, "an empty list is refused");
        }
}

static void test_sums_parse(void) {
        static const char good[] = HEX_B "  b.xml\n" HEX_A "  Whonix.ova\n";
        static const struct {
                const char *text, *what;
        } bad[] = {
                { HEX_A " x\n", "one space" },
                { HEX_A " *x\n", "binary-mode marker" },
                { HEX_A "  x", "no final newline" },
                { HEX_A "  x\n" HEX_B "  x\n", "a name twice" },
                { HEX_A "  ../x\n", "a path" },
                { HEX_A "  \n", "an empty name" },
                { "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855  x\n", "uppercase hex" },
                { "e3b0  x\n", "a short digest" },
                { "", "no lines" },
                { "\n", "an empty line" },
        };
        SumsEntry *e = NULL;
        ErrorSlot err = {};
        size_t n = 0;
        int r;

        r = sums_parse(&err, good, strlen(good), &e, &n);
        tap_ok(r == 0 && n == 2 && streq(e[0].name, "b.xml") && streq(e[0].sha256, HEX_B) &&
               streq(e[1].name, "Whonix.ova") && streq(e[1].sha256, HEX_A), "parse SHA256SUMS");
        sums_entries_free(e, n);
        error_done(&err);

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                e = NULL;
                n = 0;
                r = sums_parse(&err, bad[i].text, strlen(bad[i].text), &e, &n);
                tap_ok(r == -EBADMSG && !e, "SHA256SUMS with %s is refused: %s", bad[i].what, error_text(&err, r));
                error_done(&err);
        }
}

/* A release directory: three small artifacts. */
static const char * const artifact_names[] = { "Whonix-Gateway.qcow2", "Whonix-Gateway.xml", "Whonix-External.xml", NULL };

static char *make_release(const char *name) {
        char *dir = tmp_path(name);

        if (!dir || mkdir(dir, 0755) < 0)
                return NULL;
        for (size_t i = 0; artifact_names[i]; i++) {
                _cleanup_free_ char *text = strdup_printf("contents of %s\n", artifact_names[i]);
                if (!text || write_in(dir, artifact_names[i], text) < 0)
                        return NULL;
        }
        return dir;
}

static char **names(void) {
        return strv_copy((char * const *) artifact_names);
}

static const SignVerdict *verdict_for(const SignReport *rep, const char *name) {
        for (size_t i = 0; i < rep->n_verdicts; i++)
                if (streq(rep->verdicts[i].name, name))
                        return &rep->verdicts[i];
        return NULL;
}

/* Verify dir with key_file; the number of bad verdicts, or a negative errno. */
static int verify(const char *dir, const char *key_file, SignReport **ret) {
        ErrorSlot err = {};
        SignReport *rep = NULL;
        int r;

        r = sign_verify_dir(&err, dir, key_file, &rep);
        if (r < 0) {
                tap_diag("sign_verify_dir: %s", error_text(&err, r));
                error_done(&err);
                return r;
        }
        for (size_t i = 0; i < rep->n_verdicts; i++)
                tap_diag("  %s: %s", rep->verdicts[i].name, rep->verdicts[i].message);
        *ret = rep;
        return (int) rep->n_bad;
}

static void test_unsigned(void) {
        _cleanup_free_ char *dir = make_release("unsigned"), *text = NULL, *expected = NULL, *ls = NULL;
        _cleanup_strv_free_ char **l = names();
        ErrorSlot err = {};
        int r;

        r = dir ? sign_artifacts(&err, dir, l, &(SignOptions) {}) : -ENOMEM;
        tap_ok(r == 0, "checksums without a key: %s", r < 0 ? error_text(&err, r) : "ok");
        error_done(&err);
        if (r < 0)
                return;
        {
                _cleanup_free_ char *p = path_join(dir, "SHA256SUMS");
                _cleanup_free_ char *h1 = sha256_hex("contents of Whonix-External.xml\n", 32);
                _cleanup_free_ char *h2 = sha256_hex("contents of Whonix-Gateway.qcow2\n", 33);
                _cleanup_free_ char *h3 = sha256_hex("contents of Whonix-Gateway.xml\n", 31);

                expected = strdup_printf("%s  Whonix-External.xml\n%s  Whonix-Gateway.qcow2\n%s  Whonix-Gateway.xml\n",
                                         h1, h2, h3);
                r = read_full_file(p, 4096, &text, NULL);
        }
        tap_ok(r == 0 && expected && streq(text, expected), "SHA256SUMS holds exactly the sorted digests");
        ls = dir_listing(dir);
        tap_ok(ls && streq(ls, "SHA256SUMS Whonix-External.xml Whonix-Gateway.qcow2 Whonix-Gateway.xml"),
               "without a key: no .asc and no staging directory (%s)", strempty(ls));

        /* A digest the caller read already (the build's export) is taken as
         * given: the file is not read again. */
        {
                static const char given[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
                SumsEntry known = { .name = (char *) "Whonix-Gateway.qcow2", .sha256 = (char *) given };
                _cleanup_free_ char *p = path_join(dir, "SHA256SUMS"), *again = NULL;

                r = sign_artifacts(&err, dir, l, &(SignOptions) { .known = &known, .n_known = 1 });
                if (r == 0)
                        r = read_full_file(p, 4096, &again, NULL);
                tap_ok(r == 0 && strstr(again, given) && strstr(again, "  Whonix-Gateway.xml\n") &&
                               !strstr(text, given),
                       "a known digest goes into SHA256SUMS as given, the others are hashed");
                error_done(&err);
        }
}

/* `gpg --verify` with only the public key imported into a fresh home. */
static void test_plain_gpg(const char *dir, const char *pub) {
        _cleanup_free_ char *home = tmp_path("plain-gpg-home"), *asc = NULL, *file = NULL;
        ErrorSlot err = {};
        int r;

        if (!program_in_path("gpg")) {
                printf("ok %u - # SKIP gpg is not installed\n", ++tap_n);
                return;
        }
        asc = path_join(dir, "Whonix-Gateway.qcow2.asc");
        file = path_join(dir, "Whonix-Gateway.qcow2");
        (void) mkdir(home, 0700);
        {
                char *argv[] = { (char *) "gpg", (char *) "--batch", (char *) "--homedir", home, (char *) "--import",
                                 (char *) pub, NULL };
                r = spawn_run(&err, argv, NULL, NULL);
        }
        if (r >= 0) {
                char *argv[] = { (char *) "gpg", (char *) "--batch", (char *) "--homedir", home, (char *) "--verify",
                                 asc, file, NULL };
                r = spawn_run(&err, argv, NULL, NULL);
        }
        tap_ok(r == 0, "plain gpg --verify accepts the .asc: %s", r < 0 ? error_text(&err, r) : "ok");
        error_done(&err);
        {
                char *argv[] = { (char *) "gpgconf", (char *) "--homedir", home, (char *) "--kill", (char *) "all", NULL };
                (void) spawn_run(NULL, argv, NULL, NULL);
        }
        (void) rm_rf(home);
}

static int copy_into(const char *from_dir, const char *to_dir, const char *name) {
        _cleanup_free_ char *p = path_join(from_dir, name), *data = NULL;
        size_t n;
        int r;

        if (!p)
                return -ENOMEM;
        r = read_full_file(p, 1024 * 1024, &data, &n);
        if (r < 0)
                return r;
        free(p);
        p = path_join(to_dir, name);
        return p ? write_file_atomic(p, data, n, 0644) : -ENOMEM;
}

static void flip_byte(const char *dir, const char *name, const char *old, char new_char) {
        _cleanup_free_ char *p = path_join(dir, name), *data = NULL;
        size_t n;
        char *c;

        if (!p || read_full_file(p, 1024 * 1024, &data, &n) < 0 || !(c = strstr(data, old)))
                return;
        *c = new_char;
        (void) write_file_atomic(p, data, n, 0644);
}

static void test_signed(void) {
        _cleanup_free_ char *dir = make_release("signed"), *pub_a = tmp_path("a.asc"), *pub_b = tmp_path("b.asc");
        _cleanup_free_ char *both = tmp_path("both.asc"), *ls = NULL;
        _cleanup_strv_free_ char **l = names();
        TestSigner a = {}, b = {};
        ErrorSlot err = {};
        int r;

        r = test_signer_new(&a, "Release A <a@example.org>", 0);
        r = r < 0 ? r : test_signer_new(&b, "Release B <b@example.org>", 0);
        r = r < 0 ? r : test_signer_export(&a, pub_a);
        r = r < 0 ? r : test_signer_export(&b, pub_b);
        tap_ok(r == 0 && dir, "throwaway keys A and B in temporary GnuPG homes");
        if (r < 0 || !dir)
                goto finish;

        r = sign_artifacts(&err, dir, l, &(SignOptions) { .key = a.fpr, .gpg_home = a.home });
        tap_ok(r == 0, "sign with key A: %s", r < 0 ? error_text(&err, r) : "ok");
        error_done(&err);
        ls = dir_listing(dir);
        tap_ok(ls && streq(ls, "SHA256SUMS SHA256SUMS.asc Whonix-External.xml Whonix-External.xml.asc "
                                  "Whonix-Gateway.qcow2 Whonix-Gateway.qcow2.asc Whonix-Gateway.xml Whonix-Gateway.xml.asc"),
               "every artifact and SHA256SUMS got an .asc, no staging directory left (%s)", strempty(ls));
        {
                _cleanup_free_ char *p = path_join(dir, "Whonix-Gateway.xml.asc"), *sig = NULL;
                r = read_full_file(p, 65536, &sig, NULL);
                tap_ok(r == 0 && startswith(sig, "-----BEGIN PGP SIGNATURE-----\n") &&
                       strstr(sig, "-----END PGP SIGNATURE-----"), "the signatures are armored and detached");
        }

        /* All good. */
        {
                _cleanup_(sign_report_freep) SignReport *rep = NULL;
                const SignVerdict *v;

                r = verify(dir, pub_a, &rep);
                tap_ok(r == 0 && rep->n_verdicts == 4 && streq(rep->key_fingerprint, a.fpr),
                       "verifies with A's public key: 4 good verdicts");
                v = rep ? verdict_for(rep, "SHA256SUMS") : NULL;
                tap_ok(v && v == &rep->verdicts[0] && v->r == 0 && strstr(v->message, a.fpr),
                       "SHA256SUMS comes first, good signature by A");
        }
        test_plain_gpg(dir, pub_a);

        /* A's signatures are not B's. */
        {
                _cleanup_(sign_report_freep) SignReport *rep = NULL;
                const SignVerdict *v;

                r = verify(dir, pub_b, &rep);
                v = rep ? verdict_for(rep, "SHA256SUMS") : NULL;
                tap_ok(r == 4 && v && v->r == -ENOKEY && strstr(v->message, "unknown key"),
                       "with B's key instead: every file fails (signed by unknown key)");
        }

        /* A key file with two keys: which one is expected is unclear. */
        {
                _cleanup_free_ char *ta = NULL, *tb = NULL, *cat = NULL;
                _cleanup_(sign_report_freep) SignReport *rep = NULL;

                if (read_full_file(pub_a, 65536, &ta, NULL) == 0 && read_full_file(pub_b, 65536, &tb, NULL) == 0 &&
                    (cat = strdup_printf("%s%s", ta, tb)))
                        (void) write_file_atomic(both, cat, strlen(cat), 0644);
                r = sign_verify_dir(&err, dir, both, &rep);
                tap_ok(r == -EINVAL && !rep && strstr(strempty(err.message), "expected exactly one"),
                       "a key file with two keys is refused: %s", error_text(&err, r));
                error_done(&err);
        }

        /* A tampered artifact. */
        {
                _cleanup_free_ char *t = make_release("tampered-artifact");
                _cleanup_(sign_report_freep) SignReport *rep = NULL;
                const SignVerdict *v;

                r = sign_artifacts(&err, t, l, &(SignOptions) { .key = a.fpr, .gpg_home = a.home });
                error_done(&err);
                flip_byte(t, "Whonix-Gateway.xml", "contents", 'C');
                r = r < 0 ? r : verify(t, pub_a, &rep);
                v = rep ? verdict_for(rep, "Whonix-Gateway.xml") : NULL;
                tap_ok(r == 1 && v && v->r == -EBADMSG && strstr(v->message, "does not match"),
                       "a tampered artifact fails, and only that one");
        }

        /* A tampered SHA256SUMS (made to match a tampered artifact). */
        {
                _cleanup_free_ char *t = make_release("tampered-sums");
                _cleanup_(sign_report_freep) SignReport *rep = NULL;
                const SignVerdict *v, *w;

                r = sign_artifacts(&err, t, l, &(SignOptions) { .key = a.fpr, .gpg_home = a.home });
                error_done(&err);
                if (r == 0) {
                        _cleanup_free_ char *text = NULL, *sums = path_join(t, "SHA256SUMS");
                        _cleanup_free_ char *old = sha256_hex("contents of Whonix-Gateway.xml\n", 31);
                        _cleanup_free_ char *new = sha256_hex("Contents of Whonix-Gateway.xml\n", 31);

                        flip_byte(t, "Whonix-Gateway.xml", "contents", 'C');
                        if (read_full_file(sums, 4096, &text, NULL) == 0 && strstr(text, old))
                                memcpy(strstr(text, old), new, 64);
                        (void) write_file_atomic(sums, text, strlen(text), 0644);
                }
                r = r < 0 ? r : verify(t, pub_a, &rep);
                v = rep ? verdict_for(rep, "SHA256SUMS") : NULL;
                w = rep ? verdict_for(rep, "Whonix-Gateway.xml") : NULL;
                tap_ok(r == 2 && v && v->r == -EBADMSG && strstr(v->message, "signature is bad") && w && w->r < 0,
                       "a tampered SHA256SUMS fails its signature (and the file its own)");
        }

        /* One artifact signed by B instead of A. */
        {
                _cleanup_free_ char *t = make_release("foreign"), *o = make_release("foreign-b");
                _cleanup_(sign_report_freep) SignReport *rep = NULL;
                const SignVerdict *v;

                r = sign_artifacts(&err, t, l, &(SignOptions) { .key = a.fpr, .gpg_home = a.home });
                r = r < 0 ? r : sign_artifacts(&err, o, l, &(SignOptions) { .key = b.fpr, .gpg_home = b.home });
                error_done(&err);
                r = r < 0 ? r : copy_into(o, t, "Whonix-External.xml.asc");
                r = r < 0 ? r : verify(t, pub_a, &rep);
                v = rep ? verdict_for(rep, "Whonix-External.xml") : NULL;
                tap_ok(r == 1 && v && v->r == -ENOKEY && strstr(v->message, b.fpr),
                       "a signature by another valid key fails, naming that key");
        }

        /* A missing .asc, then a missing SHA256SUMS. */
        {
                _cleanup_free_ char *t = make_release("missing"), *p = NULL;
                _cleanup_(sign_report_freep) SignReport *rep = NULL;
                const SignVerdict *v;

                r = sign_artifacts(&err, t, l, &(SignOptions) { .key = a.fpr, .gpg_home = a.home });
                error_done(&err);
                p = path_join(t, "Whonix-Gateway.qcow2.asc");
                (void) unlink(p);
                r = r < 0 ? r : verify(t, pub_a, &rep);
                v = rep ? verdict_for(rep, "Whonix-Gateway.qcow2") : NULL;
                tap_ok(r == 1 && v && v->r == -ENOENT && strstr(v->message, "Whonix-Gateway.qcow2.asc' is missing"),
                       "a missing .asc fails, naming it");
                sign_report_free(TAKE_PTR(rep));

                free(p);
                p = path_join(t, "Whonix-Gateway.xml");
                (void) unlink(p);
                r = verify(t, pub_a, &rep);
                v = rep ? verdict_for(rep, "Whonix-Gateway.xml") : NULL;
                tap_ok(r == 2 && v && v->r == -ENOENT && strstr(v->message, "missing"), "a missing artifact fails");
                sign_report_free(TAKE_PTR(rep));

                free(p);
                p = path_join(t, "SHA256SUMS");
                (void) unlink(p);
                r = sign_verify_dir(&err, t, pub_a, &rep);
                tap_ok(r == -ENOENT && !rep && strstr(strempty(err.message), "SHA256SUMS"),
                       "a missing SHA256SUMS fails: %s", error_text(&err, r));
                error_done(&err);
        }

        /* Signing failures leave nothing behind. */
        {
                _cleanup_free_ char *t = make_release("no-key"), *listing = NULL;

                r = sign_artifacts(&err, t, l,
                                   &(SignOptions) { .key = "0123456789ABCDEF0123456789ABCDEF01234567", .gpg_home = a.home });
                tap_ok(r == -ENOKEY && strstr(strempty(err.message), "0123456789ABCDEF0123456789ABCDEF01234567"),
                       "no such key: %s", error_text(&err, r));
                error_done(&err);
                r = sign_artifacts(&err, t, l, &(SignOptions) { .key = a.fpr, .gpg_home = b.home });
                tap_ok(r == -ENOKEY && strstr(strempty(err.message), a.fpr),
                       "key A is not in B's home: %s", error_text(&err, r));
                error_done(&err);
                r = sign_artifacts(&err, t, l, &(SignOptions) { .key = "A-friend", .gpg_home = a.home });
                tap_ok(r == -EINVAL, "not a fingerprint: %s", error_text(&err, r));
                error_done(&err);
                listing = dir_listing(t);
                tap_ok(listing && streq(listing, "Whonix-External.xml Whonix-Gateway.qcow2 Whonix-Gateway.xml"),
                       "failed signing left no .asc, no SHA256SUMS, no staging directory (%s)", strempty(listing));
        }

        /* Stale files: removed for the given names only. */
        {
                _cleanup_free_ char *t = make_release("stale"), *listing = NULL;
                _cleanup_strv_free_ char **found = NULL;

                r = sign_artifacts(&err, t, l, &(SignOptions) { .key = a.fpr, .gpg_home = a.home });
                error_done(&err);
                (void) write_in(t, "other.ova", "x");
                (void) write_in(t, "other.ova.asc", "x");
                (void) write_in(t, ".hidden", "x");
                r = r < 0 ? r : sign_list_artifacts(&err, t, &found);
                listing = found ? strv_join(found, " ") : NULL;
                tap_ok(r == 0 && listing &&
                       streq(listing, "Whonix-External.xml Whonix-Gateway.qcow2 Whonix-Gateway.xml other.ova"),
                       "sign_list_artifacts: regular, visible, not signatures (%s)", strempty(listing));
                error_done(&err);
                free(listing);
                r = sign_remove_stale(&err, t, l);
                listing = dir_listing(t);
                tap_ok(r == 0 && listing && streq(listing, ".hidden Whonix-External.xml Whonix-Gateway.qcow2 "
                                                            "Whonix-Gateway.xml other.ova other.ova.asc"),
                       "sign_remove_stale removes SHA256SUMS* and the names' .asc (%s)", strempty(listing));
                error_done(&err);
        }

finish:
        test_signer_done(&a);
        test_signer_done(&b);
}

static void test_expired(void) {
        _cleanup_free_ char *t = make_release("expired"), *listing = NULL;
        _cleanup_strv_free_ char **l = names();
        TestSigner s = {};
        ErrorSlot err = {};
        int r;

        r = test_signer_new(&s, "Expiring <e@example.org>", 1);
        if (r < 0 || !t) {
                tap_ok(false, "create an expiring key");
                goto finish;
        }
        sleep(2);
        r = sign_artifacts(&err, t, l, &(SignOptions) { .key = s.fpr, .gpg_home = s.home });
        tap_ok(r == -EKEYEXPIRED && strstr(strempty(err.message), s.fpr), "expired key: %s", error_text(&err, r));
        error_done(&err);
        listing = dir_listing(t);
        tap_ok(listing && !strstr(listing, ".asc") && !strstr(listing, "SHA256SUMS"), "and nothing was left (%s)",
               strempty(listing));
finish:
        test_signer_done(&s);
}

static gpgme_error_t give_passphrase(void *hook, const char *uid_hint, const char *info, int prev_was_bad, int fd) {
        return gpgme_io_writen(fd, "secret\n", 7) < 0 ? gpg_error(GPG_ERR_CANCELED) : 0;
}

/* A key with a passphrase that no agent has cached: signing must fail at
 * once, never wait for a prompt. */
static void test_passphrase(void) {
        _cleanup_free_ char *t = make_release("passphrase"), *listing = NULL;
        _cleanup_strv_free_ char **l = names();
        TestSigner s = {};
        ErrorSlot err = {};
        gpgme_genkey_result_t res;
        uint64_t start;
        int r;

        if (!t || mkdtemp_in(NULL, "test-signer", &s.home) < 0 || gpgme_new(&s.ctx) ||
            gpgme_ctx_set_engine_info(s.ctx, GPGME_PROTOCOL_OpenPGP, NULL, s.home)) {
                tap_ok(false, "set up a GnuPG home");
                goto finish;
        }
        (void) gpgme_set_pinentry_mode(s.ctx, GPGME_PINENTRY_MODE_LOOPBACK);
        gpgme_set_passphrase_cb(s.ctx, give_passphrase, NULL);
        if (gpgme_op_createkey(s.ctx, "Locked <l@example.org>", "ed25519", 0, 0, NULL,
                               GPGME_CREATE_SIGN | GPGME_CREATE_FORCE | GPGME_CREATE_NOEXPIRE) ||
            !(res = gpgme_op_genkey_result(s.ctx)) || !res->fpr || !(s.fpr = strdup(res->fpr))) {
                tap_ok(false, "create a key with a passphrase");
                goto finish;
        }
        /* Forget the passphrase the agent may have cached. */
        {
                char *argv[] = { (char *) "gpgconf", (char *) "--homedir", s.home, (char *) "--kill", (char *) "gpg-agent",
                                 NULL };
                (void) spawn_run(NULL, argv, NULL, NULL);
        }
        start = now_usec();
        r = sign_artifacts(&err, t, l, &(SignOptions) { .key = s.fpr, .gpg_home = s.home });
        tap_ok(r == -EACCES && strstr(strempty(err.message), "passphrase") && strstr(strempty(err.message), s.fpr),
               "key with a passphrase fails without asking: %s", error_text(&err, r));
        tap_ok(now_usec() - start < 60 * 1000000ull, "and at once (%.1f s)", (double) (now_usec() - start) / 1e6);
        error_done(&err);
        listing = dir_listing(t);
        tap_ok(listing && !strstr(listing, ".asc") && !strstr(listing, "SHA256SUMS"), "and nothing was left (%s)",
               strempty(listing));
finish:
        test_signer_done(&s);
}

/* No temporary GnuPG home is left behind. */
static void test_no_leftovers(void) {
        struct dirent *de;
        DIR *d = opendir(tmp_root);
        unsigned n = 0;

        while (d && (de = readdir(d)))
                if (startswith(de->d_name, "whonix-build-gnupg"))
                        n++;
        if (d)
                closedir(d);
        tap_ok(d && n == 0, "no temporary GnuPG homes left (%u)", n);
}

int main(void) {
        tap_plan_lazy();

        if (!program_in_path("gpg") || !program_in_path("gpgconf"))
                return tap_skip_all("gpg is not installed");
        if (mkdtemp_in(NULL, "test-sign", &tmp_root) < 0)
                return tap_skip_all("cannot create a temporary directory");
        setenv("TMPDIR", tmp_root, 1);

        test_sums_format();
        test_sums_parse();
        test_unsigned();
        test_signed();
        test_expired();
        test_passphrase();
        test_no_leftovers();

        (void) rm_rf(tmp_root);
        free(tmp_root);
        return tap_done();
}
