/* SPDX-License-Identifier: GPL-2.0-or-later */
/* whonix-build cache [list]: what the build cache holds, with sizes and last
 * use; whonix-build cache prune: make it smaller, never touching what the
 * last build used or what a kept layer stands on (cache-entries.h). */
#include <time.h>

#include "cache-entries.h"
#include "cli.h"

static void human(uint64_t bytes, char *buf, size_t size) {
        static const char * const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        double v = (double) bytes;
        unsigned u = 0;

        while (v >= 1024.0 && u + 1 < ELEMENTSOF(unit)) {
                v /= 1024.0;
                u++;
        }
        snprintf(buf, size, u == 0 ? "%.0f %s" : "%.1f %s", v, unit[u]);
}

static void when(int64_t t, char *buf, size_t size) {
        time_t tt = (time_t) t;
        struct tm tm;

        if (!localtime_r(&tt, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M", &tm) == 0)
                snprintf(buf, size, "?");
}

/* The entry's key, shortened as the stage lines show it. */
static void short_name(const CacheEntry *e, char *buf, size_t size) {
        const char *base = strchr(e->name, '/');

        base = base ? base + 1 : e->name;
        size_t l = strcspn(base, ".");

        snprintf(buf, size, "%.*s", (int) (l < 16 ? l : 16), base);
}

static int list(const CliOptions *o) {
        _cleanup_(cache_freep) Cache *c = NULL;
        CacheEntry *e = NULL;
        ErrorSlot err = {};
        uint64_t total = 0, unused = 0;
        size_t n = 0;
        int r;

        r = cache_open_unlocked(&err, o->cache_dir, &c);
        if (r >= 0)
                r = cache_list(&err, c, &e, &n);
        if ((r = cli_call_outcome(&err, r, "", "cache")) >= 0)
                return r;
        printf("%-10s %-16s %10s  %-16s  %s\n", "KIND", "KEY", "SIZE", "LAST USED", "LAST BUILD");
        for (size_t i = 0; i < n; i++) {
                char size[32], t[32], key[20];

                human(e[i].bytes, size, sizeof size);
                when(e[i].last_used, t, sizeof t);
                short_name(&e[i], key, sizeof key);
                printf("%-10s %-16s %10s  %-16s  %s\n", e[i].kind, key, size, t, e[i].last_build ? "yes" : "");
                total += e[i].bytes;
                if (!e[i].last_build)
                    unused += e[i].bytes;
        }
        {
                char a[32], b[32];

                human(total, a, sizeof a);
                human(unused, b, sizeof b);
                printf("%zu entries, %s in '%s'; %s of them not used by the last build\n", n, a, c->dir, b);
        }
        cache_entries_free(e, n);
        return EXIT_OK;
}

static int prune(const CliOptions *o) {
        _cleanup_(cache_freep) Cache *c = NULL;
        CachePrunePolicy p = {
                .max_age = (int64_t) o->max_age_days * 86400,
                .max_bytes = o->max_size,
                .now = (int64_t) time(NULL),
                .dry_run = o->dry_run,
        };
        CacheEntry *e = NULL;
        ErrorSlot err = {};
        uint64_t freed = 0;
        size_t n = 0;
        int r;

        if (o->max_age_days == 0 && o->max_size == 0) {
                fprintf(stderr, "whonix-build: cache prune needs --max-age=DAYS or --max-size=SIZE (try --help)\n");
                return EXIT_USAGE;
        }
        /* The lock: no build is using the cache while entries go. */
        r = cache_open(&err, o->cache_dir, &c);
        if (r >= 0)
                r = cache_prune(&err, c, &p, &e, &n);
        if ((r = cli_call_outcome(&err, r, "nothing half-removed", "cache prune")) >= 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                char size[32], t[32];

                human(e[i].bytes, size, sizeof size);
                when(e[i].last_used, t, sizeof t);
                printf("%s %s (%s, last used %s)\n", o->dry_run ? "would remove" : "removed", e[i].name, size, t);
                freed += e[i].bytes;
        }
        {
                char a[32];

                human(freed, a, sizeof a);
                printf("%s %s in %zu entries\n", o->dry_run ? "would free" : "freed", a, n);
        }
        cache_entries_free(e, n);
        return EXIT_OK;
}

int verb_cache(const CliOptions *o, int argc, char **argv) {
        if (argc == 0 || streq(argv[0], "list"))
                return list(o);
        if (streq(argv[0], "prune"))
                return prune(o);
        fprintf(stderr, "whonix-build: cache: unknown subcommand '%s' (expected list or prune)\n", argv[0]);
        return EXIT_USAGE;
}
