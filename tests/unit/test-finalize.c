/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The image's apt sources: the recipe's [Apt] mirrors as deb822 stanzas for
 * the suite, -updates and -security, and nothing of the build's mirror. */
#include "finalize-native.h"
#include "finalize.h"
#include "recipe.h"
#include "tap.h"
#include "util.h"

static Recipe *load(const char *text) {
        ErrorSlot err = {};
        Recipe *r = NULL;

        if (recipe_parse_buffer(&err, "test.conf", text, strlen(text), NULL, &r) < 0) {
                printf("# %s\n", err.message ? err.message : "parse error");
                return NULL;
        }
        return r;
}

int main(void) {
        _cleanup_(recipe_freep) Recipe *both = NULL, *none = NULL, *main_only = NULL;
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

        tap_plan_lazy();

        both = load("[Distribution]\n"
                    "Mirror=http://mirror.build-host.example/debian\n"
                    "Components=contrib\n"
                    "[Apt]\n"
                    "Mirror=tor+https://deb.debian.org/debian\n"
                    "SecurityMirror=tor+https://deb.debian.org/debian-security\n");
        tap_ok(both && finalize_apt_sources(both, "trixie", &a) == 0, "sources from both mirrors");
        tap_ok(a && strstr(a, "Types: deb\nURIs: tor+https://deb.debian.org/debian\n"
                              "Suites: trixie trixie-updates\nComponents: main contrib\n"
                              "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"),
               "the suite and -updates from Mirror=, with the recipe's components and Debian's keyring");
        tap_ok(a && strstr(a, "\n\nTypes: deb\nURIs: tor+https://deb.debian.org/debian-security\n"
                              "Suites: trixie-security\nComponents: main contrib\n"),
               "-security from SecurityMirror=, in a stanza of its own");
        tap_ok(a && !strstr(a, "build-host"), "the build's mirror is not among them");
        tap_ok(a && !strstr(a, "http://"), "no plain http source");

        none = load("[Distribution]\nMirror=http://mirror.build-host.example/debian\n");
        tap_ok(none && finalize_apt_sources(none, "trixie", &b) == 0 && b && streq(b, ""),
               "no [Apt] mirror: no sources at all (never the build's)");

        main_only = load("[Apt]\nMirror=https://deb.debian.org/debian\n");
        tap_ok(main_only && finalize_apt_sources(main_only, "bookworm", &c) == 0 && c &&
               strstr(c, "Suites: bookworm bookworm-updates\n") && !strstr(c, "security"),
               "Mirror= alone: the suite given (bookworm) and its -updates, no -security");

        /* The debugfs commands that fix every inode's times. */
        {
                static const char paths[] = ".\0./etc\0./etc/a b\0./.wb-times-paths\0./usr/bin/[\0";
                _cleanup_free_ char *t = NULL, *u = NULL, *v = NULL;
                ErrorSlot err = {};
                int r = finalize_debugfs_times(&err, paths, sizeof paths - 1, 1764000000, &t);
                tap_ok(r == 0 && t && streq(t, "sif \"/\" ctime @1764000000\nsif \"/\" atime @1764000000\n"
                                            "sif \"/etc\" ctime @1764000000\nsif \"/etc\" atime @1764000000\n"
                                            "sif \"/etc/a b\" ctime @1764000000\nsif \"/etc/a b\" atime @1764000000\n"
                                            "sif \"/usr/bin/[\" ctime @1764000000\nsif \"/usr/bin/[\" atime @1764000000\n"
                                            "ssv kbytes_written 0\n"),
                       "debugfs times: two commands a path (\"/\" for \".\"), the path list left out, then kbytes_written");
                static const char quote[] = ".\0./etc/bad\"name\0";
                r = finalize_debugfs_times(&err, quote, sizeof quote - 1, 1, &u);
                tap_ok(r == -EINVAL && !u && strstr(strempty(err.message), "double quote or newline"),
                       "a name with a double quote is refused: %s", strempty(err.message));
                error_clear(&err);
                static const char nl[] = "./a\nb\0";
                r = finalize_debugfs_times(&err, nl, sizeof nl - 1, 1, &v);
                tap_ok(r == -EINVAL && !v && !strstr(strempty(err.message), "\n"),
                       "a name with a newline is refused, the newline escaped in the message: %s", strempty(err.message));
                error_clear(&err);
                r = finalize_debugfs_times(&err, "/abs\0", 5, 1, &v);
                tap_ok(r == -EBADMSG, "a path not from find in the tree is refused");
                error_done(&err);
        }
        /* Which mke2fs clamps the times it copies (1.47.1 and later). */
        tap_ok(finalize_mke2fs_clamps("mke2fs 1.47.2 (1-Jan-2025)\n") && finalize_mke2fs_clamps("mke2fs 1.47.1 (20-May-2024)") &&
               finalize_mke2fs_clamps("mke2fs 1.48.0 (1-Jan-2027)") && finalize_mke2fs_clamps("mke2fs 2.0 (x)") &&
               finalize_mke2fs_clamps("             \nmke2fs 1.47.2 (1-Jan-2025)\n"),
               "mke2fs 1.47.1, 1.47.2, 1.48.0, 2.0 clamp (after white space, as the appliance's output comes)");
        tap_ok(!finalize_mke2fs_clamps("mke2fs 1.47.0 (5-Feb-2023)") && !finalize_mke2fs_clamps("mke2fs 1.46.6 (1-Feb-2023)") &&
               !finalize_mke2fs_clamps("") && !finalize_mke2fs_clamps(NULL) && !finalize_mke2fs_clamps("mkfs 1.47.2") &&
               !finalize_mke2fs_clamps("mke2fs x.y"),
               "1.47.0 (Debian 12's), 1.46.6, nothing or something else do not");
        /* A host program's full filesystem, said as such and not retried. */
        {
                ErrorSlot e = {};
                int r = error_set(&e, -EPROTO, "'qemu-img convert' failed with exit status 1:\nqemu-img: error while "
                                               "writing at byte 123: No space left on device");
                r = finalize_native_nospc(&e, r, "/tmp", "qemu-img");
                tap_ok(r == -ENOSPC && strstr(error_text(&e, r), "the filesystem that holds '/tmp' is full (a write of "
                                                                 "qemu-img failed; ") &&
                               strstr(error_text(&e, r), " bytes free now)"),
                       "a program's 'No space left on device' becomes -ENOSPC, naming the file (%s)", error_text(&e, r));
                error_done(&e);
                r = error_set(&e, -EPROTO, "'mke2fs' failed with exit status 1: bad things");
                r = finalize_native_nospc(&e, r, "/tmp", "mke2fs");
                tap_ok(r == -EPROTO && strstr(error_text(&e, r), "bad things"), "any other failure stays as it was");
                error_done(&e);
                tap_ok(finalize_native_nospc(&e, 0, "/tmp", "mke2fs") == 0, "success stays success");
        }
        return tap_done();
}
