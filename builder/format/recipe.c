/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>

#include "recipe.h"
#include "tor-connection.h"

#define RECIPE_FILE_MAX (1024 * 1024)
#define RECIPE_LINE_MAX 4096
#define RECIPE_DEPTH_MAX 8
#define RECIPE_FILES_MAX 64

#define MEMORY_DEFAULT_MIB 1024
#define MEMORY_MIN (UINT64_C(256) << 20)
#define MEMORY_MAX (UINT64_C(1) << 40)
#define CPUS_MAX 64u
#define DISK_SIZE_DEFAULT (UINT64_C(100) << 30)
#define DISK_SIZE_MIN (UINT64_C(2) << 30)
#define DISK_SIZE_MAX (UINT64_C(64) << 40)

#define LOWER "abcdefghijklmnopqrstuvwxyz"
#define UPPER "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DIGITS "0123456789"

/* ---- validators: NULL if the value is fine, else why it is not ---- */

typedef const char *(*Validator)(const char *s);

static bool only(const char *s, const char *set) {
        return s[strspn(s, set)] == 0;
}

static bool first_in(const char *s, const char *set) {
        return *s && strchr(set, *s);
}

static const char *check_text(const char *s) {
        for (const unsigned char *c = (const unsigned char *) s; *c; c++)
                if (*c < 0x20 || *c == 0x7f)
                        return "control characters are not allowed";
        /* It ends up in the OVF and in libvirt's XML, which must be UTF-8. */
        return utf8_is_valid(s) ? NULL : "not valid UTF-8";
}

/* "gateway" or "workstation", alone or with a variant after a dash
 * ("workstation-desktop"): lowercase letters and digits, at most 32 bytes
 * in all.  The part before the dash is the machine's role. */
const char *recipe_flavor_check(const char *s) {
        const char *dash;

        if (strlen(s) > 32)
                return "must be at most 32 characters";
        dash = strchr(s, '-');
        if (!recipe_flavor_role(s))
                return "must be 'gateway' or 'workstation', or one of them with a variant after a dash "
                       "(e.g. 'workstation-desktop')";
        if (dash && (!dash[1] || strspn(dash + 1, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(dash + 1)))
                return "a flavor's variant is lowercase letters and digits (e.g. 'workstation-desktop')";
        return NULL;
}

const char *recipe_flavor_role(const char *flavor) {
        static const char *const roles[] = { "gateway", "workstation" };

        if (!flavor)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(roles); i++) {
                size_t n = strlen(roles[i]);

                if (strncmp(flavor, roles[i], n) == 0 && (flavor[n] == 0 || flavor[n] == '-'))
                        return roles[i];
        }
        return NULL;
}

size_t recipe_pair_count(char * const *flavors) {
        size_t n = 0, workstations = 0;

        for (; flavors && *flavors; flavors++, n++)
                workstations += streq_ptr(recipe_flavor_role(*flavors), "workstation") ? 1 : 0;
        return workstations > 0 ? workstations : n > 0 ? 1 : 0;
}

static const char *check_distribution(const char *s) {
        return streq(s, "debian") ? NULL : "only 'debian' is supported";
}

static const char *check_architecture(const char *s) {
        return streq(s, "amd64") ? NULL : "only 'amd64' is supported";
}

static const char *check_variant(const char *s) {
        return streq(s, "minbase") || streq(s, "buildd") ? NULL : "must be 'minbase' or 'buildd'";
}

static const char *check_network(const char *s) {
        return streq(s, "external") || streq(s, "internal") ? NULL : "must be 'external' or 'internal'";
}

/* Suites and components end up in sources.list lines and URLs. */
static const char *check_archive_word(const char *s) {
        if (strlen(s) > 64)
                return "longer than 64 characters";
        if (!only(s, LOWER DIGITS "-"))
                return "only lowercase letters, digits and '-' are allowed";
        /* A suite is a word of debootstrap's command line: "-x" would be
         * read as an option. */
        return first_in(s, LOWER DIGITS) ? NULL : "must start with a lowercase letter or a digit";
}

const char *recipe_check_suite(const char *s) {
        return check_archive_word(s);
}


/* Debian policy 5.6.1; no ":arch" qualifiers or "=version" pins, which
 * would change what apt does with the word. */
static const char *check_package(const char *s) {
        if (strlen(s) < 2)
                return "must be at least 2 characters long";
        if (strlen(s) > 128)
                return "longer than 128 characters";
        if (!first_in(s, LOWER DIGITS))
                return "must start with a lowercase letter or digit";
        return only(s, LOWER DIGITS "+-.") ? NULL : "only lowercase letters, digits, '+', '-' and '.' are allowed";
}

/* A name that becomes one path component (overlays/NAME, NAME.qcow2) and
 * may be passed as an argument: no separators, no dot files, no options. */
static const char *check_plain_name(const char *s) {
        if (strlen(s) > 64)
                return "longer than 64 characters";
        if (first_in(s, ".-"))
                return "must not start with '.' or '-'";
        return only(s, LOWER UPPER DIGITS "._-") ? NULL : "only letters, digits, '.', '_' and '-' are allowed";
}

/* RFC 1123 host name label. */
static const char *check_hostname(const char *s) {
        size_t n = strlen(s);

        if (n > 63)
                return "longer than 63 characters";
        if (!only(s, LOWER UPPER DIGITS "-"))
                return "only letters, digits and '-' are allowed";
        if (s[0] == '-' || s[n - 1] == '-')
                return "must not start or end with '-'";
        return NULL;
}

/* Debian's adduser default NAME_REGEX, without the trailing '$' of
 * machine accounts. */
static const char *check_group_name(const char *s) {
        if (strlen(s) > 32)
                return "longer than 32 characters";
        if (!first_in(s, LOWER "_"))
                return "must start with a lowercase letter or '_'";
        return only(s, LOWER DIGITS "_-") ? NULL : "only lowercase letters, digits, '_' and '-' are allowed";
}

static const char *check_user_name(const char *s) {
        if (streq(s, "root"))
                return "the image already has 'root'; name an unprivileged user";
        return check_group_name(s);
}

/* What follows a URL's scheme: something, and nothing a sources line or a
 * command line would split or misread. */
static const char *check_url_tail(const char *s, const char *rest) {
        if (!*rest)
                return "nothing after the scheme";
        for (const unsigned char *c = (const unsigned char *) s; *c; c++)
                if (*c <= 0x20 || *c >= 0x7f)
                        return "spaces, control and non-ASCII characters are not allowed";
        return NULL;
}

static const char *check_mirror(const char *s) {
        const char *rest = startswith(s, "http://") ?: startswith(s, "https://") ?: startswith(s, "file://");

        if (!rest)
                return "must start with 'http://', 'https://' or 'file://'";
        return check_url_tail(s, rest);
}

const char *recipe_check_mirror(const char *s) {
        return check_mirror(s);
}

static bool is_snapshot_stamp(const char *s, size_t n) {
        if (n != 16 || s[8] != 'T' || s[15] != 'Z')
                return false;
        for (size_t i = 0; i < 15; i++)
                if (i != 8 && (s[i] < '0' || s[i] > '9'))
                        return false;
        return true;
}

static const char *check_snapshot(const char *s) {
        const char *slash, *archive;

        if (is_snapshot_stamp(s, strlen(s)))
                return NULL;
        if (check_mirror(s))
                return "must be a time stamp YYYYMMDDTHHMMSSZ or a URL ending in /archive/ARCHIVE/YYYYMMDDTHHMMSSZ";
        slash = strrchr(s, '/');
        if (!slash || !is_snapshot_stamp(slash + 1, strlen(slash + 1)))
                return "a snapshot URL must end in a time stamp YYYYMMDDTHHMMSSZ";
        /* .../archive/<archive>/<stamp> */
        for (archive = slash - 1; archive > s && *archive != '/'; archive--)
                ;
        if (archive == slash - 1 || archive - s < 8 || strncmp(archive - 8, "/archive", 8) != 0)
                return "a snapshot URL must have the layout BASE/archive/ARCHIVE/YYYYMMDDTHHMMSSZ";
        return NULL;
}

const char *recipe_check_snapshot(const char *s) {
        return check_snapshot(s);
}

char *recipe_snapshot_url(const char *s) {
        if (is_snapshot_stamp(s, strlen(s)))
                return strdup_printf(RECIPE_SNAPSHOT_BASE "/archive/debian/%s", s);
        return strdup(s);
}

/* http://HOST[:PORT][/]: it lands in an apt.conf string and in an
 * environment variable, so no quotes, no credentials, nothing else. */
const char *recipe_check_proxy(const char *s) {
        const char *rest = startswith(s, "http://");
        size_t n;

        if (!rest)
                return "must start with 'http://' (an HTTP proxy such as apt-cacher-ng)";
        n = strcspn(rest, ":/");
        if (n == 0)
                return "no host after the scheme";
        if (n > 253 || strspn(rest, LOWER UPPER DIGITS ".-") < n)
                return "the host may have only letters, digits, '.' and '-'";
        rest += n;
        if (*rest == ':') {
                size_t d = strspn(++rest, DIGITS);
                unsigned long port = d > 0 && d <= 5 ? strtoul(rest, NULL, 10) : 0;

                if (port == 0 || port > 65535)
                        return "the port must be a number from 1 to 65535";
                rest += d;
        }
        if (*rest && !streq(rest, "/"))
                return "nothing may follow the host and port but one '/'";
        return NULL;
}

/* The image's own apt sources: Tor's apt transports (apt-transport-tor) or
 * plain http(s), with a host; the URL lands in a deb822 sources file. */
static const char *check_apt_mirror(const char *s) {
        const char *rest = startswith(s, "tor+https://") ?: startswith(s, "tor+http://") ?:
                           startswith(s, "https://") ?: startswith(s, "http://");

        if (!rest)
                return "must start with 'tor+https://', 'tor+http://', 'https://' or 'http://'";
        if (*rest == '/')
                return "no host after the scheme";
        return check_url_tail(s, rest);
}

/* /etc/machine-id's format (machine-id(5)). */
static const char *check_machine_id(const char *s) {
        if (strlen(s) != 32 || !only(s, "0123456789abcdef"))
                return "must be 32 lowercase hexadecimal digits";
        if (strspn(s, "0") == 32)
                return "must not be all zeros";
        return NULL;
}

/* The words end up in GRUB_CMDLINE_LINUX="..." in /etc/default/grub, which is
 * sourced by a shell: keep out everything the shell would interpret inside
 * double quotes, and the quotes themselves. */
static const char *check_kernel_word(const char *s) {
        for (const unsigned char *c = (const unsigned char *) s; *c; c++) {
                if (*c <= 0x20 || *c >= 0x7f)
                        return "control and non-ASCII characters are not allowed";
                if (strchr("\"'`$\\;", *c))
                        return "quotes, '`', '$', '\\' and ';' are not allowed";
        }
        return NULL;
}

static const char *check_yes_no(const char *s) {
        return streq(s, "yes") || streq(s, "no") ? NULL : "must be 'yes' or 'no'";
}

/* ---- the table of sections and keys ---- */

typedef enum ItemKind {
        ITEM_INCLUDE,
        ITEM_STRING,
        ITEM_LIST,
        ITEM_LINES,          /* a list whose entries are whole lines, not words */
        ITEM_SCRIPTS,
        ITEM_MEMORY,
        ITEM_CPUS,
        ITEM_DISK_SIZE,
} ItemKind;

typedef struct Item {
        const char *section;
        const char *key;
        ItemKind kind;
        size_t offset;       /* of the field in Recipe */
        Validator validate;  /* of a string, or of each word of a list */
        const char *what;    /* for messages: "invalid <what> 'x' in Key=" */
        const char *def;     /* default of a string */
} Item;

#define STRING(s, k, field, check, w, d) { s, k, ITEM_STRING, offsetof(Recipe, field), check, w, d }
#define LIST(s, k, field, check, w) { s, k, ITEM_LIST, offsetof(Recipe, field), check, w, NULL }

/* Also the order of recipe_format(). */
static const Item items[] = {
        { "Config", "Include", ITEM_INCLUDE, 0, NULL, "file name", NULL },
        STRING("Config", "Description", description, check_text, "description", NULL),
        STRING("Config", "Flavor", flavor, recipe_flavor_check, "flavor", NULL),
        STRING("Distribution", "Distribution", distribution, check_distribution, "distribution", "debian"),
        STRING("Distribution", "Suite", suite, check_archive_word, "suite", "trixie"),
        STRING("Distribution", "Architecture", architecture, check_architecture, "architecture", "amd64"),
        STRING("Distribution", "Mirror", mirror, check_mirror, "mirror", NULL),
        STRING("Distribution", "Snapshot", snapshot, check_snapshot, "snapshot", NULL),
        LIST("Distribution", "Components", components, check_archive_word, "component"),
        STRING("Apt", "Mirror", apt_mirror, check_apt_mirror, "mirror", NULL),
        STRING("Apt", "SecurityMirror", apt_security_mirror, check_apt_mirror, "mirror", NULL),
        STRING("Bootstrap", "Variant", variant, check_variant, "variant", "minbase"),
        LIST("Bootstrap", "Packages", bootstrap_packages, check_package, "package name"),
        LIST("Packages", "Packages", packages, check_package, "package name"),
        LIST("Packages", "RemovePackages", remove_packages, check_package, "package name"),
        LIST("Overlays", "Early", early_overlays, check_plain_name, "overlay name"),
        LIST("Overlays", "Overlays", overlays, check_plain_name, "overlay name"),
        { "Scripts", "Scripts", ITEM_SCRIPTS, offsetof(Recipe, scripts), NULL, "script", NULL },
        STRING("User", "Name", user_name, check_user_name, "user name", "user"),
        LIST("User", "Groups", user_groups, check_group_name, "group name"),
        STRING("VM", "Name", vm_name, check_plain_name, "VM name", NULL),
        STRING("VM", "Hostname", hostname, check_hostname, "host name", NULL),
        STRING("VM", "MachineId", machine_id, check_machine_id, "machine id", NULL),
        { "VM", "Memory", ITEM_MEMORY, 0, NULL, "size", NULL },
        { "VM", "CPUs", ITEM_CPUS, 0, NULL, "number", NULL },
        { "VM", "DiskSize", ITEM_DISK_SIZE, 0, NULL, "size", NULL },
        LIST("VM", "KernelCommandLine", kernel_cmdline, check_kernel_word, "kernel parameter"),
        LIST("VM", "Networks", networks, check_network, "network"),
        STRING("VM", "Graphics", graphics, check_yes_no, "value", "no"),
        STRING("Tor", "ConnectAtBoot", tor_connect_at_boot, check_yes_no, "value", NULL),
        { "Tor", "Bridges", ITEM_LINES, offsetof(Recipe, tor_bridges), tor_bridge_line_check, "bridge line", NULL },
};

static bool item_is_list(const Item *item) {
        return item->kind == ITEM_LIST || item->kind == ITEM_LINES || item->kind == ITEM_SCRIPTS;
}

static const Item *item_find(const char *section, const char *key) {
        for (size_t i = 0; i < ELEMENTSOF(items); i++)
                if (streq(items[i].section, section) && streq(items[i].key, key))
                        return items + i;
        return NULL;
}

/* Returns the table's copy of the name, which outlives the line buffer. */
static const char *section_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(items); i++)
                if (streq(items[i].section, name))
                        return items[i].section;
        return NULL;
}

static char **field_string(Recipe *r, const Item *item) {
        return (char **) ((uint8_t *) r + item->offset);
}

static char ***field_list(Recipe *r, const Item *item) {
        return (char ***) ((uint8_t *) r + item->offset);
}

/* ---- parsing ---- */

typedef struct Parser {
        ErrorSlot *err;
        Recipe *recipe;
        char **reading;         /* files being read, outermost first: for cycles and depth */
        const char *root;       /* the top-level file's directory: includes and scripts stay inside it */
} Parser;

/* One file being read. */
typedef struct Source {
        const char *path;       /* for messages */
        const char *dir;        /* where relative includes and scripts resolve; NULL: refused */
        unsigned line;
        const char *section;    /* NULL before the first header */
        const Item *item;       /* the key that continuation lines extend, NULL if none */
        bool clear_pending;     /* item is a list assigned no words so far: clear it at the end */
} Source;

static int parse_source(Parser *p, const char *path, const char *dir, const char *data, size_t size);

static char **strv_new_empty(void) {
        return calloc(1, sizeof(char *));
}

/* Messages quote what the input said; keep its control characters from
 * reaching a terminal. */
_printf_(3, 4) static int set_error(ErrorSlot *err, int r, const char *fmt, ...) {
        _cleanup_free_ char *m = NULL, *e = NULL;
        va_list ap;

        va_start(ap, fmt);
        m = strdup_vprintf(fmt, ap);
        va_end(ap);
        if (!m)
                return -ENOMEM;
        e = escape_for_message(m, false);
        if (!e)
                return -ENOMEM;
        return error_set(err, r, "%s", e);
}

_printf_(4, 5) static int fail(Parser *p, const Source *s, int r, const char *fmt, ...) {
        _cleanup_free_ char *m = NULL;
        va_list ap;

        va_start(ap, fmt);
        m = strdup_vprintf(fmt, ap);
        va_end(ap);
        if (!m)
                return -ENOMEM;
        return set_error(p->err, r, "%s:%u: %s", s->path, s->line, m);
}

static int fail_value(Parser *p, const Source *s, const Item *item, const char *value, const char *why) {
        return fail(p, s, -EINVAL, "invalid %s '%s' in %s=: %s", item->what, value, item->key, why);
}

static int parse_string(Parser *p, Source *s, const Item *item, const char *value) {
        const char *why;

        if (isempty(value))
                return free_and_strdup(field_string(p->recipe, item), item->def);
        why = item->validate(value);
        if (why)
                return fail_value(p, s, item, value, why);
        return free_and_strdup(field_string(p->recipe, item), value);
}

/* Resolve a script word to the absolute path of an existing regular file. */
static int resolve_script(Parser *p, const Source *s, const Item *item, const char *word, char **ret) {
        _cleanup_free_ char *joined = NULL, *abs = NULL;
        struct stat st;

        if (!s->dir)
                return fail_value(p, s, item, word, "no directory to resolve it against");
        joined = word[0] == '/' ? strdup(word) : path_join(s->dir, word);
        if (!joined)
                return -ENOMEM;
        abs = realpath(joined, NULL);
        if (!abs || stat(abs, &st) < 0)
                return fail_value(p, s, item, word, strerror(errno));
        /* Only files of the recipe tree, never the build host's (a symlink
         * may not lead out of it either). */
        if (p->root && !path_is_under(abs, p->root))
                return fail(p, s, -EPERM, "script '%s' is '%s', outside the recipe's directory '%s'", word, abs,
                            p->root);
        if (!S_ISREG(st.st_mode))
                return fail_value(p, s, item, word, "not a regular file");
        *ret = TAKE_PTR(abs);
        return 0;
}

/* A list of lines: the key line and each continuation line is one entry. */
static int parse_lines(Parser *p, Source *s, const Item *item, const char *value) {
        const char *why;

        if (isempty(value)) {
                s->clear_pending = true;
                return 0;
        }
        s->clear_pending = false;
        why = item->validate(value);
        if (why)
                return fail_value(p, s, item, value, why);
        return strv_extend(field_list(p->recipe, item), value);
}

/* Called for the key line and for each continuation line. */
static int parse_list(Parser *p, Source *s, const Item *item, const char *value) {
        _cleanup_strv_free_ char **words = NULL;
        char ***field = field_list(p->recipe, item);
        int r;

        r = strv_split(value, " \t", &words);
        if (r < 0)
                return r;
        if (!words[0]) {
                /* Only a key line can be empty; whether it clears the list
                 * depends on whether continuation lines follow. */
                s->clear_pending = true;
                return 0;
        }
        s->clear_pending = false;

        STRV_FOREACH(w, words) {
                if (item->kind == ITEM_SCRIPTS) {
                        char *abs = NULL;

                        r = resolve_script(p, s, item, *w, &abs);
                        if (r < 0)
                                return r;
                        r = strv_consume(field, abs);
                } else {
                        const char *why = item->validate(*w);

                        if (why)
                                return fail_value(p, s, item, *w, why);
                        /* Components are a set: "main" is the default, and
                         * a recipe that names it again means the same. */
                        if (item->offset == offsetof(Recipe, components) && strv_contains(*field, *w))
                                continue;
                        r = strv_extend(field, *w);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_size_item(Parser *p, const Source *s, const Item *item, const char *value,
                           uint64_t min, const char *min_text, uint64_t max, const char *max_text,
                           uint64_t *ret) {
        uint64_t v;

        if (parse_size(value, &v) < 0)
                return fail_value(p, s, item, value, "expected a number with an optional K, M, G or T suffix");
        if (v < min)
                return fail(p, s, -EINVAL, "invalid %s '%s' in %s=: must be at least %s",
                            item->what, value, item->key, min_text);
        if (v > max)
                return fail(p, s, -EINVAL, "invalid %s '%s' in %s=: must be at most %s",
                            item->what, value, item->key, max_text);
        if (v % (UINT64_C(1) << 20) != 0)
                return fail_value(p, s, item, value, "must be a whole number of megabytes (M)");
        *ret = v;
        return 0;
}

static int parse_memory(Parser *p, Source *s, const Item *item, const char *value) {
        uint64_t v;
        int r;

        if (isempty(value)) {
                p->recipe->memory_mib = MEMORY_DEFAULT_MIB;
                return 0;
        }
        r = parse_size_item(p, s, item, value, MEMORY_MIN, "256M", MEMORY_MAX, "1T", &v);
        if (r < 0)
                return r;
        p->recipe->memory_mib = v >> 20;
        return 0;
}

static int parse_disk_size(Parser *p, Source *s, const Item *item, const char *value) {
        if (isempty(value)) {
                p->recipe->disk_size = DISK_SIZE_DEFAULT;
                return 0;
        }
        return parse_size_item(p, s, item, value, DISK_SIZE_MIN, "2G", DISK_SIZE_MAX, "64T",
                               &p->recipe->disk_size);
}

static int parse_cpus(Parser *p, Source *s, const Item *item, const char *value) {
        unsigned v;

        if (isempty(value)) {
                p->recipe->cpus = 1;
                return 0;
        }
        if (safe_atou(value, &v) < 0 || v < 1 || v > CPUS_MAX)
                return fail_value(p, s, item, value, "must be a whole number from 1 to 64");
        p->recipe->cpus = v;
        return 0;
}

static int parse_include(Parser *p, Source *s, const Item *item, const char *value) {
        _cleanup_free_ char *joined = NULL, *abs = NULL, *dir = NULL, *data = NULL;
        struct stat st;
        size_t size;
        char *slash;
        int r;

        if (isempty(value))
                return fail_value(p, s, item, value, "must not be empty");
        if (!s->dir)
                return fail(p, s, -EINVAL, "cannot include '%s': includes are not allowed here", value);
        if (strv_length(p->reading) > RECIPE_DEPTH_MAX)
                return fail(p, s, -ELOOP, "cannot include '%s': includes nest deeper than %u levels",
                            value, RECIPE_DEPTH_MAX);

        joined = value[0] == '/' ? strdup(value) : path_join(s->dir, value);
        if (!joined)
                return -ENOMEM;
        abs = realpath(joined, NULL);
        if (!abs) {
                r = -errno;
                return fail(p, s, r, "cannot read include '%s': %s", value, strerror(-r));
        }

        /* Only files of the recipe tree, never the build host's (a symlink
         * may not lead out of it either): refused before it is read, so no
         * message can quote it. */
        if (p->root && !path_is_under(abs, p->root))
                return fail(p, s, -EPERM, "cannot include '%s': it is '%s', outside the recipe's directory '%s'",
                            value, abs, p->root);
        if (strv_contains(p->reading, abs))
                return fail(p, s, -ELOOP, "include cycle: '%s' includes '%s' which is already being read",
                            s->path, abs);
        /* The top-level file's own includes, by name: build.c takes the
         * first as the layer both flavors share. */
        if (strv_length(p->reading) == 1 && !strv_contains(p->recipe->includes, abs) &&
            strv_extend(&p->recipe->includes, abs) < 0)
                return -ENOMEM;
        if (strv_contains(p->recipe->files, abs))
                return 0; /* read completely before: its settings are in already */
        if (strv_length(p->recipe->files) >= RECIPE_FILES_MAX)
                return fail(p, s, -E2BIG, "cannot include '%s': a recipe may consist of at most %u files",
                            value, RECIPE_FILES_MAX);

        /* Refuse FIFOs and devices before opening them: read_full_file()
         * would block or read forever. */
        if (stat(abs, &st) < 0) {
                r = -errno;
                return fail(p, s, r, "cannot read include '%s': %s", value, strerror(-r));
        }
        if (!S_ISREG(st.st_mode))
                return fail(p, s, -EINVAL, "cannot read include '%s': not a regular file", value);
        r = read_full_file(abs, RECIPE_FILE_MAX, &data, &size);
        if (r == -EFBIG)
                return fail(p, s, r, "cannot read include '%s': file is larger than 1 MiB", value);
        if (r < 0)
                return fail(p, s, r, "cannot read include '%s': %s", value, strerror(-r));

        dir = strdup(abs);
        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        slash[slash == dir ? 1 : 0] = 0;

        return parse_source(p, abs, dir, data, size);
}

static int parse_assignment(Parser *p, Source *s, const Item *item, const char *value) {
        switch (item->kind) {
        case ITEM_INCLUDE:
                return parse_include(p, s, item, value);
        case ITEM_STRING:
                return parse_string(p, s, item, value);
        case ITEM_LIST:
        case ITEM_SCRIPTS:
                return parse_list(p, s, item, value);
        case ITEM_LINES:
                return parse_lines(p, s, item, value);
        case ITEM_MEMORY:
                return parse_memory(p, s, item, value);
        case ITEM_CPUS:
                return parse_cpus(p, s, item, value);
        case ITEM_DISK_SIZE:
                return parse_disk_size(p, s, item, value);
        }
        return -EINVAL;
}

/* The logical line of the current key ended. */
static int finish_item(Parser *p, Source *s) {
        if (s->item && s->clear_pending) {
                char ***field = field_list(p->recipe, s->item);

                strv_free(*field);
                *field = strv_new_empty();
                if (!*field)
                        return -ENOMEM;
        }
        s->item = NULL;
        s->clear_pending = false;
        return 0;
}

static int parse_line(Parser *p, Source *s, char *line) {
        bool indented = line[0] == ' ' || line[0] == '\t';
        char *t = strstrip(line), *eq, *key, *value;
        const Item *item;
        int r;

        if (!*t)
                return finish_item(p, s);
        /* Comments do not end a list: entries can be commented out. */
        if (*t == '#' || *t == ';')
                return 0;

        if (indented && s->item) {
                if (!item_is_list(s->item))
                        return fail(p, s, -EINVAL, "unexpected continuation line: %s= takes a single value",
                                    s->item->key);
                return s->item->kind == ITEM_LINES ? parse_lines(p, s, s->item, t) : parse_list(p, s, s->item, t);
        }

        r = finish_item(p, s);
        if (r < 0)
                return r;

        if (*t == '[') {
                size_t n = strlen(t);

                if (n < 3 || t[n - 1] != ']')
                        return fail(p, s, -EINVAL, "invalid section header '%s'", t);
                t[n - 1] = 0;
                s->section = section_find(t + 1);
                if (!s->section)
                        return fail(p, s, -EINVAL, "unknown section '%s'", t + 1);
                return 0;
        }

        eq = strchr(t, '=');
        if (!eq)
                return fail(p, s, -EINVAL, "missing '=' in '%s'", t);
        *eq = 0;
        key = strstrip(t);
        value = strstrip(eq + 1);
        if (!*key)
                return fail(p, s, -EINVAL, "missing key name before '='");
        if (!s->section)
                return fail(p, s, -EINVAL, "key '%s' outside of any section", key);
        item = item_find(s->section, key);
        if (!item)
                return fail(p, s, -EINVAL, "unknown key '%s' in section [%s]", key, s->section);

        s->item = item;
        s->clear_pending = false;
        return parse_assignment(p, s, item, value);
}

static int parse_source(Parser *p, const char *path, const char *dir, const char *data, size_t size) {
        Source s = { .path = path, .dir = dir };
        const char *end = data + size, *nul;
        int r;

        if (size > RECIPE_FILE_MAX)
                return set_error(p->err, -EFBIG, "%s: file is larger than 1 MiB", path);
        nul = memchr(data, 0, size);
        if (nul) {
                s.line = 1;
                for (const char *c = data; c < nul; c++)
                        s.line += *c == '\n';
                return fail(p, &s, -EBADMSG, "NUL byte in file");
        }

        r = strv_extend(&p->reading, path);
        if (r < 0)
                return r;
        if (!strv_contains(p->recipe->files, path)) {
                r = strv_extend(&p->recipe->files, path);
                if (r < 0)
                        return r;
        }

        for (const char *l = data; l < end;) {
                const char *nl = memchr(l, '\n', (size_t) (end - l));
                size_t n = (nl ?: end) - l;
                char buf[RECIPE_LINE_MAX + 1];

                s.line++;
                if (n > 0 && l[n - 1] == '\r')
                        n--;
                if (n > RECIPE_LINE_MAX)
                        return fail(p, &s, -EINVAL, "line is longer than %u bytes", RECIPE_LINE_MAX);
                memcpy(buf, l, n);
                buf[n] = 0;
                r = parse_line(p, &s, buf);
                if (r < 0)
                        return r;
                l = nl ? nl + 1 : end;
        }
        r = finish_item(p, &s);
        if (r < 0)
                return r;

        /* Pop: the file is read completely. */
        size_t k = strv_length(p->reading);
        free(p->reading[k - 1]);
        p->reading[k - 1] = NULL;
        return 0;
}

/* Checks of the merged recipe, which no single line can make. */
static int check_recipe(ErrorSlot *err, const Recipe *r) {
        bool external, internal;
        const char *role;

        if (!r->components[0])
                return set_error(err, -EINVAL, "%s: Components= is empty: the archive needs at least one component",
                                r->path);
        STRV_FOREACH(n, r->networks)
                for (char * const *m = n + 1; *m; m++)
                        if (streq(*n, *m))
                                return set_error(err, -EINVAL, "%s: network '%s' is listed twice in Networks=",
                                                r->path, *n);
        if (r->tor_bridges[0] && r->tor_connect_at_boot && streq(r->tor_connect_at_boot, "no"))
                return set_error(err, -EINVAL, "%s: [Tor] Bridges= connects at boot through those bridges and "
                                 "ConnectAtBoot=no waits for a choice at the console: set one of them", r->path);
        role = recipe_flavor_role(r->flavor);
        if ((r->tor_bridges[0] || r->tor_connect_at_boot) && !streq_ptr(role, "gateway"))
                return set_error(err, -EINVAL, "%s: [Tor] settings are for a gateway (Flavor=gateway)", r->path);
        if (!r->flavor)
                return 0;

        if (!r->vm_name)
                return set_error(err, -EINVAL, "%s: Flavor=%s needs [VM] Name=", r->path, r->flavor);
        if (!r->hostname)
                return set_error(err, -EINVAL, "%s: Flavor=%s needs [VM] Hostname=", r->path, r->flavor);

        external = strv_contains(r->networks, "external");
        internal = strv_contains(r->networks, "internal");
        if (streq(role, "gateway") && (!external || !internal))
                return set_error(err, -EINVAL, "%s: a gateway needs the networks 'external' and 'internal' in Networks=",
                                r->path);
        /* The point of the design: the workstation has no route to the
         * outside, so a layer must not be able to give it one. */
        if (streq(role, "workstation") && external)
                return set_error(err, -EINVAL, "%s: a workstation must not have the network 'external'", r->path);
        if (streq(role, "workstation") && !internal)
                return set_error(err, -EINVAL, "%s: a workstation needs the network 'internal' in Networks=",
                                r->path);
        return 0;
}

static int recipe_new(const char *path, Recipe **ret) {
        _cleanup_(recipe_freep) Recipe *r = NULL;
        const char *base;
        size_t n;

        r = calloc(1, sizeof(Recipe));
        if (!r)
                return -ENOMEM;

        base = strrchr(path, '/');
        base = base ? base + 1 : path;
        n = strlen(base);
        if (endswith(base, ".conf") && n > strlen(".conf"))
                n -= strlen(".conf");
        r->path = strdup(path);
        r->name = strndup(base, n);
        if (!r->path || !r->name)
                return -ENOMEM;

        for (size_t i = 0; i < ELEMENTSOF(items); i++) {
                const Item *item = items + i;

                if (item->kind == ITEM_STRING && item->def) {
                        if (free_and_strdup(field_string(r, item), item->def) < 0)
                                return -ENOMEM;
                } else if (item_is_list(item)) {
                        *field_list(r, item) = strv_new_empty();
                        if (!*field_list(r, item))
                                return -ENOMEM;
                }
        }
        if (strv_extend(&r->components, "main") < 0)
                return -ENOMEM;
        r->files = strv_new_empty();
        if (!r->files)
                return -ENOMEM;
        r->memory_mib = MEMORY_DEFAULT_MIB;
        r->cpus = 1;
        r->disk_size = DISK_SIZE_DEFAULT;

        *ret = TAKE_PTR(r);
        return 0;
}

Recipe *recipe_free(Recipe *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(items); i++) {
                if (items[i].kind == ITEM_STRING)
                        free(*field_string(r, items + i));
                else if (item_is_list(items + i))
                        strv_free(*field_list(r, items + i));
        }
        free(r->path);
        free(r->name);
        strv_free(r->files);
        strv_free(r->includes);
        free(r);
        return NULL;
}

static int parse_top(ErrorSlot *err, const char *path, const char *dir, const char *root, const char *data,
                     size_t size, Recipe **ret) {
        _cleanup_(recipe_freep) Recipe *recipe = NULL;
        Parser p = { .err = err, .root = root };
        int r;

        r = recipe_new(path, &recipe);
        if (r < 0)
                return r;
        p.recipe = recipe;
        r = parse_source(&p, path, dir, data, size);
        strv_free(p.reading);
        if (r < 0)
                return r;
        r = check_recipe(err, recipe);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(recipe);
        return 0;
}

int recipe_parse_buffer(ErrorSlot *err, const char *name, const char *data, size_t size, const char *base_dir,
                        Recipe **ret) {
        _cleanup_free_ char *dir = NULL;

        if (base_dir) {
                dir = realpath(base_dir, NULL);
                if (!dir)
                        return error_set_errno(err, -errno, "%s: cannot resolve directory", base_dir);
        }
        return parse_top(err, name, dir, dir, data, size, ret);
}

int recipe_load(ErrorSlot *err, const char *path, const char *root, Recipe **ret) {
        _cleanup_free_ char *abs = NULL, *dir = NULL, *data = NULL, *root_abs = NULL;
        struct stat st;
        size_t size;
        int r;

        abs = realpath(path, NULL);
        if (!abs)
                return error_set_errno(err, -errno, "%s: cannot read recipe", path);
        if (root) {
                root_abs = realpath(root, NULL);
                if (!root_abs)
                        return error_set_errno(err, -errno, "%s: cannot resolve directory", root);
                if (!path_is_under(abs, root_abs))
                        return error_set(err, -EPERM, "%s: the recipe is outside '%s'", abs, root_abs);
        }
        if (stat(abs, &st) < 0)
                return error_set_errno(err, -errno, "%s: cannot read recipe", abs);
        if (!S_ISREG(st.st_mode))
                return error_set(err, -EINVAL, "%s: cannot read recipe: not a regular file", abs);
        r = read_full_file(abs, RECIPE_FILE_MAX, &data, &size);
        if (r == -EFBIG)
                return error_set(err, r, "%s: file is larger than 1 MiB", abs);
        if (r < 0)
                return error_set_errno(err, r, "%s: cannot read recipe", abs);

        dir = strdup(abs);
        if (!dir)
                return -ENOMEM;
        char *slash = strrchr(dir, '/');
        slash[slash == dir ? 1 : 0] = 0;

        return parse_top(err, abs, dir, root_abs ?: dir, data, size, ret);
}

/* ---- output ---- */

/* Largest unit that divides v exactly; unit is the index of v's unit. */
static void put_size(FILE *f, uint64_t v, unsigned unit) {
        static const char *const suffix[] = { "", "K", "M", "G", "T" };

        while (v != 0 && v % 1024 == 0 && unit + 1 < ELEMENTSOF(suffix)) {
                v /= 1024;
                unit++;
        }
        fprintf(f, "%" PRIu64 "%s", v, suffix[unit]);
}

/* Path of to relative to the directory from; both absolute. */
static char *relative_path(const char *from, const char *to) {
        _cleanup_strv_free_ char **a = NULL, **b = NULL, **out = NULL;
        size_t i = 0;

        if (strv_split(from, "/", &a) < 0 || strv_split(to, "/", &b) < 0)
                return NULL;
        while (a[i] && b[i] && streq(a[i], b[i]))
                i++;
        for (size_t j = i; a[j]; j++)
                if (strv_extend(&out, "..") < 0)
                        return NULL;
        for (size_t j = i; b[j]; j++)
                if (strv_extend(&out, b[j]) < 0)
                        return NULL;
        if (!out)
                return strdup(".");
        return strv_join(out, "/");
}

static int put_scripts(FILE *f, const Recipe *r) {
        _cleanup_free_ char *dir = NULL;

        if (r->path && r->path[0] == '/') {
                char *slash;

                dir = strdup(r->path);
                if (!dir)
                        return -ENOMEM;
                slash = strrchr(dir, '/');
                slash[slash == dir ? 1 : 0] = 0;
        }
        STRV_FOREACH(s, r->scripts) {
                _cleanup_free_ char *rel = NULL;
                const char *shown;

                if (dir && (*s)[0] == '/') {
                        rel = relative_path(dir, *s);
                        if (!rel)
                                return -ENOMEM;
                        shown = rel;
                } else {
                        const char *slash = strrchr(*s, '/');
                        shown = slash ? slash + 1 : *s;
                }
                fprintf(f, "%s%s", s == r->scripts ? "" : " ", shown);
        }
        return 0;
}

int recipe_format(const Recipe *r, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;
        int k = 0;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;

        for (size_t i = 0; i < ELEMENTSOF(items) && k >= 0; i++) {
                const Item *item = items + i;

                if (item->kind == ITEM_INCLUDE)
                        continue;
                fprintf(f, "%s.%s=", item->section, item->key);
                switch (item->kind) {
                case ITEM_STRING:
                        fputs(strempty(*field_string((Recipe *) r, item)), f);
                        break;
                case ITEM_LIST:
                        STRV_FOREACH(w, *field_list((Recipe *) r, item))
                                fprintf(f, "%s%s", w == *field_list((Recipe *) r, item) ? "" : " ", *w);
                        break;
                case ITEM_LINES:
                        /* Entries hold blanks: " | " between them.  The
                         * text is for people and tests; no cache key is
                         * made from it (the layer's key hashes the file
                         * the entries become). */
                        STRV_FOREACH(w, *field_list((Recipe *) r, item))
                                fprintf(f, "%s%s", w == *field_list((Recipe *) r, item) ? "" : " | ", *w);
                        break;
                case ITEM_SCRIPTS:
                        k = put_scripts(f, r);
                        break;
                case ITEM_MEMORY:
                        put_size(f, r->memory_mib, 2);
                        break;
                case ITEM_CPUS:
                        fprintf(f, "%u", r->cpus);
                        break;
                case ITEM_DISK_SIZE:
                        put_size(f, r->disk_size, 0);
                        break;
                case ITEM_INCLUDE:
                        break;
                }
                fputc('\n', f);
        }
        if (fclose(f) != 0 && k >= 0)
                k = -ENOMEM;
        if (k < 0)
                return k;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* ---- recipes directory ---- */

static bool recipe_file_name(int dfd, const char *name, void *userdata) {
        return name[0] != '.' && endswith(name, ".conf") && strlen(name) > strlen(".conf");
}

int recipe_list(ErrorSlot *err, const char *dir, char ***ret_names, char ***ret_descriptions) {
        _cleanup_strv_free_ char **names = NULL, **descriptions = NULL;
        int r = 0;

        r = readdir_sorted(dir, recipe_file_name, NULL, 0, &names);
        if (r < 0)
                return error_set_errno(err, r, "%s: cannot open recipe directory", dir);
        /* Shown without ".conf", sorted by that name (a variant after its
         * base: whonix-workstation, then whonix-workstation-desktop). */
        STRV_FOREACH(n, names)
                (*n)[strlen(*n) - strlen(".conf")] = 0;
        strv_sort(names);
        descriptions = strv_new_empty();
        if (!descriptions)
                return -ENOMEM;

        STRV_FOREACH(n, names) {
                _cleanup_(recipe_freep) Recipe *recipe = NULL;
                _cleanup_free_ char *file = NULL, *path = NULL;

                file = strdup_printf("%s.conf", *n);
                if (!file)
                        return -ENOMEM;
                path = path_join(dir, file);
                if (!path)
                        return -ENOMEM;
                r = recipe_load(err, path, NULL, &recipe);
                if (r < 0)
                        return r;
                r = strv_extend(&descriptions, strempty(recipe->description));
                if (r < 0)
                        return r;
        }

        *ret_names = TAKE_PTR(names);
        *ret_descriptions = TAKE_PTR(descriptions);
        return 0;
}

char *recipe_path_for_flavor(const char *dir, const char *flavor) {
        char *p;

        if (!flavor || recipe_flavor_check(flavor)) {
                errno = EINVAL;
                return NULL;
        }
        _cleanup_free_ char *file = strdup_printf("whonix-%s.conf", flavor);
        p = file ? path_join(dir, file) : NULL;
        if (!p)
                errno = ENOMEM;
        return p;
}
