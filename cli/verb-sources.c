/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * whonix-build sources BUILDINFO DIR: write DIR as a Debian mirror of
 * exactly the packages the release pins (builder/sources.h), for a rebuild
 * long after Debian's mirrors moved on: verify --mirror URL, with DIR
 * served over HTTP.  One summary line on stdout.
 */
#include <inttypes.h>

#include "cli.h"
#include "sources.h"

int verb_sources(const CliOptions *o, int argc, char **argv) {
        _cleanup_(sources_report_done) SourcesReport rep = {};
        _cleanup_free_ char *mirror = NULL;
        int r = cli_pinned_inputs_mirror(o, &mirror);

        if (r != 0)
                return r;
        SourcesOptions so = {
                .buildinfo_path = argv[0],
                .output_dir = argv[1],
                .cache_dir = o->cache_dir,
                .data_dir = o->data_dir,
                .mirror = mirror,
                .proxy = o->proxy,
        };
        ErrorSlot err = {};

        (void) argc;
        r = sources_write(&err, &so, &rep);
        _cleanup_free_ char *what = strdup_printf("cannot write the sources of '%s' into '%s'", so.buildinfo_path,
                                                  so.output_dir);
        r = cli_call_outcome(&err, r, "what was written so far is checked and kept; run again to go on", what);
        if (r >= 0)
                return r;
        printf("%s: %zu packages (%.1f MiB) and %zu index files of the InRelease from %s; %zu files downloaded\n",
               so.output_dir, rep.n_packages, (double) rep.bytes / (1024.0 * 1024.0), rep.n_indexes,
               rep.inrelease_from, rep.n_downloaded);
        fflush(stdout);
        return EXIT_OK;
}
