/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Release file parsing: an excerpt of a real trixie Release, the plaintext of
 * a real trixie-updates InRelease, and broken variants
 * (tests/data/release/bad-*.Release, each with a .expect file saying which
 * error and which message it must give).
 */
#include <dirent.h>

#include "config.h"
#include "release.h"
#include "tap.h"

static char *data_path(const char *name) {
        _cleanup_free_ char *dir = path_join(getenv("WB_SOURCE_ROOT") ?: SOURCE_ROOT, "tests/data/release");
        return dir ? path_join(dir, name) : NULL;
}

static int load(const char *name, char **ret, size_t *ret_size) {
        _cleanup_free_ char *p = data_path(name);
        return p ? read_full_file(p, RELEASE_SIZE_MAX, ret, ret_size) : -ENOMEM;
}

static void test_trixie(void) {
        _cleanup_(release_freep) ReleaseFile *rel = NULL;
        _cleanup_free_ char *text = NULL;
        const struct ReleaseEntry *e;
        ErrorSlot err = {};
        size_t size;
        int r;

        r = load("trixie.Release", &text, &size);
        tap_ok(r == 0, "read trixie.Release");
        if (r < 0)
                return;

        r = release_parse(&err, text, size, &rel);
        tap_ok(r == 0, "trixie.Release parses: %s", r < 0 ? error_text(&err, r) : "ok");
        if (r < 0) {
                error_done(&err);
                return;
        }
        tap_ok(streq_ptr(rel->origin, "Debian") && streq_ptr(rel->label, "Debian") &&
               streq_ptr(rel->suite, "stable") && streq_ptr(rel->codename, "trixie") &&
               streq_ptr(rel->version, "13.8"), "origin, label, suite, codename, version");
        tap_ok(streq_ptr(rel->date, "Sat, 21 Nov 2026 09:15:44 UTC") && !rel->valid_until,
               "date, no Valid-Until");
        tap_ok(strv_length(rel->architectures) == 9 && strv_contains(rel->architectures, "amd64") &&
               strv_length(rel->components) == 4 && streq(rel->components[0], "main"),
               "architectures and components");
        tap_ok(rel->n_entries == 23, "23 SHA256 entries (got %zu)", rel->n_entries);

        e = release_find(rel, "main/binary-amd64/Packages.xz");
        tap_ok(e && e->size == 9679304 &&
               streq(e->sha256, "be3d7d96a040eda0505c1808cccc67f183bbc05dff0842c50f88e6c396557412"),
               "main/binary-amd64/Packages.xz: size and hash");
        tap_ok(!release_find(rel, "main/binary-amd64/Packages.bz2") && !release_find(rel, "") &&
               !release_find(NULL, "x"), "release_find() of unknown paths");

        /* The same text without its final newline, with CRLF-free input
         * cut at the last entry, still parses. */
        {
                _cleanup_(release_freep) ReleaseFile *r2 = NULL;
                r = release_parse(&err, text, size - 1, &r2);
                tap_ok(r == 0 && r2->n_entries == 23, "parses without a final newline");
        }
        {
                _cleanup_(release_freep) ReleaseFile *r3 = NULL;
                _cleanup_free_ char *upper = strdup(text);
                char *p = upper ? strstr(upper, "be3d7d96a040eda0") : NULL;

                if (p)
                        for (size_t i = 0; i < 64; i++)
                                if (p[i] >= 'a' && p[i] <= 'f')
                                        p[i] = (char) (p[i] - 'a' + 'A');
                r = p ? release_parse(&err, upper, size, &r3) : -ENOMEM;
                e = r == 0 ? release_find(r3, "main/binary-amd64/Packages.xz") : NULL;
                tap_ok(e && streq(e->sha256, "be3d7d96a040eda0505c1808cccc67f183bbc05dff0842c50f88e6c396557412"),
                       "uppercase hex is stored in lowercase");
        }
        error_done(&err);
}

/* The plaintext of a real clearsigned InRelease (no dash-escaped lines occur
 * in Release files), parsed the way fetch.c parses what gpgme returns. */
static void test_inrelease_plaintext(void) {
        _cleanup_(release_freep) ReleaseFile *rel = NULL;
        _cleanup_free_ char *text = NULL;
        ErrorSlot err = {};
        const char *start, *end;
        int64_t until, date;
        size_t size;
        int r;

        r = load("trixie-updates.InRelease", &text, &size);
        start = r == 0 ? strstr(text, "\n\n") : NULL;
        end = start ? strstr(start, "-----BEGIN PGP SIGNATURE-----") : NULL;
        tap_ok(start && end, "read trixie-updates.InRelease");
        if (!start || !end)
                return;
        start += 2;

        r = release_parse(&err, start, (size_t) (end - start), &rel);
        tap_ok(r == 0, "trixie-updates plaintext parses: %s", r < 0 ? error_text(&err, r) : "ok");
        if (r < 0) {
                error_done(&err);
                return;
        }
        tap_ok(streq_ptr(rel->codename, "trixie-updates") && streq_ptr(rel->suite, "stable-updates"),
               "trixie-updates: codename and suite");
        tap_ok(rel->valid_until && release_parse_date(rel->valid_until, &until) == 0 &&
               release_parse_date(rel->date, &date) == 0 && until - date == 7 * 24 * 3600,
               "Valid-Until is Date plus one week");
        tap_ok(rel->n_entries > 100 && release_find(rel, "main/binary-amd64/Packages.xz"),
               "trixie-updates: %zu entries, main/binary-amd64/Packages.xz listed", rel->n_entries);
}

static void test_broken(void) {
        _cleanup_free_ char *dir = data_path(".");
        _cleanup_strv_free_ char **names = NULL;
        struct dirent *de;
        DIR *d = dir ? opendir(dir) : NULL;

        if (!d) {
                tap_ok(false, "open release fixtures");
                return;
        }
        while ((de = readdir(d)))
                if (startswith(de->d_name, "bad-") && endswith(de->d_name, ".Release"))
                        (void) strv_extend(&names, de->d_name);
        closedir(d);
        strv_sort(names);
        tap_ok(strv_length(names) >= 10, "%zu broken variants", strv_length(names));

        STRV_FOREACH(n, names) {
                _cleanup_free_ char *text = NULL, *expect_name = NULL, *expect = NULL;
                _cleanup_(release_freep) ReleaseFile *rel = NULL;
                const char *want_msg = NULL, *want_err = NULL;
                _cleanup_strv_free_ char **lines = NULL;
                ErrorSlot err = {};
                size_t size;
                int r, want = 0;

                expect_name = strdup_printf("%.*s.expect", (int) (strlen(*n) - strlen(".Release")), *n);
                if (!expect_name || load(*n, &text, &size) < 0 || load(expect_name, &expect, NULL) < 0 ||
                    strv_split(expect, "\n", &lines) < 0) {
                        tap_ok(false, "%s: load fixture and expectation", *n);
                        continue;
                }
                STRV_FOREACH(l, lines) {
                        const char *v;
                        if ((v = startswith(*l, "error ")))
                                want_err = v;
                        else if ((v = startswith(*l, "message ")))
                                want_msg = v;
                }
                want = streq_ptr(want_err, "EBADMSG") ? -EBADMSG : streq_ptr(want_err, "E2BIG") ? -E2BIG : 0;

                r = release_parse(&err, text, size, &rel);
                tap_ok(r == want && !rel && err.message && want_msg && strstr(err.message, want_msg),
                       "%s: %s", *n, r < 0 ? error_text(&err, r) : "parsed (should not)");
                error_done(&err);
        }
}

static void test_limits(void) {
        ErrorSlot err = {};
        int r;

        {
                _cleanup_(release_freep) ReleaseFile *rel = NULL;
                _cleanup_free_ char *big = calloc(1, RELEASE_SIZE_MAX + 1);
                r = big ? release_parse(&err, big, RELEASE_SIZE_MAX + 1, &rel) : -ENOMEM;
                tap_ok(r == -EFBIG && !rel, "more than 16 MiB is refused");
                error_done(&err);
        }
        {
                _cleanup_(release_freep) ReleaseFile *rel = NULL;
                const char *head = "Suite: test\nSHA256:\n";
                size_t n = RELEASE_ENTRIES_MAX + 1, ll = 1 + 64 + 3 + 12 + 1, hl = strlen(head);
                _cleanup_free_ char *text = malloc(hl + n * ll + 1);
                char *p;

                if (!text) {
                        tap_ok(false, "allocate");
                        return;
                }
                p = stpcpy(text, head);
                for (size_t i = 0; i < n; i++) {
                        /* " <hash> 1 f/<hex index>\n", 81 bytes each */
                        char hexidx[9];
                        static const char hx[] = "0123456789abcdef";
                        for (int k = 0; k < 8; k++)
                                hexidx[k] = hx[(i >> (28 - 4 * k)) & 15];
                        hexidx[8] = 0;
                        *p++ = ' ';
                        memset(p, 'a', 64);
                        p += 64;
                        p = stpcpy(p, " 1 f/");
                        p = stpcpy(p, hexidx);
                        p = stpcpy(p, "\n");
                }
                r = release_parse(&err, text, (size_t) (p - text), &rel);
                tap_ok(r == -E2BIG && !rel && err.message && strstr(err.message, "more than 100000"),
                       "more than 100000 entries are refused: %s", strempty(err.message));
                error_done(&err);
        }
}

static void test_dates(void) {
        static const struct {
                const char *s;
                int64_t epoch; /* -1: invalid */
        } cases[] = {
                { "Sat, 21 Nov 2026 09:15:44 UTC", 1795252544 },
                { "21 Nov 2026 09:15:44 GMT", 1795252544 },
                { "Sat, 21 Nov 2026 10:15:44 +0100", 1795252544 },
                { "Sat, 21 Nov 2026 04:15:44 -0500", 1795252544 },
                { "Thu, 1 Jan 1970 00:00:00 UTC", 0 },
                { "Tue, 29 Feb 2028 12:00:00 UTC", 1835438400 },
                { "Sat, 21 Nov 2026 09:15:44", -1 },
                { "Sat, 21 Nov 2026 09:15:44 CET", -1 },
                { "Sat, 31 Feb 2026 09:15:44 UTC", -1 },
                { "Sat, 21 Foo 2026 09:15:44 UTC", -1 },
                { "Sat, 21 Nov 26 09:15:44 UTC", -1 },
                { "Sat, 21 Nov 2026 24:00:00 UTC", -1 },
                { "Sat, 21 Nov 2026 09:15:44 UTC trailing", -1 },
                { "", -1 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int64_t t = -1;
                int r = release_parse_date(cases[i].s, &t);

                if (cases[i].epoch < 0)
                        tap_ok(r == -EINVAL, "date '%s' is rejected", cases[i].s);
                else
                        tap_ok(r == 0 && t == cases[i].epoch, "date '%s' is %lld (got %lld)", cases[i].s,
                               (long long) cases[i].epoch, (long long) t);
        }
}

int main(void) {
        tap_plan_lazy();
        test_trixie();
        test_inrelease_plaintext();
        test_broken();
        test_limits();
        test_dates();
        return tap_done();
}
