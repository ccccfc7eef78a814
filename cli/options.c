/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <getopt.h>
#include <sys/stat.h>

#include "cache.h"
#include "cli.h"
#include "config.h"
#include "git-commit.h"
#include "gpgme-util.h"
#include "option-table.h"
#include "recipe.h"

/* The Options section, from the option table: the value's name after "=",
 * the text from column 32 (on the next line when the left part is too
 * wide), continuation lines indented to it. */
#define HELP_COLUMN 32

static void print_options(FILE *f) {
        size_t n;
        const CliOption *t = cli_option_table(&n);

        for (size_t i = 0; i < n; i++) {
                char left[128];
                int w;

                if (t[i].id < 0x100)
                        w = snprintf(left, sizeof left, "  -%c, --%s", t[i].id, t[i].name);
                else
                        w = snprintf(left, sizeof left, "      --%s", t[i].name);
                if (t[i].arg && w > 0 && (size_t) w < sizeof left)
                        w += snprintf(left + w, sizeof left - (size_t) w, "=%s", t[i].arg);
                if (w <= HELP_COLUMN - 2)
                        fprintf(f, "%-*s", HELP_COLUMN, left);
                else
                        fprintf(f, "%s\n%*s", left, HELP_COLUMN, "");
                for (const char *p = t[i].help; *p;) {
                        size_t l = strcspn(p, "\n");

                        fprintf(f, "%.*s\n", (int) l, p);
                        p += l;
                        if (*p == '\n') {
                                p++;
                                fprintf(f, "%*s", HELP_COLUMN, "");
                        }
                }
        }
}

/* One text for --help and the man page (whonix-build.1 is generated from
 * `whonix-build --help`). */
void cli_print_help(FILE *f) {
        size_t n;
        const Verb *v = cli_verbs(&n);

        fprintf(f,
                "Usage: whonix-build [build] [OPTIONS]\n"
                "       whonix-build recipes\n"
                "       whonix-build sign DIR [FILE...] --sign-key=FINGERPRINT [--gpg-home=DIR]\n"
                "       whonix-build verify-signature DIR --key=KEYFILE\n"
                "       whonix-build verify BUILDINFO [ARTIFACT_DIR] [--output=DIR] [--rebuilt=DIR]\n"
                "                           [--mirror=URL | --snapshot=STAMP|URL]\n"
                "       whonix-build sources BUILDINFO DIR [--mirror=URL | --snapshot=STAMP|URL]\n"
                "       whonix-build rebuilderd-report URL [--key=KEYFILE]\n"
                "       whonix-build compare IMAGE_A IMAGE_B\n"
                "       whonix-build cache [list | prune --max-age=DAYS | --max-size=SIZE [--dry-run]]\n"
                "       whonix-build completion bash|zsh\n"
                "\n"
                "Build the Whonix Gateway and Workstation virtual machines from the recipes,\n"
                "rootless: Debian is bootstrapped inside the libguestfs appliance from an\n"
                "archive whose signature is checked against the keys shipped in keys/.\n"
                "\n"
                "Verbs:\n");
        for (size_t i = 0; i < n; i++)
                fprintf(f, "  %-17s %s\n", v[i].name, v[i].help);
        fprintf(f, "\n"
                   "Options:\n");
        print_options(f);
        fprintf(f,
                "\n"
                "Environment:\n"
                "  SOURCE_DATE_EPOCH             the time stamped into the images (default: the\n"
                "                                Date of the archive's signed Release file)\n"
                "  WHONIX_BUILD_DATA_DIR         where recipes/, keys/ and overlays/ are\n"
                "\n"
                "Exit status:\n"
                "  0    success\n"
                "  1    the build failed, or a verification found a bad file (the message says why)\n"
                "  2    usage error (unknown option or bad value)\n"
                "  129, 130, 143  interrupted by SIGHUP, SIGINT, SIGTERM; temporary files were removed\n");
}


static int usage_error(const char *fmt, ...) _printf_(1, 2);
static int usage_error(const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "whonix-build: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, " (try --help)\n");
        return -EINVAL;
}

/* Stores value in *field unless why says what is wrong with it (a usage
 * error that shows the value escaped, then hint). */
static int set_checked(char **field, const char *option, const char *value, const char *why, const char *hint) {
        if (why) {
                _cleanup_free_ char *shown = escape_for_message(value, true);

                return usage_error("bad --%s '%s': %s%s", option, strempty(shown), why, hint);
        }
        return free_and_strdup(field, value) < 0 ? -ENOMEM : 0;
}

/* The pairs --flavor names: a Gateway and the Workstations that go with it. */
static const struct {
        const char *name;
        const char *flavors;
} flavor_sets[] = {
        { "cli", "gateway,workstation" },
        { "desktop", "gateway,workstation-desktop" },
        { "all", "gateway,workstation,workstation-desktop" },
};

/* --flavor=LIST: flavors and pair names, comma-separated; each flavor once,
 * in the order first named. */
static int set_flavors(CliOptions *o, const char *v) {
        _cleanup_strv_free_ char **words = NULL, **flavors = NULL;
        int r;

        r = strv_split(v, ",", &words);
        if (r < 0)
                return r;
        if (!words[0])
                return usage_error("bad --flavor '': expected a flavor or a pair (cli, desktop, all)");
        STRV_FOREACH(w, words) {
                _cleanup_strv_free_ char **expanded = NULL;
                const char *why;

                for (size_t i = 0; i < ELEMENTSOF(flavor_sets) && !expanded; i++)
                        if (streq(*w, flavor_sets[i].name) && strv_split(flavor_sets[i].flavors, ",", &expanded) < 0)
                                return -ENOMEM;
                if (!expanded) {
                        if ((why = recipe_flavor_check(*w))) {
                                _cleanup_free_ char *shown = escape_for_message(*w, true);

                                return usage_error("bad --flavor '%s': %s, or a pair: cli, desktop, all",
                                                   strempty(shown), why);
                        }
                        if (strv_extend(&expanded, *w) < 0)
                                return -ENOMEM;
                }
                STRV_FOREACH(f, expanded)
                        if (!strv_contains(flavors, *f) && strv_extend(&flavors, *f) < 0)
                                return -ENOMEM;
        }
        strv_free(o->flavors);
        o->flavors = TAKE_PTR(flavors);
        return 0;
}

/* Whether dir holds a data dir's recipes/ and keys/. */
static bool is_data_dir(const char *dir) {
        _cleanup_free_ char *r = path_join(dir, "recipes"), *k = path_join(dir, "keys");
        struct stat st;

        return r && k && stat(r, &st) == 0 && S_ISDIR(st.st_mode) && stat(k, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Where recipes/, keys/ and overlays/ are, without --data-dir: the
 * environment's WHONIX_BUILD_DATA_DIR; else the current directory, if it
 * holds recipes/ and keys/ (a recipe tree of your own, as with mkosi);
 * else, for the binary in its own build tree, that checkout; else the
 * installed ones (DATADIR, /usr/share/whonix-build). */
static int default_data_dir(char **ret) {
        const char *e = getenv("WHONIX_BUILD_DATA_DIR");
        _cleanup_free_ char *self = NULL, *cwd = NULL, *build = NULL;
        const char *dir = DATADIR;

        if (!isempty(e))
                dir = e;
        else if ((cwd = getcwd(NULL, 0)) && is_data_dir(cwd))
                dir = cwd;
        else if ((self = realpath("/proc/self/exe", NULL)) && (build = realpath(BUILD_ROOT, NULL)) &&
                 path_is_under(self, build) && is_data_dir(SOURCE_ROOT))
                dir = SOURCE_ROOT;
        *ret = strdup(dir);
        return *ret ? 0 : -ENOMEM;
}

int cli_parse_options(int argc, char **argv, CliOptions *o) {
        size_t n_table;
        const CliOption *table = cli_option_table(&n_table);
        _cleanup_free_ struct option *options = calloc(n_table + 1, sizeof *options);
        /* ":" first: a missing value is reported as such. */
        char shortopts[2 + 2 * 26 * 2 + 1] = ":";
        size_t k = 1;

        if (!options)
                return -ENOMEM;
        for (size_t i = 0; i < n_table; i++) {
                options[i] = (struct option) { table[i].name, table[i].arg ? required_argument : no_argument, NULL,
                                               table[i].id };
                if (table[i].id < 0x100 && k + 2 < sizeof shortopts) {
                        shortopts[k++] = (char) table[i].id;
                        if (table[i].arg)
                                shortopts[k++] = ':';
                }
        }
        shortopts[k] = 0;
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        int c, r;

        o->target = TARGET_KVM;
        o->source_date_epoch = -1;
        o->jobs = ncpu > 0 ? (unsigned) ncpu : 1;
        r = set_flavors(o, "cli");
        if (r < 0)
                return r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, shortopts, options, NULL)) >= 0) {
                switch (c) {
                case 't':
                        if (target_from_string(optarg, &o->target) < 0)
                                return usage_error("bad --target '%s': expected kvm or virtualbox", optarg);
                        break;
                case 'f':
                        r = set_flavors(o, optarg);
                        if (r < 0)
                                return r;
                        break;
                case OPT_SUITE:
                        r = set_checked(&o->suite, "suite", optarg,
                                        optarg[0] ? recipe_check_suite(optarg) : "it is empty",
                                        " (a Debian suite name such as trixie)");
                        if (r < 0)
                                return r;
                        break;
                case OPT_MIRROR:
                        r = set_checked(&o->mirror, "mirror", optarg, recipe_check_mirror(optarg), "");
                        if (r < 0)
                                return r;
                        /* No trailing slash: URLs are joined with one. */
                        for (size_t l = strlen(o->mirror); l > 8 && o->mirror[l - 1] == '/'; l--)
                                o->mirror[l - 1] = 0;
                        break;
                case OPT_SNAPSHOT:
                        r = set_checked(&o->snapshot, "snapshot", optarg, recipe_check_snapshot(optarg), "");
                        if (r < 0)
                                return r;
                        break;
                case OPT_PROXY:
                        r = set_checked(&o->proxy, "proxy", optarg, recipe_check_proxy(optarg), "");
                        if (r < 0)
                                return r;
                        break;
                case 'o':
                        if (isempty(optarg))
                                return usage_error("--output needs a directory");
                        if (free_and_strdup(&o->output_dir, optarg) < 0)
                                return -ENOMEM;
                        o->output_given = true;
                        break;
                case OPT_OVA_PER_VM:
                        o->ova_per_vm = true;
                        break;
                case OPT_REBUILT:
                        if (isempty(optarg))
                                return usage_error("--rebuilt needs a directory");
                        if (free_and_strdup(&o->rebuilt_dir, optarg) < 0)
                                return -ENOMEM;
                        break;
                case OPT_REBUILD_CACHE:
                        if (isempty(optarg))
                                return usage_error("--rebuild-cache needs a directory");
                        if (free_and_strdup(&o->rebuild_cache_dir, optarg) < 0)
                                return -ENOMEM;
                        break;
                case OPT_CACHE:
                        if (isempty(optarg))
                                return usage_error("--cache needs a directory");
                        if (free_and_strdup(&o->cache_dir, optarg) < 0)
                                return -ENOMEM;
                        break;
                case OPT_DATA_DIR:
                        if (isempty(optarg))
                                return usage_error("--data-dir needs a directory");
                        if (free_and_strdup(&o->data_dir, optarg) < 0)
                                return -ENOMEM;
                        break;
                case OPT_UNTIL:
                        if (!build_stage_valid(optarg))
                                return usage_error("bad --until '%s': expected a stage such as fetch or bootstrap",
                                                   optarg);
                        if (free_and_strdup(&o->until, optarg) < 0)
                                return -ENOMEM;
                        break;
                case OPT_SIGN_KEY: {
                        /* Exactly one key: a user ID or short ID could match
                         * several, or the wrong one. */
                        const char *v = startswith(optarg, "0x") ?: optarg;

                        if (!openpgp_fingerprint_valid(v))
                                return usage_error("bad --sign-key '%s': expected the key's full fingerprint "
                                                   "(40 or 64 hex digits)", optarg);
                        if (free_and_strdup(&o->sign_key, v) < 0)
                                return -ENOMEM;
                        hex_upper(o->sign_key);
                        break;
                }
                case OPT_GPG_HOME:
                        if (isempty(optarg))
                                return usage_error("--gpg-home needs a directory");
                        if (free_and_strdup(&o->gpg_home, optarg) < 0)
                                return -ENOMEM;
                        break;
                case OPT_KEY:
                        if (isempty(optarg))
                                return usage_error("--key needs a key file");
                        if (free_and_strdup(&o->key_file, optarg) < 0)
                                return -ENOMEM;
                        break;
                case OPT_STALL_TIMEOUT:
                        if (safe_atou(optarg, &o->stall_seconds) < 0 || o->stall_seconds < 10 ||
                            o->stall_seconds > 86400)
                                return usage_error("bad --stall-timeout '%s': expected seconds from 10 to 86400", optarg);
                        break;
                case 'j':
                        if (safe_atou(optarg, &o->jobs) < 0 || o->jobs == 0 || o->jobs > 64)
                                return usage_error("bad --jobs '%s': expected a number from 1 to 64", optarg);
                        break;
                case 'v':
                        o->verbose = true;
                        break;
                case OPT_JSON:
                        o->json = true;
                        break;
                case OPT_MAX_AGE:
                        if (safe_atou(optarg, &o->max_age_days) < 0 || o->max_age_days == 0 ||
                            o->max_age_days > 36500)
                                return usage_error("bad --max-age '%s': expected days, from 1", optarg);
                        break;
                case OPT_MAX_SIZE:
                        if (parse_size(optarg, &o->max_size) < 0)
                                return usage_error("bad --max-size '%s': expected a size such as 20G or 500M", optarg);
                        break;
                case OPT_DRY_RUN:
                        o->dry_run = true;
                        break;
                case OPT_CONFIG:
                        if (free_and_strdup(&o->config_path, optarg) < 0)
                                return -ENOMEM;
                        break;
                case OPT_CONNECT:
                        if (isempty(optarg))
                                return usage_error("--connect needs a libvirt URI (e.g. qemu:///system)");
                        if (free_and_strdup(&o->connect_uri, optarg) < 0)
                                return -ENOMEM;
                        break;
                case OPT_POOL:
                        if (isempty(optarg))
                                return usage_error("--pool needs a storage pool's name");
                        if (free_and_strdup(&o->pool, optarg) < 0)
                                return -ENOMEM;
                        break;
                case OPT_FORCE:
                        o->force = true;
                        break;
                case OPT_VIRT_TYPE:
                        if (!streq(optarg, "kvm") && !streq(optarg, "qemu"))
                                return usage_error("bad --virt-type '%s': expected kvm or qemu", optarg);
                        if (free_and_strdup(&o->virt_type, optarg) < 0)
                                return -ENOMEM;
                        break;
                case 'h':
                        cli_print_help(stdout);
                        return 0;
                case 'V':
                        printf("whonix-build %s (%s)\n", PACKAGE_VERSION, GIT_COMMIT);
                        return 0;
                case ':':
                        return usage_error("option '%s' needs a value", argv[optind - 1]);
                default:
                        return usage_error("unknown option '%s'", argv[optind - 1]);
                }
        }

        /* The reproducible-builds convention; else the Release file's Date. */
        const char *sde = getenv("SOURCE_DATE_EPOCH");
        if (!isempty(sde)) {
                uint64_t v;
                if (safe_atou64(sde, &v) < 0 || v > INT64_MAX)
                        return usage_error("bad SOURCE_DATE_EPOCH '%s': expected seconds since 1970", sde);
                o->source_date_epoch = (int64_t) v;
        }
        if (!o->output_dir && !(o->output_dir = strdup("out")))
                return -ENOMEM;
        if (!o->cache_dir && cache_default_dir(&o->cache_dir) < 0)
                return usage_error("cannot tell the cache directory: set --cache, XDG_CACHE_HOME or HOME");
        if (!o->data_dir && default_data_dir(&o->data_dir) < 0)
                return -ENOMEM;
        return 1;
}

int cli_pinned_inputs_mirror(const CliOptions *o, char **ret) {
        *ret = NULL;
        if (o->mirror && o->snapshot) {
                fprintf(stderr, "whonix-build: --mirror and --snapshot both say where the release's packages come from: "
                                "give one\n");
                return EXIT_USAGE;
        }
        if (!o->mirror && !o->snapshot)
                return 0;
        *ret = o->snapshot ? recipe_snapshot_url(o->snapshot) : strdup(o->mirror);
        return *ret ? 0 : EXIT_FAILED;
}

void cli_options_done(CliOptions *o) {
        strv_free(o->flavors);
        free(o->suite);
        free(o->mirror);
        free(o->snapshot);
        free(o->proxy);
        free(o->output_dir);
        free(o->cache_dir);
        free(o->data_dir);
        free(o->until);
        free(o->sign_key);
        free(o->gpg_home);
        free(o->key_file);
        free(o->rebuilt_dir);
        free(o->rebuild_cache_dir);
        free(o->config_path);
        free(o->connect_uri);
        free(o->virt_type);
        free(o->pool);
}
