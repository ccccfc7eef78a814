/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <sys/stat.h>

#include "apt-sources.h"
#include "log.h"

#define WHITESPACE " \t"

void apt_source_free(AptSource *s) {
        if (!s)
                return;
        free(s->type);
        strv_free(s->uris);
        strv_free(s->suites);
        strv_free(s->components);
        free(s);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(AptSource *, apt_source_free);

void apt_source_free_many(AptSource **l) {
        if (!l)
                return;
        for (AptSource **s = l; *s; s++)
                apt_source_free(*s);
        free(l);
}

/* A growing NULL-terminated array of entries, bounded by
 * APT_SOURCES_ENTRIES_MAX. */
typedef struct SourceList {
        AptSource **items;
        size_t n;
} SourceList;

static void source_list_done(SourceList *l) {
        apt_source_free_many(l->items);
        l->items = NULL;
        l->n = 0;
}

static int source_list_add(SourceList *l, AptSource *s) {
        AptSource **c;

        if (l->n >= APT_SOURCES_ENTRIES_MAX)
                return -E2BIG;
        c = reallocarray(l->items, l->n + 2, sizeof(AptSource *));
        if (!c)
                return -ENOMEM;
        c[l->n++] = s;
        c[l->n] = NULL;
        l->items = c;
        return 0;
}

static int source_list_take(SourceList *l, AptSource ***ret) {
        if (!l->items) {
                l->items = calloc(1, sizeof(AptSource *));
                if (!l->items)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l->items);
        l->n = 0;
        return 0;
}

static bool type_valid(const char *t) {
        return streq(t, "deb") || streq(t, "deb-src");
}

/* An exact-path suite ("./", "stable/updates/") takes no components; any
 * other suite needs at least one. */
static bool suite_is_exact_path(const char *s) {
        return endswith(s, "/");
}

static int source_new(const char *type, char * const *uris, char * const *suites, char * const *components,
                      bool enabled, AptSource **ret) {
        _cleanup_(apt_source_freep) AptSource *s = NULL;
        char * const empty[] = { NULL };

        s = calloc(1, sizeof(AptSource));
        if (!s)
                return -ENOMEM;
        s->type = strdup(type);
        s->uris = strv_copy(uris);
        s->suites = strv_copy(suites);
        s->components = strv_copy(components ?: empty);
        if (!s->type || !s->uris || !s->suites || !s->components)
                return -ENOMEM;
        s->enabled = enabled;
        *ret = TAKE_PTR(s);
        return 0;
}

/* Calls fn for each line of text (without its newline and a trailing CR). */
typedef int (*LineFunc)(const char *line, unsigned lineno, void *userdata);

static int for_each_line(const char *text, LineFunc fn, void *userdata) {
        unsigned lineno = 0;

        for (const char *p = text; *p;) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t) (nl - p) : strlen(p);
                _cleanup_free_ char *line = NULL;
                int r;

                if (n > 0 && p[n - 1] == '\r')
                        n--;
                line = strndup(p, n);
                if (!line)
                        return -ENOMEM;
                r = fn(line, ++lineno, userdata);
                if (r < 0)
                        return r;
                if (!nl)
                        break;
                p = nl + 1;
        }
        return 0;
}

/* ---- one-line format ---- */

typedef struct ListParser {
        ErrorSlot *err;
        const char *name;
        SourceList list;
} ListParser;

static int list_line(const char *line, unsigned lineno, void *userdata) {
        ListParser *p = userdata;
        _cleanup_free_ char *buf = strdup(line);
        _cleanup_strv_free_ char **words = NULL;
        _cleanup_(apt_source_freep) AptSource *s = NULL;
        char *rest, *hash, *type_end;
        char type[16];
        size_t n;
        int r;

        if (!buf)
                return -ENOMEM;
        /* apt treats '#' anywhere on the line as the start of a comment;
         * this is also how whole entries are disabled ("#deb ..."). */
        hash = strchr(buf, '#');
        if (hash)
                *hash = 0;
        rest = strstrip(buf);
        if (!*rest)
                return 0;

        type_end = rest + strcspn(rest, WHITESPACE);
        n = (size_t) (type_end - rest);
        if (n < sizeof(type)) {
                memcpy(type, rest, n);
                type[n] = 0;
        } else
                type[0] = 0;
        if (!type_valid(type))
                return error_set(p->err, -EBADMSG, "%s:%u: unknown type '%.*s', expected 'deb' or 'deb-src'",
                                 p->name, lineno, (int) (n > 32 ? 32 : n), rest);
        rest = type_end + strspn(type_end, WHITESPACE);

        if (*rest == '[') {
                char *close = strchr(rest, ']');

                if (!close)
                        return error_set(p->err, -EBADMSG, "%s:%u: option list '[' is not closed with ']'",
                                         p->name, lineno);
                /* Options (arch=, signed-by=, ...) do not change which
                 * mirror the host uses; they are accepted and ignored. */
                rest = close + 1;
        }

        r = strv_split(rest, WHITESPACE, &words);
        if (r < 0)
                return r;
        if (strv_length(words) < 2)
                return error_set(p->err, -EBADMSG, "%s:%u: expected '%s URI SUITE [COMPONENT...]'",
                                 p->name, lineno, type);
        if (suite_is_exact_path(words[1]) && words[2])
                return error_set(p->err, -EBADMSG, "%s:%u: suite '%s' is an exact path and takes no components",
                                 p->name, lineno, words[1]);
        if (!suite_is_exact_path(words[1]) && !words[2])
                return error_set(p->err, -EBADMSG, "%s:%u: suite '%s' needs at least one component",
                                 p->name, lineno, words[1]);

        r = source_new(type, (char *[]) { words[0], NULL }, (char *[]) { words[1], NULL }, words + 2, true, &s);
        if (r < 0)
                return r;
        r = source_list_add(&p->list, s);
        if (r == -E2BIG)
                return error_set(p->err, r, "%s:%u: more than %d entries", p->name, lineno, APT_SOURCES_ENTRIES_MAX);
        if (r < 0)
                return r;
        TAKE_PTR(s);
        return 0;
}

int apt_sources_parse_list(ErrorSlot *err, const char *name, const char *text, AptSource ***ret) {
        ListParser p = { .err = err, .name = name };
        int r;

        if (strlen(text) > APT_SOURCES_FILE_MAX)
                return error_set(err, -EFBIG, "%s: larger than %d bytes", name, APT_SOURCES_FILE_MAX);

        r = for_each_line(text, list_line, &p);
        if (r >= 0)
                r = source_list_take(&p.list, ret);
        source_list_done(&p.list);
        if (r < 0)
                return error_set_errno(err, r, "%s: failed to parse", name);
        return 0;
}

/* ---- deb822 format ---- */

enum {
        FIELD_TYPES,
        FIELD_URIS,
        FIELD_SUITES,
        FIELD_COMPONENTS,
        FIELD_ENABLED,
        _FIELD_MAX,
        FIELD_OTHER = _FIELD_MAX,
};

static const char * const field_names[_FIELD_MAX] = {
        [FIELD_TYPES] = "Types",
        [FIELD_URIS] = "URIs",
        [FIELD_SUITES] = "Suites",
        [FIELD_COMPONENTS] = "Components",
        [FIELD_ENABLED] = "Enabled",
};

typedef struct Deb822Parser {
        ErrorSlot *err;
        const char *name;
        SourceList list;

        /* The stanza being read. */
        unsigned stanza_line;     /* 0: between stanzas */
        char *values[_FIELD_MAX]; /* NULL: field not present */
        int current;              /* field continuation lines go to, -1: none */
        char **other_fields;      /* names seen, to catch duplicates */
} Deb822Parser;

static void deb822_stanza_clear(Deb822Parser *p) {
        for (size_t i = 0; i < _FIELD_MAX; i++) {
                free(p->values[i]);
                p->values[i] = NULL;
        }
        strv_free(p->other_fields);
        p->other_fields = NULL;
        p->current = -1;
        p->stanza_line = 0;
}

static int parse_boolean(const char *v) {
        static const char * const yes[] = { "yes", "true", "on", "1", "enable" };
        static const char * const no[] = { "no", "false", "off", "0", "disable" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(v, yes[i]) == 0)
                        return 1;
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(v, no[i]) == 0)
                        return 0;
        return -EINVAL;
}

static int deb822_stanza_end(Deb822Parser *p) {
        _cleanup_strv_free_ char **types = NULL, **uris = NULL, **suites = NULL, **components = NULL;
        unsigned line = p->stanza_line;
        bool enabled = true, exact_path = false;
        int r;

        if (line == 0)
                return 0;

        if (p->values[FIELD_ENABLED]) {
                _cleanup_free_ char *v = strdup(p->values[FIELD_ENABLED]);

                if (!v)
                        return -ENOMEM;
                r = parse_boolean(strstrip(v));
                if (r < 0)
                        return error_set(p->err, -EBADMSG, "%s:%u: Enabled: expected yes or no, got '%.32s'",
                                         p->name, line, v);
                enabled = r;
        }

        /* A disabled stanza may be incomplete: apt does not look at it. */
        if (!enabled && (!p->values[FIELD_TYPES] || !p->values[FIELD_URIS] || !p->values[FIELD_SUITES]))
                goto done;

        for (size_t i = FIELD_TYPES; i <= FIELD_SUITES; i++)
                if (!p->values[i])
                        return error_set(p->err, -EBADMSG, "%s:%u: stanza has no '%s' field",
                                         p->name, line, field_names[i]);

        if (strv_split(p->values[FIELD_TYPES], WHITESPACE, &types) < 0 ||
            strv_split(p->values[FIELD_URIS], WHITESPACE, &uris) < 0 ||
            strv_split(p->values[FIELD_SUITES], WHITESPACE, &suites) < 0 ||
            strv_split(strempty(p->values[FIELD_COMPONENTS]), WHITESPACE, &components) < 0)
                return -ENOMEM;

        if (!types[0] || !uris[0] || !suites[0])
                return error_set(p->err, -EBADMSG, "%s:%u: empty '%s' field", p->name, line,
                                 !types[0] ? "Types" : !uris[0] ? "URIs" : "Suites");
        STRV_FOREACH(t, types)
                if (!type_valid(*t))
                        return error_set(p->err, -EBADMSG, "%s:%u: unknown type '%.32s', expected 'deb' or 'deb-src'",
                                         p->name, line, *t);
        STRV_FOREACH(s, suites)
                if (suite_is_exact_path(*s))
                        exact_path = true;
        if (exact_path && components[0])
                return error_set(p->err, -EBADMSG, "%s:%u: exact-path suites take no components", p->name, line);
        if (!exact_path && !components[0])
                return error_set(p->err, -EBADMSG, "%s:%u: stanza has no components", p->name, line);

        STRV_FOREACH(t, types) {
                _cleanup_(apt_source_freep) AptSource *s = NULL;

                r = source_new(*t, uris, suites, components, enabled, &s);
                if (r < 0)
                        return r;
                r = source_list_add(&p->list, s);
                if (r == -E2BIG)
                        return error_set(p->err, r, "%s:%u: more than %d entries", p->name, line,
                                         APT_SOURCES_ENTRIES_MAX);
                if (r < 0)
                        return r;
                TAKE_PTR(s);
        }
done:
        deb822_stanza_clear(p);
        return 0;
}

static int append_value(char **v, const char *more) {
        char *n = strdup_printf("%s %s", *v, more);

        if (!n)
                return -ENOMEM;
        free(*v);
        *v = n;
        return 0;
}

static int deb822_line(const char *line, unsigned lineno, void *userdata) {
        Deb822Parser *p = userdata;
        _cleanup_free_ char *buf = NULL;
        const char *colon;
        char *value;
        size_t n;
        int field = FIELD_OTHER;

        if (line[0] == '#')
                return 0;

        if (line[strspn(line, " \t")] == 0)
                return deb822_stanza_end(p);

        if (line[0] == ' ' || line[0] == '\t') {
                if (p->current < 0)
                        return error_set(p->err, -EBADMSG, "%s:%u: continuation line outside a field",
                                         p->name, lineno);
                if (p->current >= 0 && p->current < _FIELD_MAX) {
                        buf = strdup(line);
                        if (!buf)
                                return -ENOMEM;
                        value = strstrip(buf);
                        /* " ." stands for an empty line inside a value. */
                        if (streq(value, "."))
                                return 0;
                        return append_value(&p->values[p->current], value);
                }
                return 0;
        }

        colon = strchr(line, ':');
        n = colon ? (size_t) (colon - line) : 0;
        if (!colon || n == 0 || strcspn(line, WHITESPACE) < n)
                return error_set(p->err, -EBADMSG, "%s:%u: expected 'Field: value'", p->name, lineno);

        buf = strndup(line, n);
        if (!buf)
                return -ENOMEM;
        for (size_t i = 0; i < _FIELD_MAX; i++)
                if (strcasecmp(buf, field_names[i]) == 0)
                        field = (int) i;

        if (p->stanza_line == 0)
                p->stanza_line = lineno;

        if (field == FIELD_OTHER) {
                STRV_FOREACH(o, p->other_fields)
                        if (strcasecmp(*o, buf) == 0)
                                return error_set(p->err, -EBADMSG, "%s:%u: duplicate field '%.64s'",
                                                 p->name, lineno, buf);
                if (strv_consume(&p->other_fields, TAKE_PTR(buf)) < 0)
                        return -ENOMEM;
                p->current = FIELD_OTHER;
                return 0;
        }

        if (p->values[field])
                return error_set(p->err, -EBADMSG, "%s:%u: duplicate field '%s'", p->name, lineno,
                                 field_names[field]);
        free(buf);
        buf = strdup(colon + 1);
        if (!buf)
                return -ENOMEM;
        p->values[field] = strdup(strstrip(buf));
        if (!p->values[field])
                return -ENOMEM;
        p->current = field;
        return 0;
}

int apt_sources_parse_deb822(ErrorSlot *err, const char *name, const char *text, AptSource ***ret) {
        Deb822Parser p = { .err = err, .name = name, .current = -1 };
        int r;

        if (strlen(text) > APT_SOURCES_FILE_MAX)
                return error_set(err, -EFBIG, "%s: larger than %d bytes", name, APT_SOURCES_FILE_MAX);

        r = for_each_line(text, deb822_line, &p);
        if (r >= 0)
                r = deb822_stanza_end(&p);
        if (r >= 0)
                r = source_list_take(&p.list, ret);
        deb822_stanza_clear(&p);
        source_list_done(&p.list);
        if (r < 0)
                return error_set_errno(err, r, "%s: failed to parse", name);
        return 0;
}

/* ---- finding the mirror ---- */

/* Plain Debian suites are single words: bookworm, trixie, stable, sid.
 * Everything with a dash (bookworm-security, stable-updates,
 * trixie-backports, bookworm-proposed-updates) is an add-on archive. */
static bool suite_is_plain(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < 'a' || *s > 'z')
                        return false;
        return true;
}

/* Returns the URI without trailing slashes if it is an http, https or file
 * URI whose path ends in /debian, NULL otherwise (or on OOM). */
static char *debian_archive_uri(const char *uri) {
        const char *path, *p;
        size_t n = strlen(uri);

        if ((p = startswith(uri, "http://")) || (p = startswith(uri, "https://"))) {
                path = strchr(p, '/');
                if (!path || path == p)
                        return NULL;
        } else if ((p = startswith(uri, "file:")))
                path = p;
        else
                return NULL;

        if (strpbrk(uri, "?# \t"))
                return NULL;
        while (n > 0 && uri[n - 1] == '/')
                n--;
        if ((size_t) (path - uri) > n)
                return NULL;
        {
                _cleanup_free_ char *norm = strndup(uri, n);
                if (!norm || !endswith(norm + (path - uri), "/debian"))
                        return NULL;
                return TAKE_PTR(norm);
        }
}

static char *root_path(const char *root, const char *rel) {
        if (isempty(root) || streq(root, "/"))
                return strdup_printf("/%s", rel);
        return path_join(root, rel);
}

/* apt reads only files named [A-Za-z0-9_.-]+ with the extension .list or
 * .sources from sources.list.d and ignores the rest. */
static bool source_file_name_ok(int dfd, const char *name, void *userdata) {
        if (name[0] == '.' || name[strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")])
                return false;
        return endswith(name, ".list") || endswith(name, ".sources");
}

static int list_source_files(ErrorSlot *err, const char *dir, char ***ret) {
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = readdir_sorted(dir, source_file_name_ok, NULL, APT_SOURCES_FILES_MAX, &names);
        if (r == -ENOENT || r == -ENOTDIR) {
                *ret = NULL;
                return 0;
        }
        if (r == -E2BIG)
                return error_set(err, r, "more than %d files in '%s'", APT_SOURCES_FILES_MAX, dir);
        if (r < 0)
                return error_set_errno(err, r, "failed to read '%s'", dir);
        *ret = TAKE_PTR(names);
        return 0;
}

/* Parses one file and looks for the mirror in it.  Returns 1 and the URL if
 * found, 0 if not (or if the file does not exist), < 0 on error. */
static int find_in_file(ErrorSlot *err, const char *path, bool deb822, char ***files_read, char **ret_url) {
        _cleanup_(apt_source_free_manyp) AptSource **entries = NULL;
        _cleanup_free_ char *text = NULL;
        struct stat st;
        int r;

        if (stat(path, &st) < 0) {
                if (errno == ENOENT)
                        return 0;
                return error_set_errno(err, -errno, "failed to access '%s'", path);
        }
        if (!S_ISREG(st.st_mode))
                return 0;

        r = read_full_file(path, APT_SOURCES_FILE_MAX, &text, NULL);
        if (r == -EFBIG)
                return error_set(err, r, "'%s' is larger than %d bytes", path, APT_SOURCES_FILE_MAX);
        if (r < 0)
                return error_set_errno(err, r, "failed to read '%s'", path);
        r = strv_extend(files_read, path);
        if (r < 0)
                return r;

        r = deb822 ? apt_sources_parse_deb822(err, path, text, &entries)
                   : apt_sources_parse_list(err, path, text, &entries);
        if (r < 0)
                return r;

        for (AptSource **e = entries; *e; e++) {
                bool plain = false;

                if (!(*e)->enabled || !streq((*e)->type, "deb"))
                        continue;
                STRV_FOREACH(s, (*e)->suites)
                        if (suite_is_plain(*s))
                                plain = true;
                if (!plain)
                        continue;
                STRV_FOREACH(u, (*e)->uris) {
                        char *url = debian_archive_uri(*u);

                        if (url) {
                                log_debug("apt sources: using Debian mirror %s from %s", url, path);
                                *ret_url = url;
                                return 1;
                        }
                }
        }
        return 0;
}

int apt_sources_find_debian_mirror(ErrorSlot *err, const char *root, char **ret_url) {
        _cleanup_free_ char *list = NULL, *dir = NULL, *url = NULL;
        _cleanup_strv_free_ char **names = NULL, **files_read = NULL;
        int r;

        list = root_path(root, "etc/apt/sources.list");
        dir = root_path(root, "etc/apt/sources.list.d");
        if (!list || !dir)
                return -ENOMEM;

        r = find_in_file(err, list, false, &files_read, &url);
        if (r < 0)
                return r;

        if (r == 0) {
                r = list_source_files(err, dir, &names);
                if (r < 0)
                        return r;
                STRV_FOREACH(n, names) {
                        _cleanup_free_ char *path = path_join(dir, *n);

                        if (!path)
                                return -ENOMEM;
                        r = find_in_file(err, path, endswith(*n, ".sources"), &files_read, &url);
                        if (r < 0)
                                return r;
                        if (r > 0)
                                break;
                }
        }

        if (!url) {
                _cleanup_free_ char *read_list = NULL;

                if (!files_read)
                        return error_set(err, -ENOENT, "no Debian mirror found: neither '%s' nor any "
                                         "*.list or *.sources file in '%s' exists", list, dir);
                read_list = strv_join(files_read, ", ");
                if (!read_list)
                        return -ENOMEM;
                return error_set(err, -ENOENT, "no Debian mirror found in %s (looked for an enabled 'deb' "
                                 "entry with a suite such as 'trixie' and a URI ending in /debian)", read_list);
        }

        *ret_url = TAKE_PTR(url);
        return 0;
}
