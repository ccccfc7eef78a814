/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * whonix-build install [DIR] / uninstall [DIR]: a --target kvm release (DIR,
 * default the build's output, "out") into libvirt and out again
 * (builder/install.h).  One line per domain and network on stdout: what was
 * done, or with --dry-run what would be.
 */
#include "cli.h"
#include "install.h"

static int run(const CliOptions *o, int argc, char **argv, bool install) {
        _cleanup_strv_free_ char **actions = NULL;
        InstallOptions io = {
                .dir = argc > 0 ? argv[0] : o->output_dir,
                .uri = o->connect_uri,
                .pool = o->pool,
                .force = o->force,
                .dry_run = o->dry_run,
                .virt_type = o->virt_type,
        };
        ErrorSlot err = {};
        int r;

        r = install ? install_run(&err, &io, &actions) : uninstall_run(&err, &io, &actions);
        _cleanup_free_ char *what = strdup_printf("cannot %s '%s'", install ? "install" : "uninstall", io.dir);
        r = cli_call_outcome(&err, r, install ? "what was installed so far stays (run install again)" : "",
                             what);
        if (r >= 0)
                return r;
        STRV_FOREACH(a, actions)
                printf("%s\n", *a);
        fflush(stdout);
        if (o->dry_run)
                fprintf(stderr, "whonix-build: --dry-run: nothing was changed at '%s'\n",
                        io.uri ?: INSTALL_DEFAULT_URI);
        return EXIT_OK;
}

int verb_install(const CliOptions *o, int argc, char **argv) {
        return run(o, argc, argv, true);
}

int verb_uninstall(const CliOptions *o, int argc, char **argv) {
        return run(o, argc, argv, false);
}
