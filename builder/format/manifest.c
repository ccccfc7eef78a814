/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdarg.h>

#include "manifest.h"

Manifest *manifest_free(Manifest *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n; i++) {
                free(m->items[i].path);
                free(m->items[i].target);
                free(m->items[i].mtime);
        }
        free(m->items);
        free(m);
        return NULL;
}

static int entry_cmp(const void *a, const void *b) {
        return strcmp(((const ManifestEntry *) a)->path, ((const ManifestEntry *) b)->path);
}

static ManifestEntry *find_entry(const Manifest *m, const char *path) {
        ManifestEntry key = { .path = (char *) path };
        return m->n ? bsearch(&key, m->items, m->n, sizeof(ManifestEntry), entry_cmp) : NULL;
}

/* Split s (modified in place) at the first space; returns the rest. */
static char *word(char **s) {
        char *w = *s, *sp;

        if (!w)
                return NULL;
        sp = strchr(w, ' ');
        if (sp) {
                *sp = 0;
                *s = sp + 1;
        } else
                *s = NULL;
        return w;
}

static int parse_octal(const char *s, unsigned *ret) {
        char *end;
        unsigned long v;

        if (!s || !*s || strspn(s, "01234567") != strlen(s) || strlen(s) > 7)
                return -EINVAL;
        v = strtoul(s, &end, 8);
        *ret = (unsigned) v;
        return 0;
}

static int parse_meta_line(ErrorSlot *err, char *line, unsigned lineno, ManifestEntry *e) {
        char *rest = line, *type, *mode, *uid, *gid, *size, *mtime, *tab;
        uint64_t u;

        type = word(&rest);
        mode = word(&rest);
        uid = word(&rest);
        gid = word(&rest);
        size = word(&rest);
        mtime = word(&rest);
        if (!rest || !type || strlen(type) != 1 || !strchr("fdlcbps", type[0]) || parse_octal(mode, &e->mode) < 0 ||
            safe_atou(uid, &e->uid) < 0 || safe_atou(gid, &e->gid) < 0 || safe_atou64(size, &u) < 0 || !mtime ||
            strspn(mtime, "0123456789.") != strlen(mtime) || !*mtime)
                return error_set(err, -EBADMSG, "manifest line %u: not '<type> <mode> <uid> <gid> <size> <mtime> <path>'",
                                 lineno);
        tab = strchr(rest, '\t');
        if (!tab)
                return error_set(err, -EBADMSG, "manifest line %u: no link target field", lineno);
        *tab = 0;
        e->type = type[0];
        e->size = u;
        e->path = strdup_printf("/%s", rest);
        e->target = strdup(tab + 1);
        e->mtime = strdup(mtime);
        if (!e->path || !e->target || !e->mtime)
                return -ENOMEM;
        return 0;
}

static bool is_lower_hex(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

int manifest_parse(ErrorSlot *err, const char *meta, size_t meta_size, const char *sums, size_t sums_size,
                   Manifest **ret) {
        _cleanup_(manifest_freep) Manifest *m = calloc(1, sizeof(Manifest));
        size_t n_alloc = 0;
        unsigned lineno = 0;
        int r;

        if (!m)
                return -ENOMEM;
        if (meta_size > MANIFEST_SIZE_MAX || sums_size > MANIFEST_SIZE_MAX)
                return error_set(err, -EFBIG, "manifest larger than %u bytes", MANIFEST_SIZE_MAX);
        if (memchr(meta, 0, meta_size) || memchr(sums, 0, sums_size))
                return error_set(err, -EBADMSG, "manifest with a NUL byte");

        for (size_t pos = 0; pos < meta_size;) {
                const char *s = meta + pos, *nl = memchr(s, '\n', meta_size - pos);
                size_t n = nl ? (size_t) (nl - s) : meta_size - pos;
                _cleanup_free_ char *line = strndup(s, n);
                ManifestEntry e = {};

                pos += n + 1;
                lineno++;
                if (!line)
                        return -ENOMEM;
                if (m->n >= MANIFEST_ENTRIES_MAX)
                        return error_set(err, -E2BIG, "manifest with more than %u entries", MANIFEST_ENTRIES_MAX);
                r = parse_meta_line(err, line, lineno, &e);
                if (r < 0) {
                        free(e.path);
                        free(e.target);
                        free(e.mtime);
                        return r;
                }
                if (streq(e.path, "/") || streq(e.path, "/" MANIFEST_META_NAME) || streq(e.path, "/" MANIFEST_SUMS_NAME)) {
                        free(e.path);
                        free(e.target);
                        free(e.mtime);
                        continue;
                }
                if (m->n == n_alloc) {
                        size_t want = n_alloc ? n_alloc * 2 : 1024;
                        ManifestEntry *p = reallocarray(m->items, want, sizeof(ManifestEntry));
                        if (!p) {
                                free(e.path);
                                free(e.target);
                                free(e.mtime);
                                return -ENOMEM;
                        }
                        m->items = p;
                        n_alloc = want;
                }
                m->items[m->n++] = e;
        }
        if (m->n > 0)
                qsort(m->items, m->n, sizeof(ManifestEntry), entry_cmp);
        for (size_t i = 1; i < m->n; i++)
                if (streq(m->items[i - 1].path, m->items[i].path))
                        return error_set(err, -EBADMSG, "manifest lists '%s' twice", m->items[i].path);

        lineno = 0;
        for (size_t pos = 0; pos < sums_size;) {
                const char *s = sums + pos, *nl = memchr(s, '\n', sums_size - pos);
                size_t n = nl ? (size_t) (nl - s) : sums_size - pos;
                _cleanup_free_ char *path = NULL;
                ManifestEntry *e;

                pos += n + 1;
                lineno++;
                /* sha256sum escapes names with a backslash or newline and
                 * marks the line with a leading backslash: such a file keeps
                 * an unknown content (it still compares by its metadata). */
                if (n > 0 && s[0] == '\\')
                        continue;
                if (n < 64 + 4 || !is_lower_hex(s, 64) || s[64] != ' ' || s[65] != ' ' || s[66] != '.' || s[67] != '/')
                        return error_set(err, -EBADMSG, "manifest sums line %u: not '<sha256>  ./<path>'", lineno);
                path = strndup(s + 67, n - 67);
                if (!path)
                        return -ENOMEM;
                e = find_entry(m, path);
                if (!e || e->type != 'f')
                        return error_set(err, -EBADMSG, "manifest sums line %u: '%s' is not a listed file", lineno, path);
                memcpy(e->sha256, s, 64);
                e->sha256[64] = 0;
        }
        *ret = TAKE_PTR(m);
        return 0;
}

/* ext4's superblock fields that a tool may set differently on two builds of
 * the same tree (clocks, counters, identities, checksums), by byte offset. */
static const struct {
        unsigned offset, size;
        const char *name;
} sb_fields[] = {
        { 0x2c, 4, "s_mtime" },          { 0x30, 4, "s_wtime" },          { 0x34, 2, "s_mnt_count" },
        { 0x36, 2, "s_max_mnt_count" },  { 0x3a, 2, "s_state" },          { 0x40, 4, "s_lastcheck" },
        { 0x44, 4, "s_checkinterval" },  { 0x68, 16, "s_uuid" },          { 0x78, 16, "s_volume_name" },
        { 0x88, 64, "s_last_mounted" },  { 0xd0, 16, "s_journal_uuid" },  { 0xe8, 4, "s_last_orphan" },
        { 0xec, 16, "s_hash_seed" },     { 0x108, 4, "s_mkfs_time" },     { 0x10c, 68, "s_jnl_blocks" },
        { 0x178, 8, "s_kbytes_written" }, { 0x194, 4, "s_error_count" },  { 0x198, 4, "s_first_error_time" },
        { 0x1cc, 4, "s_last_error_time" }, { 0x270, 4, "s_checksum_seed" }, { 0x3fc, 4, "s_checksum" },
};

#define EXT_MAGIC_OFFSET 0x38

void manifest_set_superblock(Manifest *m, const uint8_t sb[static SUPERBLOCK_SIZE]) {
        m->has_superblock = sb[EXT_MAGIC_OFFSET] == 0x53 && sb[EXT_MAGIC_OFFSET + 1] == 0xef;
        if (m->has_superblock)
                memcpy(m->superblock, sb, SUPERBLOCK_SIZE);
}

static uint64_t little_endian(const uint8_t *p, unsigned n) {
        uint64_t v = 0;

        for (unsigned i = n; i > 0; i--)
                v = v << 8 | p[i - 1];
        return v;
}

static int add_line(char ***l, const char *fmt, ...) _printf_(2, 3);
static int add_line(char ***l, const char *fmt, ...) {
        va_list ap;
        char *s;

        va_start(ap, fmt);
        s = strdup_vprintf(fmt, ap);
        va_end(ap);
        if (!s)
                return -ENOMEM;
        return strv_consume(l, s);
}

static int diff_entry(const ManifestEntry *a, const ManifestEntry *b, char ***l) {
        int r = 0;

        if (a->type != b->type)
                return add_line(l, "type %c -> %c  %s", a->type, b->type, a->path);
        if (a->type == 'f' && (!streq(a->sha256, b->sha256) || a->size != b->size))
                r = add_line(l, "content  %s", a->path);
        if (r >= 0 && !streq(a->target, b->target))
                r = add_line(l, "target %s -> %s  %s", a->target, b->target, a->path);
        if (r >= 0 && a->mode != b->mode)
                r = add_line(l, "mode %04o -> %04o  %s", a->mode, b->mode, a->path);
        if (r >= 0 && (a->uid != b->uid || a->gid != b->gid))
                r = add_line(l, "owner %u:%u -> %u:%u  %s", a->uid, a->gid, b->uid, b->gid, a->path);
        if (r >= 0 && !streq(a->mtime, b->mtime))
                r = add_line(l, "mtime %s -> %s  %s", a->mtime, b->mtime, a->path);
        return r;
}

static int diff_superblock(const Manifest *a, const Manifest *b, char ***l) {
        unsigned pos = 0;
        int r = 0;

        if (!a->has_superblock || !b->has_superblock)
                return 0;
        while (r >= 0 && pos < SUPERBLOCK_SIZE) {
                const char *name = NULL;
                unsigned start = pos, end;

                if (a->superblock[pos] == b->superblock[pos]) {
                        pos++;
                        continue;
                }
                /* A named field whole, else the run of differing bytes. */
                for (size_t k = 0; k < ELEMENTSOF(sb_fields); k++)
                        if (pos >= sb_fields[k].offset && pos < sb_fields[k].offset + sb_fields[k].size) {
                                name = sb_fields[k].name;
                                start = sb_fields[k].offset;
                                end = start + sb_fields[k].size;
                                break;
                        }
                if (!name)
                        for (end = pos; end < SUPERBLOCK_SIZE && a->superblock[end] != b->superblock[end]; end++)
                                ;
                if (name && end - start <= 8 && !streq(name, "s_checksum"))
                        r = add_line(l, "superblock %s %" PRIu64 " -> %" PRIu64, name,
                                     little_endian(a->superblock + start, end - start),
                                     little_endian(b->superblock + start, end - start));
                else
                        r = add_line(l, "superblock bytes 0x%03x-0x%03x%s%s%s", start, end - 1, name ? " (" : "",
                                     strempty(name), name ? ")" : "");
                pos = end;
        }
        return r;
}

int manifest_diff(const Manifest *a, const Manifest *b, char ***ret_lines) {
        _cleanup_strv_free_ char **l = NULL;
        size_t i = 0, j = 0;
        int r = 0;

        /* Both sorted by path: one merge pass. */
        while (r >= 0 && (i < a->n || j < b->n)) {
                int c = i >= a->n ? 1 : j >= b->n ? -1 : strcmp(a->items[i].path, b->items[j].path);

                if (c < 0)
                        r = add_line(&l, "only in A  %s", a->items[i++].path);
                else if (c > 0)
                        r = add_line(&l, "only in B  %s", b->items[j++].path);
                else
                        r = diff_entry(&a->items[i++], &b->items[j++], &l);
        }
        if (r >= 0)
                r = diff_superblock(a, b, &l);
        if (r < 0)
                return r;
        if (!l) {
                l = calloc(1, sizeof(char *));
                if (!l)
                        return -ENOMEM;
        }
        *ret_lines = TAKE_PTR(l);
        return 0;
}
