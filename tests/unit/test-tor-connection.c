/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A gateway's [Tor] section as a torrc file: which bridge lines pass, and
 * the exact file for each choice. */
#include "tap.h"
#include "tor-connection.h"
#include "util.h"

#define FP "0123456789ABCDEF0123456789ABCDEF01234567"

static void good(const char *line) {
        const char *why = tor_bridge_line_check(line);
        tap_ok(!why, "accepted: '%s'%s%s", line, why ? ": " : "", strempty(why));
}

static void bad(const char *line, const char *want) {
        const char *why = tor_bridge_line_check(line);
        tap_ok(why && strstr(why, want), "refused: '%s': %s", line, why ? why : "(accepted)");
}

static void render(bool connect, const char * const *bridges, int want_r, const char *want, const char *name) {
        _cleanup_free_ char *text = NULL;
        int r = tor_connection_render(connect, (char * const *) bridges, &text);

        if (want_r < 0) {
                tap_ok(r == want_r, "%s: refused (%d)", name, r);
                return;
        }
        tap_ok(r == 0 && streq(text, want), "%s:\n%s", name, r == 0 ? text : "(error)");
}

/* Every line of the Gateway's built-in bridge lists passes, so a recipe
 * can name them too. */
static void builtin_lists(void) {
        const char *root = getenv("WB_SOURCE_ROOT");
        const char *names[] = { "obfs4", "snowflake" };

        if (!root) {
                tap_ok(false, "WB_SOURCE_ROOT is set (run under meson test)");
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *path = NULL, *data = NULL;
                size_t size, n = 0, refused = 0;
                const char *first = NULL;

                path = strdup_printf("%s/overlays/whonix-gateway/usr/share/whonix/bridges/%s.txt", root, names[i]);
                if (!path || read_full_file(path, 1 << 20, &data, &size) < 0) {
                        tap_ok(false, "read %s", path ? path : names[i]);
                        continue;
                }
                for (char *l = data, *nl; l && *l; l = nl ? nl + 1 : NULL) {
                        nl = strchr(l, '\n');
                        if (nl)
                                *nl = 0;
                        if (!*l || *l == '#')
                                continue;
                        n++;
                        if (tor_bridge_line_check(l)) {
                                refused++;
                                first = first ?: l;
                        }
                }
                tap_ok(n > 0 && refused == 0, "the built-in %s list: %zu lines, %zu refused%s%s", names[i], n, refused,
                       first ? ", e.g. " : "", strempty(first));
        }
}

/* test-tor-connection --render wait|direct|bridges [LINE...]: print the
 * file (for tests/static/connect.sh, which has tor check it). */
static int render_only(int argc, char **argv) {
        _cleanup_free_ char *text = NULL;
        int r;

        if (argc < 3)
                return 2;
        r = tor_connection_render(!streq(argv[2], "wait"), streq(argv[2], "bridges") ? argv + 3 : NULL, &text);
        if (r < 0)
                return 1;
        fputs(text, stdout);
        return 0;
}

int main(int argc, char **argv) {
        if (argc > 1 && streq(argv[1], "--render"))
                return render_only(argc, argv);
        tap_plan_lazy();

        good("obfs4 192.0.2.3:443 " FP " cert=AbCd+/0= iat-mode=0");
        good("Bridge obfs4 192.0.2.3:443 " FP " cert=AbCd+/0= iat-mode=0");
        good("  snowflake 192.0.2.4:80 " FP " fingerprint=" FP " url=https://example.org/ ice=stun:a:1,stun:b:2");
        good("192.0.2.5:9001");
        good("192.0.2.5:9001 " FP);
        good("[2001:db8::1]:443 " FP);
        good("obfs4\t192.0.2.3:443\t" FP);
        bad("", "no address");
        bad("Bridge", "not an address:port");
        bad("obfs4", "no address");
        bad("meek 192.0.2.3:443", "unknown transport");
        bad("webtunnel 192.0.2.3:443 " FP, "unknown transport");
        bad("192.0.2.3", "not an address:port");
        bad("192.0.2:443", "not an address:port");
        bad("1922.0.2.3:443", "not an address:port");
        bad("example.org:443", "not an address:port");
        bad("192.0.2.3:0", "1..65535");
        bad("192.0.2.3:65536", "1..65535");
        bad("192.0.2.3:123456", "not an address:port");
        bad("[]:443", "not an address:port");
        bad("[2001:db8::1]443", "not an address:port");
        bad("192.0.2.3:443 0123", "not a fingerprint");
        bad("192.0.2.3:443 " FP "0", "not a fingerprint");
        bad("192.0.2.3:443 " FP " =x", "KEY=VALUE");
        bad("192.0.2.3:443 " FP " cert", "KEY=VALUE");
        bad("192.0.2.3:443 " FP " ce.rt=x", "KEY=VALUE");
        /* Nothing may start a second torrc option. */
        bad("192.0.2.3:443\nExitNodes {us}", "printable ASCII");
        bad("192.0.2.3:443\rExitNodes {us}", "printable ASCII");
        bad("192.0.2.3:443 cert=\xc3\xa9", "printable ASCII");

        render(false, NULL, 0,
               "# whonix-build: how this Gateway connects, set by its recipe's [Tor] section (wait).\n"
               "# whonix-connect replaces this file with the choice made at the console.\n"
               "DisableNetwork 1\n",
               "wait");
        render(true, (const char *[]) { NULL }, 0,
               "# whonix-build: how this Gateway connects, set by its recipe's [Tor] section (direct).\n"
               "# whonix-connect replaces this file with the choice made at the console.\n"
               "UseBridges 0\n",
               "direct");
        render(true,
               (const char *[]) { "Bridge  snowflake 192.0.2.4:80 " FP " url=https://example.org/",
                            "192.0.2.5:9001", "obfs4\t192.0.2.3:443 " FP " cert=A iat-mode=0", NULL },
               0,
               "# whonix-build: how this Gateway connects, set by its recipe's [Tor] section (bridges).\n"
               "# whonix-connect replaces this file with the choice made at the console.\n"
               "UseBridges 1\n"
               "ClientTransportPlugin obfs4 exec /usr/bin/obfs4proxy\n"
               "ClientTransportPlugin snowflake exec /usr/bin/snowflake-client\n"
               "Bridge snowflake 192.0.2.4:80 " FP " url=https://example.org/\n"
               "Bridge 192.0.2.5:9001\n"
               "Bridge obfs4 192.0.2.3:443 " FP " cert=A iat-mode=0\n",
               "bridges, transports once each in table order, one blank between words");
        render(true, (const char *[]) { "192.0.2.5:9001", "192.0.2.5:9001\nExitNodes x", NULL }, -EINVAL, NULL,
               "a bad line among good ones");
        render(false, (const char *[]) { "192.0.2.5:9001", NULL }, -EINVAL, NULL, "bridges with wait");
        builtin_lists();
        return tap_done();
}
