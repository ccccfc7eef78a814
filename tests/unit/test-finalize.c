/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The image's apt sources: the recipe's [Apt] mirrors as deb822 stanzas for
 * the suite, -updates and -security, and nothing of the build's mirror. */
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
        return tap_done();
}
