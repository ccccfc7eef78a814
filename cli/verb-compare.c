/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * whonix-build compare IMAGE_A IMAGE_B: the files that differ between two
 * disk images (content, mode, owner, mtime, symlink target, presence), one
 * line each (or, with --json, a report listing them); exit 0 if none
 * differ, 1 if some do.
 */
#include "cache.h"
#include "cli.h"
#include "compare.h"
#include "supermin.h"

int verb_compare(const CliOptions *o, int argc, char **argv) {
        _cleanup_(cache_freep) Cache *cache = NULL;
        _cleanup_strv_free_ char **lines = NULL;
        _cleanup_free_ char *appliance = NULL;
        ErrorSlot err = {};
        bool reused;
        int r;

        DiskHeader h;

        /* Both images checked before an appliance is even built. */
        r = image_check(&err, argv[0], &h);
        if (r >= 0)
                r = image_check(&err, argv[1], &h);
        if (r >= 0)
                r = cache_open(&err, o->cache_dir, &cache);
        if (r >= 0)
                r = supermin_prepare(&err, cache, &appliance, &reused);
        if (r >= 0)
                r = image_compare(&err, appliance, argv[0], argv[1], &lines);
        _cleanup_free_ char *what = strdup_printf("cannot compare '%s' and '%s'", argv[0], argv[1]), *error = NULL;
        if (r < 0 && o->json && !cancel_requested())
                error = strdup_printf("%s: %s", strempty(what), error_text(&err, r));
        bool interrupted = cancel_requested();
        r = cli_call_outcome(&err, r, "nothing was compared", what);
        if (r >= 0) {
                if (o->json)
                        cli_print_compare_json(argv[0], argv[1], NULL, interrupted ? "interrupted" : "failed", error, r);
                return r;
        }
        if (o->json)
                cli_print_compare_json(argv[0], argv[1], lines, strv_length(lines) > 0 ? "differ" : "same", NULL,
                                       strv_length(lines) > 0 ? EXIT_FAILED : EXIT_OK);
        else {
                STRV_FOREACH(l, lines)
                        printf("%s\n", *l);
                fflush(stdout);
        }
        if (strv_length(lines) > 0) {
                fprintf(stderr, "whonix-build: %zu difference(s) between '%s' (A) and '%s' (B)\n", strv_length(lines),
                        argv[0], argv[1]);
                return EXIT_FAILED;
        }
        fprintf(stderr, "whonix-build: the files of '%s' and '%s' are the same\n", argv[0], argv[1]);
        return EXIT_OK;
}
