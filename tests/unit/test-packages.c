/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dpkg status + Packages index -> the pinned package list of the buildinfo. */
#include "packages.h"
#include "tap.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
#define SHA_C "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char status[] =
        "Package: tor\n"
        "Status: install ok installed\n"
        "Priority: optional\n"
        "Architecture: amd64\n"
        "Version: 0.4.8.16-1\n"
        "Conffiles:\n"
        " /etc/tor/torrc 0123\n"
        "Description: anonymizing overlay network\n"
        " Tor is a connection-based low-latency anonymous communication system.\n"
        "\n"
        "Package: base-files\n"
        "Status: install ok installed\n"
        "Architecture: amd64\n"
        "Version: 13.8\n"
        "\n"
        "Package: old-thing\n"
        "Status: deinstall ok config-files\n"
        "\n"
        "Package: libc6\n"
        "Status: hold ok installed\n"
        "Architecture: amd64\n"
        "Version: 2.41-12\n"; /* no blank line at the end */

static const char index_text[] =
        "Package: base-files\n"
        "Version: 13.7\n"
        "Architecture: amd64\n"
        "Filename: pool/main/b/base-files/base-files_13.7_amd64.deb\n"
        "Size: 70000\n"
        "SHA256: " SHA_C "\n"
        "\n"
        "Package: base-files\n"
        "Version: 13.8\n"
        "Architecture: amd64\n"
        "Filename: pool/main/b/base-files/base-files_13.8_amd64.deb\n"
        "Size: 70123\n"
        "SHA256: " SHA_A "\n"
        "Description: Debian base system miscellaneous files\n"
        " continuation of a field nobody reads\n"
        "\n"
        "Package: tor\n"
        "Architecture: amd64\n"
        "Version: 0.4.8.16-1\n"
        "Size: 1999000\n"
        "Filename: pool/main/t/tor/tor_0.4.8.16-1_amd64.deb\n"
        "SHA256: " SHA_B "\n"
        "\n"
        "Package: libc6\n"
        "Version: 2.41-12\n"
        "Architecture: amd64\n"
        "Filename: pool/main/g/glibc/libc6_2.41-12_amd64.deb\n"
        "Size: 2800000\n"
        "SHA256: " SHA_C "\n";

static int parse_status(const char *text, PackageList **ret, ErrorSlot *err) {
        return package_list_from_status(err, text, strlen(text), ret);
}

int main(void) {
        _cleanup_(package_list_freep) PackageList *l = NULL, *back = NULL;
        _cleanup_free_ char *text = NULL, *text2 = NULL;
        ErrorSlot err = {};
        int r;

        tap_plan_lazy();

        r = parse_status(status, &l, &err);
        tap_ok(r == 0 && l && l->n == 3, "status: three installed packages, the removed one left out (r=%d %s)", r,
               strempty(err.message));
        if (!l)
                return tap_done();
        tap_ok(streq(l->items[0].name, "base-files") && streq(l->items[1].name, "libc6") &&
                       streq(l->items[2].name, "tor"),
               "status: sorted by name");
        tap_ok(package_list_find(l, "libc6", "amd64") && !package_list_find(l, "libc6", "i386") &&
                       !package_list_find(l, "old-thing", NULL),
               "find by name and architecture");

        tap_ok(package_list_check_complete(&err, l) == -ENOENT && strstr(strempty(err.message), "base-files"),
               "a list without an index is incomplete: %s", strempty(err.message));
        error_clear(&err);

        r = package_list_match_index(&err, l, index_text, strlen(index_text));
        tap_ok(r == 0, "index matched (r=%d %s)", r, strempty(err.message));
        tap_ok(package_list_check_complete(&err, l) == 0, "every installed package is pinned");
        tap_ok(streq(l->items[0].sha256, SHA_A) && l->items[0].size == 70123 &&
                       streq(l->items[0].filename, "pool/main/b/base-files/base-files_13.8_amd64.deb"),
               "the installed version's entry wins, not another version's");
        tap_ok(strncmp(l->items[2].sha256, "bbbb", 4) == 0, "hashes are stored in lowercase");

        r = package_list_format(l, &text);
        tap_ok(r == 0 && streq(text, "base-files 13.8 amd64 " SHA_A " 70123\n"
                                     "libc6 2.41-12 amd64 " SHA_C " 2800000\n"
                                     "tor 0.4.8.16-1 amd64 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb 1999000\n"),
               "format: one line per package, in order");
        r = package_list_parse(&err, text, strlen(text), &back);
        tap_ok(r == 0 && back && back->n == 3, "the format parses back (r=%d %s)", r, strempty(err.message));
        if (back && package_list_format(back, &text2) == 0)
                tap_ok(streq(text, text2), "format(parse(format)) is the same text");
        else
                tap_ok(false, "format(parse(format)) is the same text");
        error_clear(&err);

        /* Refusals, each with the line it is about. */
        static const struct {
                const char *text, *message;
                int code;
                bool index;
        } bad[] = {
                { "Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n", "invalid Package", -EBADMSG, false },
                { "Package: ab\nStatus: install ok installed\nVersion: x1\nArchitecture: amd64\n", "invalid Version", -EBADMSG, false },
                { "Package: ab\nStatus: install ok installed\nVersion: 1\n", "invalid Architecture", -EBADMSG, false },
                { "Package: ab\nPackage: cd\n", "appears twice", -EBADMSG, false },
                { "Package: ab\nVersion:\n 1\n", "spans lines", -EBADMSG, false },
                { " continued\n", "without a field", -EBADMSG, false },
                { "Package ab\n", "line 1: not a 'Field: value' line", -EBADMSG, false },
                { "Package: ab\nVersion: 1\n", "without Status", -EBADMSG, false },
                { "Package: ab\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n\n"
                  "Package: ab\nStatus: install ok installed\nVersion: 2\nArchitecture: amd64\n", "installed twice", -EBADMSG, false },
                { "Package: tor\nVersion: 0.4.8.16-1\nArchitecture: amd64\nFilename: ../../etc/passwd\nSize: 1\nSHA256: " SHA_A "\n",
                  "invalid Filename", -EBADMSG, true },
                { "Package: tor\nVersion: 0.4.8.16-1\nArchitecture: amd64\nFilename: /pool/x.deb\nSize: 1\nSHA256: " SHA_A "\n",
                  "invalid Filename", -EBADMSG, true },
                { "Package: tor\nVersion: 0.4.8.16-1\nArchitecture: amd64\nFilename: pool/x.deb\nSize: -1\nSHA256: " SHA_A "\n",
                  "invalid Size", -EBADMSG, true },
                { "Package: tor\nVersion: 0.4.8.16-1\nArchitecture: amd64\nFilename: pool/x.deb\nSize: 1\nSHA256: abc\n",
                  "invalid SHA256", -EBADMSG, true },
                { "Package: tor\nVersion: 0.4.8.16-1\nArchitecture: amd64\nFilename: pool/x.deb\nSize: 1\nSHA256: " SHA_C "\n",
                  "is listed with sha256 0123456789abcdef, size 1, not sha256 bbbbbbbbbbbbbbbb, size 1999000",
                  -EBADMSG, true },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(package_list_freep) PackageList *x = NULL;
                if (bad[i].index)
                        r = package_list_match_index(&err, l, bad[i].text, strlen(bad[i].text));
                else
                        r = parse_status(bad[i].text, &x, &err);
                tap_ok(r == bad[i].code && !x && strstr(strempty(err.message), bad[i].message),
                       "refused: %s (got %d '%s')", bad[i].message, r, strempty(err.message));
                error_clear(&err);
        }

        {
                _cleanup_(package_list_freep) PackageList *x = NULL;
                const char nul[] = "Package: ab\0\n";
                r = package_list_from_status(&err, nul, sizeof nul - 1, &x);
                tap_ok(r == -EBADMSG && !x, "a NUL byte is refused");
                error_clear(&err);
                const char *unordered = "bb 1 amd64 " SHA_A " 1\naa 1 amd64 " SHA_A " 1\n";
                r = package_list_parse(&err, unordered, strlen(unordered), &x);
                tap_ok(r == -EBADMSG && strstr(strempty(err.message), "not in order"), "a list out of order is refused: %s",
                       strempty(err.message));
                error_clear(&err);
        }

        /* apt's archive directory: which files it could take, and the
         * index entry each must match. */
        {
                _cleanup_(package_list_freep) PackageList *a = NULL;
                char *names[] = {
                        (char *) "base-files_13.7_amd64.deb",        /* not installed: a candidate */
                        (char *) "base-files_13.8_amd64.deb",        /* installed: apt will not install it */
                        (char *) "tor_0.4.8.17-1_amd64.deb",         /* another version of an installed package */
                        (char *) "tzdata_1%3a2025b-1_all.deb",       /* an epoch, quoted as apt quotes it */
                        (char *) "tzdata_1:2025b-1_all.deb",         /* not apt's spelling: never read by apt */
                        (char *) "lock", (char *) "partial",
                        (char *) "x_1_amd64.deb",                    /* not a valid package name */
                        (char *) "a_b_c_d.deb",
                        (char *) "zz_1_amd64.deb.part",
                        (char *) "bad%zz_1_amd64.deb",
                        NULL,
                };
                r = package_list_from_archive(&err, names, l, &a);
                tap_ok(r == 0 && a && a->n == 3, "archive: three files apt could take (r=%d n=%zu %s)", r, a ? a->n : 0,
                       strempty(err.message));
                if (a && a->n == 3) {
                        tap_ok(streq(a->items[0].name, "base-files") && streq(a->items[0].version, "13.7") &&
                                       streq(a->items[1].name, "tor") && streq(a->items[2].name, "tzdata") &&
                                       streq(a->items[2].version, "1:2025b-1") && streq(a->items[2].architecture, "all"),
                               "archive: names, versions (epoch unquoted) and architectures");
                        _cleanup_free_ char *n = package_archive_name(&a->items[2]);
                        tap_ok(n && streq(n, "tzdata_1%3a2025b-1_all.deb"), "archive: the name apt gives it: %s",
                               strempty(n));
                        r = package_list_match_index(&err, a, index_text, strlen(index_text));
                        tap_ok(r == 0 && streq(a->items[0].sha256, SHA_C) && a->items[0].size == 70000 &&
                                       !a->items[1].sha256[0] && !a->items[2].sha256[0],
                               "archive: matched by version; a version no index lists stays unmatched (r=%d %s)", r,
                               strempty(err.message));
                        error_clear(&err);
                } else {
                        tap_ok(false, "archive: names, versions (epoch unquoted) and architectures");
                        tap_ok(false, "archive: the name apt gives it");
                        tap_ok(false, "archive: matched by version");
                }
        }
        {
                /* Two versions of one package in the archive: each matches
                 * its own index entry. */
                _cleanup_(package_list_freep) PackageList *a = NULL;
                char *names[] = { (char *) "base-files_13.8_amd64.deb", (char *) "base-files_13.7_amd64.deb", NULL };
                r = package_list_from_archive(&err, names, NULL, &a);
                if (r == 0)
                        r = package_list_match_index(&err, a, index_text, strlen(index_text));
                tap_ok(r == 0 && a->n == 2 && streq(a->items[0].version, "13.7") && streq(a->items[0].sha256, SHA_C) &&
                               streq(a->items[1].version, "13.8") && streq(a->items[1].sha256, SHA_A),
                       "archive: two versions of a package, each with its own hash (r=%d %s)", r, strempty(err.message));
                error_clear(&err);
        }
        {
                /* Two flavors' pinned lists merged (whonix-build sources):
                 * each package once, then the index gives only the Filename. */
                _cleanup_(package_list_freep) PackageList *gw = NULL, *ws = NULL, *m = NULL, *twice = NULL;
                const char *gw_text = "base-files 13.8 amd64 " SHA_A " 70123\n"
                                      "tor 0.4.8.16-1 amd64 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb 1999000\n";
                const char *ws_text = "base-files 13.8 amd64 " SHA_A " 70123\n"
                                      "libc6 2.41-12 amd64 " SHA_C " 2800000\n";
                const char *ws_other = "base-files 13.8 amd64 " SHA_C " 70123\n";

                r = package_list_parse(&err, gw_text, strlen(gw_text), &gw);
                if (r == 0)
                        r = package_list_parse(&err, ws_text, strlen(ws_text), &ws);
                if (r == 0)
                        r = package_list_merge(&err, (PackageList *[]) { gw, ws }, 2, &m);
                tap_ok(r == 0 && m->n == 3 && streq(m->items[0].name, "base-files") && streq(m->items[1].name, "libc6") &&
                               streq(m->items[2].name, "tor") && streq(m->items[0].sha256, SHA_A) && !m->items[0].filename,
                       "merge: three packages from two lists, each once, with its pinned hash (r=%d %s)", r,
                       strempty(err.message));
                error_clear(&err);
                if (m) {
                        r = package_list_match_index(&err, m, index_text, strlen(index_text));
                        tap_ok(r == 0 && streq_ptr(m->items[0].filename, "pool/main/b/base-files/base-files_13.8_amd64.deb") &&
                                       streq_ptr(m->items[2].filename, "pool/main/t/tor/tor_0.4.8.16-1_amd64.deb") &&
                                       streq(m->items[0].sha256, SHA_A),
                               "merge: the index fills in each pinned package's Filename (r=%d %s)", r, strempty(err.message));
                        error_clear(&err);
                } else
                        tap_ok(false, "merge: the index fills in each pinned package's Filename");
                package_list_free(ws);
                ws = NULL;
                r = package_list_parse(&err, ws_other, strlen(ws_other), &ws);
                if (r == 0)
                        r = package_list_merge(&err, (PackageList *[]) { gw, ws }, 2, &twice);
                tap_ok(r == -EBADMSG && !twice && strstr(strempty(err.message), "'base-files' 13.8 (amd64) comes from two different .debs"),
                       "merge: one version pinned to two .debs is refused (%s)", strempty(err.message));
                error_clear(&err);

                /* A conflict after a duplicate was dropped and a package
                 * moved up: the refusal frees each entry once. */
                {
                        _cleanup_(package_list_freep) PackageList *x = NULL, *y = NULL, *xy = NULL;
                        const char *x_text = "aa 1 amd64 " SHA_A " 1\nbb 1 amd64 " SHA_A " 1\n";
                        const char *y_text = "aa 1 amd64 " SHA_A " 1\nbb 1 amd64 " SHA_C " 1\n";

                        r = package_list_parse(&err, x_text, strlen(x_text), &x);
                        if (r == 0)
                                r = package_list_parse(&err, y_text, strlen(y_text), &y);
                        if (r == 0)
                                r = package_list_merge(&err, (PackageList *[]) { x, y }, 2, &xy);
                        tap_ok(r == -EBADMSG && !xy && strstr(strempty(err.message), "'bb' 1 (amd64) comes from two"),
                               "merge: a conflict after a dropped duplicate is refused (%s)", strempty(err.message));
                        error_clear(&err);
                }

                /* An index that lists a pinned package with another size. */
                _cleanup_(package_list_freep) PackageList *sz = NULL;
                const char *sz_text = "tor 0.4.8.16-1 amd64 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb 1999001\n";
                r = package_list_parse(&err, sz_text, strlen(sz_text), &sz);
                if (r == 0)
                        r = package_list_match_index(&err, sz, index_text, strlen(index_text));
                tap_ok(r == -EBADMSG && strstr(strempty(err.message), "size 1999000, not sha256 bbbbbbbbbbbbbbbb, size 1999001"),
                       "an index entry of another size than the pin is refused (%s)", strempty(err.message));
                error_clear(&err);
        }
        /* One package looked up in an index (the pinned debootstrap). */
        {
                _cleanup_(package_list_freep) PackageList *one = NULL, *none = NULL, *two = NULL;
                _cleanup_free_ char *twice = strdup_printf("%s\n%s", index_text, index_text);

                r = package_index_find(&err, index_text, strlen(index_text), "libc6", "amd64", &one);
                tap_ok(r == 0 && one->n == 1 && streq(one->items[0].version, "2.41-12") &&
                               streq(one->items[0].sha256, SHA_C) && one->items[0].size == 2800000 &&
                               streq(one->items[0].filename, "pool/main/g/glibc/libc6_2.41-12_amd64.deb"),
                       "index lookup: version, SHA256, size and Filename (%s)", strempty(err.message));
                error_clear(&err);
                r = package_index_find(&err, index_text, strlen(index_text), "libc6", "i386", &none);
                tap_ok(r == -ENOENT && !none && strstr(strempty(err.message), "no 'libc6' (i386)"),
                       "index lookup: another architecture is not found (%s)", strempty(err.message));
                error_clear(&err);
                r = twice ? package_index_find(&err, twice, strlen(twice), "libc6", "amd64", &two) : -ENOMEM;
                tap_ok(r == -EBADMSG && !two && strstr(strempty(err.message), "listed twice"),
                       "index lookup: a package listed twice is refused (%s)", strempty(err.message));
                error_clear(&err);
        }
        /* A package added by name, version and architecture. */
        {
                r = package_list_add(&err, l, "debootstrap", "1.0.141", "all");
                tap_ok(r == 0 && l->n == 4 && streq(l->items[1].name, "debootstrap") && !l->items[1].sha256[0],
                       "add: in its sorted place, nothing pinned yet");
                tap_ok(package_list_add(&err, l, "debootstrap", "1.0.141", "all") == 0 && l->n == 4,
                       "add: the same package again changes nothing");
                tap_ok(package_list_add(&err, l, "debootstrap", "1.0.128", "all") == -EBADMSG &&
                               strstr(strempty(err.message), "listed as 1.0.141 and as 1.0.128"),
                       "add: another version of it is refused (%s)", strempty(err.message));
                error_clear(&err);
                tap_ok(package_list_find(l, "tor", "amd64") && package_list_find(l, "base-files", "amd64"),
                       "add: the list stays searchable");
        }
        return tap_done();
}
