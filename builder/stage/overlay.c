/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sys/stat.h>

#include "archive-util.h"
#include "overlay-modes.h"
#include "overlay.h"
#include "sha256.h"

#define COPY_BUFFER_SIZE (64u * 1024u)

/* One entry of the normalized walk, handed to a visitor in tar order. */
typedef struct OverlayEntry {
        const char *path;    /* relative to the tree, no "./" */
        char type;           /* 'd', 'f' or 'l' */
        mode_t mode;         /* permission bits incl. setuid/setgid/sticky */
        uint64_t size;       /* regular files */
        int64_t mtime;       /* whole seconds */
        const char *target;  /* symlinks */
        int fd;              /* regular files: open at offset 0, else -EBADF */
} OverlayEntry;

typedef int (*OverlayVisit)(ErrorSlot *err, const char *name, const OverlayEntry *e, void *userdata);

typedef struct OverlayWalk {
        const char *name;  /* the overlay's name, for messages */
        dev_t dev;         /* the tree's filesystem: nothing may come from another */
        unsigned n_entries;
        OverlayModes *modes;
        OverlayVisit visit;
        void *userdata;
} OverlayWalk;

/* The tree's last path component, without trailing slashes. */
static char *overlay_name(const char *tree_dir) {
        size_t n = strlen(tree_dir);
        const char *p;

        while (n > 1 && tree_dir[n - 1] == '/')
                n--;
        p = memrchr(tree_dir, '/', n);
        if (p && n > 1) {
                size_t skip = (size_t) (p - tree_dir) + 1;
                return strndup(tree_dir + skip, n - skip);
        }
        return strndup(tree_dir, n);
}

static bool has_control(const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return true;
        return false;
}

/* Well-formed UTF-8: no overlong forms, no surrogates, nothing above
 * U+10FFFF.  Names end up in a pax header as UTF-8 and in a guest that
 * assumes it. */

static int check_name(ErrorSlot *err, const char *name, const char *prefix, const char *entry) {
        _cleanup_free_ char *shown = NULL, *full = NULL;

        if (!has_control(entry) && utf8_is_valid(entry))
                return 0;
        full = prefix ? path_join(prefix, entry) : strdup(entry);
        shown = full ? escape_for_message(full, true) : NULL;
        if (!shown)
                return -ENOMEM;
        return error_set(err, -EINVAL, "overlay '%s': name '%s' contains %s", name, shown,
                         has_control(entry) ? "a control character" : "invalid UTF-8");
}

/* A symlink may only point inside the tree.  Leading ".." components climb
 * from the link's own directory (a real directory: the walk never follows
 * links), so counting them against its depth is exact.  A ".." after a
 * name could climb out of a directory reached through another symlink,
 * where counting would be wrong, so it is refused rather than guessed at.
 * Everything after the leading ".." descends, through real directories or
 * through links that passed the same check, so the target stays inside. */
static int check_symlink(ErrorSlot *err, const char *name, const char *path, const char *target, unsigned depth) {
        _cleanup_free_ char *shown = NULL;
        unsigned ups = 0;
        bool named = false;

        if (isempty(target))
                return error_set(err, -EINVAL, "overlay '%s': symlink '%s' has an empty target", name, path);
        if (has_control(target) || !utf8_is_valid(target)) {
                shown = escape_for_message(target, true);
                if (!shown)
                        return -ENOMEM;
                return error_set(err, -EINVAL, "overlay '%s': symlink '%s' target '%s' contains %s", name, path,
                                 shown, has_control(target) ? "a control character" : "invalid UTF-8");
        }
        if (target[0] == '/')
                return error_set(err, -EPERM, "overlay '%s': symlink '%s' points outside the tree ('%s')", name, path,
                                 target);

        for (const char *p = target; *p;) {
                size_t n = strcspn(p, "/");

                if (n == 2 && p[0] == '.' && p[1] == '.') {
                        if (named)
                                return error_set(err, -EPERM,
                                                 "overlay '%s': symlink '%s' has '..' after a name in its target "
                                                 "('%s'); only leading '..' are allowed",
                                                 name, path, target);
                        if (++ups > depth)
                                return error_set(err, -EPERM,
                                                 "overlay '%s': symlink '%s' points outside the tree ('%s')", name,
                                                 path, target);
                } else if (n > 0 && !(n == 1 && p[0] == '.'))
                        named = true;
                p += n;
                if (*p == '/')
                        p++;
        }
        return 0;
}

static const char *type_name(mode_t m) {
        if (S_ISFIFO(m))
                return "a FIFO";
        if (S_ISSOCK(m))
                return "a socket";
        if (S_ISCHR(m))
                return "a character device";
        if (S_ISBLK(m))
                return "a block device";
        return "of an unknown type";
}

/* -- modes
 *
 * Git keeps only the executable bit, so every other bit on disk is the
 * umask of whoever checked the tree out.  The walk therefore ignores the
 * on-disk mode except for the owner's x bit, and takes anything special
 * from the manifest "NAME.modes" beside the tree, which is in git
 * (format/overlay-modes.c reads it). */

static mode_t default_mode(mode_t st_mode) {
        if (S_ISDIR(st_mode))
                return 0755;
        if (S_ISREG(st_mode))
                return (st_mode & S_IXUSR) ? 0755 : 0644;
        return 0777;  /* symlinks: their mode means nothing, tar records 0777 */
}

/* Load the manifest of tree_dir into *m (zeroed by the caller): a missing
 * file is no manifest.  Syntax errors are reported as FILE:LINE here; the
 * checks against the tree happen during the walk. */
static int overlay_modes_load(ErrorSlot *err, const char *tree_dir, OverlayModes *m) {
        _cleanup_free_ char *path = NULL, *data = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t n = strlen(tree_dir), size = 0;
        struct stat st;
        int r;

        while (n > 1 && tree_dir[n - 1] == '/')
                n--;
        path = strdup_printf("%.*s.modes", (int) n, tree_dir);
        if (!path)
                return -ENOMEM;
        /* Not through a symlink (it could name any file of the build
         * host), and O_NONBLOCK: a FIFO must not hang us before fstat(). */
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 && errno == ENOENT)
                return 0;
        if (fd < 0 && errno == ELOOP)
                return error_set(err, -ELOOP, "%s: the modes manifest is a symlink; it must be a file of the data "
                                 "directory", path);
        if (fd < 0)
                return error_set_errno(err, -errno, "%s: cannot read the modes manifest", path);
        if (fstat(fd, &st) < 0)
                return error_set_errno(err, -errno, "%s: cannot read the modes manifest", path);
        if (!S_ISREG(st.st_mode))
                return error_set(err, -EINVAL, "%s: cannot read the modes manifest: not a regular file", path);
        if (st.st_nlink > 1)
                return error_set(err, -EMLINK, "%s: the modes manifest is a hard link; git never makes one", path);
        r = read_full_fd(fd, OVERLAY_MODES_MAX_SIZE, &data, &size);
        if (r == -EFBIG)
                return error_set(err, r, "%s: file is larger than 64 KiB", path);
        if (r < 0)
                return error_set_errno(err, r, "%s: cannot read the modes manifest", path);
        return overlay_modes_parse(err, path, data, size, m);
}

/* Replace *mode with the manifest's, if it names path. */
static int apply_rule(ErrorSlot *err, OverlayWalk *w, const char *path, mode_t st_mode, mode_t *mode) {
        OverlayModes *m = w->modes;
        ModeRule *rule = overlay_modes_find(m, path);

        if (!rule)
                return 0;
        rule->used = true;
        if (S_ISLNK(st_mode))
                return error_set(err, -EINVAL, "%s:%u: '%s' is a symlink; only files and directories take a mode",
                                 m->path, rule->line, path);
        /* A world-writable file or directory in the image is a hole; /tmp-
         * like directories are the one exception, as the sticky bit keeps
         * users from removing each other's files. */
        if (!S_ISDIR(st_mode) && !S_ISREG(st_mode))
                return 0;  /* refused by the walk, with the type in the message */
        if ((rule->mode & S_IWOTH) && !(S_ISDIR(st_mode) && (rule->mode & S_ISVTX)))
                return error_set(err, -EPERM,
                                 "%s:%u: mode %04o of '%s' is world-writable; only a directory with the sticky bit "
                                 "may be",
                                 m->path, rule->line, (unsigned) rule->mode, path);
        *mode = rule->mode;
        return 0;
}

/* Every manifest path must be in the tree: a typo would otherwise leave a
 * file with its default mode, silently. */
static int check_rules_used(ErrorSlot *err, const OverlayModes *m) {
        const ModeRule *first = NULL;
        _cleanup_free_ char *shown = NULL;

        if (!m)
                return 0;
        for (size_t i = 0; i < m->n_rules; i++)
                if (!m->rules[i].used && (!first || m->rules[i].line < first->line))
                        first = &m->rules[i];
        if (!first)
                return 0;
        shown = escape_for_message(first->path, true);
        if (!shown)
                return -ENOMEM;
        return error_set(err, -ENOENT, "%s:%u: path '%s' is not in the tree", m->path, first->line, shown);
}

static int list_dir(ErrorSlot *err, OverlayWalk *w, int dfd, const char *shown_dir, char ***ret) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0;
        int fd, r;

        fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return error_set_errno(err, -errno, "overlay '%s': cannot read directory '%s'", w->name, shown_dir);
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                (void) close(fd);
                return error_set_errno(err, r, "overlay '%s': cannot read directory '%s'", w->name, shown_dir);
        }
        for (;;) {
                struct dirent *de;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                return error_set_errno(err, -errno, "overlay '%s': cannot read directory '%s'",
                                                       w->name, shown_dir);
                        break;
                }
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                /* Bound the listing by what the whole tree may hold. */
                if (w->n_entries + ++n > OVERLAY_MAX_ENTRIES)
                        return error_set(err, -E2BIG, "overlay '%s': more than %u entries", w->name,
                                         OVERLAY_MAX_ENTRIES);
                r = strv_extend(&names, de->d_name);
                if (r < 0)
                        return r;
        }
        /* Byte order, not the locale's: the tar must not depend on it. */
        strv_sort(names);
        *ret = TAKE_PTR(names);
        return 0;
}

static int visit_file(ErrorSlot *err, OverlayWalk *w, int dfd, const char *entry, OverlayEntry *e,
                      const struct stat *st) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st2;

        if ((uint64_t) st->st_size > OVERLAY_MAX_FILE_SIZE)
                return error_set(err, -EFBIG, "overlay '%s': file '%s' is larger than 1 GiB", w->name, e->path);
        /* O_NONBLOCK: should the file have become a FIFO meanwhile, do not
         * hang; the fstat() below refuses it. */
        fd = openat(dfd, entry, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return error_set_errno(err, -errno, "overlay '%s': cannot open '%s'", w->name, e->path);
        if (fstat(fd, &st2) < 0)
                return error_set_errno(err, -errno, "overlay '%s': cannot stat '%s'", w->name, e->path);
        if (!S_ISREG(st2.st_mode) || st2.st_size != st->st_size || st2.st_ino != st->st_ino)
                return error_set(err, -EBUSY, "overlay '%s': '%s' changed while it was read", w->name, e->path);
        e->fd = fd;
        return w->visit(err, w->name, e, w->userdata);
}

static int walk_dir(ErrorSlot *err, OverlayWalk *w, int dfd, const char *prefix, unsigned depth) {
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = list_dir(err, w, dfd, prefix ?: ".", &names);
        if (r < 0)
                return r;

        STRV_FOREACH(entry, names) {
                _cleanup_free_ char *path = NULL;
                OverlayEntry e = { .fd = -EBADF };
                struct stat st;

                r = check_name(err, w->name, prefix, *entry);
                if (r < 0)
                        return r;
                path = prefix ? path_join(prefix, *entry) : strdup(*entry);
                if (!path)
                        return -ENOMEM;
                if (strlen(path) >= PATH_MAX)
                        return error_set(err, -ENAMETOOLONG, "overlay '%s': path '%s' is too long", w->name, path);
                if (++w->n_entries > OVERLAY_MAX_ENTRIES)
                        return error_set(err, -E2BIG, "overlay '%s': more than %u entries", w->name,
                                         OVERLAY_MAX_ENTRIES);
                if (fstatat(dfd, *entry, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return error_set_errno(err, -errno, "overlay '%s': cannot stat '%s'", w->name, path);
                /* Git makes neither hard links nor mount points: either
                 * would bring a file of the build host into the image. */
                if (st.st_dev != w->dev)
                        return error_set(err, -EXDEV,
                                         "overlay '%s': '%s' is on another filesystem than the overlay (a mount "
                                         "point or a bind mount); only files checked out with it are allowed",
                                         w->name, path);
                if (S_ISREG(st.st_mode) && st.st_nlink > 1)
                        return error_set(err, -EMLINK,
                                         "overlay '%s': '%s' is a hard link (%ju names); git never makes one, so "
                                         "it may be a file of the build host: replace it by a copy",
                                         w->name, path, (uintmax_t) st.st_nlink);

                e.path = path;
                e.mode = default_mode(st.st_mode);
                e.mtime = (int64_t) st.st_mtim.tv_sec;
                r = apply_rule(err, w, path, st.st_mode, &e.mode);
                if (r < 0)
                        return r;

                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub = -EBADF;

                        if (depth + 1 > OVERLAY_MAX_DEPTH)
                                return error_set(err, -ELOOP, "overlay '%s': '%s' is deeper than %u levels",
                                                 w->name, path, OVERLAY_MAX_DEPTH);
                        sub = openat(dfd, *entry, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0)
                                return error_set_errno(err, -errno, "overlay '%s': cannot open directory '%s'",
                                                       w->name, path);
                        e.type = 'd';
                        r = w->visit(err, w->name, &e, w->userdata);
                        if (r < 0)
                                return r;
                        r = walk_dir(err, w, sub, path, depth + 1);
                } else if (S_ISREG(st.st_mode)) {
                        e.type = 'f';
                        e.size = (uint64_t) st.st_size;
                        r = visit_file(err, w, dfd, *entry, &e, &st);
                } else if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX];
                        ssize_t n;

                        n = readlinkat(dfd, *entry, target, sizeof(target));
                        if (n < 0)
                                return error_set_errno(err, -errno, "overlay '%s': cannot read symlink '%s'",
                                                       w->name, path);
                        if ((size_t) n >= sizeof(target))
                                return error_set(err, -ENAMETOOLONG, "overlay '%s': symlink '%s' is too long",
                                                 w->name, path);
                        target[n] = 0;
                        r = check_symlink(err, w->name, path, target, depth);
                        if (r < 0)
                                return r;
                        e.type = 'l';
                        e.target = target;
                        r = w->visit(err, w->name, &e, w->userdata);
                } else
                        return error_set(err, -EPERM,
                                         "overlay '%s': '%s' is %s; only files, directories and symlinks are allowed",
                                         w->name, path, type_name(st.st_mode));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int overlay_walk(ErrorSlot *err, const char *tree_dir, OverlayModes *modes, OverlayVisit visit,
                        void *userdata) {
        _cleanup_free_ char *name = NULL;
        _cleanup_close_ int fd = -EBADF;
        OverlayWalk w = { .modes = modes, .visit = visit, .userdata = userdata };
        struct stat st;
        int r;

        name = overlay_name(tree_dir);
        if (!name)
                return -ENOMEM;
        w.name = name;
        /* The tree itself may not be a symlink either: it could point
         * anywhere on the build host. */
        fd = open(tree_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        /* A symlink fails with ELOOP, or ENOTDIR (O_DIRECTORY comes first). */
        if (fd < 0 && (errno == ELOOP || errno == ENOTDIR) && lstat(tree_dir, &st) == 0 && S_ISLNK(st.st_mode))
                return error_set(err, -ELOOP, "overlay '%s': '%s' is a symlink; an overlay must be a directory of "
                                 "the data directory itself", name, tree_dir);
        if (fd < 0)
                return error_set_errno(err, -errno, "overlay '%s': cannot open '%s'", name, tree_dir);
        if (fstat(fd, &st) < 0)
                return error_set_errno(err, -errno, "overlay '%s': cannot stat '%s'", name, tree_dir);
        w.dev = st.st_dev;
        r = walk_dir(err, &w, fd, NULL, 0);
        if (r < 0)
                return r;
        return check_rules_used(err, modes);
}

/* Read exactly size bytes of e->fd, handing them to fn in chunks: a file
 * that shrinks or grows while it is read is an error, not a short entry. */
static int read_content(ErrorSlot *err, const char *name, const OverlayEntry *e,
                        int (*fn)(ErrorSlot *err, const char *name, const OverlayEntry *e, const void *p, size_t n,
                                  void *userdata),
                        void *userdata) {
        _cleanup_free_ uint8_t *buf = malloc(COPY_BUFFER_SIZE);
        uint64_t left = e->size;
        uint8_t extra;

        if (!buf)
                return -ENOMEM;
        while (left > 0) {
                size_t want = left < COPY_BUFFER_SIZE ? (size_t) left : COPY_BUFFER_SIZE;
                ssize_t k = read(e->fd, buf, want);
                int r;

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return error_set_errno(err, -errno, "overlay '%s': cannot read '%s'", name, e->path);
                }
                if (k == 0)
                        return error_set(err, -EBUSY, "overlay '%s': '%s' changed while it was read", name, e->path);
                r = fn(err, name, e, buf, (size_t) k, userdata);
                if (r < 0)
                        return r;
                left -= (uint64_t) k;
        }
        if (read(e->fd, &extra, 1) != 0)
                return error_set(err, -EBUSY, "overlay '%s': '%s' changed while it was read", name, e->path);
        return 0;
}

/* -- packing */

typedef struct PackState {
        struct archive *archive;
        struct archive_entry *entry;
        int64_t clamp;
} PackState;

static int pack_data(ErrorSlot *err, const char *name, const OverlayEntry *e, const void *p, size_t n,
                     void *userdata) {
        PackState *s = userdata;
        la_ssize_t k = archive_write_data(s->archive, p, n);

        if (k < 0 || (size_t) k != n)
                return archive_error(err, s->archive, "overlay '%s': cannot pack '%s'", name, e->path);
        return 0;
}

static int pack_visit(ErrorSlot *err, const char *name, const OverlayEntry *e, void *userdata) {
        PackState *s = userdata;
        struct archive_entry *ae = s->entry;
        int64_t mtime = e->mtime;

        if (s->clamp >= 0 && mtime > s->clamp)
                mtime = s->clamp;

        archive_entry_clear(ae);
        /* Names are stored as the bytes they are (checked to be UTF-8),
         * see hdrcharset below. */
        archive_entry_copy_pathname(ae, e->path);
        archive_entry_set_filetype(ae, e->type == 'd' ? AE_IFDIR : e->type == 'l' ? AE_IFLNK : AE_IFREG);
        archive_entry_set_perm(ae, e->mode);
        archive_entry_set_uid(ae, 0);
        archive_entry_set_gid(ae, 0);
        archive_entry_copy_uname(ae, "root");
        archive_entry_copy_gname(ae, "root");
        archive_entry_set_mtime(ae, (time_t) mtime, 0);
        archive_entry_set_size(ae, e->type == 'f' ? (la_int64_t) e->size : 0);
        if (e->type == 'l')
                archive_entry_copy_symlink(ae, e->target);

        if (archive_write_header(s->archive, ae) != ARCHIVE_OK)
                return archive_error(err, s->archive, "overlay '%s': cannot pack '%s'", name, e->path);
        if (e->type == 'f')
                return read_content(err, name, e, pack_data, s);
        return 0;
}

static int pack_to_fd(ErrorSlot *err, const char *tree_dir, int fd, int64_t clamp) {
        _cleanup_(archive_write_freep) struct archive *a = NULL;
        _cleanup_(archive_entry_freep) struct archive_entry *ae = NULL;
        _cleanup_(overlay_modes_done) OverlayModes modes = {};
        PackState s = { .clamp = clamp };
        int r;

        r = overlay_modes_load(err, tree_dir, &modes);
        if (r < 0)
                return r;

        a = archive_write_new();
        ae = archive_entry_new();
        if (!a || !ae)
                return -ENOMEM;
        /* Restricted pax: plain ustar headers unless an entry needs more
         * (long or non-ASCII names, big files). */
        if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
            archive_write_add_filter_none(a) != ARCHIVE_OK ||
            /* Copy names byte for byte instead of converting them from the
             * locale's charset: the tar must not depend on the locale. */
            archive_write_set_format_option(a, "pax", "hdrcharset", "BINARY") != ARCHIVE_OK ||
            archive_write_open_fd(a, fd) != ARCHIVE_OK)
                return archive_error(err, a, "cannot start the overlay tar");
        s.archive = a;
        s.entry = ae;
        r = overlay_walk(err, tree_dir, &modes, pack_visit, &s);
        if (r < 0)
                return r;
        if (archive_write_close(a) != ARCHIVE_OK)
                return archive_error(err, a, "cannot finish the overlay tar");
        return 0;
}

int overlay_pack(ErrorSlot *err, const char *tree_dir, const char *dest_tar, const OverlayPackOptions *opts) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        /* A temporary file next to dest_tar and a rename: a failed pack
         * leaves nothing (and no half tar) behind. */
        tmp = strdup_printf("%s.XXXXXX", dest_tar);
        if (!tmp)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return error_set_errno(err, -errno, "cannot create '%s'", tmp);

        r = pack_to_fd(err, tree_dir, fd, opts ? opts->mtime : -1);
        if (r >= 0 && fsync(fd) < 0)
                r = error_set_errno(err, -errno, "cannot write '%s'", tmp);
        if (r >= 0 && rename(tmp, dest_tar) < 0)
                r = error_set_errno(err, -errno, "cannot rename '%s' to '%s'", tmp, dest_tar);
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        return 0;
}

/* -- hashing */

static int hash_data(ErrorSlot *err, const char *name, const OverlayEntry *e, const void *p, size_t n,
                     void *userdata) {
        sha256_update(userdata, p, n);
        return 0;
}

static int hash_visit(ErrorSlot *err, const char *name, const OverlayEntry *e, void *userdata) {
        _cleanup_free_ char *rec = NULL;
        const char *target = e->target ?: "";

        /* Length-prefixed fields: no two different walks hash alike. */
        rec = strdup_printf("%c %04o %" PRIu64 " %zu:%s %zu:%s\n", e->type, (unsigned) e->mode, e->size,
                            strlen(e->path), e->path, strlen(target), target);
        if (!rec)
                return -ENOMEM;
        sha256_update(userdata, rec, strlen(rec));
        if (e->type == 'f')
                return read_content(err, name, e, hash_data, userdata);
        return 0;
}

int overlay_tree_hash(ErrorSlot *err, const char *tree_dir, char **ret_hex) {
        /* v2: modes normalized, manifest included. */
        static const char version[] = "whonix-build overlay tree v2\n";
        _cleanup_(overlay_modes_done) OverlayModes modes = {};
        _cleanup_free_ char *head = NULL;
        uint8_t digest[SHA256_DIGEST_SIZE];
        Sha256 s;
        char *hex;
        int r;

        r = overlay_modes_load(err, tree_dir, &modes);
        if (r < 0)
                return r;
        sha256_init(&s);
        sha256_update(&s, version, sizeof(version) - 1);
        /* The manifest as it is, comments included: it is an input of the
         * build like any file of the tree. */
        head = modes.data ? strdup_printf("modes %zu:", modes.size) : strdup("no modes\n");
        if (!head)
                return -ENOMEM;
        sha256_update(&s, head, strlen(head));
        if (modes.data) {
                sha256_update(&s, modes.data, modes.size);
                sha256_update(&s, "\n", 1);
        }
        r = overlay_walk(err, tree_dir, &modes, hash_visit, &s);
        if (r < 0)
                return r;
        sha256_final(&s, digest);
        hex = hexmem(digest, sizeof(digest));
        if (!hex)
                return -ENOMEM;
        *ret_hex = hex;
        return 0;
}

/* -- applying */

int overlay_apply(ErrorSlot *err, Appliance *a, const char *tree_dir, const char *guest_dir, int64_t mtime) {
        _cleanup_free_ char *dir = NULL, *tar = NULL;
        OverlayPackOptions opts = { .mtime = mtime };
        int r;

        r = mkdtemp_in(NULL, "whonix-build-overlay", &dir);
        if (r < 0)
                return error_set_errno(err, r, "cannot create a temporary directory");
        tar = path_join(dir, "overlay.tar");
        if (!tar) {
                (void) rm_rf(dir);
                return -ENOMEM;
        }
        r = overlay_pack(err, tree_dir, tar, &opts);
        if (r >= 0)
                r = appliance_tar_in(err, a, tar, guest_dir);
        (void) rm_rf(dir);
        return r;
}

int overlay_data_dir_hash(ErrorSlot *err, const char *data_dir, char **ret) {
        static const char * const trees[] = { "recipes", "overlays", "keys" };
        Sha256 s;
        uint8_t digest[SHA256_DIGEST_SIZE];

        sha256_init(&s);
        for (size_t i = 0; i < ELEMENTSOF(trees); i++) {
                _cleanup_free_ char *dir = path_join(data_dir, trees[i]), *h = NULL;
                int r;

                if (!dir)
                        return -ENOMEM;
                r = overlay_tree_hash(err, dir, &h);
                if (r < 0)
                        return error_prefix(err, r, "cannot hash '%s'", dir);
                sha256_update(&s, trees[i], strlen(trees[i]) + 1);
                sha256_update(&s, h, strlen(h) + 1);
        }
        sha256_final(&s, digest);
        *ret = hexmem(digest, sizeof digest);
        return *ret ? 0 : -ENOMEM;
}
