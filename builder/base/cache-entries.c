/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "cache-entries.h"

/* The kinds of entry, in the order they are listed. */
static const char * const kinds[] = { "appliance", "base", "layers", "final", "qcow2", "vmdk" };

#define QCOW2_HEADER_MIN 20u
#define QCOW2_BACKING_MAX 1023u

void cache_entries_free(CacheEntry *e, size_t n) {
        for (size_t i = 0; e && i < n; i++) {
                free(e[i].name);
                free(e[i].kind);
                strv_free(e[i].paths);
                free(e[i].parent);
        }
        free(e);
}

static uint64_t be(const uint8_t *p, unsigned n) {
        uint64_t v = 0;

        for (unsigned i = 0; i < n; i++)
                v = v << 8 | p[i];
        return v;
}

/* The backing file a qcow2 names, as an absolute path, or NULL if none. */
static int qcow2_backing(ErrorSlot *err, const char *path, char **ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        uint8_t h[QCOW2_HEADER_MIN];
        char name[QCOW2_BACKING_MAX + 1];
        uint64_t off;
        uint32_t len;

        *ret = NULL;
        if (fd < 0)
                return error_set_errno(err, -errno, "cannot open '%s'", path);
        if (pread(fd, h, sizeof h, 0) != (ssize_t) sizeof h || memcmp(h, "QFI\xfb", 4) != 0)
                return error_set(err, -EBADMSG, "'%s' is not a qcow2 image", path);
        off = be(h + 8, 8);
        len = (uint32_t) be(h + 16, 4);
        if (off == 0)
                return 0;
        if (len == 0 || len > QCOW2_BACKING_MAX || pread(fd, name, len, (off_t) off) != (ssize_t) len ||
            memchr(name, 0, len))
                return error_set(err, -EBADMSG, "'%s' names its backing file badly", path);
        name[len] = 0;
        if (name[0] == '/')
                *ret = strdup(name);
        else {
                _cleanup_free_ char *dir = strdup(path);
                char *slash = dir ? strrchr(dir, '/') : NULL;

                if (!dir)
                        return -ENOMEM;
                if (slash)
                        *slash = 0;
                *ret = path_join(slash ? dir : ".", name);
        }
        return *ret ? 0 : -ENOMEM;
}

/* Bytes allocated under path (a file, or a directory and all below it). */
static uint64_t allocated(const char *path) {
        struct stat st;
        uint64_t n;
        DIR *d;
        struct dirent *de;

        if (lstat(path, &st) < 0)
                return 0;
        n = (uint64_t) st.st_blocks * 512u;
        if (!S_ISDIR(st.st_mode))
                return n;
        d = opendir(path);
        if (!d)
                return n;
        while ((de = readdir(d))) {
                _cleanup_free_ char *p = NULL;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                p = path_join(path, de->d_name);
                if (p)
                        n += allocated(p);
        }
        closedir(d);
        return n;
}

/* path relative to the cache's directory, or NULL if it is not in it. */
static const char *in_cache(const Cache *c, const char *path) {
        size_t l = strlen(c->dir);

        if (strncmp(path, c->dir, l) != 0 || path[l] != '/')
                return NULL;
        return path + l + 1;
}

static bool entry_name_ok(int dfd, const char *name, void *userdata) {
        /* Dot names are temporaries of a build (".<key>.qcow2.tmp", ".tmp*"). */
        return name[0] != '.';
}

static int read_last_build(const Cache *c, char ***ret) {
        _cleanup_free_ char *path = path_join(c->dir, CACHE_LAST_BUILD), *text = NULL;
        size_t size;
        int r;

        *ret = NULL;
        if (!path)
                return -ENOMEM;
        r = read_full_file(path, 1024u * 1024u, &text, &size);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        return strv_split(text, "\n", ret);
}

static int add_entry(CacheEntry **e, size_t *n, CacheEntry *add) {
        CacheEntry *m = reallocarray(*e, *n + 1, sizeof **e);

        if (!m)
                return -ENOMEM;
        *e = m;
        m[(*n)++] = *add;
        *add = (CacheEntry) {};
        return 0;
}

int cache_list(ErrorSlot *err, const Cache *c, CacheEntry **ret, size_t *ret_n) {
        _cleanup_strv_free_ char **last = NULL;
        CacheEntry *e = NULL;
        size_t n = 0;
        int r;

        r = read_last_build(c, &last);
        if (r < 0)
                return error_set_errno(err, r, "cannot read '%s/%s'", c->dir, CACHE_LAST_BUILD);
        for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                _cleanup_free_ char *dir = path_join(c->dir, kinds[k]);
                _cleanup_strv_free_ char **names = NULL;

                if (!dir) {
                        r = -ENOMEM;
                        goto fail;
                }
                r = readdir_sorted(dir, entry_name_ok, NULL, 0, &names);
                if (r == -ENOENT)
                        continue;
                if (r < 0) {
                        r = error_set_errno(err, r, "cannot read '%s'", dir);
                        goto fail;
                }
                STRV_FOREACH(name, names) {
                        _cleanup_free_ char *path = path_join(dir, *name);
                        CacheEntry x = {};
                        struct stat st;

                        if (!path) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        /* final/: the disk is the entry, its package list goes with it. */
                        if (streq(kinds[k], "final") && !endswith(*name, ".img"))
                                continue;
                        if (lstat(path, &st) < 0)
                                continue; /* gone meanwhile */
                        x.name = path_join(kinds[k], *name);
                        x.kind = strdup(kinds[k]);
                        if (!x.name || !x.kind || strv_extend(&x.paths, path) < 0) {
                                cache_entries_free(&x, 1);
                                r = -ENOMEM;
                                goto fail;
                        }
                        x.bytes = allocated(path);
                        x.last_used = (int64_t) st.st_mtime;
                        x.last_build = strv_contains(last, x.name);
                        if (streq(kinds[k], "final")) {
                                _cleanup_free_ char *pk =
                                        strdup_printf("%.*s.packages", (int) (strlen(path) - strlen(".img")), path);

                                if (!pk || (access(pk, F_OK) == 0 && strv_extend(&x.paths, pk) < 0)) {
                                        cache_entries_free(&x, 1);
                                        r = -ENOMEM;
                                        goto fail;
                                }
                                if (access(pk, F_OK) == 0)
                                        x.bytes += allocated(pk);
                        }
                        if (streq(kinds[k], "layers")) {
                                _cleanup_free_ char *backing = NULL;
                                const char *rel;

                                r = qcow2_backing(err, path, &backing);
                                if (r < 0) {
                                        cache_entries_free(&x, 1);
                                        r = error_prefix(err, r, "the cache's layer '%s'", x.name);
                                        goto fail;
                                }
                                rel = backing ? in_cache(c, backing) : NULL;
                                x.parent = rel ? strdup(rel) : TAKE_PTR(backing);
                                if (rel && !x.parent) {
                                        cache_entries_free(&x, 1);
                                        r = -ENOMEM;
                                        goto fail;
                                }
                        }
                        r = add_entry(&e, &n, &x);
                        if (r < 0) {
                                cache_entries_free(&x, 1);
                                goto fail;
                        }
                }
        }
        *ret = e;
        *ret_n = n;
        return 0;
fail:
        cache_entries_free(e, n);
        return r;
}

static int by_last_use(const void *a, const void *b) {
        const CacheEntry *x = *(CacheEntry * const *) a, *y = *(CacheEntry * const *) b;

        if (x->last_used != y->last_used)
                return x->last_used < y->last_used ? -1 : 1;
        return strcmp(x->name, y->name);
}

static int copy_entry(const CacheEntry *from, CacheEntry *to) {
        *to = (CacheEntry) {
                .name = strdup(from->name),
                .kind = strdup(from->kind),
                .paths = strv_copy(from->paths),
                .bytes = from->bytes,
                .last_used = from->last_used,
                .parent = from->parent ? strdup(from->parent) : NULL,
                .last_build = from->last_build,
        };
        if (!to->name || !to->kind || !to->paths || (from->parent && !to->parent)) {
                cache_entries_free(to, 1);
                *to = (CacheEntry) {};
                return -ENOMEM;
        }
        return 0;
}

int cache_prune(ErrorSlot *err, const Cache *c, const CachePrunePolicy *p, CacheEntry **ret, size_t *ret_n) {
        _cleanup_free_ CacheEntry **order = NULL;
        _cleanup_free_ bool *gone = NULL;
        CacheEntry *e = NULL, *removed = NULL;
        size_t n = 0, n_removed = 0;
        uint64_t total = 0;
        bool progress;
        int r;

        r = cache_list(err, c, &e, &n);
        if (r < 0)
                return r;
        order = calloc(n ?: 1, sizeof *order);
        gone = calloc(n ?: 1, sizeof *gone);
        if (!order || !gone) {
                r = -ENOMEM;
                goto finish;
        }
        for (size_t i = 0; i < n; i++) {
                order[i] = &e[i];
                total += e[i].bytes;
        }
        qsort(order, n, sizeof *order, by_last_use);

        /* Passes until nothing more goes: removing a layer can free the
         * entry it stood on, which an earlier pass had to keep. */
        do {
                progress = false;
                for (size_t i = 0; i < n; i++) {
                        CacheEntry *x = order[i];
                        size_t idx = (size_t) (x - e);
                        bool old = p->max_age > 0 && p->now - x->last_used > p->max_age;
                        bool big = p->max_bytes > 0 && total > p->max_bytes;
                        bool needed = false;
                        CacheEntry *m;

                        if (gone[idx] || x->last_build || !(old || big))
                                continue;
                        for (size_t j = 0; j < n && !needed; j++)
                                needed = !gone[j] && j != idx && e[j].parent && streq(e[j].parent, x->name);
                        if (needed)
                                continue;
                        if (!p->dry_run)
                                STRV_FOREACH(path, x->paths) {
                                        r = rm_rf(*path);
                                        if (r < 0 && r != -ENOENT) {
                                                r = error_set_errno(err, r, "cannot remove '%s'", *path);
                                                goto finish;
                                        }
                                }
                        m = reallocarray(removed, n_removed + 1, sizeof *removed);
                        if (!m) {
                                r = -ENOMEM;
                                goto finish;
                        }
                        removed = m;
                        r = copy_entry(x, &removed[n_removed]);
                        if (r < 0)
                                goto finish;
                        n_removed++;
                        gone[idx] = true;
                        total -= x->bytes;
                        progress = true;
                }
        } while (progress);
        *ret = TAKE_PTR(removed);
        *ret_n = n_removed;
        r = 0;
finish:
        cache_entries_free(removed, n_removed);
        cache_entries_free(e, n);
        return r;
}
