/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * whonix-build verify BUILDINFO [ARTIFACT_DIR]: what a third party runs to
 * check a release was built from its published source.  One verdict line
 * per artifact on stdout (stderr with --json, whose report is stdout's),
 * each difference indented under it; exit 0 only if every artifact and
 * every package list matches.
 */
#include "cli.h"
#include "verify.h"

int verb_verify(const CliOptions *o, int argc, char **argv) {
        _cleanup_(verify_report_freep) VerifyReport *rep = NULL;
        _cleanup_free_ char *mirror = NULL;
        int r = cli_pinned_inputs_mirror(o, &mirror);

        if (r != 0)
                return r;
        VerifyOptions vo = {
                .buildinfo_path = argv[0],
                .artifacts_dir = argc > 1 ? argv[1] : NULL,
                .rebuilt_dir = o->rebuilt_dir,
                .rebuild_cache_dir = o->rebuild_cache_dir,
                .output_dir = o->output_given ? o->output_dir : NULL,
                .cache_dir = o->cache_dir,
                .data_dir = o->data_dir,
                .proxy = o->proxy,
                .mirror = mirror,
                .jobs = o->jobs,
                .verbose = o->verbose,
        };
        ErrorSlot err = {};
        size_t bad = 0;

        r = verify_run(&err, &vo, &rep);
        _cleanup_free_ char *what = strdup_printf("cannot verify '%s'", vo.buildinfo_path), *error = NULL;
        if (r < 0 && o->json && !cancel_requested())
                error = strdup_printf("%s: %s", strempty(what), error_text(&err, r));
        bool interrupted = cancel_requested();
        r = cli_call_outcome(&err, r, "temporary files removed", what);
        if (r >= 0) {
                if (o->json)
                        cli_print_verify_json(vo.buildinfo_path, NULL, interrupted ? "interrupted" : "failed", error, r);
                return r;
        }

        /* With --json, the report is standard output's and the verdict
         * lines go to standard error. */
        FILE *out = o->json ? stderr : stdout;
        STRV_FOREACH(l, rep->package_diffs)
                fprintf(out, "PACKAGES %s\n", *l);
        STRV_FOREACH(l, rep->tool_diffs)
                fprintf(out, "TOOL    %s\n", *l);
        for (size_t i = 0; i < rep->n; i++) {
                const VerifyItem *it = &rep->items[i];

                /* The status in words where DIFFERS alone does not say it. */
                bool say = it->status != VERIFY_MATCH && it->status != VERIFY_DIFFER;
                fprintf(out, "%-7s %s  sha256 %s%s%s\n", it->status == VERIFY_MATCH ? "MATCH" : "DIFFERS", it->name,
                        it->pinned_sha256, say ? ": " : "", say ? verify_status_to_string(it->status) : "");
                if (it->status == VERIFY_DIFFER)
                        fprintf(out, "        rebuilt sha256 %s\n", it->rebuilt_sha256);
                STRV_FOREACH(l, it->explain)
                        fprintf(out, "        %s\n", *l);
                if (it->status != VERIFY_MATCH)
                        bad++;
        }
        fflush(out);
        if (o->json)
                cli_print_verify_json(vo.buildinfo_path, rep, rep->ok ? "match" : "differs", NULL,
                                      rep->ok ? EXIT_OK : EXIT_FAILED);
        if (rep->rebuilt_dir)
                fprintf(stderr, "whonix-build: the rebuilt artifacts are in '%s'\n", rep->rebuilt_dir);
        if (!rep->ok) {
                fprintf(stderr, "whonix-build: error: the release does NOT match its rebuild: %zu artifact(s) and %zu "
                                "package(s) differ\n",
                        bad, strv_length(rep->package_diffs));
                return EXIT_FAILED;
        }
        fprintf(stderr, "whonix-build: verified: all %zu artifact(s) were rebuilt bit for bit from the pinned inputs\n",
                rep->n);
        return EXIT_OK;
}
