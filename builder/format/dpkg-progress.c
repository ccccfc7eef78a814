/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "dpkg-progress.h"

#define NAME_CHARS "abcdefghijklmnopqrstuvwxyz0123456789+-."

/* A package name at s, then (after an optional ":arch") exactly "after";
 * its length, or 0. */
static size_t name_then(const char *s, const char *after) {
        size_t span = strspn(s, NAME_CHARS);

        if (span < 2 || !strchr("abcdefghijklmnopqrstuvwxyz0123456789", s[0]))
                return 0;
        /* A name may end in dots that are the "..." after it: try the
         * longest name first. */
        for (size_t n = span; n >= 2 && n + 3 >= span; n--) {
                size_t end = n;
                if (s[end] == ':')
                        end += 1 + strspn(s + end + 1, "abcdefghijklmnopqrstuvwxyz0123456789-");
                if (strncmp(s + end, after, strlen(after)) == 0)
                        return n;
        }
        return 0;
}

DpkgStep dpkg_progress_line(const char *line, char *pkg, size_t size) {
        static const struct {
                const char *prefix, *after;
                DpkgStep step;
        } forms[] = {
                { "Unpacking ", " (", DPKG_UNPACK },
                { "Setting up ", " (", DPKG_CONFIGURE },
                { "I: Retrieving ", " ", DPKG_RETRIEVE },
                { "I: Unpacking ", "...", DPKG_UNPACK },
                { "I: Configuring ", "...", DPKG_CONFIGURE },
        };

        if (size > 0)
                pkg[0] = 0;
        for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
                size_t l = strlen(forms[i].prefix), n;

                if (strncmp(line, forms[i].prefix, l) != 0)
                        continue;
                n = name_then(line + l, forms[i].after);
                if (n == 0)
                        return DPKG_NONE;
                if (size > 0) {
                        if (n > size - 1)
                                n = size - 1;
                        memcpy(pkg, line + l, n);
                        pkg[n] = 0;
                }
                return forms[i].step;
        }
        return DPKG_NONE;
}
