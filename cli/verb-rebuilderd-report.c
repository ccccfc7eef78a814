/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * whonix-build rebuilderd-report URL [--key KEYFILE]: the release published
 * at URL (its SHA256SUMS and whonix.buildinfo, and with --key their
 * signatures) as rebuilderd's package report (builder/rebuilderd.h), on
 * stdout, for `rebuildctl pkgs sync-stdin whonix SUITE`.
 */
#include "cli.h"
#include "rebuilderd.h"

int verb_rebuilderd_report(const CliOptions *o, int argc, char **argv) {
        _cleanup_free_ char *json = NULL, *what = NULL;
        RebuilderdOptions ro = { .base_url = argv[0], .key_file = o->key_file, .proxy = o->proxy };
        ErrorSlot err = {};
        int r;

        (void) argc;
        r = rebuilderd_report(&err, &ro, &json);
        what = strdup_printf("cannot make the rebuilderd report of '%s'", ro.base_url);
        r = cli_call_outcome(&err, r, "nothing was printed", what);
        if (r >= 0)
                return r;
        fputs(json, stdout);
        fflush(stdout);
        if (!o->key_file)
                fprintf(stderr, "whonix-build: warning: no --key was given: the buildinfo was checked against "
                                "SHA256SUMS only, not against the publisher's signature\n");
        return EXIT_OK;
}
