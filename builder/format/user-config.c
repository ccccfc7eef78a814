/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "user-config.h"
#include "util.h"

#define MAX_LINE 4096u
#define MAX_AGE_DAYS 36500u

static int fail(ErrorSlot *err, const char *name, unsigned line, const char *fmt, const char *what) {
        _cleanup_free_ char *shown = escape_for_message(what, true);

        if (!shown)
                return -ENOMEM;
        return error_set(err, -EBADMSG, "%s:%u: %s '%s'", name, line, fmt, shown);
}

typedef struct Seen {
        bool max_size, max_age;
} Seen;

static int parse_line(ErrorSlot *err, const char *name, unsigned line, char *s, bool *in_cache, Seen *seen,
                      UserConfig *c) {
        char *eq, *key, *value;

        s = strstrip(s);
        if (!*s || *s == '#' || *s == ';')
                return 0;
        if (*s == '[') {
                size_t l = strlen(s);
                if (s[l - 1] != ']')
                        return fail(err, name, line, "not a section header:", s);
                s[l - 1] = 0;
                if (!streq(s + 1, "Cache"))
                        return fail(err, name, line, "unknown section (there is [Cache]):", s + 1);
                *in_cache = true;
                return 0;
        }
        eq = strchr(s, '=');
        if (!eq)
                return fail(err, name, line, "not KEY=VALUE:", s);
        *eq = 0;
        key = strstrip(s);
        value = strstrip(eq + 1);
        if (!*in_cache)
                return fail(err, name, line, "a key outside a section:", key);
        if (streq(key, "MaxSize")) {
                if (seen->max_size)
                        return fail(err, name, line, "given twice:", key);
                seen->max_size = true;
                if (parse_size(value, &c->cache_max_bytes) < 0 || c->cache_max_bytes == 0)
                        return fail(err, name, line, "MaxSize= is not a size such as 40G or 500M:", value);
                return 0;
        }
        if (streq(key, "MaxAge")) {
                unsigned days;
                if (seen->max_age)
                        return fail(err, name, line, "given twice:", key);
                seen->max_age = true;
                if (safe_atou(value, &days) < 0 || days == 0 || days > MAX_AGE_DAYS)
                        return fail(err, name, line, "MaxAge= is not a number of days (1 to 36500):", value);
                c->cache_max_age_days = days;
                return 0;
        }
        return fail(err, name, line, "unknown key in [Cache] (there are MaxSize= and MaxAge=):", key);
}

int user_config_parse(ErrorSlot *err, const char *name, const char *data, size_t size, UserConfig *ret) {
        _cleanup_free_ char *copy = NULL;
        UserConfig c = {};
        Seen seen = {};
        bool in_cache = false;
        unsigned line = 0;
        char *s, *eof;
        int r;

        if (size > USER_CONFIG_MAX_SIZE)
                return error_set(err, -EFBIG, "%s: file is larger than 64 KiB", name);
        if (memchr(data, 0, size))
                return error_set(err, -EBADMSG, "%s: contains a NUL byte", name);
        copy = malloc(size + 1);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, data, size);
        copy[size] = 0;
        eof = copy + size;
        for (s = copy; s < eof;) {
                char *nl = memchr(s, '\n', (size_t) (eof - s));
                size_t len = nl ? (size_t) (nl - s) : (size_t) (eof - s);

                line++;
                if (len > MAX_LINE)
                        return error_set(err, -E2BIG, "%s:%u: line is longer than %u characters", name, line, MAX_LINE);
                s[len] = 0;
                r = parse_line(err, name, line, s, &in_cache, &seen, &c);
                if (r < 0)
                        return r;
                s += len + 1;
        }
        *ret = c;
        return 0;
}

int user_config_load(ErrorSlot *err, const char *path, bool must_exist, UserConfig *ret) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = read_full_file(path, USER_CONFIG_MAX_SIZE, &data, &size);
        if (r == -ENOENT && !must_exist) {
                *ret = (UserConfig) {};
                return 0;
        }
        if (r < 0)
                return error_set_errno(err, r, "cannot read the configuration '%s'", path);
        return user_config_parse(err, path, data, size, ret);
}

int user_config_default_path(char **ret) {
        const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
        char *p;

        if (x && *x == '/')
                p = strdup_printf("%s/whonix-build/config", x);
        else if (home && *home == '/')
                p = strdup_printf("%s/.config/whonix-build/config", home);
        else
                return -ENOENT;
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}
