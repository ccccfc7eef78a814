/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "build.h"
#include "cancel.h"
#include "util.h"

/* Exit codes (documented in --help and the README). */
enum {
        EXIT_OK = 0,
        EXIT_FAILED = 1,       /* the build or the verb failed */
        EXIT_USAGE = 2,        /* bad command line */
        EXIT_INTERRUPTED = 130 /* Ctrl-C / SIGTERM; temporary files removed */
};

typedef struct CliOptions {
        Target target;
        char **flavors;
        char *suite;
        char *mirror;
        char *snapshot;         /* --snapshot */
        char *proxy;
        char *output_dir;
        char *cache_dir;
        char *data_dir;
        unsigned jobs;
        unsigned stall_seconds; /* --stall-timeout; 0: the builder's default */
        bool verbose;
        char *until;
        int64_t source_date_epoch;
        char *sign_key;         /* --sign-key: fingerprint, uppercase */
        char *gpg_home;         /* --gpg-home */
        char *key_file;         /* --key: verify-signature's trusted public key */
        bool output_given;      /* --output was on the command line */
        bool ova_per_vm;        /* --ova-per-vm */
        char *rebuilt_dir;      /* --rebuilt: verify against an earlier rebuild */
        char *rebuild_cache_dir;   /* verify --rebuild-cache */
        bool json;              /* --json: a report on stdout */
        unsigned max_age_days;  /* --max-age; 0: none */
        uint64_t max_size;      /* --max-size in bytes; 0: none */
        bool dry_run;           /* --dry-run */
        char *config_path;      /* --config: the settings file (NULL: the default one, if there) */
        char *connect_uri;      /* install/uninstall --connect (NULL: qemu:///system) */
        char *pool;             /* install/uninstall --pool (NULL: default) */
        bool force;             /* install/uninstall --force */
        char *virt_type;        /* install --virt-type (NULL: the release's) */
} CliOptions;

typedef struct Verb {
        const char *name;
        int min_args, max_args;
        int (*fn)(const CliOptions *o, int argc, char **argv);
        const char *help;
} Verb;

const Verb *cli_verbs(size_t *ret_n);

/* Returns 1 to go on, 0 if --help/--version were handled, < 0 on a usage
 * error (already reported). */
int cli_parse_options(int argc, char **argv, CliOptions *o);
void cli_options_done(CliOptions *o);
void cli_install_sinks(const CliOptions *o);
void cli_print_help(FILE *f);
void cli_clear_progress(void);
/* After a library call: clears the progress line, then reports an
 * interruption ("interrupted; <interrupted>") or a failure ("error:
 * [<context>: ]<message>") and returns the exit code, or -1 to go on. */
int cli_call_outcome(ErrorSlot *err, int r, const char *interrupted, const char *context);

/* verify and sources: where the release's pinned inputs come from instead
 * of its buildinfo's mirror, from --mirror or --snapshot (*ret NULL: from
 * neither).  Returns 0, or the exit status (both given: a usage error,
 * said on stderr). */
int cli_pinned_inputs_mirror(const CliOptions *o, char **ret);

/* The build's report as JSON (schema 1, README) on stdout; result is "ok",
 * "stopped" (--until), "failed" or "interrupted", error NULL unless failed. */
void cli_print_build_json(const CliOptions *o, const BuildReport *r, const char *result, const char *error,
                          int exit_status, double seconds);

/* The other verbs' reports (README): result "ok"/"failed" (recipes),
 * "match"/"differs"/"failed"/"interrupted" (verify), "same"/"differ"/
 * "failed"/"interrupted" (compare); a NULL list writes an empty one. */
struct VerifyReport;
void cli_print_recipes_json(char * const *names, char * const *descriptions, const char *error, int exit_status);
void cli_print_verify_json(const char *buildinfo, const struct VerifyReport *rep, const char *result, const char *error,
                           int exit_status);
void cli_print_compare_json(const char *a, const char *b, char * const *differences, const char *result,
                            const char *error, int exit_status);

int verb_build(const CliOptions *o, int argc, char **argv);
int verb_recipes(const CliOptions *o, int argc, char **argv);
int verb_sign(const CliOptions *o, int argc, char **argv);
int verb_verify_signature(const CliOptions *o, int argc, char **argv);
int verb_verify(const CliOptions *o, int argc, char **argv);
int verb_sources(const CliOptions *o, int argc, char **argv);
int verb_rebuilderd_report(const CliOptions *o, int argc, char **argv);
int verb_compare(const CliOptions *o, int argc, char **argv);
int verb_completion(const CliOptions *o, int argc, char **argv);
int verb_install(const CliOptions *o, int argc, char **argv);
int verb_uninstall(const CliOptions *o, int argc, char **argv);
int verb_cache(const CliOptions *o, int argc, char **argv);
int verb_help(const CliOptions *o, int argc, char **argv);
int verb_version(const CliOptions *o, int argc, char **argv);
