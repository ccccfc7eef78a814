/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <time.h>

#include "release.h"

#define WHITESPACE " \t"

ReleaseFile *release_free(ReleaseFile *r) {
        if (!r)
                return NULL;
        free(r->origin);
        free(r->label);
        free(r->suite);
        free(r->codename);
        free(r->version);
        free(r->date);
        free(r->valid_until);
        strv_free(r->architectures);
        strv_free(r->components);
        for (size_t i = 0; i < r->n_entries; i++)
                free(r->entries[i].path);
        free(r->entries);
        free(r);
        return NULL;
}

const struct ReleaseEntry *release_find(const ReleaseFile *r, const char *path) {
        if (!r || !path)
                return NULL;
        for (size_t i = 0; i < r->n_entries; i++)
                if (streq(r->entries[i].path, path))
                        return &r->entries[i];
        return NULL;
}

enum {
        SECTION_NONE,   /* before the first field */
        SECTION_SHA256, /* continuation lines are SHA256 entries */
        SECTION_OTHER,  /* continuation lines of a field we skip */
};

typedef struct Parser {
        ErrorSlot *err;
        ReleaseFile *rel;
        size_t n_alloc;
        int section;
        bool have_sha256;
        char **seen; /* names of fields seen, to catch duplicates */
} Parser;

static bool is_hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Paths in the SHA256 section are later joined to the mirror URL and to
 * cache directories: only plain relative paths are acceptable. */
static bool path_ok(const char *p) {
        const char *c;

        if (!*p || *p == '/')
                return false;
        for (c = p; *c; c++)
                if ((unsigned char) *c <= ' ' || *c == 0x7f)
                        return false;
        for (c = p;;) {
                size_t n = strcspn(c, "/");

                if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                if (!c[n])
                        return true;
                c += n + 1;
        }
}

static int parse_entry(Parser *p, const char *line, unsigned lineno) {
        struct ReleaseEntry *e;
        const char *s = line + strspn(line, WHITESPACE), *num, *path;
        char numbuf[21];
        size_t n;
        uint64_t size;

        for (n = 0; is_hex(s[n]); n++)
                ;
        if (n != 64 || !strchr(WHITESPACE, s[n]) || !s[n])
                return error_set(p->err, -EBADMSG, "line %u: SHA256 entry does not start with 64 hex digits", lineno);

        num = s + n + strspn(s + n, WHITESPACE);
        n = strcspn(num, WHITESPACE);
        if (n == 0 || n >= sizeof(numbuf))
                return error_set(p->err, -EBADMSG, "line %u: SHA256 entry has no valid size", lineno);
        memcpy(numbuf, num, n);
        numbuf[n] = 0;
        if (safe_atou64(numbuf, &size) < 0)
                return error_set(p->err, -EBADMSG, "line %u: SHA256 entry has invalid size '%s'", lineno, numbuf);

        path = num + n + strspn(num + n, WHITESPACE);
        n = strcspn(path, WHITESPACE);
        if (n == 0)
                return error_set(p->err, -EBADMSG, "line %u: SHA256 entry has no path", lineno);
        if (path[n + strspn(path + n, WHITESPACE)])
                return error_set(p->err, -EBADMSG, "line %u: SHA256 entry has text after the path", lineno);

        if (p->rel->n_entries >= RELEASE_ENTRIES_MAX)
                return error_set(p->err, -E2BIG, "line %u: more than %u SHA256 entries", lineno, RELEASE_ENTRIES_MAX);
        if (p->rel->n_entries == p->n_alloc) {
                size_t want = p->n_alloc ? p->n_alloc * 2 : 64;

                e = reallocarray(p->rel->entries, want, sizeof(struct ReleaseEntry));
                if (!e)
                        return -ENOMEM;
                p->rel->entries = e;
                p->n_alloc = want;
        }

        e = &p->rel->entries[p->rel->n_entries];
        e->path = strndup(path, n);
        if (!e->path)
                return -ENOMEM;
        if (!path_ok(e->path)) {
                free(e->path);
                e->path = NULL;
                return error_set(p->err, -EBADMSG, "line %u: SHA256 entry has unsafe path '%.*s'", lineno,
                                 (int) (n > 200 ? 200 : n), path);
        }
        for (size_t i = 0; i < 64; i++)
                e->sha256[i] = (char) (s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' : s[i]);
        e->sha256[64] = 0;
        e->size = size;
        p->rel->n_entries++;
        return 0;
}

static bool field_name_ok(const char *s, size_t n) {
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
                      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
                        return false;
        return s[0] != '-';
}

static int parse_field(Parser *p, const char *line, unsigned lineno) {
        static const struct {
                const char *name;
                size_t offset;
        } strings[] = {
                { "Origin", offsetof(ReleaseFile, origin) },
                { "Label", offsetof(ReleaseFile, label) },
                { "Suite", offsetof(ReleaseFile, suite) },
                { "Codename", offsetof(ReleaseFile, codename) },
                { "Version", offsetof(ReleaseFile, version) },
                { "Date", offsetof(ReleaseFile, date) },
                { "Valid-Until", offsetof(ReleaseFile, valid_until) },
        };
        _cleanup_free_ char *name = NULL, *value = NULL;
        const char *colon = strchr(line, ':');
        char *v;
        int r;

        if (!colon || !field_name_ok(line, (size_t) (colon - line)))
                return error_set(p->err, -EBADMSG, "line %u: expected 'Field: value'", lineno);
        name = strndup(line, (size_t) (colon - line));
        value = strdup(colon + 1);
        if (!name || !value)
                return -ENOMEM;
        v = strstrip(value);

        STRV_FOREACH(s, p->seen)
                if (strcasecmp(*s, name) == 0)
                        return error_set(p->err, -EBADMSG, "line %u: duplicate field '%s'", lineno, name);
        r = strv_extend(&p->seen, name);
        if (r < 0)
                return r;

        p->section = SECTION_OTHER;

        if (strcasecmp(name, "SHA256") == 0) {
                if (*v)
                        return error_set(p->err, -EBADMSG, "line %u: SHA256 field must be empty on its first line",
                                         lineno);
                p->section = SECTION_SHA256;
                p->have_sha256 = true;
                return 0;
        }

        for (size_t i = 0; i < ELEMENTSOF(strings); i++)
                if (strcasecmp(name, strings[i].name) == 0) {
                        char **slot = (char **) ((uint8_t *) p->rel + strings[i].offset);
                        return free_and_strdup(slot, v);
                }

        if (strcasecmp(name, "Architectures") == 0 || strcasecmp(name, "Components") == 0) {
                char ***slot = name[0] == 'A' || name[0] == 'a' ? &p->rel->architectures : &p->rel->components;
                char **l = NULL;

                r = strv_split(v, WHITESPACE, &l);
                if (r < 0)
                        return r;
                strv_free(*slot);
                *slot = l;
        }
        return 0;
}

static int cmp_entry_path(const void *a, const void *b) {
        const struct ReleaseEntry * const *x = a, * const *y = b;
        return strcmp((*x)->path, (*y)->path);
}

static int check_duplicate_paths(Parser *p) {
        _cleanup_free_ const struct ReleaseEntry **sorted = NULL;
        size_t n = p->rel->n_entries;

        if (n < 2)
                return 0;
        sorted = calloc(n, sizeof(*sorted));
        if (!sorted)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                sorted[i] = &p->rel->entries[i];
        qsort(sorted, n, sizeof(*sorted), cmp_entry_path);
        for (size_t i = 1; i < n; i++)
                if (streq(sorted[i - 1]->path, sorted[i]->path))
                        return error_set(p->err, -EBADMSG, "SHA256 section lists '%s' twice", sorted[i]->path);
        return 0;
}

int release_parse(ErrorSlot *err, const char *text, size_t size, ReleaseFile **ret) {
        _cleanup_(release_freep) ReleaseFile *rel = NULL;
        Parser p = { .err = err, .section = SECTION_NONE };
        unsigned lineno = 0;
        size_t blank_line = 0; /* line number of a blank line seen, 0: none */
        int r = 0;

        if (size > RELEASE_SIZE_MAX)
                return error_set(err, -EFBIG, "Release file is larger than %u bytes", RELEASE_SIZE_MAX);
        if (memchr(text, 0, size))
                return error_set(err, -EBADMSG, "Release file contains a NUL byte");

        rel = calloc(1, sizeof(ReleaseFile));
        if (!rel)
                return -ENOMEM;
        p.rel = rel;

        for (size_t off = 0; off < size && r >= 0;) {
                const char *nl = memchr(text + off, '\n', size - off);
                size_t n = nl ? (size_t) (nl - (text + off)) : size - off;
                _cleanup_free_ char *line = strndup(text + off, n);

                if (!line) {
                        r = -ENOMEM;
                        break;
                }
                off += n + 1;
                lineno++;

                if (line[strspn(line, WHITESPACE "\r")] == 0) {
                        if (!blank_line)
                                blank_line = lineno;
                        continue;
                }
                if (blank_line) {
                        r = error_set(err, -EBADMSG, "line %zu: blank line inside the Release file", blank_line);
                        break;
                }

                if (line[0] == ' ' || line[0] == '\t') {
                        if (p.section == SECTION_NONE)
                                r = error_set(err, -EBADMSG, "line %u: continuation line before the first field",
                                              lineno);
                        else if (p.section == SECTION_SHA256)
                                r = parse_entry(&p, line, lineno);
                        continue;
                }
                r = parse_field(&p, line, lineno);
        }
        if (r >= 0 && !p.have_sha256)
                r = error_set(err, -EBADMSG, "Release file has no SHA256 field");
        if (r >= 0)
                r = check_duplicate_paths(&p);
        strv_free(p.seen);
        if (r < 0)
                return error_set_errno(err, r, "failed to parse Release file");

        if (!rel->architectures && strv_split("", WHITESPACE, &rel->architectures) < 0)
                return -ENOMEM;
        if (!rel->components && strv_split("", WHITESPACE, &rel->components) < 0)
                return -ENOMEM;

        *ret = TAKE_PTR(rel);
        return 0;
}

static int parse_fixed_number(const char **s, size_t digits, int *ret) {
        int v = 0;

        for (size_t i = 0; i < digits; i++) {
                if ((*s)[i] < '0' || (*s)[i] > '9')
                        return -EINVAL;
                v = v * 10 + ((*s)[i] - '0');
        }
        *s += digits;
        *ret = v;
        return 0;
}

int release_parse_date(const char *s, int64_t *ret_epoch) {
        static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
        static const char days[7][4] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
        struct tm tm = {};
        int day, year, hour, min, sec, month = -1, offset = 0;
        time_t t;

        s += strspn(s, WHITESPACE);
        /* The day name is optional and not checked against the date. */
        for (size_t i = 0; i < ELEMENTSOF(days); i++)
                if (strncmp(s, days[i], 3) == 0 && s[3] == ',') {
                        s += 4;
                        break;
                }
        s += strspn(s, WHITESPACE);

        if (s[0] >= '0' && s[0] <= '9' && (s[1] < '0' || s[1] > '9')) {
                if (parse_fixed_number(&s, 1, &day) < 0)
                        return -EINVAL;
        } else if (parse_fixed_number(&s, 2, &day) < 0)
                return -EINVAL;
        if (*s++ != ' ')
                return -EINVAL;
        for (int i = 0; i < 12; i++)
                if (strncmp(s, months[i], 3) == 0)
                        month = i;
        if (month < 0 || s[3] != ' ')
                return -EINVAL;
        s += 4;
        if (parse_fixed_number(&s, 4, &year) < 0 || *s++ != ' ' ||
            parse_fixed_number(&s, 2, &hour) < 0 || *s++ != ':' ||
            parse_fixed_number(&s, 2, &min) < 0 || *s++ != ':' ||
            parse_fixed_number(&s, 2, &sec) < 0 || *s++ != ' ')
                return -EINVAL;

        if (streq(s, "UTC") || streq(s, "GMT") || streq(s, "Z"))
                offset = 0;
        else if ((s[0] == '+' || s[0] == '-') && strlen(s) == 5) {
                const char *o = s + 1;
                int hh, mm;

                if (parse_fixed_number(&o, 2, &hh) < 0 || parse_fixed_number(&o, 2, &mm) < 0 || hh > 23 || mm > 59)
                        return -EINVAL;
                offset = (hh * 60 + mm) * 60 * (s[0] == '-' ? -1 : 1);
        } else
                return -EINVAL;

        if (day < 1 || day > 31 || year < 1970 || hour > 23 || min > 59 || sec > 59)
                return -EINVAL;

        tm.tm_year = year - 1900;
        tm.tm_mon = month;
        tm.tm_mday = day;
        tm.tm_hour = hour;
        tm.tm_min = min;
        tm.tm_sec = sec;
        t = timegm(&tm);
        if (t == (time_t) -1 || tm.tm_mday != day) /* timegm normalizes 31 Feb */
                return -EINVAL;

        *ret_epoch = (int64_t) t - offset;
        return 0;
}
