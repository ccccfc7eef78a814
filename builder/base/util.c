/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

#include "util.h"

bool endswith(const char *s, const char *suffix) {
        size_t ls = strlen(s), lx = strlen(suffix);
        return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

char *strdup_vprintf(const char *fmt, va_list ap) {
        char *s;
        if (vasprintf(&s, fmt, ap) < 0)
                return NULL;
        return s;
}

char *strdup_printf(const char *fmt, ...) {
        va_list ap;
        char *s;

        va_start(ap, fmt);
        s = strdup_vprintf(fmt, ap);
        va_end(ap);
        return s;
}

int free_and_strdup(char **p, const char *s) {
        char *c = NULL;

        if (s) {
                c = strdup(s);
                if (!c)
                        return -ENOMEM;
        }
        free(*p);
        *p = c;
        return 0;
}

char *strstrip(char *s) {
        char *e;

        while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
                s++;
        e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
                *--e = 0;
        return s;
}

void strv_free(char **l) {
        if (!l)
                return;
        for (char **p = l; *p; p++)
                free(*p);
        free(l);
}

size_t strv_length(char * const *l) {
        size_t n = 0;
        while (l && l[n])
                n++;
        return n;
}

bool strv_contains(char * const *l, const char *s) {
        STRV_FOREACH(p, l)
                if (streq(*p, s))
                        return true;
        return false;
}

int strv_consume(char ***l, char *s) {
        size_t n = strv_length(*l);
        char **c;

        if (!s)
                return -ENOMEM;
        c = reallocarray(*l, n + 2, sizeof(char *));
        if (!c) {
                free(s);
                return -ENOMEM;
        }
        c[n] = s;
        c[n + 1] = NULL;
        *l = c;
        return 0;
}

int strv_extend(char ***l, const char *s) {
        return strv_consume(l, strdup(s));
}

int strv_extend_strv(char ***l, char * const *other) {
        STRV_FOREACH(p, other) {
                int r = strv_extend(l, *p);
                if (r < 0)
                        return r;
        }
        return 0;
}

char **strv_copy(char * const *l) {
        char **c = calloc(strv_length(l) + 1, sizeof(char *));
        size_t i = 0;

        if (!c)
                return NULL;
        STRV_FOREACH(p, l) {
                c[i] = strdup(*p);
                if (!c[i]) {
                        strv_free(c);
                        return NULL;
                }
                i++;
        }
        return c;
}

char *strv_join(char * const *l, const char *sep) {
        size_t n = 0, ls = strlen(sep);
        char *s, *p;

        STRV_FOREACH(i, l)
                n += strlen(*i) + ls;
        s = malloc(n + 1);
        if (!s)
                return NULL;
        p = s;
        STRV_FOREACH(i, l) {
                if (p != s) {
                        memcpy(p, sep, ls);
                        p += ls;
                }
                p = stpcpy(p, *i);
        }
        *p = 0;
        return s;
}

int strv_split(const char *s, const char *sep, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;

        for (;;) {
                size_t n;

                s += strspn(s, sep);
                if (!*s)
                        break;
                n = strcspn(s, sep);
                if (strv_consume(&l, strndup(s, n)) < 0)
                        return -ENOMEM;
                s += n;
        }
        if (!l) {
                l = calloc(1, sizeof(char *));
                if (!l)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char * const *) a, *(char * const *) b);
}

void strv_sort(char **l) {
        if (l)
                qsort(l, strv_length(l), sizeof(char *), cmp_str);
}

char *path_join(const char *a, const char *b) {
        size_t la = strlen(a);

        while (la > 1 && a[la - 1] == '/')
                la--;
        while (*b == '/')
                b++;
        return strdup_printf("%.*s/%s", (int) la, a, b);
}

int read_full_file(const char *path, size_t max, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        return read_full_fd(fd, max, ret, ret_size);
}

int read_full_fd(int fd, size_t max, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t n = 0, alloc = 0;

        for (;;) {
                ssize_t k;

                if (n == alloc) {
                        size_t want = alloc ? alloc * 2 : 4096;
                        char *c;

                        if (alloc > max)
                                return -EFBIG;
                        if (want > max + 1)
                                want = max + 1;
                        c = realloc(buf, want + 1);
                        if (!c)
                                return -ENOMEM;
                        buf = c;
                        alloc = want;
                }
                k = read(fd, buf + n, alloc - n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
                if (n > max)
                        return -EFBIG;
        }
        if (!buf) {
                buf = malloc(1);
                if (!buf)
                        return -ENOMEM;
        }
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = n;
        return 0;
}

int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *p = data;

        tmp = strdup_printf("%s.tmp-XXXXXX", path);
        if (!tmp)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        while (size > 0) {
                ssize_t k = write(fd, p, size);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        goto fail;
                }
                p += k;
                size -= (size_t) k;
        }
        if (fchmod(fd, mode) < 0 || fsync(fd) < 0)
                goto fail;
        if (rename(tmp, path) < 0)
                goto fail;
        return 0;
fail:;
        int r = -errno;
        (void) unlink(tmp);
        return r;
}

static int copy_bytes(int in, int out) {
        char buf[64 * 1024];
        bool plain = false;

        for (;;) {
                ssize_t n;

                if (!plain) {
                        n = copy_file_range(in, NULL, out, NULL, SSIZE_MAX, 0);
                        if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
                                plain = true;
                                continue;
                        }
                } else {
                        n = read(in, buf, sizeof buf);
                        if (n > 0) {
                                for (ssize_t done = 0; done < n;) {
                                        ssize_t k = write(out, buf + done, (size_t) (n - done));
                                        if (k < 0) {
                                                if (errno == EINTR)
                                                        continue;
                                                return -errno;
                                        }
                                        done += k;
                                }
                        }
                }
                if (n == 0)
                        return 0;
                if (n < 0 && errno != EINTR)
                        return -errno;
        }
}

int copy_file(const char *from, const char *to, mode_t mode) {
        _cleanup_close_ int in = -EBADF, out = -EBADF;
        int r;

        in = open(from, O_RDONLY | O_CLOEXEC);
        if (in < 0)
                return -errno;
        out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (out < 0)
                return -errno;
        if (ioctl(out, FICLONE, in) == 0)
                r = 0;
        else
                r = copy_bytes(in, out);
        if (r >= 0 && fchmod(out, mode) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(to);
        return r;
}

int mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, mode) < 0) {
                struct stat st;

                if (errno != EEXIST)
                        return -errno;
                if (stat(p, &st) < 0)
                        return -errno;
                if (!S_ISDIR(st.st_mode))
                        return -ENOTDIR;
        }
        return 0;
}

static int rm_rf_at(int parent_fd, const char *name, dev_t dev) {
        struct stat st;

        if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (S_ISDIR(st.st_mode)) {
                _cleanup_close_ int fd = -EBADF;
                DIR *d;
                struct dirent *de;
                int r = 0;

                if (st.st_dev != dev)
                        return -EXDEV;
                fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                d = fdopendir(fd);
                if (!d)
                        return -errno;
                fd = -EBADF; /* owned by d now */
                while ((de = readdir(d))) {
                        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                                continue;
                        int k = rm_rf_at(dirfd(d), de->d_name, dev);
                        if (k < 0 && r == 0)
                                r = k;
                }
                closedir(d);
                if (r < 0)
                        return r;
                if (unlinkat(parent_fd, name, AT_REMOVEDIR) < 0)
                        return -errno;
                return 0;
        }
        if (unlinkat(parent_fd, name, 0) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int rm_rf(const char *path) {
        struct stat st;

        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        return rm_rf_at(AT_FDCWD, path, st.st_dev);
}

int mkdtemp_in(const char *parent, const char *prefix, char **ret) {
        _cleanup_free_ char *t = NULL;

        if (!parent)
                parent = getenv("TMPDIR") ?: "/tmp";
        t = strdup_printf("%s/%s-XXXXXX", parent, prefix);
        if (!t)
                return -ENOMEM;
        if (!mkdtemp(t))
                return -errno;
        *ret = TAKE_PTR(t);
        return 0;
}

int safe_atou64(const char *s, uint64_t *ret) {
        uint64_t v = 0;

        if (isempty(s))
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                if (v > (UINT64_MAX - (uint64_t) (*p - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t) (*p - '0');
        }
        *ret = v;
        return 0;
}

int safe_atou(const char *s, unsigned *ret) {
        uint64_t v;
        int r = safe_atou64(s, &v);

        if (r < 0)
                return r;
        if (v > UINT_MAX)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

int parse_size(const char *s, uint64_t *ret) {
        static const struct {
                char suffix;
                unsigned shift;
        } table[] = { { 'K', 10 }, { 'M', 20 }, { 'G', 30 }, { 'T', 40 } };
        _cleanup_free_ char *num = NULL;
        unsigned shift = 0;
        size_t l;
        uint64_t v;
        int r;

        if (isempty(s))
                return -EINVAL;
        l = strlen(s);
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (s[l - 1] == table[i].suffix) {
                        shift = table[i].shift;
                        l--;
                        break;
                }
        num = strndup(s, l);
        if (!num)
                return -ENOMEM;
        r = safe_atou64(num, &v);
        if (r < 0)
                return r;
        if (shift && v > (UINT64_MAX >> shift))
                return -ERANGE;
        *ret = v << shift;
        return 0;
}

int unhexchar(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -EINVAL;
}

char *hexmem(const void *p, size_t n) {
        static const char hex[] = "0123456789abcdef";
        const uint8_t *b = p;
        char *s = malloc(n * 2 + 1);

        if (!s)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                s[2 * i] = hex[b[i] >> 4];
                s[2 * i + 1] = hex[b[i] & 15];
        }
        s[2 * n] = 0;
        return s;
}

uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

char *escape_for_message(const char *s, bool escape_8bit) {
        size_t n = strlen(s);
        char *t = malloc(n * 4 + 1), *q = t;

        if (!t)
                return NULL;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (*p < 0x20 || *p == 0x7f || (escape_8bit && *p >= 0x80)) {
                        static const char hex[] = "0123456789abcdef";
                        *q++ = '\\';
                        *q++ = 'x';
                        *q++ = hex[*p >> 4];
                        *q++ = hex[*p & 15];
                } else
                        *q++ = (char) *p;
        }
        *q = 0;
        return t;
}

bool path_is_under(const char *path, const char *dir) {
        size_t n = strlen(dir);

        if (n == 1 && dir[0] == '/')
                return path[0] == '/';
        return strncmp(path, dir, n) == 0 && (path[n] == 0 || path[n] == '/');
}

void unlink_and_freep(char **p) {
        if (*p) {
                (void) unlink(*p);
                free(*p);
                *p = NULL;
        }
}

void closedirp(DIR **d) {
        if (*d) {
                (void) closedir(*d);
                *d = NULL;
        }
}

bool utf8_is_valid(const char *s) {
        return s[utf8_valid_length(s)] == 0;
}

size_t utf8_valid_length(const char *s) {
        const unsigned char *p = (const unsigned char *) s, *start;

        while (*p) {
                uint32_t c;
                unsigned n;

                start = p;
                if (*p < 0x80) {
                        p++;
                        continue;
                }
                if ((*p & 0xe0) == 0xc0) {
                        c = *p & 0x1f;
                        n = 1;
                } else if ((*p & 0xf0) == 0xe0) {
                        c = *p & 0x0f;
                        n = 2;
                } else if ((*p & 0xf8) == 0xf0) {
                        c = *p & 0x07;
                        n = 3;
                } else
                        return (size_t) (start - (const unsigned char *) s);
                p++;
                for (unsigned i = 0; i < n; i++, p++) {
                        if ((*p & 0xc0) != 0x80)
                                return (size_t) (start - (const unsigned char *) s);
                        c = (c << 6) | (*p & 0x3f);
                }
                if ((n == 1 && c < 0x80) || (n == 2 && c < 0x800) || (n == 3 && c < 0x10000) || c > 0x10ffff ||
                    (c >= 0xd800 && c <= 0xdfff))
                        return (size_t) (start - (const unsigned char *) s);
        }
        return (size_t) (p - (const unsigned char *) s);
}

char *hex_upper(char *s) {
        for (char *c = s; c && *c; c++)
                if (*c >= 'a' && *c <= 'f')
                        *c = (char) (*c - 'a' + 'A');
        return s;
}

bool name_is_plain(const char *s) {
        if (isempty(s) || s[0] == '.' || strlen(s) > 64)
                return false;
        return s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")] == 0;
}

int read_full_at(int fd, void *buf, size_t n, uint64_t offset, size_t *ret_got) {
        size_t got = 0;

        while (got < n) {
                ssize_t k = pread(fd, (uint8_t *) buf + got, n - got, (off_t) (offset + got));
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                got += (size_t) k;
        }
        *ret_got = got;
        return 0;
}

int readdir_sorted(const char *dir, bool (*keep)(int dfd, const char *name, void *userdata), void *userdata,
                   size_t max, char ***ret) {
        _cleanup_(closedirp) DIR *d = opendir(dir);
        _cleanup_strv_free_ char **names = NULL;
        struct dirent *de;
        size_t n = 0;

        if (!d)
                return -errno;
        names = calloc(1, sizeof(char *));
        if (!names)
                return -ENOMEM;
        while ((errno = 0, de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (keep && !keep(dirfd(d), de->d_name, userdata))
                        continue;
                if (max > 0 && ++n > max)
                        return -E2BIG;
                if (strv_extend(&names, de->d_name) < 0)
                        return -ENOMEM;
        }
        if (errno != 0)
                return -errno;
        strv_sort(names);
        *ret = TAKE_PTR(names);
        return 0;
}
