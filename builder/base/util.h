/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Small helpers used everywhere: cleanup attributes, string and string-vector
 * helpers, bounded file reading and directory helpers.
 *
 * Conventions: functions return >= 0 on success and a negative errno on
 * failure; ret_* output parameters are written only on success.  Every
 * destructor accepts NULL.
 */

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _warn_unused_result_ __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Hand over ownership of a pointer: the variable becomes NULL so that its
 * cleanup attribute does nothing. */
#define TAKE_PTR(p)                       \
        ({                                \
                typeof(p) _ptr_ = (p);    \
                (p) = NULL;               \
                _ptr_;                    \
        })

#define TAKE_FD(fd)                       \
        ({                                \
                int _fd_ = (fd);          \
                (fd) = -EBADF;            \
                _fd_;                     \
        })

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                (void) close(*fd);
                errno = saved;
        }
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f) {
        if (*f)
                (void) fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Define a pointer cleanup function foop() from a destructor foo(). */
/* A NULL-terminated argv from string literals and strings, for spawn and
 * the appliance (never a shell string). */
#define ARGV(...) ((char **) (const char *[]) { __VA_ARGS__, NULL })

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)         \
        static inline void func##p(type *p) {           \
                if (*p)                                 \
                        func(*p);                       \
        }

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return streq(a, b);
}

static inline const char *strempty(const char *s) {
        return s ?: "";
}

static inline bool isempty(const char *s) {
        return !s || !*s;
}

/* Returns the rest of s after prefix, or NULL if s does not start with it. */
static inline const char *startswith(const char *s, const char *prefix) {
        size_t l = strlen(prefix);
        return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}

bool endswith(const char *s, const char *suffix);

/* A copy of s that can go into a one-line message: control characters
 * (and with escape_8bit every byte >= 0x80) become \\xNN.  NULL on
 * allocation failure. */
char *escape_for_message(const char *s, bool escape_8bit);

/* Hex digits a-f of s to A-F, in place (fingerprints are shown and
 * compared uppercase); returns s. */
char *hex_upper(char *s);

/* A plain name that may become part of a URL and of a path: 1 to 64 of
 * [A-Za-z0-9._-], not starting with '.' (suites, codenames). */
bool name_is_plain(const char *s);

/* Whether s is valid UTF-8: no overlong forms, no surrogates, nothing above
 * U+10FFFF. */
bool utf8_is_valid(const char *s);
/* How many bytes from the start of s are valid UTF-8 in that sense (where
 * the first bad sequence begins; strlen(s) if none). */
size_t utf8_valid_length(const char *s);

/* Allocating printf; returns NULL on allocation failure. */
char *strdup_printf(const char *fmt, ...) _printf_(1, 2);
char *strdup_vprintf(const char *fmt, va_list ap) _printf_(1, 0);

/* Replace *p with a copy of s (or NULL); returns -ENOMEM on failure. */
int free_and_strdup(char **p, const char *s);

char *strstrip(char *s);

/* NULL-terminated string vectors. */
/* Cleanups: remove the file *p names (if any) and free the name; close
 * a directory stream. */
void unlink_and_freep(char **p);
#define _cleanup_unlink_ _cleanup_(unlink_and_freep)
void closedirp(DIR **d);

/* The names in dir that keep() accepts (all but "." and ".." when keep is
 * NULL; keep gets the directory's fd for fstatat()), sorted, never NULL on
 * success.  -errno if dir cannot be read, -E2BIG past max names (0: no
 * limit). */
int readdir_sorted(const char *dir, bool (*keep)(int dfd, const char *name, void *userdata), void *userdata,
                   size_t max, char ***ret);

void strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)
size_t strv_length(char * const *l);
bool strv_contains(char * const *l, const char *s);
/* Append s; takes ownership of s (freed on failure too). */
int strv_consume(char ***l, char *s);
/* Append a copy of s. */
int strv_extend(char ***l, const char *s);
int strv_extend_strv(char ***l, char * const *other);
char **strv_copy(char * const *l);
char *strv_join(char * const *l, const char *sep);
/* Split s on any of the characters in sep, skipping empty words. */
int strv_split(const char *s, const char *sep, char ***ret);
void strv_sort(char **l);

#define STRV_FOREACH(s, l) for (char * const *s = (l); s && *s; s++)

/* Join two path components with exactly one slash. */
char *path_join(const char *a, const char *b);
/* Whether path is dir or below it (both absolute and normalized, as from
 * realpath()). */
bool path_is_under(const char *path, const char *dir);

/* Read a whole file, refusing files larger than max bytes (-EFBIG).  The
 * result is NUL-terminated; ret_size excludes the terminator. */
int read_full_file(const char *path, size_t max, char **ret, size_t *ret_size);
/* Up to n bytes of fd from offset (pread, EINTR retried): fewer only at
 * the end of the file; *ret_got says how many. */
int read_full_at(int fd, void *buf, size_t n, uint64_t offset, size_t *ret_got);

/* The same from an open descriptor, read to its end (not closed). */
int read_full_fd(int fd, size_t max, char **ret, size_t *ret_size);

/* Write data to path via a temporary file in the same directory and rename,
 * so that readers never see a half-written file. */
int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode);

/* Copy a regular file to a new file (which must not exist) with mode: a
 * reflink where the filesystem shares extents, else copy_file_range(),
 * else read and write.  The partial copy is removed on failure. */
int copy_file(const char *from, const char *to, mode_t mode);

int mkdir_p(const char *path, mode_t mode);
/* Remove a tree; does not follow symlinks and does not cross mount points. */
int rm_rf(const char *path);
/* Create a fresh temporary directory under parent (or $TMPDIR). */
int mkdtemp_in(const char *parent, const char *prefix, char **ret);

/* Parse an unsigned decimal number; rejects signs, trailing garbage and
 * overflow. */
int safe_atou64(const char *s, uint64_t *ret);
int safe_atou(const char *s, unsigned *ret);
/* Parse a size such as "100G", "768M", "512K" or "1024" (bytes) into bytes. */
int parse_size(const char *s, uint64_t *ret);

/* The value of one hex digit (either case), or -EINVAL. */
int unhexchar(char c);
/* Lowercase hex of n bytes into a new string. */
char *hexmem(const void *p, size_t n);

/* Monotonic clock in microseconds. */
uint64_t now_usec(void);
