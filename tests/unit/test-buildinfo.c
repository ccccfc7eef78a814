/* SPDX-License-Identifier: GPL-2.0-or-later */
/* whonix.buildinfo: exact text, round trip, strict reader, artifacts, tree hash. */
#include <sys/stat.h>

#include "buildinfo.h"
#include "overlay.h"
#include "tap.h"

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"
#define H3 "3333333333333333333333333333333333333333333333333333333333333333"
#define FPR "4CB50190207B4758A3F73A796ED0E7B82643E131"

static const char expected[] =
        "Format: whonix-buildinfo 2\n"
        "Tool-Version: 0.1.0\n"
        "Tool-Commit: 3149ed09a953\n"
        "Recipe-Tree-SHA256: " H1 "\n"
        "Target: kvm\n"
        "Flavors: gateway workstation\n"
        "Suite: trixie\n"
        "Mirror: http://deb.debian.org/debian\n"
        "InRelease-SHA256: " H2 "\n"
        "InRelease-Signer: " FPR "\n"
        "Source-Date-Epoch: 1764000000\n"
        "Seed: whonix-build\n"
        "Tools:\n"
        " debootstrap 1.0.128 host\n"
        " e2fsprogs 1.47.0-2 host\n"
        " e2fsprogs 1.47.2-3+b12 image\n"
        " zlib 1.2.13 host\n"
        "Packages-gateway:\n"
        " base-files 13.8 amd64 " H3 " 70123\n"
        " tor 0.4.8.16-1 amd64 " H1 " 1999000\n"
        "Packages-workstation:\n"
        " base-files 13.8 amd64 " H3 " 70123\n"
        "Artifacts:\n"
        " " H2 " 10 Whonix-Gateway.qcow2\n"
        " " H3 " 20 Whonix-Gateway.xml\n";

static char *write_temp(const char *dir, const char *name, const char *content) {
        char *p = path_join(dir, name);
        if (p && write_file_atomic(p, content, strlen(content), 0644) < 0) {
                free(p);
                return NULL;
        }
        return p;
}

/* Replace the first occurrence of from by to in the expected text. */
static char *variant(const char *from, const char *to) {
        const char *at = strstr(expected, from);
        if (!at)
                return NULL;
        return strdup_printf("%.*s%s%s", (int) (at - expected), expected, to, at + strlen(from));
}

int main(void) {
        _cleanup_(buildinfo_freep) Buildinfo *b = NULL;
        _cleanup_free_ char *text = NULL, *dir = NULL, *again = NULL;
        ErrorSlot err = {};
        int r;

        tap_plan_lazy();

        r = buildinfo_parse(&err, expected, strlen(expected), &b);
        tap_ok(r == 0 && b, "the reference text parses (r=%d %s)", r, strempty(err.message));
        if (!b)
                return tap_done();
        tap_ok(strv_length(b->flavors) == 2 && b->packages[0]->n == 2 && b->packages[1]->n == 1 &&
                       b->n_artifacts == 2 && b->source_date_epoch == 1764000000 && streq(b->seed, "whonix-build") &&
                       streq(b->inrelease_signer, FPR) && b->n_tools == 4,
               "fields, tools, package lists and artifacts are read");
        tap_ok(buildinfo_find_tool(b, "e2fsprogs", "image") &&
                       streq(buildinfo_find_tool(b, "e2fsprogs", "image")->version, "1.47.2-3+b12") &&
                       streq(buildinfo_find_tool(b, "e2fsprogs", "host")->version, "1.47.0-2") &&
                       !buildinfo_find_tool(b, "zlib", "image"),
               "a tool is found by its name and origin");
        tap_ok(b->format == 2, "the format read is kept");
        tap_ok(package_list_find(b->packages[0], "tor", "amd64") != NULL &&
                       !package_list_find(b->packages[1], "tor", "amd64"),
               "each flavor keeps its own packages");
        r = buildinfo_format(&err, b, &text);
        tap_ok(r == 0 && streq(text, expected), "format(parse(text)) is the same text, byte for byte");

        /* Format 1, before Tools, still reads: no tools. */
        {
                _cleanup_(buildinfo_freep) Buildinfo *old = NULL;
                _cleanup_free_ char *t1 = variant("Format: whonix-buildinfo 2", "Format: whonix-buildinfo 1"), *t2 = NULL;
                const char *from = t1 ? strstr(t1, "Tools:\n") : NULL, *to = t1 ? strstr(t1, "Packages-gateway:") : NULL;

                t2 = from && to ? strdup_printf("%.*s%s", (int) (from - t1), t1, to) : NULL;
                r = t2 ? buildinfo_parse(&err, t2, strlen(t2), &old) : -ENOMEM;
                tap_ok(r == 0 && old->n_tools == 0 && old->n_artifacts == 2, "format 1 (no Tools) is read (%s)",
                       strempty(err.message));
                error_clear(&err);
                _cleanup_free_ char *back = NULL;
                tap_ok(old && buildinfo_format(&err, old, &back) == 0 && streq(back, t2),
                       "format 1 is written back as it was, byte for byte");
                error_clear(&err);
        }

        /* Tools: kept sorted by name, then origin; a pair only once. */
        tap_ok(buildinfo_add_tool(&err, b, "gdisk", "1.0.9-2.1", "host") == 0 && b->n_tools == 5 &&
                       streq(b->tools[3].name, "gdisk"),
               "a tool is added in its place");
        tap_ok(buildinfo_add_tool(&err, b, "gdisk", "1.0.10-2", "host") == -EEXIST, "a tool cannot be added twice");
        error_clear(&err);
        tap_ok(buildinfo_add_tool(&err, b, "qemu", "7.2 +dfsg", "host") == -EINVAL &&
                       buildinfo_add_tool(&err, b, "qemu", "7.2", "elsewhere") == -EINVAL &&
                       buildinfo_add_tool(&err, b, "Qemu", "7.2", "host") == -EINVAL,
               "a version with a space, an unknown origin, an upper-case name are refused");
        error_clear(&err);

        /* Artifacts: hashed from files, kept sorted. */
        tap_ok(mkdtemp_in(NULL, "test-buildinfo", &dir) == 0, "temporary directory");
        _cleanup_free_ char *p1 = write_temp(dir, "Whonix-Workstation.xml", "<domain/>\n"),
                            *p2 = write_temp(dir, "Whonix-External.xml", "<network/>\n");
        tap_ok(p1 && p2, "artifact files written");
        r = buildinfo_add_artifact(&err, b, "Whonix-Workstation.xml", p1);
        tap_ok(r == 0, "an artifact is added (r=%d %s)", r, strempty(err.message));
        r = buildinfo_add_artifact(&err, b, "Whonix-External.xml", p2);
        tap_ok(r == 0 && b->n_artifacts == 4 && streq(b->artifacts[0].name, "Whonix-External.xml") &&
                       b->artifacts[0].size == 11,
               "artifacts stay sorted by name, with their sizes");
        tap_ok(streq(buildinfo_find_artifact(b, "Whonix-External.xml")->sha256,
                     "d2d6428f2f8e7f193b5be6f3dfa326d29695118303f72a31b23c0701c27e0a6e"),
               "the artifact's SHA256 is recorded");
        tap_ok(buildinfo_add_artifact(&err, b, "Whonix-External.xml", p2) == -EEXIST, "an artifact cannot be added twice");
        error_clear(&err);
        tap_ok(buildinfo_add_artifact(&err, b, "../x", p2) == -EINVAL, "an artifact name with a slash is refused");
        error_clear(&err);
        {
                /* A digest the caller read already (export's copy): taken
                 * as given, the size from the file; a malformed one refused. */
                _cleanup_(buildinfo_freep) Buildinfo *b3 = calloc(1, sizeof(Buildinfo));
                static const char known[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

                r = b3 ? buildinfo_add_artifact_digest(&err, b3, "Whonix-Gateway.qcow2", p1, known) : -ENOMEM;
                tap_ok(r == 0 && b3->n_artifacts == 1 && streq(b3->artifacts[0].sha256, known) &&
                               b3->artifacts[0].size == 10,
                       "an artifact with its SHA-256 given: that digest, the file's size");
                tap_ok(b3 && buildinfo_add_artifact_digest(&err, b3, "Whonix-Other.qcow2", p1, "ABC") == -EINVAL &&
                               b3->n_artifacts == 1,
                       "... a given digest that is no SHA-256 is refused");
                error_clear(&err);
        }
        r = buildinfo_format(&err, b, &again);
        {
                _cleanup_(buildinfo_freep) Buildinfo *b2 = NULL;
                tap_ok(r == 0 && buildinfo_parse(&err, again, strlen(again), &b2) == 0 && b2->n_artifacts == 4,
                       "a list with added artifacts reads back (%s)", strempty(err.message));
                error_clear(&err);
        }

        /* Values that cannot be written on one line are refused by the writer. */
        free(b->seed);
        b->seed = strdup("two\nlines");
        free(text);
        text = NULL;
        tap_ok(buildinfo_format(&err, b, &text) == -EINVAL && strstr(strempty(err.message), "Seed"),
               "the writer refuses a seed with a newline: %s", strempty(err.message));
        error_clear(&err);

        /* The reader is strict. */
        static const struct {
                const char *from, *to, *message;
        } bad[] = {
                { "Format: whonix-buildinfo 2", "Format: whonix-buildinfo 3", "unknown format" },
                { "Tools:\n", "", "expected 'Tools:'" },
                { " zlib 1.2.13 host\n", " zlib 1.2.13 host x\n", "expected ' <name> <version> <from>'" },
                { " zlib 1.2.13 host\n", " zlib 1.2.13 elsewhere\n", "bad tool line" },
                { " zlib 1.2.13 host\n", " zlib 1.2.13 host\n a 1 host\n", "tools out of order" },
                { " e2fsprogs 1.47.2-3+b12 image\n", " e2fsprogs 1.47.2-3+b12 host\n", "tools out of order" },
                { "Tool-Commit: 3149ed09a953\n", "", "expected 'Tool-Commit: ...'" },
                { "Target: kvm", "Target: vmware", "bad value of 'Target'" },
                { "Flavors: gateway workstation", "Flavors: gateway  workstation", "one space" },
                { "Flavors: gateway workstation", "Flavors: gateway gateway", "listed twice" },
                { "InRelease-SHA256: " H2, "InRelease-SHA256: " H2 "0", "InRelease-SHA256" },
                { "Source-Date-Epoch: 1764000000", "Source-Date-Epoch: -1", "Source-Date-Epoch" },
                { "Packages-workstation:", "Packages-desktop:", "expected 'Packages-workstation:'" },
                { " tor 0.4.8.16-1", " tor 0.4.8.16-1 x", "Packages-gateway" },
                { " " H2 " 10 Whonix-Gateway.qcow2", " " H2 " 10 ../Whonix-Gateway.qcow2", "bad artifact line" },
                { " " H2 " 10 Whonix-Gateway.qcow2\n", "", "no newline" },
                { " " H2 " 10 Whonix-Gateway.qcow2\n", " " H2 " 010 Whonix-Gateway.qcow2\n", "bad artifact line" },
                { " " H3 " 20 Whonix-Gateway.xml\n", " " H3 " 20 Whonix-Gateway.xml\nExtra: x\n", "text after" },
                { "Artifacts:\n", "Artifacts:\n " H1 " 5 Whonix-Z.qcow2\n", "out of order" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(buildinfo_freep) Buildinfo *x = NULL;
                _cleanup_free_ char *t = variant(bad[i].from, bad[i].to);
                size_t n = t ? strlen(t) : 0;

                /* "no newline": drop the final newline of the whole text. */
                if (t && streq(bad[i].message, "no newline")) {
                        free(t);
                        t = strndup(expected, strlen(expected) - 1);
                        n = t ? strlen(t) : 0;
                }
                r = t ? buildinfo_parse(&err, t, n, &x) : -ENOMEM;
                tap_ok(r < 0 && !x && strstr(strempty(err.message), bad[i].message), "refused: %s (got %d '%s')",
                       bad[i].message, r, strempty(err.message));
                error_clear(&err);
        }

        /* The recipe tree hash covers recipes/, overlays/ and keys/. */
        {
                _cleanup_free_ char *h1 = NULL, *h2 = NULL, *h3 = NULL, *data = path_join(dir, "data"), *f = NULL;
                int ok = data && mkdir(data, 0755) == 0;
                STRV_FOREACH(t, ((char *[]) { (char *) "recipes", (char *) "overlays", (char *) "keys", NULL })) {
                        _cleanup_free_ char *d = path_join(data, *t);
                        ok = ok && d && mkdir(d, 0755) == 0;
                }
                f = path_join(data, "recipes/a.conf");
                ok = ok && f && write_file_atomic(f, "[Config]\n", 9, 0644) == 0;
                tap_ok(ok, "a data directory is made");
                tap_ok(overlay_data_dir_hash(&err, data, &h1) == 0 && overlay_data_dir_hash(&err, data, &h2) == 0 &&
                               streq(h1, h2) && strlen(h1) == 64,
                       "the recipe tree hash is stable (%s)", strempty(err.message));
                ok = write_file_atomic(f, "[Config]\n#\n", 11, 0644) == 0;
                tap_ok(ok && overlay_data_dir_hash(&err, data, &h3) == 0 && !streq(h1, h3),
                       "a changed recipe changes the tree hash");
                error_clear(&err);
        }
        (void) rm_rf(dir);
        return tap_done();
}
