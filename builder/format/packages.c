/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <inttypes.h>
#include <strings.h>

#include "packages.h"

#define VALUE_MAX 4096u

static void package_done(Package *p) {
        free(p->name);
        free(p->version);
        free(p->architecture);
        free(p->filename);
}

PackageList *package_list_free(PackageList *l) {
        if (!l)
                return NULL;
        for (size_t i = 0; i < l->n; i++)
                package_done(&l->items[i]);
        free(l->items);
        free(l);
        return NULL;
}

/* A field's value inside the text (not NUL-terminated) and its line. */
typedef struct Span {
        const char *p;
        size_t n;
        unsigned line;
} Span;

typedef int (*ParagraphFn)(ErrorSlot *err, const Span *values, void *userdata);

/* Calls fn once per paragraph with the values of the named fields (n == 0
 * and p == NULL for a field the paragraph lacks). */
static int foreach_paragraph(ErrorSlot *err, const char *text, size_t size, const char * const *names, size_t n_names,
                             ParagraphFn fn, void *userdata) {
        Span values[8] = {};
        bool any = false, in_wanted = false;
        const char *wanted_name = NULL;
        unsigned line = 0;
        int r;

        if (n_names > ELEMENTSOF(values))
                return -EINVAL;
        if (size > PACKAGES_SIZE_MAX)
                return error_set(err, -EFBIG, "more than %u bytes", PACKAGES_SIZE_MAX);
        if (memchr(text, 0, size))
                return error_set(err, -EBADMSG, "a NUL byte in the text");

        for (size_t pos = 0; pos <= size;) {
                const char *l = text + pos, *eol = memchr(l, '\n', size - pos);
                size_t n = eol ? (size_t) (eol - l) : size - pos;
                bool blank = true;

                line++;
                pos += n + 1;
                for (size_t i = 0; i < n; i++)
                        if (l[i] != ' ' && l[i] != '\t') {
                                blank = false;
                                break;
                        }

                if (blank) {
                        if (any) {
                                r = fn(err, values, userdata);
                                if (r < 0)
                                        return r;
                        }
                        memset(values, 0, sizeof values);
                        any = in_wanted = false;
                        continue;
                }
                if (l[0] == ' ' || l[0] == '\t') {
                        if (!any)
                                return error_set(err, -EBADMSG, "line %u: a continuation line without a field", line);
                        if (in_wanted)
                                return error_set(err, -EBADMSG, "line %u: field '%s' spans lines", line, wanted_name);
                        continue;
                }

                const char *colon = memchr(l, ':', n);
                size_t name_len = colon ? (size_t) (colon - l) : 0;
                if (name_len == 0 || memchr(l, ' ', name_len) || memchr(l, '\t', name_len))
                        return error_set(err, -EBADMSG, "line %u: not a 'Field: value' line", line);
                any = true;
                in_wanted = false;
                for (size_t i = 0; i < n_names; i++) {
                        if (strlen(names[i]) != name_len || strncasecmp(names[i], l, name_len) != 0)
                                continue;
                        if (values[i].p)
                                return error_set(err, -EBADMSG, "line %u: field '%s' appears twice", line, names[i]);
                        const char *v = colon + 1, *end = l + n;
                        while (v < end && (*v == ' ' || *v == '\t'))
                                v++;
                        while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
                                end--;
                        values[i] = (Span) { .p = v, .n = (size_t) (end - v), .line = line };
                        in_wanted = true;
                        wanted_name = names[i];
                }
        }
        if (any) {
                /* The last paragraph, without a blank line after it. */
                r = fn(err, values, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool span_is(const Span *s, const char *what) {
        return s->p && s->n == strlen(what) && memcmp(s->p, what, s->n) == 0;
}

static bool span_all(const Span *s, size_t max, const char *extra) {
        if (!s->p || s->n == 0 || s->n > max)
                return false;
        for (size_t i = 0; i < s->n; i++) {
                char c = s->p[i];
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr(extra, c)) || c == 0)
                        return false;
        }
        return true;
}

/* Debian policy 5.6.1: lowercase letters, digits, + - . ; two or more. */
static bool name_ok(const Span *s) {
        return span_all(s, 128, "+-.") && s->n >= 2 && isalnum((unsigned char) s->p[0]);
}

static bool version_ok(const Span *s) {
        return span_all(s, 256, "ABCDEFGHIJKLMNOPQRSTUVWXYZ.+~:-") && isdigit((unsigned char) s->p[0]);
}

static bool arch_ok(const Span *s) {
        return span_all(s, 64, "-");
}

/* Pool paths are relative, plain, and never climb. */
static bool filename_ok(const Span *s) {
        if (!s->p || s->n == 0 || s->n > VALUE_MAX || s->p[0] == '/')
                return false;
        for (size_t i = 0; i < s->n; i++)
                if ((unsigned char) s->p[i] <= ' ' || s->p[i] == 0x7f)
                        return false;
        for (size_t i = 0; i < s->n;) {
                size_t j = i;
                while (j < s->n && s->p[j] != '/')
                        j++;
                if (j == i || (j - i == 1 && s->p[i] == '.') || (j - i == 2 && s->p[i] == '.' && s->p[i + 1] == '.'))
                        return false;
                i = j + 1;
                if (j == s->n - 1)
                        return false; /* trailing slash */
        }
        return true;
}

static int sha256_from_span(const Span *s, char ret[static 65]) {
        if (!s->p || s->n != 64)
                return -EINVAL;
        for (size_t i = 0; i < 64; i++) {
                char c = (char) tolower((unsigned char) s->p[i]);
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                        return -EINVAL;
                ret[i] = c;
        }
        ret[64] = 0;
        return 0;
}

static int u64_from_span(const Span *s, uint64_t *ret) {
        char buf[21];

        if (!s->p || s->n == 0 || s->n >= sizeof buf)
                return -EINVAL;
        memcpy(buf, s->p, s->n);
        buf[s->n] = 0;
        return safe_atou64(buf, ret);
}

static int add_package(ErrorSlot *err, PackageList *l, size_t *n_alloc, const Span *name, const Span *version,
                       const Span *arch) {
        Package *p;

        if (l->n >= PACKAGES_MAX)
                return error_set(err, -E2BIG, "line %u: more than %u packages", name->line, PACKAGES_MAX);
        if (l->n == *n_alloc) {
                size_t want = *n_alloc ? *n_alloc * 2 : 256;
                p = reallocarray(l->items, want, sizeof(Package));
                if (!p)
                        return -ENOMEM;
                l->items = p;
                *n_alloc = want;
        }
        p = &l->items[l->n];
        *p = (Package) {
                .name = strndup(name->p, name->n),
                .version = strndup(version->p, version->n),
                .architecture = strndup(arch->p, arch->n),
        };
        l->n++;
        if (!p->name || !p->version || !p->architecture)
                return -ENOMEM;
        return 0;
}

static int check_identity(ErrorSlot *err, const Span *v) {
        if (!name_ok(&v[0]))
                return error_set(err, -EBADMSG, "line %u: missing or invalid Package", v[0].p ? v[0].line : v[1].line);
        if (!version_ok(&v[1]))
                return error_set(err, -EBADMSG, "line %u: missing or invalid Version of '%.*s'",
                                 v[1].p ? v[1].line : v[0].line, (int) v[0].n, v[0].p);
        if (!arch_ok(&v[2]))
                return error_set(err, -EBADMSG, "line %u: missing or invalid Architecture of '%.*s'",
                                 v[2].p ? v[2].line : v[0].line, (int) v[0].n, v[0].p);
        return 0;
}

typedef struct StatusParser {
        PackageList *l;
        size_t n_alloc;
} StatusParser;

/* Fields: Package, Version, Architecture, Status. */
static int status_paragraph(ErrorSlot *err, const Span *v, void *userdata) {
        StatusParser *sp = userdata;
        int r;

        /* Only installed packages need a version and architecture: dpkg
         * keeps records of removed ones ("deinstall ok config-files")
         * that may lack them. */
        if (!span_is(&v[3], "install ok installed") && !span_is(&v[3], "hold ok installed")) {
                if (!v[3].p)
                        return error_set(err, -EBADMSG, "line %u: a paragraph without Status",
                                         v[0].p ? v[0].line : 0);
                return 0;
        }
        r = check_identity(err, v);
        if (r < 0)
                return r;
        return add_package(err, sp->l, &sp->n_alloc, &v[0], &v[1], &v[2]);
}

static int package_cmp(const void *a, const void *b) {
        const Package *x = a, *y = b;
        int c = strcmp(x->name, y->name);
        return c ? c : strcmp(x->architecture, y->architecture);
}

/* Sorting only: a list of archive files may hold two versions of a package. */
static int package_cmp_version(const void *a, const void *b) {
        int c = package_cmp(a, b);
        return c ? c : strcmp(((const Package *) a)->version, ((const Package *) b)->version);
}

int package_list_from_status(ErrorSlot *err, const char *text, size_t size, PackageList **ret) {
        static const char * const names[] = { "Package", "Version", "Architecture", "Status" };
        _cleanup_(package_list_freep) PackageList *l = calloc(1, sizeof(PackageList));
        StatusParser sp = { .l = l };
        int r;

        if (!l)
                return -ENOMEM;
        r = foreach_paragraph(err, text, size, names, ELEMENTSOF(names), status_paragraph, &sp);
        if (r < 0)
                return error_prefix(err, r, "dpkg status");
        if (l->n > 0)
                qsort(l->items, l->n, sizeof(Package), package_cmp_version);
        for (size_t i = 1; i < l->n; i++)
                if (package_cmp(&l->items[i - 1], &l->items[i]) == 0)
                        return error_set(err, -EBADMSG, "dpkg status: '%s:%s' is installed twice", l->items[i].name,
                                         l->items[i].architecture);
        *ret = TAKE_PTR(l);
        return 0;
}

static Package *find_mutable(const PackageList *l, const char *name, size_t name_len, const char *arch,
                             size_t arch_len) {
        size_t lo = 0, hi = l->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                Package *p = &l->items[mid];
                int c = strncmp(p->name, name, name_len);
                if (c == 0 && p->name[name_len])
                        c = 1;
                if (c == 0) {
                        c = strncmp(p->architecture, arch, arch_len);
                        if (c == 0 && p->architecture[arch_len])
                                c = 1;
                }
                if (c == 0)
                        return p;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

/* The entry of name, arch and version, among neighbours of equal name and
 * architecture (only a list of archive files has more than one). */
static Package *find_version(const PackageList *l, const char *name, size_t name_len, const char *arch,
                             size_t arch_len, const char *version, size_t version_len) {
        Package *p = find_mutable(l, name, name_len, arch, arch_len), *first = l->items, *end = l->items + l->n;

        if (!p)
                return NULL;
        while (p > first && package_cmp(p - 1, p) == 0)
                p--;
        for (Package *q = p; q < end && package_cmp(q, p) == 0; q++)
                if (strlen(q->version) == version_len && memcmp(q->version, version, version_len) == 0)
                        return q;
        return NULL;
}

int package_list_add(ErrorSlot *err, PackageList *l, const char *name, const char *version, const char *architecture) {
        Package key = { .name = (char *) name, .architecture = (char *) architecture }, *items;
        const Package *have = package_list_find(l, name, architecture);
        size_t at = 0;

        if (have) {
                if (streq(have->version, version))
                        return 0;
                return error_set(err, -EBADMSG, "'%s' (%s) is listed as %s and as %s", name, architecture,
                                 have->version, version);
        }
        while (at < l->n && package_cmp(&l->items[at], &key) < 0)
                at++;
        items = reallocarray(l->items, l->n + 1, sizeof(Package));
        if (!items)
                return -ENOMEM;
        l->items = items;
        memmove(items + at + 1, items + at, (l->n - at) * sizeof(Package));
        items[at] = (Package) { .name = strdup(name), .version = strdup(version), .architecture = strdup(architecture) };
        l->n++;
        if (!items[at].name || !items[at].version || !items[at].architecture)
                return -ENOMEM;
        return 0;
}

const Package *package_list_find(const PackageList *l, const char *name, const char *architecture) {
        if (!l || !name)
                return NULL;
        if (architecture)
                return find_mutable(l, name, strlen(name), architecture, strlen(architecture));
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->items[i].name, name))
                        return &l->items[i];
        return NULL;
}

/* Fields: Package, Version, Architecture, SHA256, Size, Filename. */
static int index_paragraph(ErrorSlot *err, const Span *v, void *userdata) {
        PackageList *l = userdata;
        char sha[65];
        uint64_t size;
        Package *p;
        int r;

        r = check_identity(err, v);
        if (r < 0)
                return r;
        p = find_version(l, v[0].p, v[0].n, v[2].p, v[2].n, v[1].p, v[1].n);
        if (!p)
                return 0;
        if (sha256_from_span(&v[3], sha) < 0)
                return error_set(err, -EBADMSG, "line %u: missing or invalid SHA256 of '%s'", v[0].line, p->name);
        if (u64_from_span(&v[4], &size) < 0)
                return error_set(err, -EBADMSG, "line %u: missing or invalid Size of '%s'", v[0].line, p->name);
        if (!filename_ok(&v[5]))
                return error_set(err, -EBADMSG, "line %u: missing or invalid Filename of '%s'", v[0].line, p->name);
        if (p->sha256[0]) {
                /* Known already: from another index, or pinned (a
                 * buildinfo's list); this entry must be the same file. */
                if (!streq(p->sha256, sha) || (p->size && p->size != size))
                        return error_set(err, -EBADMSG,
                                         "line %u: '%s' %s (%s) is listed with sha256 %.16s, size %" PRIu64
                                         ", not sha256 %.16s, size %" PRIu64,
                                         v[0].line, p->name, p->version, p->architecture, sha, size, p->sha256, p->size);
                if (!p->filename && !(p->filename = strndup(v[5].p, v[5].n)))
                        return -ENOMEM;
                p->size = size;
                return 0;
        }
        p->filename = strndup(v[5].p, v[5].n);
        if (!p->filename)
                return -ENOMEM;
        memcpy(p->sha256, sha, sizeof sha);
        p->size = size;
        return 0;
}

int package_list_match_index(ErrorSlot *err, PackageList *l, const char *text, size_t size) {
        static const char * const names[] = { "Package", "Version", "Architecture", "SHA256", "Size", "Filename" };
        int r;

        r = foreach_paragraph(err, text, size, names, ELEMENTSOF(names), index_paragraph, l);
        if (r < 0)
                return error_prefix(err, r, "Packages index");
        return 0;
}

typedef struct IndexFind {
        const char *name, *architecture;
        PackageList *found;
        size_t n_alloc;
} IndexFind;

/* Fields as index_paragraph's. */
static int find_paragraph(ErrorSlot *err, const Span *v, void *userdata) {
        IndexFind *f = userdata;
        Package *p;
        int r;

        if (!span_is(&v[0], f->name) || !span_is(&v[2], f->architecture))
                return 0;
        r = check_identity(err, v);
        if (r < 0)
                return r;
        if (f->found->n > 0)
                return error_set(err, -EBADMSG, "line %u: '%s' (%s) is listed twice", v[0].line, f->name,
                                 f->architecture);
        r = add_package(err, f->found, &f->n_alloc, &v[0], &v[1], &v[2]);
        if (r < 0)
                return r;
        p = &f->found->items[0];
        if (sha256_from_span(&v[3], p->sha256) < 0)
                return error_set(err, -EBADMSG, "line %u: missing or invalid SHA256 of '%s'", v[0].line, p->name);
        if (u64_from_span(&v[4], &p->size) < 0)
                return error_set(err, -EBADMSG, "line %u: missing or invalid Size of '%s'", v[0].line, p->name);
        if (!filename_ok(&v[5]))
                return error_set(err, -EBADMSG, "line %u: missing or invalid Filename of '%s'", v[0].line, p->name);
        p->filename = strndup(v[5].p, v[5].n);
        return p->filename ? 0 : -ENOMEM;
}

int package_index_find(ErrorSlot *err, const char *text, size_t size, const char *name, const char *architecture,
                       PackageList **ret) {
        static const char * const names[] = { "Package", "Version", "Architecture", "SHA256", "Size", "Filename" };
        _cleanup_(package_list_freep) PackageList *l = calloc(1, sizeof(PackageList));
        IndexFind f = { .name = name, .architecture = architecture };
        int r;

        if (!l)
                return -ENOMEM;
        f.found = l;
        r = foreach_paragraph(err, text, size, names, ELEMENTSOF(names), find_paragraph, &f);
        if (r < 0)
                return error_prefix(err, r, "Packages index");
        if (l->n == 0)
                return error_set(err, -ENOENT, "Packages index: no '%s' (%s)", name, architecture);
        *ret = TAKE_PTR(l);
        return 0;
}

int package_list_merge(ErrorSlot *err, PackageList * const *lists, size_t n_lists, PackageList **ret) {
        _cleanup_(package_list_freep) PackageList *m = calloc(1, sizeof(PackageList));
        size_t total = 0, k = 0;

        if (!m)
                return -ENOMEM;
        for (size_t i = 0; i < n_lists; i++)
                total += lists[i]->n;
        if (total > PACKAGES_MAX)
                return error_set(err, -E2BIG, "more than %u packages", PACKAGES_MAX);
        m->items = calloc(total ?: 1, sizeof(Package));
        if (!m->items)
                return -ENOMEM;
        for (size_t i = 0; i < n_lists; i++)
                for (size_t j = 0; j < lists[i]->n; j++) {
                        const Package *p = &lists[i]->items[j];
                        Package *q = &m->items[m->n++];

                        *q = (Package) {
                                .name = strdup(p->name),
                                .version = strdup(p->version),
                                .architecture = strdup(p->architecture),
                                .size = p->size,
                        };
                        memcpy(q->sha256, p->sha256, sizeof q->sha256);
                        if (!q->name || !q->version || !q->architecture)
                                return -ENOMEM;
                }
        if (m->n > 0)
                qsort(m->items, m->n, sizeof(Package), package_cmp_version);
        /* One entry per name, architecture and version.  A slot dropped or
         * moved up is cleared, so that a refusal halfway frees each entry
         * once. */
        for (size_t i = 0; i < m->n; i++) {
                Package *p = &m->items[i];

                if (k > 0 && package_cmp_version(&m->items[k - 1], p) == 0) {
                        const Package *q = &m->items[k - 1];

                        if (!streq(q->sha256, p->sha256) || q->size != p->size)
                                return error_set(err, -EBADMSG, "'%s' %s (%s) comes from two different .debs (sha256 %.16s and %.16s)",
                                                 p->name, p->version, p->architecture, q->sha256, p->sha256);
                        package_done(p);
                        *p = (Package) {};
                        continue;
                }
                if (k != i) {
                        m->items[k] = *p;
                        *p = (Package) {};
                }
                k++;
        }
        m->n = k;
        *ret = TAKE_PTR(m);
        return 0;
}

int package_list_check_complete(ErrorSlot *err, const PackageList *l) {
        for (size_t i = 0; i < l->n; i++)
                if (!l->items[i].sha256[0])
                        return error_set(err, -ENOENT,
                                         "'%s' %s (%s) is installed but no package index lists it, so it cannot be pinned",
                                         l->items[i].name, l->items[i].version, l->items[i].architecture);
        return 0;
}

int package_list_format(const PackageList *l, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < l->n; i++) {
                const Package *p = &l->items[i];
                fprintf(f, "%s %s %s %s %" PRIu64 "\n", p->name, p->version, p->architecture,
                        p->sha256[0] ? p->sha256 : "-", p->size);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        return 0;
}

int package_list_parse(ErrorSlot *err, const char *text, size_t size, PackageList **ret) {
        _cleanup_(package_list_freep) PackageList *l = calloc(1, sizeof(PackageList));
        size_t n_alloc = 0;
        unsigned line = 0;
        int r;

        if (!l)
                return -ENOMEM;
        if (size > PACKAGES_SIZE_MAX)
                return error_set(err, -EFBIG, "package list: more than %u bytes", PACKAGES_SIZE_MAX);
        if (memchr(text, 0, size))
                return error_set(err, -EBADMSG, "package list: a NUL byte in the text");
        for (size_t pos = 0; pos < size;) {
                const char *s = text + pos, *eol = memchr(s, '\n', size - pos);
                Span w[5];
                size_t n = eol ? (size_t) (eol - s) : size - pos, k = 0, i = 0;

                line++;
                pos += n + 1;
                while (i < n && k < ELEMENTSOF(w)) {
                        size_t j = i;
                        while (j < n && s[j] != ' ')
                                j++;
                        w[k++] = (Span) { .p = s + i, .n = j - i, .line = line };
                        i = j + 1;
                }
                if (k != ELEMENTSOF(w) || i < n || (n > 0 && s[n - 1] == ' '))
                        return error_set(err, -EBADMSG, "package list: line %u: expected 5 words", line);
                r = check_identity(err, w);
                if (r < 0)
                        return error_prefix(err, r, "package list");
                r = add_package(err, l, &n_alloc, &w[0], &w[1], &w[2]);
                if (r < 0)
                        return r;
                Package *p = &l->items[l->n - 1];
                /* Only the canonical form: the list is hashed and compared as text. */
                if (!eol || sha256_from_span(&w[3], p->sha256) < 0 || memcmp(p->sha256, w[3].p, 64) != 0 ||
                    u64_from_span(&w[4], &p->size) < 0 || (w[4].n > 1 && w[4].p[0] == '0'))
                        return error_set(err, -EBADMSG,
                                         "package list: line %u: not '<name> <version> <arch> <sha256> <size>\\n'", line);
                if (l->n > 1 && package_cmp(&l->items[l->n - 2], p) >= 0)
                        return error_set(err, -EBADMSG, "package list: line %u: not in order", line);
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* apt's quoting of a file name part: '_', ':', '%' and bytes outside
 * printable ASCII as "%xx" (lowercase). */
static int quote_part(FILE *f, const char *s) {
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;
                if (c <= ' ' || c >= 0x7f || c == '_' || c == ':' || c == '%')
                        fprintf(f, "%%%02x", c);
                else
                        fputc(c, f);
        }
        return 0;
}

char *package_archive_name(const Package *p) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        quote_part(f, p->name);
        fputc('_', f);
        quote_part(f, p->version);
        fputc('_', f);
        quote_part(f, p->architecture);
        fputs(".deb", f);
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

/* One '_'-separated part of an archive name, unquoted into buf; false if it
 * is not a quoting apt writes. */
static bool unquote_part(const char *s, size_t n, char *buf, size_t buf_size, Span *ret) {
        size_t k = 0;

        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (c == '%') {
                        int hi, lo;
                        if (i + 2 >= n || (hi = unhexchar(s[i + 1])) < 0 || (lo = unhexchar(s[i + 2])) < 0)
                                return false;
                        c = (char) (hi * 16 + lo);
                        i += 2;
                }
                if (k + 1 >= buf_size || c == 0)
                        return false;
                buf[k++] = c;
        }
        buf[k] = 0;
        *ret = (Span) { .p = buf, .n = k };
        return true;
}

int package_list_from_archive(ErrorSlot *err, char * const *file_names, const PackageList *installed,
                              PackageList **ret) {
        _cleanup_(package_list_freep) PackageList *l = calloc(1, sizeof(PackageList));
        size_t n_alloc = 0;
        int r;

        if (!l)
                return -ENOMEM;
        STRV_FOREACH(f, file_names) {
                char name[129], version[257], arch[65];
                const char *s = *f, *u1, *u2;
                size_t n = strlen(s);
                Span v[3];

                /* Anything else apt never takes for a package: skipped. */
                if (n <= 4 || !endswith(s, ".deb"))
                        continue;
                n -= 4;
                u1 = memchr(s, '_', n);
                u2 = u1 ? memchr(u1 + 1, '_', n - (size_t) (u1 + 1 - s)) : NULL;
                if (!u2 || memchr(u2 + 1, '_', n - (size_t) (u2 + 1 - s)))
                        continue;
                if (!unquote_part(s, (size_t) (u1 - s), name, sizeof name, &v[0]) ||
                    !unquote_part(u1 + 1, (size_t) (u2 - u1 - 1), version, sizeof version, &v[1]) ||
                    !unquote_part(u2 + 1, n - (size_t) (u2 + 1 - s), arch, sizeof arch, &v[2]) || !name_ok(&v[0]) ||
                    !version_ok(&v[1]) || !arch_ok(&v[2]))
                        continue;
                /* Only the name apt itself would give the file: another
                 * spelling of the same package is a file apt never reads. */
                Package probe = { .name = name, .version = version, .architecture = arch };
                _cleanup_free_ char *canonical = package_archive_name(&probe);
                if (!canonical)
                        return -ENOMEM;
                if (!streq(canonical, s))
                        continue;
                if (installed) {
                        const Package *p = package_list_find(installed, name, arch);
                        if (p && streq(p->version, version))
                                continue;
                }
                if (l->n >= PACKAGES_MAX)
                        return error_set(err, -E2BIG, "more than %u packages in the archive", PACKAGES_MAX);
                r = add_package(err, l, &n_alloc, &v[0], &v[1], &v[2]);
                if (r < 0)
                        return r;
        }
        if (l->n > 0)
                qsort(l->items, l->n, sizeof(Package), package_cmp_version);
        *ret = TAKE_PTR(l);
        return 0;
}
