/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Cache keys: equal inputs give equal keys, every input changes the key,
 * and the base key ignores the order of packages but nothing else. */
#include "bootstrap.h"
#include "cache.h"
#include "tap.h"

static char *key_of(const char *kind, const char *a, const char *b) {
        CacheKey k;

        cache_key_init(&k, kind);
        cache_key_add(&k, "a", a);
        cache_key_add(&k, "b", b);
        return cache_key_final(&k);
}

/* debootstrap: the SHA256 of the pinned debootstrap's .deb. */
static char *base_key(BootstrapSpec *s, const char *debootstrap) {
        char *k = NULL;

        s->debootstrap_sha256 = debootstrap;
        if (bootstrap_key(s, &k) < 0)
                return NULL;
        return k;
}

int main(void) {
        char *comp[] = { (char *) "main", NULL };
        char *inc1[] = { (char *) "systemd-sysv", (char *) "nftables", NULL };
        char *inc2[] = { (char *) "nftables", (char *) "systemd-sysv", NULL };
        char *inc3[] = { (char *) "nftables", NULL };
        BootstrapSpec s = {
                .mirror = "http://deb.debian.org/debian", .suite = "trixie", .architecture = "amd64",
                .variant = "minbase", .components = comp, .include = inc1, .keyring_path = "/k",
                .inrelease_sha256 = "aa",
        };
        _cleanup_free_ char *k1 = NULL, *k2 = NULL, *k3 = NULL, *k4 = NULL, *b1 = NULL, *b2 = NULL, *b3 = NULL,
                            *b4 = NULL, *b5 = NULL, *b6 = NULL, *b7 = NULL;

        tap_plan_lazy();

        k1 = key_of("x", "ab", "c");
        k2 = key_of("x", "ab", "c");
        k3 = key_of("x", "a", "bc");
        k4 = key_of("y", "ab", "c");
        tap_ok(k1 && strlen(k1) == 64, "a key is 64 hex digits");
        tap_ok(k1 && k2 && streq(k1, k2), "equal inputs give equal keys");
        tap_ok(k1 && k3 && !streq(k1, k3), "moving a byte between fields changes the key");
        tap_ok(k1 && k4 && !streq(k1, k4), "the kind is part of the key");

        b1 = base_key(&s, "app1");
        s.include = inc2;
        b2 = base_key(&s, "app1");
        tap_ok(b1 && b2 && streq(b1, b2), "package order does not change the base key");
        s.include = inc3;
        b3 = base_key(&s, "app1");
        tap_ok(b3 && !streq(b1, b3), "the package set changes the base key");
        s.include = inc1;
        s.inrelease_sha256 = "bb";
        b4 = base_key(&s, "app1");
        tap_ok(b4 && !streq(b1, b4), "the signed InRelease changes the base key");
        s.inrelease_sha256 = "aa";
        b5 = base_key(&s, "app2");
        tap_ok(b5 && !streq(b1, b5), "the pinned debootstrap's .deb changes the base key");
        s.suite = "bookworm";
        b6 = base_key(&s, "app1");
        tap_ok(b6 && !streq(b1, b6), "the suite changes the base key");
        s.suite = "trixie";
        s.mirror = "http://other.example/debian";
        b7 = base_key(&s, "app1");
        tap_ok(b7 && streq(b1, b7), "the mirror does not change the base key (the InRelease hash pins the content)");

        /* A relative cache directory becomes absolute: qemu resolves a
         * layer's backing path relative to the layer's own directory. */
        {
                char tmpl[] = "/tmp/wb-cache-XXXXXX";
                _cleanup_(cache_freep) Cache *c = NULL;
                ErrorSlot e = {};
                char *d = mkdtemp(tmpl);
                int r = d && chdir(d) == 0 ? cache_open(&e, "rel/cache", &c) : -EIO;
                _cleanup_free_ char *want = d ? strdup_printf("%s/rel/cache", d) : NULL;

                tap_ok(r == 0 && c && want && streq(c->dir, want), "cache_open(\"rel/cache\") keeps '%s'",
                       c ? c->dir : strempty(e.message));
                error_done(&e);
                c = cache_free(c);
                if (d) {
                        (void) chdir("/");
                        (void) rm_rf(d);
                }
        }
        /* Step times: noted, written with last-build, read by the next
         * opener; a line that is not "<step>\t<seconds>" is dropped. */
        {
                char tmpl[] = "/tmp/wb-cache-times-XXXXXX";
                _cleanup_(cache_freep) Cache *c = NULL, *c2 = NULL;
                ErrorSlot e = {};
                char *d = mkdtemp(tmpl);
                int r = d ? cache_open(&e, d, &c) : -EIO;

                tap_ok(r == 0 && cache_step_seconds(c, "bootstrap") == 0, "a new cache knows no step time");
                cache_note_step_seconds(c, "bootstrap", 546.64);
                cache_note_step_seconds(c, "customize gateway packages", 47.5);
                cache_note_step_seconds(c, "bootstrap", 533.0);
                cache_note_step_seconds(c, "bad\tname", 1.0);
                cache_note_step_seconds(c, "negative", -1.0);
                tap_ok(cache_step_seconds(c, "bootstrap") == 533.0 &&
                               cache_step_seconds(c, "customize gateway packages") == 47.5 &&
                               cache_step_seconds(c, "negative") == 0,
                       "the last time noted counts; a bad name or time is not noted");
                r = r == 0 ? cache_write_last_build(&e, c) : r;
                c = cache_free(c);
                _cleanup_free_ char *path = d ? strdup_printf("%s/step-times", d) : NULL, *text = NULL;
                size_t n;
                int rr = path ? read_full_file(path, 4096, &text, &n) : -ENOMEM;
                tap_ok(r == 0 && rr == 0 && streq(text, "bootstrap\t533.0\ncustomize gateway packages\t47.5\n"),
                       "written as '<step>\\t<seconds>' lines, sorted (%s)", strempty(text));
                FILE *f = path ? fopen(path, "a") : NULL;
                if (f) {
                        fputs("junk\nfinalize gateway\t91.2\nno-tab 3\n\tempty-name\nbig\t1e99\n", f);
                        fclose(f);
                }
                r = d ? cache_open(&e, d, &c2) : -EIO;
                tap_ok(r == 0 && cache_step_seconds(c2, "bootstrap") == 533.0 &&
                               cache_step_seconds(c2, "finalize gateway") == 91.2 && cache_step_seconds(c2, "big") == 0 &&
                               cache_step_seconds(c2, "junk") == 0 && strv_length(c2->step_times) == 3,
                       "the next opener reads them back, dropping the lines that are not step times");
                error_done(&e);
                c2 = cache_free(c2);
                if (d)
                        (void) rm_rf(d);
        }
        return tap_done();
}
