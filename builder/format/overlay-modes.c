/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "overlay-modes.h"
#include "util.h"

void overlay_modes_done(OverlayModes *m) {
        for (size_t i = 0; i < m->n_rules; i++)
                free(m->rules[i].path);
        free(m->rules);
        free(m->data);
        free(m->path);
        *m = (OverlayModes) {};
}

static int rule_compare(const void *a, const void *b) {
        const ModeRule *x = a, *y = b;
        int c = strcmp(x->path, y->path);

        if (c != 0)
                return c;
        return x->line < y->line ? -1 : x->line > y->line;
}

static int rule_compare_path(const void *a, const void *b) {
        return strcmp(((const ModeRule *) a)->path, ((const ModeRule *) b)->path);
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

/* Syntax of one PATH: relative, made of names only, so that it can be
 * compared with the walk's paths byte for byte. */
static int check_rule_path(ErrorSlot *err, const char *file, unsigned line, const char *path) {
        _cleanup_free_ char *shown = escape_for_message(path, true);

        if (!shown)
                return -ENOMEM;
        if (path[0] == '/')
                return error_set(err, -EBADMSG, "%s:%u: path '%s' is absolute; paths are relative to the tree",
                                 file, line, shown);
        for (const char *p = path;;) {
                size_t n = strcspn(p, "/");

                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return error_set(err, -EBADMSG, "%s:%u: path '%s' has a '..' component", file, line, shown);
                if (n == 0 || (n == 1 && p[0] == '.'))
                        return error_set(err, -EBADMSG,
                                         "%s:%u: path '%s' has an empty or '.' component or a trailing '/'", file,
                                         line, shown);
                p += n;
                if (!*p)
                        break;
                p++;
        }
        return 0;
}

static int add_rule(OverlayModes *m, const char *path, mode_t mode, unsigned line) {
        if (m->n_rules == m->n_alloc) {
                size_t n = m->n_alloc ? m->n_alloc * 2 : 16;
                ModeRule *t = reallocarray(m->rules, n, sizeof(ModeRule));

                if (!t)
                        return -ENOMEM;
                m->rules = t;
                m->n_alloc = n;
        }
        m->rules[m->n_rules] = (ModeRule) { .path = strdup(path), .mode = mode, .line = line };
        if (!m->rules[m->n_rules].path)
                return -ENOMEM;
        m->n_rules++;
        return 0;
}

/* One non-blank, non-comment line, without its leading and trailing
 * blanks. */
static int parse_rule(ErrorSlot *err, OverlayModes *m, unsigned line, char *s) {
        size_t word = strcspn(s, " \t");
        mode_t mode = 0;
        char *path;
        int r;

        path = s + word;
        while (is_blank(*path))
                path++;
        if (!*path) {
                _cleanup_free_ char *shown = escape_for_message(s, true);

                if (!shown)
                        return -ENOMEM;
                return error_set(err, -EBADMSG, "%s:%u: expected 'MODE PATH', got '%s'", m->path, line, shown);
        }
        s[word] = 0;
        if ((word != 3 && word != 4) || strspn(s, "01234567") != word) {
                _cleanup_free_ char *shown = escape_for_message(s, true);

                if (!shown)
                        return -ENOMEM;
                return error_set(err, -EBADMSG, "%s:%u: mode '%s' is not 3 or 4 octal digits", m->path, line,
                                 shown);
        }
        for (size_t i = 0; i < word; i++)
                mode = (mode << 3) | (mode_t) (s[i] - '0');
        r = check_rule_path(err, m->path, line, path);
        if (r < 0)
                return r;
        if (m->n_rules >= OVERLAY_MODES_MAX_RULES)
                return error_set(err, -E2BIG, "%s:%u: more than %u entries", m->path, line, OVERLAY_MODES_MAX_RULES);
        return add_rule(m, path, mode, line);
}

/* Reject the same path twice, naming the repeat that comes first in the
 * file.  The rules are sorted by path, then line. */
static int check_duplicates(ErrorSlot *err, const OverlayModes *m) {
        _cleanup_free_ char *shown = NULL;
        const ModeRule *dup = NULL;

        for (size_t i = 1; i < m->n_rules; i++)
                if (streq(m->rules[i].path, m->rules[i - 1].path) && (!dup || m->rules[i].line < dup->line))
                        dup = &m->rules[i];
        if (!dup)
                return 0;
        shown = escape_for_message(dup->path, true);
        if (!shown)
                return -ENOMEM;
        return error_set(err, -EBADMSG, "%s:%u: duplicate path '%s' (first on line %u)", m->path, dup->line, shown,
                         dup[-1].line);
}

int overlay_modes_parse(ErrorSlot *err, const char *name, const char *data, size_t size, OverlayModes *m) {
        _cleanup_free_ char *copy = NULL;
        unsigned line = 0;
        char *p, *eof;
        int r;

        m->path = strdup(name);
        m->data = malloc(size + 1);
        copy = malloc(size + 1);
        if (!m->path || !m->data || !copy)
                return -ENOMEM;
        memcpy(m->data, data, size);
        m->data[size] = 0;
        m->size = size;
        if (size > OVERLAY_MODES_MAX_SIZE)
                return error_set(err, -EFBIG, "%s: file is larger than 64 KiB", m->path);

        /* Parse a copy: data stays as it was read, for the hash. */
        memcpy(copy, data, size);
        copy[size] = 0;
        eof = copy + size;
        for (p = copy; p < eof;) {
                char *nl = memchr(p, '\n', (size_t) (eof - p)), *s = p;
                size_t len = nl ? (size_t) (nl - p) : (size_t) (eof - p);

                line++;
                if (len > OVERLAY_MODES_MAX_LINE)
                        return error_set(err, -E2BIG, "%s:%u: line is longer than %u characters", m->path, line,
                                         OVERLAY_MODES_MAX_LINE);
                if (memchr(p, 0, len))
                        return error_set(err, -EBADMSG, "%s:%u: line contains a NUL byte", m->path, line);
                p[len] = 0;
                p += len + 1;
                while (len > 0 && is_blank(s[len - 1]))
                        s[--len] = 0;
                while (is_blank(*s))
                        s++;
                if (*s == 0 || *s == '#')
                        continue;
                r = parse_rule(err, m, line, s);
                if (r < 0)
                        return r;
        }
        if (m->n_rules > 0)
                qsort(m->rules, m->n_rules, sizeof(ModeRule), rule_compare);
        return check_duplicates(err, m);
}

ModeRule *overlay_modes_find(const OverlayModes *m, const char *path) {
        ModeRule key = { .path = (char *) path };

        if (!m || m->n_rules == 0)
                return NULL;
        /* Paths are unique, so the line in the key does not matter. */
        return bsearch(&key, m->rules, m->n_rules, sizeof(ModeRule), rule_compare_path);
}
