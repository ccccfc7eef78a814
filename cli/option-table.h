/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>

/* The command line's options, once: getopt's table, the Options section of
 * --help (and so the man page, which is rendered from it) and the shell
 * completion are all made from this, so that the three never disagree. */

/* getopt's value: the short letter, or one of these for a long option only. */
enum {
        OPT_SUITE = 0x100,
        OPT_MIRROR,
        OPT_SNAPSHOT,
        OPT_PROXY,
        OPT_CACHE,
        OPT_DATA_DIR,
        OPT_UNTIL,
        OPT_SIGN_KEY,
        OPT_GPG_HOME,
        OPT_KEY,
        OPT_REBUILT,
        OPT_REBUILD_CACHE,
        OPT_OVA_PER_VM,
        OPT_STALL_TIMEOUT,
        OPT_JSON,
        OPT_MAX_AGE,
        OPT_MAX_SIZE,
        OPT_DRY_RUN,
        OPT_CONFIG,
        OPT_CONNECT,
        OPT_POOL,
        OPT_FORCE,
        OPT_VIRT_TYPE,
};

/* How the shell completes an option's value. */
typedef enum CompleteKind {
        COMPLETE_NONE,  /* a free value (a URL, a number): nothing to offer */
        COMPLETE_WORDS, /* one of the words in CliOption.words */
        COMPLETE_DIR,   /* a directory */
        COMPLETE_FILE,  /* a file */
        COMPLETE_STAGE, /* a stage of the pipeline (build_stage_name()) */
} CompleteKind;

typedef struct CliOption {
        int id;              /* getopt's value: 't', or OPT_* */
        const char *name;    /* the long name, without "--" */
        const char *arg;     /* the value's name in --help, NULL if it takes none */
        CompleteKind complete;
        const char *words;   /* COMPLETE_WORDS: the values, space-separated */
        const char *help;    /* --help's text; each '\n' starts a continuation line */
} CliOption;

const CliOption *cli_option_table(size_t *ret_n);
