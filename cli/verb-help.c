/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cli.h"
#include "config.h"
#include "git-commit.h"

int verb_help(const CliOptions *o, int argc, char **argv) {
        cli_print_help(stdout);
        return EXIT_OK;
}

int verb_version(const CliOptions *o, int argc, char **argv) {
        printf("whonix-build %s (%s)\n", PACKAGE_VERSION, GIT_COMMIT);
        return EXIT_OK;
}
