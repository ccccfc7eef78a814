/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * whonix-build verify-signature DIR --key KEYFILE: what a user of a release
 * runs.  One line per file on stdout (OK or BAD, and why); exit 0 only if
 * SHA256SUMS and every file it lists are good.
 */
#include "cli.h"
#include "sign.h"

int verb_verify_signature(const CliOptions *o, int argc, char **argv) {
        _cleanup_(sign_report_freep) SignReport *rep = NULL;
        const SignVerdict *first_bad = NULL;
        const char *dir = argv[0];
        ErrorSlot err = {};
        int r;

        if (!o->key_file) {
                fprintf(stderr, "whonix-build: verify-signature needs --key, the publisher's public key (try --help)\n");
                return EXIT_USAGE;
        }

        r = sign_verify_dir(&err, dir, o->key_file, &rep);
        _cleanup_free_ char *what = strdup_printf("cannot verify '%s'", dir);
        r = cli_call_outcome(&err, r, "nothing was verified", what);
        if (r >= 0)
                return r;

        for (size_t i = 0; i < rep->n_verdicts; i++) {
                const SignVerdict *v = &rep->verdicts[i];

                printf("%-4s %s: %s\n", v->r < 0 ? "BAD" : "OK", v->name, v->message);
                if (v->r < 0 && !first_bad)
                        first_bad = v;
        }
        fflush(stdout);
        if (first_bad) {
                fprintf(stderr, "whonix-build: error: verification of '%s' failed: '%s': %s", dir, first_bad->name,
                        first_bad->message);
                if (rep->n_bad > 1)
                        fprintf(stderr, " (and %zu more bad file(s))", rep->n_bad - 1);
                fprintf(stderr, "\n");
                return EXIT_FAILED;
        }
        fprintf(stderr, "whonix-build: all %zu file(s) in '%s' match SHA256SUMS, signed by key %s\n",
                rep->n_verdicts - 1, dir, rep->key_fingerprint);
        return EXIT_OK;
}
