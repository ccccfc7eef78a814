/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cli.h"
#include "log.h"

int verb_build(const CliOptions *o, int argc, char **argv) {
        ErrorSlot err = {};
        BuildOptions b = {
                .target = o->target,
                .flavors = o->flavors,
                .suite = o->suite,
                .mirror = o->mirror,
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
        };
        uint64_t start = now_usec();
        int r;

        r = build_run(&err, &b);
        r = cli_call_outcome(&err, r, "temporary files removed", NULL);
        if (r >= 0)
                return r;
        if (o->until)
                fprintf(stderr, "whonix-build: stopped after stage '%s' in %.1f s\n", o->until,
                        (double) (now_usec() - start) / 1e6);
        else
                fprintf(stderr, "whonix-build: done in %.1f s, images in '%s'\n", (double) (now_usec() - start) / 1e6,
                        o->output_dir);
        return EXIT_OK;
}
