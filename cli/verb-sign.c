/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * whonix-build sign DIR [FILE...] --sign-key FPR: the build's sign stage
 * on an existing directory, for publishers who sign elsewhere than they
 * build.  Without FILEs, every regular file of DIR that is not hidden, not
 * a signature and not SHA256SUMS.
 */
#include "cli.h"
#include "sign.h"

int verb_sign(const CliOptions *o, int argc, char **argv) {
        _cleanup_strv_free_ char **names = NULL;
        const char *dir = argv[0];
        ErrorSlot err = {};
        int r;

        if (!o->sign_key) {
                fprintf(stderr, "whonix-build: sign needs --sign-key (try --help)\n");
                return EXIT_USAGE;
        }
        if (argc > 1)
                names = strv_copy(argv + 1);
        else
                r = sign_list_artifacts(&err, dir, &names);
        if (!names) {
                fprintf(stderr, "whonix-build: error: %s\n", argc > 1 ? strerror(ENOMEM) : error_text(&err, r));
                error_done(&err);
                return EXIT_FAILED;
        }

        r = sign_artifacts(&err, dir, names, &(SignOptions) { .key = o->sign_key, .gpg_home = o->gpg_home });
        r = cli_call_outcome(&err, r, "nothing was signed", NULL);
        if (r >= 0)
                return r;
        fprintf(stderr, "whonix-build: signed %zu file(s) and SHA256SUMS in '%s' with key %s\n", strv_length(names),
                dir, o->sign_key);
        return EXIT_OK;
}
