/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The recipe parser: every tests/recipes/NAME.conf against NAME.expected (see
 * tests/recipes/README), then the product recipes in recipes/, then what
 * fixtures cannot express (buffers, size limits, the directory helpers).
 *
 * "build/tests/test-recipe --update", run by hand, rewrites the .expected
 * files from what the parser does now (review the diff before committing
 * it); meson never passes it, and under meson it is refused, so a test run
 * can only compare.  A fixture without its .expected file fails.
 */
#include <dirent.h>
#include <limits.h>

#include "recipe.h"
#include "tap.h"

static char *fixture_dir;

/* Remove every "<fixture_dir>/" from s, so expectations do not depend on
 * where the checkout lives. */
static char *strip_dir(const char *s) {
        _cleanup_free_ char *prefix = strdup_printf("%s/", fixture_dir);
        char *out, *o;
        size_t lp;

        if (!prefix)
                return NULL;
        lp = strlen(prefix);
        out = o = malloc(strlen(s) + 1);
        if (!out)
                return NULL;
        while (*s) {
                if (strncmp(s, prefix, lp) == 0) {
                        s += lp;
                        continue;
                }
                *o++ = *s++;
        }
        *o = 0;
        return out;
}

/* What the parser makes of a fixture, in the form of an .expected file. */
static char *outcome(const char *path) {
        _cleanup_(recipe_freep) Recipe *r = NULL;
        ErrorSlot err = {};
        char *text = NULL;
        int k;

        k = recipe_load(&err, path, NULL, &r);
        if (k < 0) {
                _cleanup_free_ char *m = strip_dir(error_text(&err, k));
                error_done(&err);
                return m ? strdup_printf("error: %s\n", m) : NULL;
        }
        if (recipe_format(r, &text) < 0)
                return NULL;
        return text;
}

/* Multi-line text as TAP comments, one "# " per line. */
static void diag_text(const char *label, const char *text) {
        tap_diag("%s", label);
        while (*text) {
                size_t n = strcspn(text, "\n");
                tap_diag("  %.*s", (int) n, text);
                text += n + (text[n] == '\n');
        }
}

static bool update_expected;

static void test_fixture(const char *name) {
        _cleanup_free_ char *conf = NULL, *expected_path = NULL, *expected = NULL, *got = NULL;
        size_t l = strlen(name) - strlen(".conf");
        int k;

        conf = path_join(fixture_dir, name);
        expected_path = strdup_printf("%s/%.*s.expected", fixture_dir, (int) l, name);
        got = conf ? outcome(conf) : NULL;
        if (!got || !expected_path) {
                tap_ok(false, "fixture %s: out of memory", name);
                return;
        }
        if (update_expected) {
                k = write_file_atomic(expected_path, got, strlen(got), 0644);
                tap_ok(k >= 0, "fixture %s: wrote %s", name, expected_path);
                return;
        }
        k = read_full_file(expected_path, 1024 * 1024, &expected, NULL);
        if (k < 0) {
                tap_ok(false, "fixture %s: cannot read %s: %s", name, expected_path, strerror(-k));
                return;
        }
        if (!tap_ok(streq(expected, got), "fixture %s", name)) {
                diag_text("expected:", expected);
                diag_text("got:", got);
        }
}

static void test_fixtures(void) {
        _cleanup_strv_free_ char **names = NULL;
        struct dirent *de;
        DIR *d;

        d = opendir(fixture_dir);
        if (!tap_ok(d, "open %s", fixture_dir))
                return;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && endswith(de->d_name, ".conf"))
                        (void) strv_extend(&names, de->d_name);
        closedir(d);
        strv_sort(names);
        tap_ok(strv_length(names) >= 20, "%zu fixtures", strv_length(names));
        STRV_FOREACH(n, names)
                test_fixture(*n);
}

static Recipe *load_product(const char *recipes_dir, const char *file) {
        _cleanup_free_ char *path = path_join(recipes_dir, file);
        ErrorSlot err = {};
        Recipe *r = NULL;
        int k;

        k = path ? recipe_load(&err, path, NULL, &r) : -ENOMEM;
        if (!tap_ok(k >= 0, "load %s", file))
                tap_diag("%s", error_text(&err, k));
        error_done(&err);
        return r;
}

static void test_products(const char *recipes_dir) {
        _cleanup_(recipe_freep) Recipe *base = NULL, *gw = NULL, *ws = NULL;
        _cleanup_strv_free_ char **names = NULL, **descriptions = NULL;
        _cleanup_free_ char *p = NULL, *f1 = NULL, *f2 = NULL;
        ErrorSlot err = {};
        int k;

        base = load_product(recipes_dir, "kicksecure.conf");
        gw = load_product(recipes_dir, "whonix-gateway.conf");
        ws = load_product(recipes_dir, "whonix-workstation.conf");
        if (!base || !gw || !ws)
                return;

        tap_ok(!base->flavor, "kicksecure is a layer without a flavor");
        tap_ok(strv_contains(base->bootstrap_packages, "systemd-sysv") &&
               !strv_contains(base->bootstrap_packages, "linux-image-amd64"),
               "kicksecure bootstraps systemd-sysv, not the kernel");
        tap_ok(strv_contains(base->kernel_cmdline, "slab_nomerge") &&
               strv_contains(base->kernel_cmdline, "console=ttyS0,115200"),
               "kicksecure has hardening and serial console boot parameters");

        tap_ok(streq_ptr(gw->flavor, "gateway"), "gateway flavor");
        tap_ok(streq_ptr(gw->name, "whonix-gateway"), "gateway name");
        tap_ok(streq_ptr(gw->vm_name, "Whonix-Gateway"), "gateway VM name");
        tap_ok(streq_ptr(gw->hostname, "host"), "gateway hostname");
        tap_ok(strv_contains(gw->packages, "tor"), "gateway has tor");
        tap_ok(strv_contains(gw->packages, "linux-image-amd64") && strv_contains(gw->packages, "grub-pc"),
               "gateway inherits the kernel and bootloader");
        tap_ok(strv_length(gw->networks) == 2 && streq(gw->networks[0], "external") &&
               streq(gw->networks[1], "internal"), "gateway networks are external internal");
        tap_ok(gw->memory_mib == 768 && gw->cpus == 1 && gw->disk_size == (UINT64_C(100) << 30),
               "gateway 768M, 1 CPU, 100G");
        tap_ok(streq_ptr(gw->suite, "trixie") && streq_ptr(gw->user_name, "user") &&
               strv_contains(gw->user_groups, "sudo"), "gateway inherits suite and user");
        tap_ok(strv_length(gw->overlays) == 2 && streq(gw->overlays[0], "kicksecure") &&
               streq(gw->overlays[1], "whonix-gateway"), "gateway overlays kicksecure then whonix-gateway");
        tap_ok(strv_length(gw->files) == 2 && streq(gw->files[0], gw->path) &&
               endswith(gw->files[1], "/kicksecure.conf"), "gateway files: itself, then kicksecure");
        tap_ok(strv_length(gw->includes) == 1 && streq(gw->includes[0], gw->files[1]),
               "gateway includes: kicksecure, by name (its shared layer)");
        tap_ok(strv_length(gw->components) == 2 && streq(gw->components[0], "main") &&
                       streq(gw->components[1], "contrib"),
               "gateway components: 'main' once, then 'contrib' (kicksecure replaces the default list)");
        tap_ok(gw->path[0] == '/', "gateway path is absolute");

        tap_ok(streq_ptr(ws->flavor, "workstation"), "workstation flavor");
        tap_ok(streq_ptr(ws->hostname, "host"), "workstation hostname");
        tap_ok(strv_length(ws->networks) == 1 && streq(ws->networks[0], "internal"),
               "workstation has only the internal network");
        tap_ok(!strv_contains(ws->packages, "tor") && strv_contains(ws->packages, "torsocks") &&
               strv_contains(ws->packages, "linux-image-amd64"), "workstation packages");

        k = recipe_format(gw, &f1);
        tap_ok(k >= 0 && f1 && strstr(f1, "VM.Networks=external internal\n") && !strstr(f1, recipes_dir),
               "gateway formats without checkout paths");
        /* The same file loaded again formats the same: usable as a cache key. */
        {
                _cleanup_(recipe_freep) Recipe *again = load_product(recipes_dir, "whonix-gateway.conf");
                tap_ok(again && recipe_format(again, &f2) >= 0 && streq_ptr(f1, f2), "format is deterministic");
        }

        k = recipe_list(&err, recipes_dir, &names, &descriptions);
        if (!tap_ok(k >= 0, "recipe_list %s", recipes_dir))
                tap_diag("%s", error_text(&err, k));
        error_done(&err);
        if (k >= 0) {
                tap_ok(strv_length(names) == 4 && streq(names[0], "kicksecure") &&
                       streq(names[1], "whonix-gateway") && streq(names[2], "whonix-workstation") &&
                       streq(names[3], "whonix-workstation-desktop"),
                       "recipe_list names sorted");
                tap_ok(strv_length(descriptions) == 4 && streq(descriptions[1], gw->description),
                       "recipe_list descriptions");
        }

        p = recipe_path_for_flavor(recipes_dir, "gateway");
        tap_ok(p && endswith(p, "/whonix-gateway.conf") && access(p, R_OK) == 0, "path for gateway");
        free(p);
        p = recipe_path_for_flavor(recipes_dir, "workstation");
        tap_ok(p && endswith(p, "/whonix-workstation.conf") && access(p, R_OK) == 0, "path for workstation");
        free(p);
        p = recipe_path_for_flavor(recipes_dir, "router");
        tap_ok(!p && errno == EINVAL, "no path for an unknown flavor");
        p = recipe_path_for_flavor(recipes_dir, "workstation-desktop");
        tap_ok(p && endswith(p, "/whonix-workstation-desktop.conf") && access(p, R_OK) == 0,
               "path for workstation-desktop");
        free(p);
        p = recipe_path_for_flavor(recipes_dir, "workstation-../x");
        tap_ok(!p && errno == EINVAL, "no path for a variant that is not a plain word");

        tap_ok(streq_ptr(recipe_flavor_role("gateway"), "gateway"), "role of gateway");
        tap_ok(streq_ptr(recipe_flavor_role("workstation-desktop"), "workstation"), "role of workstation-desktop");
        tap_ok(!recipe_flavor_role("workstations"), "no role for 'workstations'");
        tap_ok(recipe_pair_count((char *[]) { (char *) "gateway", (char *) "workstation", NULL }) == 1,
               "pairs: gateway + workstation make one");
        tap_ok(recipe_pair_count((char *[]) { (char *) "gateway", (char *) "workstation",
                                              (char *) "workstation-desktop", NULL }) == 2,
               "pairs: the Gateway with each of two Workstations makes two");
        tap_ok(recipe_pair_count((char *[]) { (char *) "gateway", NULL }) == 1, "pairs: the Gateway alone makes one");
        tap_ok(recipe_pair_count((char *[]) { (char *) "workstation-desktop", NULL }) == 1,
               "pairs: a Workstation alone makes one");
        tap_ok(recipe_pair_count((char *[]) { NULL }) == 0 && recipe_pair_count(NULL) == 0, "pairs: none of nothing");
        tap_ok(!recipe_flavor_role("desktop"), "no role for 'desktop'");
        tap_ok(!recipe_flavor_role(NULL), "no role for no flavor");
}

static void expect_buffer_error(const char *data, size_t size, const char *base_dir, const char *message,
                                const char *what) {
        _cleanup_(recipe_freep) Recipe *r = NULL;
        ErrorSlot err = {};
        int k = recipe_parse_buffer(&err, "buf.conf", data, size, base_dir, &r);

        if (!tap_ok(k < 0 && !r && err.message && streq(err.message, message), "%s", what))
                tap_diag("k=%d message=%s", k, strempty(err.message));
        error_done(&err);
}

static void test_buffers(void) {
        _cleanup_(recipe_freep) Recipe *r = NULL;
        _cleanup_free_ char *big = NULL, *text = NULL;
        ErrorSlot err = {};
        const size_t big_size = 1024 * 1024 + 1;
        int k;

        static const char ok[] = "[VM]\nName=Test\nCPUs=4\n";
        k = recipe_parse_buffer(&err, "mem.conf", ok, strlen(ok), NULL, &r);
        tap_ok(k >= 0 && r && streq(r->name, "mem") && streq(r->path, "mem.conf") && r->cpus == 4 &&
               strv_length(r->files) == 1 && streq(r->files[0], "mem.conf"), "parse a buffer");
        tap_ok(r && recipe_format(r, &text) >= 0 && strstr(text, "VM.CPUs=4\n"), "format a buffer's recipe");
        error_done(&err);

        /* Not NUL-terminated: size is what counts. */
        {
                _cleanup_(recipe_freep) Recipe *r2 = NULL;
                static const char partial[] = "[VM]\nCPUs=8garbage";
                k = recipe_parse_buffer(&err, "partial.conf", partial, strlen("[VM]\nCPUs=8"), NULL, &r2);
                tap_ok(k >= 0 && r2 && r2->cpus == 8, "buffer is read up to size only");
                error_done(&err);
        }

        static const char inc[] = "[Config]\nInclude=x.conf\n";
        expect_buffer_error(inc, strlen(inc), NULL,
                            "buf.conf:2: cannot include 'x.conf': includes are not allowed here",
                            "includes refused without a base directory");
        static const char scr[] = "[Scripts]\nScripts=x.sh\n";
        expect_buffer_error(scr, strlen(scr), NULL,
                            "buf.conf:2: invalid script 'x.sh' in Scripts=: no directory to resolve it against",
                            "scripts refused without a base directory");
        static const char latin1[] = "[Config]\nDescription=caf\xe9\n";
        expect_buffer_error(latin1, strlen(latin1), NULL,
                            "buf.conf:2: invalid description 'caf\xe9' in Description=: not valid UTF-8",
                            "a Description in Latin-1 is refused when read, not in the export");
        static const char utf8[] = "[Config]\nDescription=caf\xc3\xa9 \xe2\x80\x94 ok\n[Distribution]\nSuite=trixie\n";
        {
                _cleanup_(recipe_freep) Recipe *ok8 = NULL;
                ErrorSlot e8 = {};

                tap_ok(recipe_parse_buffer(&e8, "buf.conf", utf8, strlen(utf8), NULL, &ok8) >= 0,
                       "a Description in UTF-8 is fine");
                error_done(&e8);
        }
        static const char dash_suite[] = "[Distribution]\nSuite=--foreign\n";
        expect_buffer_error(dash_suite, strlen(dash_suite), NULL,
                            "buf.conf:2: invalid suite '--foreign' in Suite=: must start with a lowercase letter or a "
                            "digit",
                            "a suite that debootstrap would read as an option");
        static const char dash_comp[] = "[Distribution]\nComponents=main -x\n";
        expect_buffer_error(dash_comp, strlen(dash_comp), NULL,
                            "buf.conf:2: invalid component '-x' in Components=: must start with a lowercase letter or "
                            "a digit",
                            "a component starting with '-'");
        static const char nul[] = "[VM]\n\nCPUs=1\0\n";
        expect_buffer_error(nul, sizeof(nul) - 1, NULL, "buf.conf:3: NUL byte in file", "NUL byte");

        big = malloc(big_size);
        if (big) {
                memset(big, '#', big_size);
                expect_buffer_error(big, big_size, NULL, "buf.conf: file is larger than 1 MiB", "file too large");
        }

        k = recipe_load(&err, "/nonexistent/whonix.conf", NULL, &r);
        tap_ok(k == -ENOENT && err.message &&
               streq(err.message, "/nonexistent/whonix.conf: cannot read recipe: No such file or directory"),
               "missing top-level file names the path");
        error_done(&err);
}

/* Scripts outside the top-level file's directory, and buffers with a base
 * directory. */
static void test_paths(void) {
        _cleanup_(recipe_freep) Recipe *r = NULL, *b = NULL;
        _cleanup_free_ char *path = NULL, *text = NULL, *btext = NULL, *expected = NULL;
        ErrorSlot err = {};
        int k;

        path = path_join(fixture_dir, "layers/with-script.conf");
        k = path ? recipe_load(&err, path, fixture_dir, &r) : -ENOMEM;
        tap_ok(k >= 0 && recipe_format(r, &text) >= 0 && strstr(text, "\nScripts.Scripts=../scripts/hello.sh\n"),
               "script outside the recipe's directory (inside the root) is shown relative to it");
        tap_ok(r && strv_length(r->scripts) == 1 && r->scripts[0][0] == '/' && access(r->scripts[0], X_OK) == 0,
               "script path is absolute");
        error_done(&err);

        static const char inc[] = "[Config]\nInclude=layers/common.conf\n[Scripts]\nScripts=scripts/hello.sh\n";
        k = recipe_parse_buffer(&err, "buffer", inc, strlen(inc), fixture_dir, &b);
        expected = strdup_printf("%s/layers/common.conf", fixture_dir);
        tap_ok(k >= 0 && b && strv_length(b->files) == 2 && streq(b->files[0], "buffer") &&
               streq_ptr(b->files[1], expected) && streq(b->packages[0], "common"),
               "buffer with a base directory follows includes");
        tap_ok(b && recipe_format(b, &btext) >= 0 && strstr(btext, "\nScripts.Scripts=hello.sh\n"),
               "buffer's scripts are shown by basename");
        error_done(&err);

        static const char bad[] = "[Config]\nInclude=layers/broken.conf\n";
        _cleanup_free_ char *m = strdup_printf("%s/layers/broken.conf:5: invalid host name '-bad-' in Hostname=: "
                                               "must not start or end with '-'", fixture_dir);
        if (m)
                expect_buffer_error(bad, strlen(bad), fixture_dir, m, "error in a buffer's include names that file");
}

/* Includes and scripts never reach a file of the build host: not by an
 * absolute path, not through a symlink, not as the top-level file; the
 * refusal never quotes the file. */
static void test_host_files(void) {
        _cleanup_(recipe_freep) Recipe *r = NULL;
        _cleanup_free_ char *dir = NULL, *link = NULL, *top = NULL, *m = NULL;
        ErrorSlot err = {};
        int k;

        static const char abs_inc[] = "[Config]\nInclude=/etc/passwd\n";
        k = recipe_parse_buffer(&err, "buf.conf", abs_inc, strlen(abs_inc), fixture_dir, &r);
        tap_ok(k == -EPERM && err.message && strstr(err.message, "buf.conf:2: cannot include '/etc/passwd': it is "
                                                                  "'/etc/passwd', outside the recipe's directory") &&
               !strstr(err.message, "root:"),
               "Include=/etc/passwd is refused, unread");
        tap_diag("%s", strempty(err.message));
        error_done(&err);

        if (!tap_ok(mkdtemp_in(NULL, "test-recipe", &dir) >= 0 && (link = path_join(dir, "host.conf")) &&
                    symlink("/etc/passwd", link) == 0 && (top = path_join(dir, "top.conf")),
                    "a recipe directory with a symlink to /etc/passwd"))
                return;
        static const char sym_inc[] = "[Config]\nInclude=host.conf\n";
        k = recipe_parse_buffer(&err, "buf.conf", sym_inc, strlen(sym_inc), dir, &r);
        tap_ok(k == -EPERM && err.message && strstr(err.message, "it is '/etc/passwd', outside the recipe's directory") &&
               !strstr(err.message, "root:"),
               "an include through a symlink out of the directory is refused, unread");
        error_done(&err);

        static const char sh[] = "[Scripts]\nScripts=/bin/sh\n";
        k = recipe_parse_buffer(&err, "buf.conf", sh, strlen(sh), dir, &r);
        m = strdup_printf("buf.conf:2: script '/bin/sh' is '%s', outside the recipe's directory", "/usr/bin/dash");
        tap_ok(k == -EPERM && err.message && strstr(err.message, "script '/bin/sh' is '") &&
               strstr(err.message, "outside the recipe's directory"),
               "Scripts=/bin/sh is refused");
        error_done(&err);

        k = recipe_load(&err, link, fixture_dir, &r);
        tap_ok(k == -EPERM && err.message && strstr(err.message, "/etc/passwd: the recipe is outside") &&
               !strstr(err.message, "root:"),
               "a top-level recipe outside the root is refused, unread");
        error_done(&err);
        (void) rm_rf(dir);
}

/* A top-level file over the limit, through recipe_load(). */
static void test_big_file(void) {
        _cleanup_free_ char *dir = NULL, *path = NULL, *big = NULL, *expected = NULL;
        _cleanup_(recipe_freep) Recipe *r = NULL;
        ErrorSlot err = {};
        const size_t size = 1024 * 1024 + 100;
        int k;

        if (mkdtemp_in(NULL, "test-recipe", &dir) < 0) {
                tap_ok(false, "mkdtemp");
                return;
        }
        path = path_join(dir, "big.conf");
        big = malloc(size);
        if (path && big) {
                for (size_t i = 0; i < size; i++)
                        big[i] = i % 64 == 63 ? '\n' : '#';
                (void) write_file_atomic(path, big, size, 0644);
                k = recipe_load(&err, path, NULL, &r);
                expected = strdup_printf("%s: file is larger than 1 MiB", path);
                tap_ok(k == -EFBIG && expected && streq_ptr(err.message, expected), "file over 1 MiB");
                error_done(&err);
        }
        (void) rm_rf(dir);
}

/* Snapshot=, --snapshot: a time stamp or a snapshot-archive URL. */
static void test_snapshot(void) {
        static const char * const good[] = { "20261130T000000Z", "http://127.0.0.1:8631/archive/debian/20261130T123456Z",
                                             "https://snapshot.debian.org/archive/debian-security/20250101T000000Z" };
        static const char * const bad[] = { "20261130", "2026113T000000Z", "20261130T000000", "20261130t000000Z",
                                             "ftp://snapshot.debian.org/archive/debian/20261130T000000Z",
                                             "http://deb.debian.org/debian/20261130T000000Z",
                                             "http://x/archive//20261130T000000Z", "http://x/archive/debian/",
                                             "http://x/archive/debian/20261130T000000Z/" };

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                tap_ok(!recipe_check_snapshot(good[i]), "snapshot '%s' is taken", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                const char *why = recipe_check_snapshot(bad[i]);
                tap_ok(why != NULL, "snapshot '%s' is refused: %s", bad[i], strempty(why));
        }
        _cleanup_free_ char *a = recipe_snapshot_url("20261130T000000Z"), *b = recipe_snapshot_url(good[1]);
        tap_ok(streq_ptr(a, "http://snapshot.debian.org/archive/debian/20261130T000000Z") && streq_ptr(b, good[1]),
               "a time stamp is snapshot.debian.org's; a URL is itself (%s)", strempty(a));
}

int main(int argc, char **argv) {
        if (argc > 1) {
                if (argc != 2 || !streq(argv[1], "--update")) {
                        fprintf(stderr, "usage: test-recipe [--update]\n");
                        return 2;
                }
                if (getenv("WB_MESON_TAP")) {
                        fprintf(stderr, "test-recipe: --update rewrites the fixtures; not under meson test\n");
                        return 2;
                }
                update_expected = true;
        }
        _cleanup_free_ char *recipes_dir = NULL, *fixtures = NULL;
        const char *root = getenv("WB_SOURCE_ROOT");

        tap_plan_lazy();
        if (!root)
                return tap_skip_all("WB_SOURCE_ROOT is not set (run through meson test)");

        fixtures = path_join(root, "tests/recipes");
        recipes_dir = path_join(root, "recipes");
        if (!fixtures || !recipes_dir)
                return 1;
        /* The parser reports canonical paths; compare against the same. */
        fixture_dir = realpath(fixtures, NULL);
        if (!fixture_dir)
                return tap_skip_all("tests/recipes not found");

        test_fixtures();
        test_products(recipes_dir);
        test_buffers();
        test_paths();
        test_host_files();
        test_big_file();
        test_snapshot();

        free(fixture_dir);
        return tap_done();
}
