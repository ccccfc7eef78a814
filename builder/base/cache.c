/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "cache.h"

#define CACHE_KEY_FILE_MAX (64u * 1024u * 1024u)

int cache_default_dir(char **ret) {
        const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
        char *d;

        if (!isempty(x) && x[0] == '/')
                d = path_join(x, "whonix-build");
        else if (!isempty(home))
                d = strdup_printf("%s/.cache/whonix-build", home);
        else
                return -ENOENT;
        if (!d)
                return -ENOMEM;
        *ret = d;
        return 0;
}

/* <cache>/step-times as written by cache_write_last_build(): a line that
 * is not "<step>\t<seconds>" is dropped (the file only informs an
 * estimate). */
#define STEP_TIMES_MAX (64u * 1024u)

static void load_step_times(Cache *c) {
        _cleanup_free_ char *path = path_join(c->dir, CACHE_STEP_TIMES), *text = NULL;
        _cleanup_strv_free_ char **lines = NULL;
        size_t size;

        if (!path || read_full_file(path, STEP_TIMES_MAX, &text, &size) < 0 || memchr(text, 0, size) ||
            strv_split(text, "\n", &lines) < 0)
                return;
        STRV_FOREACH(l, lines) {
                char *tab = strchr(*l, '\t'), *end = NULL;
                double v = tab ? strtod(tab + 1, &end) : 0;
                if (!tab || tab == *l || !end || *end || !(v > 0 && v < 1e7))
                        continue;
                (void) strv_extend(&c->step_times, *l);
        }
}

int cache_open(ErrorSlot *err, const char *dir, Cache **ret) {
        _cleanup_free_ char *lock = NULL;
        _cleanup_free_ Cache *c = NULL;
        int r;

        r = mkdir_p(dir, 0755);
        if (r < 0)
                return error_set_errno(err, r, "cannot create cache directory '%s'", dir);
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->lock_fd = -EBADF;
        pthread_mutex_init(&c->used_lock, NULL);
        /* Absolute: the cache's qcow2 layers name their backing files by
         * path, which qemu resolves relative to the layer's own directory,
         * so a relative cache directory would name files that are not
         * there. */
        c->dir = realpath(dir, NULL);
        if (!c->dir) {
                r = -errno;
                return error_set_errno(err, r, "cannot resolve cache directory '%s'", dir);
        }
        lock = path_join(c->dir, "lock");
        if (!c->dir || !lock) {
                free(c->dir);
                return -ENOMEM;
        }
        c->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (c->lock_fd < 0) {
                r = -errno;
                free(c->dir);
                return error_set_errno(err, r, "cannot open '%s'", lock);
        }
        if (flock(c->lock_fd, LOCK_EX | LOCK_NB) < 0) {
                r = errno == EWOULDBLOCK ? -EBUSY : -errno;
                close(c->lock_fd);
                free(c->dir);
                if (r == -EBUSY)
                        return error_set(err, r, "cache '%s' is in use by another whonix-build", dir);
                return error_set_errno(err, r, "cannot lock '%s'", lock);
        }
        load_step_times(c);
        *ret = TAKE_PTR(c);
        return 0;
}

int cache_open_unlocked(ErrorSlot *err, const char *dir, Cache **ret) {
        _cleanup_free_ Cache *c = calloc(1, sizeof(*c));

        if (!c)
                return -ENOMEM;
        c->lock_fd = -EBADF;
        c->dir = realpath(dir, NULL);
        if (!c->dir)
                return error_set_errno(err, -errno, "cannot open the cache '%s'", dir);
        pthread_mutex_init(&c->used_lock, NULL);
        *ret = TAKE_PTR(c);
        return 0;
}

Cache *cache_free(Cache *c) {
        if (!c)
                return NULL;
        if (c->lock_fd >= 0)
                close(c->lock_fd);
        strv_free(c->used);
        strv_free(c->step_times);
        pthread_mutex_destroy(&c->used_lock);
        free(c->dir);
        free(c);
        return NULL;
}

void cache_note_use(Cache *c, const char *subdir, const char *name) {
        _cleanup_free_ char *entry = path_join(subdir, name), *path = entry ? path_join(c->dir, entry) : NULL;

        if (!path)
                return; /* out of memory: only the record of use is lost */
        (void) utimensat(AT_FDCWD, path, NULL, AT_SYMLINK_NOFOLLOW);
        pthread_mutex_lock(&c->used_lock);
        if (!strv_contains(c->used, entry))
                (void) strv_extend(&c->used, entry);
        pthread_mutex_unlock(&c->used_lock);
}

int cache_write_last_build(ErrorSlot *err, Cache *c) {
        _cleanup_free_ char *path = path_join(c->dir, CACHE_LAST_BUILD), *text = NULL;
        int r;

        if (!path)
                return -ENOMEM;
        pthread_mutex_lock(&c->used_lock);
        strv_sort(c->used);
        text = c->used ? strv_join(c->used, "\n") : strdup("");
        pthread_mutex_unlock(&c->used_lock);
        if (!text)
                return -ENOMEM;
        if (!isempty(text)) {
                char *t = strdup_printf("%s\n", text);
                if (!t)
                        return -ENOMEM;
                free(text);
                text = t;
        }
        r = write_file_atomic(path, text, strlen(text), 0644);
        if (r < 0)
                return error_set_errno(err, r, "cannot write '%s'", path);

        _cleanup_free_ char *times_path = path_join(c->dir, CACHE_STEP_TIMES), *times = NULL;
        if (!times_path)
                return -ENOMEM;
        pthread_mutex_lock(&c->used_lock);
        strv_sort(c->step_times);
        times = c->step_times ? strv_join(c->step_times, "\n") : NULL;
        pthread_mutex_unlock(&c->used_lock);
        if (!times)
                return 0;
        _cleanup_free_ char *t = strdup_printf("%s\n", times);
        if (!t)
                return -ENOMEM;
        r = write_file_atomic(times_path, t, strlen(t), 0644);
        if (r < 0)
                return error_set_errno(err, r, "cannot write '%s'", times_path);
        return 0;
}

/* The line of a step in c->step_times, or NULL. */
static char **step_line(Cache *c, const char *step) {
        size_t n = strlen(step);

        for (char **l = c->step_times; l && *l; l++)
                if (strncmp(*l, step, n) == 0 && (*l)[n] == '\t')
                        return l;
        return NULL;
}

double cache_step_seconds(Cache *c, const char *step) {
        double v = 0;
        char **l;

        if (!c || !step)
                return 0;
        pthread_mutex_lock(&c->used_lock);
        l = step_line(c, step);
        if (l)
                v = strtod(*l + strlen(step) + 1, NULL);
        pthread_mutex_unlock(&c->used_lock);
        return v;
}

void cache_note_step_seconds(Cache *c, const char *step, double seconds) {
        char *line, **l;

        if (!c || !step || strchr(step, '\t') || strchr(step, '\n') || !(seconds > 0))
                return;
        line = strdup_printf("%s\t%.1f", step, seconds);
        if (!line)
                return; /* out of memory: only the estimate is lost */
        pthread_mutex_lock(&c->used_lock);
        l = step_line(c, step);
        if (l) {
                free(*l);
                *l = line;
        } else
                (void) strv_consume(&c->step_times, line); /* out of memory: only the estimate is lost */
        pthread_mutex_unlock(&c->used_lock);
}

char *cache_path(const Cache *c, const char *a, const char *b) {
        if (b)
                return strdup_printf("%s/%s/%s", c->dir, a, b);
        return path_join(c->dir, a);
}

int cache_produce(ErrorSlot *err, Cache *c, const char *subdir, const char *key, const char *ext,
                  CacheProduceFn produce, void *userdata, char **ret_path, bool *ret_built) {
        _cleanup_free_ char *dir = cache_path(c, subdir, NULL), *path = NULL, *tmp = NULL, *name = NULL;
        int r;

        if (!dir)
                return -ENOMEM;
        path = strdup_printf("%s/%s%s", dir, key, ext);
        tmp = strdup_printf("%s/.%s%s.tmp", dir, key, ext);
        if (!path || !tmp)
                return -ENOMEM;

        name = strdup_printf("%s%s", key, ext);
        if (!name)
                return -ENOMEM;
        if (access(path, F_OK) == 0) {
                cache_note_use(c, subdir, name);
                *ret_path = TAKE_PTR(path);
                *ret_built = false;
                return 0;
        }
        r = mkdir_p(dir, 0755);
        if (r < 0)
                return error_set_errno(err, r, "cannot create '%s'", dir);
        (void) unlink(tmp); /* left by a build that was killed */
        r = produce(err, tmp, userdata);
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        if (rename(tmp, path) < 0) {
                r = -errno;
                (void) unlink(tmp);
                return error_set_errno(err, r, "cannot move '%s' into place", path);
        }
        cache_note_use(c, subdir, name);
        *ret_path = TAKE_PTR(path);
        *ret_built = true;
        return 0;
}

static void add_len(CacheKey *k, size_t n) {
        uint8_t b[8];

        for (unsigned i = 0; i < 8; i++)
                b[i] = (uint8_t) ((uint64_t) n >> (8 * i));
        sha256_update(&k->sha, b, sizeof b);
}

static void add_bytes(CacheKey *k, const void *p, size_t n) {
        add_len(k, n);
        sha256_update(&k->sha, p, n);
}

void cache_key_init(CacheKey *k, const char *kind) {
        sha256_init(&k->sha);
        add_bytes(k, "whonix-build-cache-key-1", strlen("whonix-build-cache-key-1"));
        add_bytes(k, kind, strlen(kind));
}

void cache_key_add(CacheKey *k, const char *name, const char *value) {
        add_bytes(k, name, strlen(name));
        if (value)
                add_bytes(k, value, strlen(value));
        else
                add_len(k, SIZE_MAX); /* NULL differs from "" */
}

void cache_key_add_u64(CacheKey *k, const char *name, uint64_t value) {
        char buf[32];

        snprintf(buf, sizeof buf, "%" PRIu64, value);
        cache_key_add(k, name, buf);
}

void cache_key_add_strv(CacheKey *k, const char *name, char * const *values) {
        add_bytes(k, name, strlen(name));
        add_len(k, strv_length(values));
        STRV_FOREACH(v, values)
                add_bytes(k, *v, strlen(*v));
}

int cache_key_add_file(CacheKey *k, const char *name, const char *path) {
        _cleanup_free_ char *data = NULL;
        size_t n;
        int r;

        r = read_full_file(path, CACHE_KEY_FILE_MAX, &data, &n);
        if (r < 0)
                return r;
        add_bytes(k, name, strlen(name));
        add_bytes(k, data, n);
        return 0;
}

char *cache_key_final(CacheKey *k) {
        uint8_t d[SHA256_DIGEST_SIZE];

        sha256_final(&k->sha, d);
        return hexmem(d, sizeof d);
}
