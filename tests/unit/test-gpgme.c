/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Signature checking of clearsigned texts: a real Debian InRelease against
 * keys/, and throwaway keys for good, tampered, unsigned, unknown-key,
 * expired and malformed cases.  Also the binary keyring export.
 */
#include <dirent.h>
#include <sys/stat.h>

#include "config.h"
#include "gpg-test-util.h"
#include "gpgme-util.h"
#include "tap.h"

static char *tmp_root;

static char *tmp_path(const char *name) {
        return path_join(tmp_root, name);
}

static const char *source_root(void) {
        return getenv("WB_SOURCE_ROOT") ?: SOURCE_ROOT;
}

static void test_real_debian(void) {
        _cleanup_free_ char *keys = path_join(source_root(), "keys");
        _cleanup_free_ char *file = path_join(source_root(), "tests/data/release/trixie-updates.InRelease");
        _cleanup_free_ char *text = NULL, *plain = NULL, *fpr = NULL;
        ErrorSlot err = {};
        size_t size, plain_size;
        int r;

        r = read_full_file(file, 1024 * 1024, &text, &size);
        tap_ok(r == 0, "read trixie-updates.InRelease");
        if (r < 0)
                return;

        r = gpgme_verify_clearsigned(&err, keys, text, size, &plain, &plain_size, &fpr);
        tap_ok(r == 0, "real trixie-updates InRelease verifies against keys/: %s", r < 0 ? error_text(&err, r) : fpr);
        tap_ok(r == 0 && (streq(fpr, "4CB50190207B4758A3F73A796ED0E7B82643E131") ||
                          streq(fpr, "B8E5F13176D2A7A75220028078DBA3BC47EF2265")),
               "signed by the bookworm or trixie automatic signing subkey");
        tap_ok(r == 0 && startswith(plain, "Origin: Debian\n") && plain_size == strlen(plain) &&
               !strstr(plain, "PGP SIGNATURE") && !strstr(plain, "Hash: SHA256"),
               "plaintext is the Release text only");
        error_done(&err);

        /* One byte of the signed text changed. */
        {
                _cleanup_free_ char *p2 = NULL, *f2 = NULL;
                char *c = strstr(text, "Codename: trixie-updates");

                c[strlen("Codename: ")] = 'T';
                r = gpgme_verify_clearsigned(&err, keys, text, size, &p2, NULL, &f2);
                tap_ok(r == -EBADMSG && !p2 && !f2 && strstr(strempty(err.message), "signature is bad"),
                       "real InRelease with one byte changed: %s", error_text(&err, r));
                error_done(&err);
        }
}

static int write_text(const char *name, const char *text) {
        _cleanup_free_ char *p = tmp_path(name);
        return p ? write_file_atomic(p, text, strlen(text), 0644) : -ENOMEM;
}

static const char release_text[] =
        "Origin: Test\n"
        "Suite: testing\n"
        "- a line starting with a dash (dash-escaped when signed)\n"
        "SHA256:\n"
        " e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 0 main/binary-amd64/Packages\n";

static void test_throwaway(void) {
        _cleanup_free_ char *keys_a = tmp_path("keys-a"), *keys_empty = tmp_path("keys-empty");
        _cleanup_free_ char *keys_junk = tmp_path("keys-junk"), *asc_a = NULL, *asc_b = NULL;
        _cleanup_free_ char *signed_a = NULL, *signed_b = NULL;
        TestSigner a = {}, b = {};
        size_t size_a = 0, size_b = 0;
        ErrorSlot err = {};
        int r;

        r = test_signer_new(&a, "Test Archive A <a@example.org>", 0);
        tap_ok(r == 0, "create throwaway key A");
        r = test_signer_new(&b, "Test Archive B <b@example.org>", 0);
        tap_ok(r == 0, "create throwaway key B");
        if (!a.fpr || !b.fpr)
                goto finish;

        asc_a = path_join(keys_a, "a.asc");
        (void) mkdir(keys_a, 0755);
        (void) mkdir(keys_empty, 0755);
        (void) mkdir(keys_junk, 0755);
        r = test_signer_export(&a, asc_a);
        tap_ok(r == 0, "export public key A to keys-a/");
        (void) write_text("keys-a/README", "not a key, ignored\n");
        (void) write_text("keys-junk/junk.asc", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnonsense\n");

        r = test_signer_clearsign(&a, release_text, &signed_a, &size_a);
        tap_ok(r == 0 && startswith(signed_a, "-----BEGIN PGP SIGNED MESSAGE-----"), "clearsign with A");
        r = test_signer_clearsign(&b, release_text, &signed_b, &size_b);
        tap_ok(r == 0, "clearsign with B");
        if (!signed_a || !signed_b)
                goto finish;

        /* Good. */
        {
                _cleanup_free_ char *plain = NULL, *fpr = NULL;
                size_t n = 0;

                r = gpgme_verify_clearsigned(&err, keys_a, signed_a, size_a, &plain, &n, &fpr);
                tap_ok(r == 0, "good signature verifies: %s", r < 0 ? error_text(&err, r) : "ok");
                tap_ok(r == 0 && streq(plain, release_text) && n == strlen(release_text),
                       "plaintext is exactly the signed text (dash-escaping undone)");
                tap_ok(r == 0 && streq(fpr, a.fpr), "fingerprint is key A's (%s)", strempty(fpr));
                error_done(&err);
        }

        /* Tampered: one byte of the signed text changed. */
        {
                _cleanup_free_ char *t = strdup(signed_a), *plain = NULL, *fpr = NULL;
                char *c = t ? strstr(t, "Suite: testing") : NULL;

                if (c)
                        c[7] = 'T';
                r = c ? gpgme_verify_clearsigned(&err, keys_a, t, size_a, &plain, NULL, &fpr) : -ENOMEM;
                tap_ok(r == -EBADMSG && !plain && !fpr && strstr(strempty(err.message), "signature is bad"),
                       "tampered text: %s", error_text(&err, r));
                error_done(&err);
        }

        /* Unsigned. */
        {
                _cleanup_free_ char *plain = NULL;
                r = gpgme_verify_clearsigned(&err, keys_a, release_text, strlen(release_text), &plain, NULL, NULL);
                tap_ok(r == -ENOMSG && !plain && strstr(strempty(err.message), "not signed"),
                       "unsigned text: %s", error_text(&err, r));
                error_done(&err);
        }

        /* Signed by a key that is not in keys_dir. */
        {
                _cleanup_free_ char *plain = NULL, *want = strdup_printf("signed by unknown key %s", b.fpr);
                r = gpgme_verify_clearsigned(&err, keys_a, signed_b, size_b, &plain, NULL, NULL);
                tap_ok(r == -ENOKEY && !plain && want && strstr(strempty(err.message), want),
                       "unknown key: %s", error_text(&err, r));
                error_done(&err);
        }

        /* Text smuggled around a validly signed message. */
        {
                static const char * const what[] = { "appended", "prepended", "second message" };

                for (size_t i = 0; i < ELEMENTSOF(what); i++) {
                        _cleanup_free_ char *t = NULL, *plain = NULL;

                        t = i == 0 ? strdup_printf("%sOrigin: Evil\n", signed_a)
                          : i == 1 ? strdup_printf("Origin: Evil\n%s", signed_a)
                                   : strdup_printf("%s%s", signed_b, signed_a);
                        r = t ? gpgme_verify_clearsigned(&err, keys_a, t, strlen(t), &plain, NULL, NULL) : -ENOMEM;
                        tap_ok(r == -EBADMSG && !plain, "%s text is refused: %s", what[i], error_text(&err, r));
                        error_done(&err);
                }
        }

        /* Keys directories without usable keys. */
        {
                _cleanup_free_ char *plain = NULL, *missing = tmp_path("no-such-dir");

                r = gpgme_verify_clearsigned(&err, keys_empty, signed_a, size_a, &plain, NULL, NULL);
                tap_ok(r == -ENOKEY && strstr(strempty(err.message), "no keys"), "empty keys dir: %s",
                       error_text(&err, r));
                error_done(&err);
                r = gpgme_verify_clearsigned(&err, keys_junk, signed_a, size_a, &plain, NULL, NULL);
                tap_ok(r == -ENOKEY, "keys dir with a broken key: %s", error_text(&err, r));
                error_done(&err);
                r = gpgme_verify_clearsigned(&err, missing, signed_a, size_a, &plain, NULL, NULL);
                tap_ok(r == -ENOENT, "missing keys dir: %s", error_text(&err, r));
                error_done(&err);
        }

        /* Both keys trusted: B's signature is now good too. */
        {
                _cleanup_free_ char *plain = NULL, *fpr = NULL;

                asc_b = path_join(keys_a, "b.gpg");
                r = test_signer_export(&b, asc_b);
                r = r < 0 ? r : gpgme_verify_clearsigned(&err, keys_a, signed_b, size_b, &plain, NULL, &fpr);
                tap_ok(r == 0 && streq(fpr, b.fpr), "key B added as b.gpg: B's signature is good");
                error_done(&err);
                (void) unlink(asc_b);
        }

        /* The exported keyring is binary OpenPGP and gpgv accepts it. */
        {
                _cleanup_free_ char *ring = tmp_path("keyring.gpg"), *data = NULL, *signed_file = NULL;
                _cleanup_free_ char *gpgv_home = tmp_path("gpgv-home");
                size_t n = 0;

                r = gpgme_export_keyring(&err, keys_a, NULL, ring);
                tap_ok(r == 0, "export keyring: %s", r < 0 ? error_text(&err, r) : "ok");
                error_done(&err);
                r = read_full_file(ring, 1024 * 1024, &data, &n);
                /* Public-key packet: old format tag 6 (0x98..0x9b) or new format 0xc6. */
                tap_ok(r == 0 && n > 32 && (((uint8_t) data[0] & 0xfc) == 0x98 || (uint8_t) data[0] == 0xc6),
                       "keyring starts with a binary public-key packet (0x%02x)", r == 0 ? (uint8_t) data[0] : 0);

                signed_file = tmp_path("signed.txt");
                (void) mkdir(gpgv_home, 0700);
                if (program_in_path("gpgv") && write_file_atomic(signed_file, signed_a, size_a, 0644) == 0) {
                        char *argv[] = { (char *) "gpgv", (char *) "--homedir", gpgv_home, (char *) "--keyring",
                                         ring, signed_file, NULL };
                        r = spawn_run(&err, argv, NULL, NULL);
                        tap_ok(r == 0, "gpgv verifies with the exported keyring: %s",
                               r < 0 ? error_text(&err, r) : "ok");
                        error_done(&err);
                } else
                        tap_diag("gpgv not installed, not checking the keyring with it");

                r = gpgme_export_keyring(&err, keys_empty, NULL, ring);
                tap_ok(r == -ENOKEY, "export from an empty keys dir fails: %s", error_text(&err, r));
                error_done(&err);
        }

finish:
        test_signer_done(&a);
        test_signer_done(&b);
}

/* A key that expires one second after creation; its signature, checked
 * later, must not be accepted. */
static void test_expired(void) {
        _cleanup_free_ char *keys = tmp_path("keys-expired"), *asc = NULL, *signed_text = NULL, *plain = NULL;
        TestSigner s = {};
        ErrorSlot err = {};
        size_t size;
        int r;

        r = test_signer_new(&s, "Expiring <e@example.org>", 1);
        if (r < 0) {
                tap_ok(false, "create expiring key");
                return;
        }
        asc = path_join(keys, "e.asc");
        (void) mkdir(keys, 0755);
        r = test_signer_export(&s, asc);
        if (r == 0)
                r = test_signer_clearsign(&s, release_text, &signed_text, &size);
        tap_ok(r == 0, "sign with a key about to expire");
        if (r == 0) {
                sleep(2);
                r = gpgme_verify_clearsigned(&err, keys, signed_text, size, &plain, NULL, NULL);
                tap_ok(r == -EKEYEXPIRED && !plain && strstr(strempty(err.message), "expired"),
                       "signature by an expired key: %s", error_text(&err, r));
                error_done(&err);
        }
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

        if (!program_in_path("gpg"))
                return tap_skip_all("gpg is not installed");
        if (mkdtemp_in(NULL, "test-gpgme", &tmp_root) < 0)
                return tap_skip_all("cannot create a temporary directory");
        /* Temporary GnuPG homes go here, so that leftovers can be seen. */
        setenv("TMPDIR", tmp_root, 1);

        test_real_debian();
        test_throwaway();
        test_expired();
        test_no_leftovers();

        (void) rm_rf(tmp_root);
        free(tmp_root);
        return tap_done();
}
