/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <sys/stat.h>

#include "error.h"
#include "guestfs-util.h"
#include "spawn.h"
#include "tap.h"
#include "util.h"

int main(void) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *q = NULL, *j = NULL;
        ErrorSlot err = {};
        uint64_t v;
        char *argv[] = { (char *) "debootstrap", (char *) "--include=a,b", (char *) "it's", (char *) "$(x) `y`", NULL };

        tap_plan_lazy();
        tap_ok(parse_size("100G", &v) == 0 && v == 100ull << 30, "parse_size 100G");
        tap_ok(parse_size("768M", &v) == 0 && v == 768ull << 20, "parse_size 768M");
        tap_ok(parse_size("1024", &v) == 0 && v == 1024, "parse_size without suffix is bytes");
        tap_ok(parse_size("", &v) < 0 && parse_size("12X", &v) < 0 && parse_size("-1G", &v) < 0,
               "parse_size refuses empty, unknown suffix and sign");
        tap_ok(parse_size("99999999999T", &v) == -ERANGE, "parse_size refuses overflow");
        tap_ok(safe_atou64("18446744073709551616", &v) == -ERANGE, "safe_atou64 refuses 2^64");

        tap_ok(strv_split("  a b\tc  ", " \t", &l) == 0 && strv_length(l) == 3 && streq(l[2], "c"), "strv_split");
        j = strv_join(l, ",");
        tap_ok(j && streq(j, "a,b,c"), "strv_join");

        q = shell_quote_argv(argv);
        tap_ok(q && streq(q, "'debootstrap' '--include=a,b' 'it'\\''s' '$(x) `y`'"),
               "shell_quote_argv quotes every argument, quotes inside too: %s", q);

        error_set(&err, -EINVAL, "first '%s'", "x");
        error_set(&err, -EIO, "second");
        tap_ok(err.message && streq(err.message, "first 'x'") && err.code == -EINVAL, "the slot keeps the first error");
        error_prefix(&err, -EINVAL, "outer");
        tap_ok(streq(err.message, "outer: first 'x'"), "error_prefix adds context");
        error_done(&err);
        tap_ok(!err.message && streq(error_text(&err, -ENOENT), strerror(ENOENT)),
               "an empty slot falls back to strerror");
        {
                char dir[] = "/tmp/wb-test-util-XXXXXX";
                _cleanup_free_ char *file = NULL, *sub = NULL;
                bool made = mkdtemp(dir);

                file = path_join(dir, "file");
                sub = path_join(dir, "a/b/c");
                tap_ok(made && mkdir_p(sub, 0755) == 0 && mkdir_p(sub, 0755) == 0, "mkdir_p creates and accepts a tree");
                tap_ok(write_file_atomic(file, "x", 1, 0644) == 0 && mkdir_p(file, 0755) == -ENOTDIR,
                       "mkdir_p on an existing file is -ENOTDIR");
                tap_ok(rm_rf(dir) == 0 && access(dir, F_OK) < 0, "rm_rf removes the tree");
        }
        {
                char dir[] = "/tmp/wb-test-util-XXXXXX";
                _cleanup_free_ char *from = NULL, *to = NULL, *missing = NULL, *data = NULL, *big = NULL;
                const size_t big_size = 3u * 1024 * 1024 + 17;
                bool made = mkdtemp(dir);
                struct stat st;
                mode_t old;
                size_t n = 0;

                from = path_join(dir, "from");
                to = path_join(dir, "to");
                missing = path_join(dir, "missing");
                big = malloc(big_size);
                if (big)
                        for (size_t i = 0; i < big_size; i++)
                                big[i] = (char) (i * 7 + i / 4096);
                old = umask(077);
                bool copied = made && big && write_file_atomic(from, big, big_size, 0600) == 0 &&
                              copy_file(from, to, 0644) == 0 && read_full_file(to, big_size + 1, &data, &n) == 0 &&
                              n == big_size && memcmp(data, big, n) == 0;
                tap_ok(copied, "copy_file copies every byte (%zu of %zu)", n, big_size);
                bool moded = stat(to, &st) == 0 && (st.st_mode & 07777) == 0644;
                tap_ok(moded, "copy_file gives the asked mode whatever the umask (%o)", (unsigned) (st.st_mode & 07777));
                umask(old);
                tap_ok(copy_file(from, to, 0644) == -EEXIST, "copy_file refuses an existing destination");
                tap_ok(copy_file(missing, missing, 0644) == -ENOENT && access(missing, F_OK) < 0,
                       "copy_file from a missing file fails and creates nothing");
                (void) rm_rf(dir);
        }
        /* spawn_run()'s extra environment overrides the caller's. */
        {
                _cleanup_free_ char *out = NULL;
                setenv("WB_TEST_VAR", "outer", 1);
                /* env(1) prints the environment as given: one entry, not two
                 * (a program's getenv() would see the first). */
                int r = spawn_run(&err, ARGV("env"), (char *[]) { (char *) "WB_TEST_VAR=inner", NULL }, &out);
                tap_ok(r == 0 && out && strstr(out, "WB_TEST_VAR=inner\n") && !strstr(out, "WB_TEST_VAR=outer"),
                       "spawn_run: an extra variable replaces the caller's, not added beside it");
                unsetenv("WB_TEST_VAR");
                error_clear(&err);
        }
        /* A proxy or mirror on the host's loopback, as the appliance
         * reaches it (qemu's user-mode network forwards its host address to 127.0.0.1). */
        {
                static const struct { const char *in, *out; } urls[] = {
                        { "http://127.0.0.1:3142", "http://" APPLIANCE_HOST_ADDRESS ":3142" },
                        { "http://localhost:3142/", "http://" APPLIANCE_HOST_ADDRESS ":3142/" },
                        { "http://LocalHost/debian", "http://" APPLIANCE_HOST_ADDRESS "/debian" },
                        { "http://127.0.0.10:1", "http://127.0.0.10:1" },
                        { "http://localhost.example:1", "http://localhost.example:1" },
                        { "http://proxy.lan:3142", "http://proxy.lan:3142" },
                        { "no-scheme", "no-scheme" },
                };
                for (size_t i = 0; i < ELEMENTSOF(urls); i++) {
                        _cleanup_free_ char *u = appliance_url(urls[i].in);

                        tap_ok(u && streq(u, urls[i].out), "appliance_url(%s) = %s", urls[i].in, u ? u : "(null)");
                }
        }
        return tap_done();
}
