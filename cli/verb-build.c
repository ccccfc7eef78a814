/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cli.h"
#include "log.h"
#include "user-config.h"

int verb_build(const CliOptions *o, int argc, char **argv) {
        _cleanup_(build_report_done) BuildReport report = {};
        _cleanup_free_ char *error = NULL;
        ErrorSlot err = {};
        BuildOptions b = {
                .target = o->target,
                .flavors = o->flavors,
                .suite = o->suite,
                .mirror = o->mirror,
                .snapshot = o->snapshot,
                .proxy = o->proxy,
                .output_dir = o->output_dir,
                .cache_dir = o->cache_dir,
                .data_dir = o->data_dir,
                .jobs = o->jobs,
                .stall_seconds = o->stall_seconds,
                .verbose = o->verbose,
                .until = o->until,
                .source_date_epoch = o->source_date_epoch,
                .sign_key = o->sign_key,
                .gpg_home = o->gpg_home,
                .ova_per_vm = o->ova_per_vm,
                .report = o->json ? &report : NULL,
        };
        uint64_t start = now_usec();
        double seconds;
        int r, rc;

        /* Your settings: the file --config names (which must be there), else
         * the default one if there is one. */
        {
                _cleanup_free_ char *def = NULL;
                const char *path = o->config_path;
                UserConfig uc = {};

                if (!path && user_config_default_path(&def) >= 0)
                        path = def;
                r = path ? user_config_load(&err, path, o->config_path != NULL, &uc) : 0;
                if (r < 0) {
                        if (o->json)
                                error = strdup(error_text(&err, r));
                        rc = cli_call_outcome(&err, r, "", NULL);
                        if (o->json)
                                cli_print_build_json(o, &report, "failed", error, rc, 0);
                        return rc;
                }
                b.cache_max_bytes = uc.cache_max_bytes;
                b.cache_max_age_days = uc.cache_max_age_days;
        }

        r = build_run(&err, &b);
        if (r < 0 && o->json && !cancel_requested())
                error = strdup(error_text(&err, r));
        rc = cli_call_outcome(&err, r, "temporary files removed", NULL);
        seconds = (double) (now_usec() - start) / 1e6;
        if (rc >= 0) {
                if (o->json)
                        cli_print_build_json(o, &report, cancel_requested() ? "interrupted" : "failed", error, rc,
                                             seconds);
                return rc;
        }
        if (o->until)
                fprintf(stderr, "whonix-build: stopped after stage '%s' in %.1f s\n", o->until, seconds);
        else
                fprintf(stderr, "whonix-build: done in %.1f s, images in '%s'\n", seconds, o->output_dir);
        if (o->json)
                cli_print_build_json(o, &report, o->until ? "stopped" : "ok", NULL, EXIT_OK, seconds);
        return EXIT_OK;
}
