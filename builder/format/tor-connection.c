/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tor-connection.h"
#include "util.h"

/* The transports the Gateway has, and their client programs (Debian's
 * paths); the same table is in whonix-connect. */
static const struct {
        const char *name;
        const char *binary;
} transports[] = {
        { "obfs4", "/usr/bin/obfs4proxy" },
        { "snowflake", "/usr/bin/snowflake-client" },
};

static const char *transport_binary(const char *name, size_t n) {
        for (size_t i = 0; i < ELEMENTSOF(transports); i++)
                if (strlen(transports[i].name) == n && strncmp(transports[i].name, name, n) == 0)
                        return transports[i].binary;
        return NULL;
}

static const char *skip_bridge_keyword(const char *s) {
        if (strncasecmp(s, "Bridge", 6) == 0 && (s[6] == ' ' || s[6] == '\t'))
                s += 7;
        return s + strspn(s, " \t");
}

static bool in_set(char c, const char *set) {
        return c && strchr(set, c);
}

#define HEX "0123456789abcdefABCDEF"
#define DIGITS "0123456789"

/* ADDRESS:PORT, the word [w, w + n). */
static const char *check_address(const char *w, size_t n) {
        const char *colon, *p;
        unsigned long port = 0;

        if (n > 0 && w[0] == '[') {
                const char *close = memchr(w, ']', n);
                if (!close || close == w + 1)
                        return "not an address:port";
                for (p = w + 1; p < close; p++)
                        if (!in_set(*p, HEX ":"))
                                return "not an address:port";
                colon = close + 1;
                if (colon >= w + n || *colon != ':')
                        return "not an address:port";
        } else {
                unsigned dots = 0, digits = 0;

                colon = memchr(w, ':', n);
                if (!colon)
                        return "not an address:port";
                for (p = w; p < colon; p++) {
                        if (*p == '.') {
                                if (digits == 0)
                                        return "not an address:port";
                                dots++, digits = 0;
                        } else if (in_set(*p, DIGITS) && digits < 3) {
                                digits++;
                        } else {
                                return "not an address:port";
                        }
                }
                if (dots != 3 || digits == 0)
                        return "not an address:port";
        }
        if (colon + 1 >= w + n || (size_t) (w + n - colon - 1) > 5)
                return "not an address:port";
        for (p = colon + 1; p < w + n; p++) {
                if (!in_set(*p, DIGITS))
                        return "not an address:port";
                port = port * 10 + (unsigned long) (*p - '0');
        }
        if (port == 0 || port > 65535)
                return "the port must be 1..65535";
        return NULL;
}

const char *tor_bridge_line_check(const char *line) {
        const char *s, *w, *why;
        size_t n;
        bool first = true;
        int fields = 0; /* 0: transport or address next, 1: fingerprint or key=value, 2: key=value only */

        for (s = line; *s; s++)
                if ((unsigned char) *s < 0x20 || (unsigned char) *s > 0x7e)
                        if (*s != '\t')
                                return "a bridge line may hold only printable ASCII";
        s = skip_bridge_keyword(line);
        if (!*s)
                return "no address";
        while (*s) {
                w = s;
                n = strcspn(s, " \t");
                s += n;
                s += strspn(s, " \t");
                if (first && n > 0 && !memchr(w, ':', n) && !memchr(w, '=', n) && in_set(w[0], "abcdefghijklmnopqrstuvwxyz")) {
                        first = false;
                        if (!transport_binary(w, n))
                                return "unknown transport (obfs4, snowflake, or none)";
                        if (!*s)
                                return "no address";
                        continue;
                }
                first = false;
                if (fields == 0) {
                        why = check_address(w, n);
                        if (why)
                                return why;
                        fields = 1;
                        continue;
                }
                if (fields == 1 && !memchr(w, '=', n)) {
                        if (n != 40 || strspn(w, HEX) < 40)
                                return "not a fingerprint (40 hexadecimal digits)";
                        fields = 2;
                        continue;
                }
                fields = 2;
                const char *eq = memchr(w, '=', n);
                if (!eq || eq == w)
                        return "arguments after the fingerprint must be KEY=VALUE";
                for (const char *p = w; p < eq; p++)
                        if (!in_set(*p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" DIGITS "_-"))
                                return "arguments after the fingerprint must be KEY=VALUE";
        }
        return NULL;
}

int tor_connection_render(bool connect, char * const *bridges, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        bool used[ELEMENTSOF(transports)] = { false };
        FILE *f;

        STRV_FOREACH(b, bridges) {
                const char *s;

                if (tor_bridge_line_check(*b))
                        return -EINVAL;
                s = skip_bridge_keyword(*b);
                for (size_t i = 0; i < ELEMENTSOF(transports); i++) {
                        size_t n = strlen(transports[i].name);
                        if (strncmp(s, transports[i].name, n) == 0 && (s[n] == ' ' || s[n] == '\t'))
                                used[i] = true;
                }
        }
        if (!connect && bridges && bridges[0])
                return -EINVAL;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        fprintf(f, "# whonix-build: how this Gateway connects, set by its recipe's [Tor] section (%s).\n"
                   "# whonix-connect replaces this file with the choice made at the console.\n",
                !connect ? "wait" : bridges && bridges[0] ? "bridges" : "direct");
        if (!connect)
                fputs("DisableNetwork 1\n", f);
        else if (!bridges || !bridges[0])
                fputs("UseBridges 0\n", f);
        else {
                fputs("UseBridges 1\n", f);
                for (size_t i = 0; i < ELEMENTSOF(transports); i++)
                        if (used[i])
                                fprintf(f, "ClientTransportPlugin %s exec %s\n", transports[i].name,
                                        transports[i].binary);
                STRV_FOREACH(b, bridges) {
                        /* One blank between words, as tor writes them. */
                        _cleanup_strv_free_ char **words = NULL;
                        _cleanup_free_ char *joined = NULL;

                        if (strv_split(skip_bridge_keyword(*b), " \t", &words) < 0 ||
                            !(joined = strv_join(words, " "))) {
                                fclose(f);
                                return -ENOMEM;
                        }
                        fprintf(f, "Bridge %s\n", joined);
                }
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        return 0;
}
