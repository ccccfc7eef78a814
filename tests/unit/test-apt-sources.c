/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * apt sources parsing and mirror discovery.  Each directory in
 * tests/data/apt-sources/ is a fake root with an "expect" file:
 *
 *     mirror URL              the mirror that must be found
 *     error ERRNO-NAME        the error that must be returned
 *     message TEXT            a substring of the error message
 *                             (ROOT stands for the fake root)
 */
#include <dirent.h>

#include "apt-sources.h"
#include "config.h"
#include "tap.h"

static const char *source_root(void) {
        return getenv("WB_SOURCE_ROOT") ?: SOURCE_ROOT;
}

static int errno_from_name(const char *n) {
        static const struct {
                const char *name;
                int code;
        } table[] = { { "ENOENT", ENOENT }, { "EBADMSG", EBADMSG }, { "EFBIG", EFBIG }, { "E2BIG", E2BIG } };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(n, table[i].name))
                        return table[i].code;
        return 0;
}

/* Replace every "ROOT" in s with root. */
static char *expand_root(const char *s, const char *root) {
        _cleanup_free_ char *out = strdup("");
        const char *p;

        while (out && (p = strstr(s, "ROOT"))) {
                char *n = strdup_printf("%s%.*s%s", out, (int) (p - s), s, root);
                free(out);
                out = n;
                s = p + 4;
        }
        if (!out)
                return NULL;
        {
                char *n = strdup_printf("%s%s", out, s);
                return n;
        }
}

static void run_case(const char *dir, const char *name) {
        _cleanup_free_ char *root = path_join(dir, name), *expect_path = NULL, *expect = NULL, *url = NULL;
        _cleanup_free_ char *want_mirror = NULL, *want_message = NULL;
        _cleanup_strv_free_ char **lines = NULL;
        ErrorSlot err = {};
        int want_error = 0, r;

        expect_path = root ? path_join(root, "expect") : NULL;
        if (!expect_path || read_full_file(expect_path, 4096, &expect, NULL) < 0 ||
            strv_split(expect, "\n", &lines) < 0) {
                tap_ok(false, "%s: read expect file", name);
                return;
        }
        STRV_FOREACH(l, lines) {
                const char *v;
                if ((v = startswith(*l, "mirror ")))
                        want_mirror = strdup(v);
                else if ((v = startswith(*l, "error ")))
                        want_error = errno_from_name(v);
                else if ((v = startswith(*l, "message ")))
                        want_message = expand_root(v, root);
        }

        r = apt_sources_find_debian_mirror(&err, root, &url);
        if (want_mirror)
                tap_ok(r == 0 && streq_ptr(url, want_mirror), "%s: mirror %s (got %s%s)", name, want_mirror,
                       r < 0 ? "error: " : "", r < 0 ? error_text(&err, r) : url);
        else {
                tap_ok(r == -want_error && !url, "%s: fails with %s (got %d)", name, strerror(want_error), r);
                if (want_message)
                        tap_ok(err.message && strstr(err.message, want_message), "%s: message contains '%s' (got '%s')",
                               name, want_message, strempty(err.message));
        }
        error_done(&err);
}

static void test_fixtures(void) {
        _cleanup_free_ char *dir = path_join(source_root(), "tests/data/apt-sources");
        _cleanup_strv_free_ char **names = NULL;
        struct dirent *de;
        DIR *d;

        d = dir ? opendir(dir) : NULL;
        if (!d) {
                tap_ok(false, "open %s", strempty(dir));
                return;
        }
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        (void) strv_extend(&names, de->d_name);
        closedir(d);
        strv_sort(names);
        tap_ok(strv_length(names) >= 5, "found %zu fixture roots", strv_length(names));
        STRV_FOREACH(n, names)
                run_case(dir, *n);
}

static size_t count(AptSource **l) {
        size_t n = 0;
        while (l && l[n])
                n++;
        return n;
}

static void test_parse_list(void) {
        _cleanup_(apt_source_free_manyp) AptSource **l = NULL;
        ErrorSlot err = {};
        int r;

        r = apt_sources_parse_list(&err, "t.list",
                                   "deb [ arch=amd64 ] http://a/debian bookworm main contrib\r\n"
                                   "  # comment\n"
                                   "#deb http://b/debian bookworm main\n"
                                   "deb-src http://c/debian ./\n"
                                   "\n"
                                   "deb http://d/debian trixie main#trailing comment", &l);
        tap_ok(r == 0 && count(l) == 3, "one-line: three entries (r=%d)", r);
        if (count(l) == 3) {
                tap_ok(streq(l[0]->type, "deb") && streq(l[0]->uris[0], "http://a/debian") &&
                       streq(l[0]->suites[0], "bookworm") && strv_length(l[0]->components) == 2 &&
                       streq(l[0]->components[1], "contrib") && l[0]->enabled,
                       "one-line: fields of the first entry");
                tap_ok(streq(l[1]->type, "deb-src") && streq(l[1]->suites[0], "./") && l[1]->components &&
                       !l[1]->components[0], "one-line: exact-path suite without components");
                tap_ok(strv_length(l[2]->components) == 1 && streq(l[2]->components[0], "main"),
                       "one-line: comment after the components is cut off");
        }
        error_done(&err);

        static const struct {
                const char *text, *message;
        } bad[] = {
                { "deb http://a/debian\n", "t.list:1: expected" },
                { "\n\nrpm http://a/ x y\n", "t.list:3: unknown type 'rpm'" },
                { "deb [arch=amd64 http://a/debian bookworm main\n", "t.list:1: option list" },
                { "deb http://a/debian bookworm\n", "needs at least one component" },
                { "deb http://a/debian ./ main\n", "takes no components" },
                { "debian http://a/debian bookworm main\n", "unknown type" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(apt_source_free_manyp) AptSource **b = NULL;

                r = apt_sources_parse_list(&err, "t.list", bad[i].text, &b);
                tap_ok(r == -EBADMSG && !b && err.message && strstr(err.message, bad[i].message),
                       "one-line: rejects '%.20s...': %s", bad[i].text, strempty(err.message));
                error_done(&err);
        }
}

static void test_parse_deb822(void) {
        _cleanup_(apt_source_free_manyp) AptSource **l = NULL;
        ErrorSlot err = {};
        int r;

        r = apt_sources_parse_deb822(&err, "t.sources",
                                     "# leading comment\n"
                                     "\n"
                                     "types: deb deb-src\n"
                                     "URIs: http://a/debian\n"
                                     "  http://b/debian\n"
                                     "# comment inside a stanza\n"
                                     "Suites: trixie trixie-updates\n"
                                     "Components: main\n"
                                     "X-Repolib-Name: something\n"
                                     " continued\n"
                                     " .\n"
                                     "\n"
                                     "   \n"
                                     "Enabled: no\n"
                                     "Types: deb\n"
                                     "URIs: http://c/debian\n"
                                     "Suites: sid\n"
                                     "Components: main\n"
                                     "\n"
                                     "Enabled: false\n"
                                     "URIs: http://incomplete/debian\n",
                                     &l);
        tap_ok(r == 0 && count(l) == 3, "deb822: three entries (r=%d %s)", r, strempty(err.message));
        if (count(l) == 3) {
                tap_ok(streq(l[0]->type, "deb") && streq(l[1]->type, "deb-src"), "deb822: one entry per type");
                tap_ok(strv_length(l[0]->uris) == 2 && streq(l[0]->uris[1], "http://b/debian"),
                       "deb822: continuation line adds a URI");
                tap_ok(strv_length(l[1]->suites) == 2 && l[0]->enabled && l[1]->enabled, "deb822: suites, enabled");
                tap_ok(!l[2]->enabled && streq(l[2]->uris[0], "http://c/debian"), "deb822: Enabled: no is kept as disabled");
        }
        error_done(&err);

        static const struct {
                const char *text, *message;
        } bad[] = {
                { "Types: deb\nURIs: http://a/debian\nSuites trixie\n", "t.sources:3: expected 'Field: value'" },
                { " leading continuation\n", "t.sources:1: continuation line" },
                { "Types: deb\nTypes: deb\n", "t.sources:2: duplicate field 'Types'" },
                { "X-A: 1\nx-a: 2\n", "duplicate field" },
                { "Types: deb\nSuites: trixie\nComponents: main\n", "t.sources:1: stanza has no 'URIs'" },
                { "Types: deb\nURIs: http://a/debian\nSuites: trixie\n", "no components" },
                { "Types: rpm\nURIs: http://a/debian\nSuites: trixie\nComponents: main\n", "unknown type 'rpm'" },
                { "\n\nTypes: deb\nURIs: x\nSuites: trixie\nComponents: main\nEnabled: maybe\n", "t.sources:3: Enabled" },
                { "Types: deb\nURIs: x\nSuites: ./\nComponents: main\n", "take no components" },
                { "Types:\nURIs: x\nSuites: a\nComponents: main\n", "empty 'Types'" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(apt_source_free_manyp) AptSource **b = NULL;

                r = apt_sources_parse_deb822(&err, "t.sources", bad[i].text, &b);
                tap_ok(r == -EBADMSG && !b && err.message && strstr(err.message, bad[i].message),
                       "deb822: rejects case %zu: %s", i, strempty(err.message));
                error_done(&err);
        }

        {
                _cleanup_(apt_source_free_manyp) AptSource **e = NULL;
                r = apt_sources_parse_deb822(&err, "t.sources", "# only a comment\n\n\n", &e);
                tap_ok(r == 0 && e && !e[0], "deb822: no stanzas gives an empty list");
                error_done(&err);
        }
}

static void test_limits(void) {
        _cleanup_free_ char *big = NULL, *many = NULL;
        ErrorSlot err = {};
        int r;

        big = malloc(APT_SOURCES_FILE_MAX + 2);
        if (big) {
                _cleanup_(apt_source_free_manyp) AptSource **l = NULL;
                memset(big, '#', APT_SOURCES_FILE_MAX + 1);
                big[APT_SOURCES_FILE_MAX + 1] = 0;
                r = apt_sources_parse_list(&err, "big.list", big, &l);
                tap_ok(r == -EFBIG && !l, "one-line: input over 1 MiB is refused");
                error_done(&err);
        }

        {
                const char *line = "deb http://a/debian trixie main\n";
                size_t ll = strlen(line), n = APT_SOURCES_ENTRIES_MAX + 1;
                _cleanup_(apt_source_free_manyp) AptSource **l = NULL;

                many = malloc(ll * n + 1);
                if (many) {
                        for (size_t i = 0; i < n; i++)
                                memcpy(many + i * ll, line, ll);
                        many[ll * n] = 0;
                        r = apt_sources_parse_list(&err, "many.list", many, &l);
                        tap_ok(r == -E2BIG && !l, "one-line: more than %d entries are refused", APT_SOURCES_ENTRIES_MAX);
                        error_done(&err);
                }
        }
}

/* The build host: whatever apt uses here must be found, or a clear error. */
static void test_host(void) {
        _cleanup_free_ char *url = NULL;
        ErrorSlot err = {};
        int r = apt_sources_find_debian_mirror(&err, "/", &url);

        if (r == 0)
                tap_ok(startswith(url, "http://") || startswith(url, "https://") || startswith(url, "file:"),
                       "this host's Debian mirror: %s", url);
        else
                tap_ok(r == -ENOENT && err.message, "this host has no Debian mirror: %s", error_text(&err, r));
        error_done(&err);
}

int main(void) {
        tap_plan_lazy();
        test_parse_list();
        test_parse_deb822();
        test_limits();
        test_fixtures();
        test_host();
        return tap_done();
}
