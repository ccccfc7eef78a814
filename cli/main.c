/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * whonix-build: the thin front end.  It parses the command line, installs the
 * log and progress sinks and the signal handlers, and dispatches to a verb.
 * All the work happens in the library (builder/).
 */
#include <getopt.h>
#include <limits.h>
#include <signal.h>

#include "cli.h"
#include "config.h"
#include "log.h"

static const Verb verbs[] = {
        { "build",            0, 0,       verb_build,            "build the images (the default verb)" },
        { "recipes",          0, 0,       verb_recipes,          "list the recipes and what they build" },
        { "sign",             1, INT_MAX, verb_sign,             "sign DIR's files (or the FILEs in it) with --sign-key" },
        { "verify-signature", 1, 1,       verb_verify_signature, "check DIR's SHA256SUMS and signatures against --key" },
        { "verify",           1, 2,       verb_verify,           "rebuild BUILDINFO's release and compare with ARTIFACT_DIR" },
        { "sources",          2, 2,       verb_sources,          "write DIR as a Debian mirror of exactly what BUILDINFO pins" },
        { "rebuilderd-report", 1, 1,      verb_rebuilderd_report, "print rebuilderd's package report of the release at URL" },
        { "compare",          2, 2,       verb_compare,          "list the files that differ between two disk images" },
        { "cache",            0, 1,       verb_cache,            "list the build cache, or prune it (cache prune)" },
        { "install",          0, 1,       verb_install,          "define DIR's (or out's) images, domains and networks in libvirt" },
        { "uninstall",        0, 1,       verb_uninstall,        "remove from libvirt what install of DIR (or out) defined" },
        { "completion",       1, 1,       verb_completion,       "print the completion script for SHELL (bash or zsh)" },
        { "help",             0, 0,       verb_help,             "show this help" },
        { "version",          0, 0,       verb_version,          "show the version" },
};

const Verb *cli_verbs(size_t *ret_n) {
        *ret_n = ELEMENTSOF(verbs);
        return verbs;
}

static void on_signal(int sig) {
        /* Async-signal-safe: a flag and kill(2). */
        cancel_request_by_signal(sig);
}

static void install_signal_handlers(void) {
        struct sigaction sa = { .sa_handler = on_signal };

        sigemptyset(&sa.sa_mask);
        (void) sigaction(SIGINT, &sa, NULL);
        (void) sigaction(SIGTERM, &sa, NULL);
        (void) sigaction(SIGHUP, &sa, NULL);
        /* A peer that goes away (an appliance whose qemu died or was
         * stopped by the watchdog, the reader of a pipe) must be an error
         * that is reported and cleaned up after, cache and temporary files
         * in order, not a silent death: a CI rehearsal saw compare killed
         * by SIGPIPE (exit 141, no message).  spawn() gives its children
         * the default back. */
        (void) signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv) {
        _cleanup_(cli_options_done) CliOptions o = {};
        const Verb *verb = NULL;
        const char *name;
        int r, nargs;

        r = cli_parse_options(argc, argv, &o);
        if (r < 0)
                return EXIT_USAGE;
        if (r == 0)
                return EXIT_OK; /* --help or --version done */

        name = optind < argc ? argv[optind] : "build";
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, name))
                        verb = &verbs[i];
        if (!verb) {
                fprintf(stderr, "whonix-build: unknown verb '%s' (try --help)\n", name);
                return EXIT_USAGE;
        }
        nargs = optind < argc ? argc - optind - 1 : 0;
        if (nargs < verb->min_args || nargs > verb->max_args) {
                fprintf(stderr, "whonix-build: '%s' takes %s arguments (try --help)\n", verb->name,
                        verb->max_args == 0 ? "no" : "other");
                return EXIT_USAGE;
        }

        cli_install_sinks(&o);
        install_signal_handlers();
        return verb->fn(&o, nargs, argv + argc - nargs);
}
