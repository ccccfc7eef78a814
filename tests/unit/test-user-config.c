/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The user's settings file (format/user-config.c): what it accepts, what it
 * refuses and how it says so, and where it is looked for. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "user-config.h"

static int parse(const char *text, UserConfig *c, ErrorSlot *err) {
        error_clear(err);
        return user_config_parse(err, "config", text, strlen(text), c);
}

static void refused(const char *text, const char *want) {
        ErrorSlot err = {};
        UserConfig c;
        int r = parse(text, &c, &err);

        tap_ok(r == -EBADMSG && err.message && strstr(err.message, want), "refused with '%s' (got: %s)", want,
               err.message ? err.message : "success");
        error_done(&err);
}

int main(void) {
        ErrorSlot err = {};
        UserConfig c;
        char *p = NULL;
        int r;

        tap_plan_lazy();

        r = parse("", &c, &err);
        tap_ok(r == 0 && c.cache_max_bytes == 0 && c.cache_max_age_days == 0, "an empty file: no limits");
        r = parse("# mine\n\n[Cache]\n; sizes\nMaxSize = 40G\nMaxAge=30\n", &c, &err);
        tap_ok(r == 0 && c.cache_max_bytes == 40ull << 30 && c.cache_max_age_days == 30,
               "[Cache] MaxSize=40G MaxAge=30, with comments, blank lines and spaces round '='");
        r = parse("[Cache]\nMaxSize=500M", &c, &err);
        tap_ok(r == 0 && c.cache_max_bytes == 500ull << 20 && c.cache_max_age_days == 0,
               "MaxSize alone, no final newline");

        refused("MaxSize=1G\n", "config:1: a key outside a section: 'MaxSize'");
        refused("[Cache]\nMaxSize=1G\nMaxSize=2G\n", "config:3: given twice: 'MaxSize'");
        refused("[Cache]\nMaxSize=lots\n", "config:2: MaxSize= is not a size such as 40G or 500M: 'lots'");
        refused("[Cache]\nMaxSize=0\n", "is not a size");
        refused("[Cache]\nMaxAge=0\n", "MaxAge= is not a number of days (1 to 36500): '0'");
        refused("[Cache]\nMaxAge=36501\n", "MaxAge= is not a number of days");
        refused("[Cache]\nMaxAge=-1\n", "MaxAge= is not a number of days");
        refused("[Cache]\nMaxAgee=3\n", "config:2: unknown key in [Cache] (there are MaxSize= and MaxAge=): 'MaxAgee'");
        refused("[Build]\n", "config:1: unknown section (there is [Cache]): 'Build'");
        refused("[Cache\n", "config:1: not a section header: '[Cache'");
        refused("[Cache]\njunk\n", "config:2: not KEY=VALUE: 'junk'");
        refused("[Cache]\nMaxSize=\x1b[31m\n", "\\x1b");

        r = user_config_parse(&err, "config", "a\0b", 3, &c);
        tap_ok(r == -EBADMSG && strstr(err.message, "NUL"), "a NUL byte is refused");
        error_clear(&err);
        {
                size_t n = USER_CONFIG_MAX_SIZE + 1;
                char *big = malloc(n);
                if (big)
                        memset(big, '#', n);
                r = big ? user_config_parse(&err, "config", big, n, &c) : -ENOMEM;
                tap_ok(r == -EFBIG, "a file over 64 KiB is refused (%d)", r);
                free(big);
                error_clear(&err);
        }

        r = user_config_load(&err, "/nonexistent/whonix-build/config", false, &c);
        tap_ok(r == 0 && c.cache_max_bytes == 0, "a missing default file is an empty configuration");
        r = user_config_load(&err, "/nonexistent/whonix-build/config", true, &c);
        tap_ok(r < 0 && strstr(err.message, "cannot read the configuration '/nonexistent/whonix-build/config'"),
               "a missing file named by --config is an error (%s)", err.message ? err.message : "none");
        error_clear(&err);

        setenv("XDG_CONFIG_HOME", "/x/conf", 1);
        r = user_config_default_path(&p);
        tap_ok(r == 0 && strcmp(p, "/x/conf/whonix-build/config") == 0, "default: $XDG_CONFIG_HOME/whonix-build/config");
        free(p);
        p = NULL;
        setenv("XDG_CONFIG_HOME", "relative", 1);
        setenv("HOME", "/home/u", 1);
        r = user_config_default_path(&p);
        tap_ok(r == 0 && strcmp(p, "/home/u/.config/whonix-build/config") == 0,
               "a relative XDG_CONFIG_HOME is ignored: ~/.config/whonix-build/config");
        free(p);
        unsetenv("XDG_CONFIG_HOME");
        unsetenv("HOME");
        tap_ok(user_config_default_path(&p) == -ENOENT, "neither set: no default file");

        error_done(&err);
        return tap_done();
}
