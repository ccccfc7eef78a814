/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <ext2fs/ext2fs.h>

#include "archive-util.h"
#include "cancel.h"
#include "ext2-tree.h"

struct Ext2Tree {
        ext2_filsys fs;
        char *path;
};

/* libext2fs returns errno values and codes of its own error table; the
 * table is read directly (its messages are com_err's, whose lookup
 * function is not used: see base/error.h). */
static const char *ext2_strerror(errcode_t code) {
        if (code > 0 && code < 4096)
                return strerror((int) code);
        if (code >= et_ext2_error_table.base && code < et_ext2_error_table.base + et_ext2_error_table.n_msgs)
                return et_ext2_error_table.msgs[code - et_ext2_error_table.base];
        return "unknown libext2fs error";
}

static int ext2_errno(errcode_t code) {
        return code > 0 && code < 4096 ? -(int) code : -EIO;
}

_printf_(3, 4) static int ext2_error(ErrorSlot *err, errcode_t code, const char *fmt, ...) {
        _cleanup_free_ char *what = NULL;
        va_list ap;

        va_start(ap, fmt);
        what = strdup_vprintf(fmt, ap);
        va_end(ap);
        if (!what)
                return -ENOMEM;
        return error_set(err, ext2_errno(code), "%s: %s", what, ext2_strerror(code));
}

int ext2_tree_open(ErrorSlot *err, const char *path, Ext2Tree **ret) {
        Ext2Tree *t = calloc(1, sizeof *t);
        errcode_t code;

        if (!t || !(t->path = strdup(path))) {
                free(t);
                return -ENOMEM;
        }
        code = ext2fs_open2(path, NULL, EXT2_FLAG_64BITS, 0, 0, unix_io_manager,
                            &t->fs);
        if (code) {
                int r = ext2_error(err, code, "cannot open the filesystem in '%s'", path);
                free(t->path);
                free(t);
                return r;
        }
        *ret = t;
        return 0;
}

Ext2Tree *ext2_tree_close(Ext2Tree *t) {
        if (!t)
                return NULL;
        if (t->fs)
                (void) ext2fs_close_free(&t->fs);
        free(t->path);
        free(t);
        return NULL;
}

static void ext2_file_closep(ext2_file_t *f) {
        if (*f)
                (void) ext2fs_file_close(*f);
}

/* Read the inode's data, size bytes, passing each piece to sink. */
static int read_data(ErrorSlot *err, Ext2Tree *t, ext2_ino_t ino, struct ext2_inode *inode, const char *path,
                     int (*sink)(ErrorSlot *err, const void *p, size_t n, void *userdata), void *userdata) {
        _cleanup_(ext2_file_closep) ext2_file_t f = NULL;
        uint64_t size = EXT2_I_SIZE(inode), done = 0;
        _cleanup_free_ char *buf = NULL;
        errcode_t code;
        int r;

        code = ext2fs_file_open2(t->fs, ino, inode, 0, &f);
        if (code)
                return ext2_error(err, code, "cannot open '%s' in '%s'", path, t->path);
        buf = malloc(1u << 20);
        if (!buf)
                return -ENOMEM;
        while (done < size) {
                unsigned got = 0;

                code = ext2fs_file_read(f, buf, 1u << 20, &got);
                if (code)
                        return ext2_error(err, code, "cannot read '%s' in '%s'", path, t->path);
                if (got == 0)
                        break;
                if (got > size - done)
                        got = (unsigned) (size - done);
                r = sink(err, buf, got, userdata);
                if (r < 0)
                        return r;
                done += got;
        }
        if (done != size)
                return error_set(err, -EIO, "'%s' in '%s' ended after %" PRIu64 " of its %" PRIu64 " bytes", path,
                                 t->path, done, size);
        return 0;
}

static int fd_sink(ErrorSlot *err, const void *p, size_t n, void *userdata) {
        int fd = *(int *) userdata;

        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return error_set_errno(err, -errno, "cannot write a file copied out of a tree");
                }
                p = (const char *) p + k;
                n -= (size_t) k;
        }
        return 0;
}

int ext2_tree_copy_out(ErrorSlot *err, Ext2Tree *t, const char *path, const char *dest, mode_t mode) {
        _cleanup_close_ int fd = -EBADF;
        struct ext2_inode inode;
        ext2_ino_t ino;
        errcode_t code;
        int r;

        code = ext2fs_namei_follow(t->fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path, &ino);
        if (code == EXT2_ET_FILE_NOT_FOUND)
                return error_set(err, -ENOENT, "'%s' has no %s", t->path, path);
        if (code)
                return ext2_error(err, code, "cannot look up %s in '%s'", path, t->path);
        code = ext2fs_read_inode(t->fs, ino, &inode);
        if (code)
                return ext2_error(err, code, "cannot read the inode of %s in '%s'", path, t->path);
        if (!LINUX_S_ISREG(inode.i_mode))
                return error_set(err, -EINVAL, "%s in '%s' is not a regular file", path, t->path);

        fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd < 0)
                return error_set_errno(err, -errno, "cannot create '%s'", dest);
        r = read_data(err, t, ino, &inode, path, fd_sink, &fd);
        if (r < 0)
                return r;
        if (fchmod(fd, mode) < 0 || close(TAKE_FD(fd)) < 0)
                return error_set_errno(err, -errno, "cannot write '%s'", dest);
        return 0;
}

/* The archive. */

typedef struct Link {
        ext2_ino_t ino;
        char *path;
} Link;

typedef struct TarWriter {
        Ext2Tree *t;
        struct archive *a;
        int64_t epoch;
        char *path; /* the entry's path, grown as the walk goes down */
        size_t path_alloc;
        Ext2XattrFn xattr_fn;
        void *userdata;
        Link *links; /* the first name of each inode with more than one */
        size_t n_links;
        ErrorSlot *err;
} TarWriter;

typedef struct DirEntry {
        char *name;
        ext2_ino_t ino;
} DirEntry;

typedef struct DirList {
        DirEntry *e;
        size_t n, alloc;
        int r;
} DirList;

static int collect_entry(struct ext2_dir_entry *dirent, int offset, int blocksize, char *buf, void *priv) {
        DirList *l = priv;
        size_t len = ext2fs_dirent_name_len(dirent);
        (void) offset, (void) blocksize, (void) buf;

        if ((len == 1 && dirent->name[0] == '.') || (len == 2 && dirent->name[0] == '.' && dirent->name[1] == '.'))
                return 0;
        if (l->n == l->alloc) {
                size_t want = l->alloc ? l->alloc * 2 : 32;
                DirEntry *e = reallocarray(l->e, want, sizeof *e);
                if (!e) {
                        l->r = -ENOMEM;
                        return DIRENT_ABORT;
                }
                l->e = e;
                l->alloc = want;
        }
        l->e[l->n].name = strndup(dirent->name, len);
        if (!l->e[l->n].name) {
                l->r = -ENOMEM;
                return DIRENT_ABORT;
        }
        if (memchr(l->e[l->n].name, '/', len) || strlen(l->e[l->n].name) != len) {
                free(l->e[l->n].name);
                l->r = -EBADMSG;
                return DIRENT_ABORT;
        }
        l->e[l->n++].ino = dirent->inode;
        return 0;
}

static int dir_entry_cmp(const void *a, const void *b) {
        return strcmp(((const DirEntry *) a)->name, ((const DirEntry *) b)->name);
}

static void dir_list_done(DirList *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->e[i].name);
        free(l->e);
}

static int archive_sink(ErrorSlot *err, const void *p, size_t n, void *userdata) {
        TarWriter *w = userdata;
        la_ssize_t k = archive_write_data(w->a, p, n);

        if (k < 0 || (size_t) k != n)
                return archive_error(err, w->a, "cannot write '%s' into the archive", w->path);
        return 0;
}

typedef struct XattrNames {
        char **names;
        int r;
} XattrNames;

static int collect_xattr(char *name, char *value, size_t value_len, void *data) {
        XattrNames *x = data;
        (void) value, (void) value_len;

        /* The inline data of a small file or directory: the filesystem's own,
         * not the file's. */
        if (streq(name, "system.data"))
                return 0;
        if (strv_extend(&x->names, name) < 0) {
                x->r = -ENOMEM;
                return XATTR_ABORT;
        }
        return 0;
}

static void xattrs_closep(struct ext2_xattr_handle **h) {
        if (*h)
                (void) ext2fs_xattrs_close(h);
}

static int add_xattrs(TarWriter *w, ext2_ino_t ino, struct archive_entry *e) {
        _cleanup_(xattrs_closep) struct ext2_xattr_handle *h = NULL;
        XattrNames x = { 0 };
        errcode_t code;
        int r = 0;

        if (!ext2fs_has_feature_xattr(w->t->fs->super))
                return 0;
        code = ext2fs_xattrs_open(w->t->fs, ino, &h);
        if (!code)
                code = ext2fs_xattrs_read(h);
        if (!code)
                code = ext2fs_xattrs_iterate(h, collect_xattr, &x);
        if (code) {
                strv_free(x.names);
                return ext2_error(w->err, code, "cannot read the extended attributes of '%s'", w->path);
        }
        if (x.r < 0) {
                strv_free(x.names);
                return x.r;
        }
        /* The same order on every host. */
        strv_sort(x.names);
        STRV_FOREACH(n, x.names) {
                void *value = NULL;
                size_t len = 0;

                /* ext2fs_xattr_get() gives ACLs in the kernel's format. */
                code = ext2fs_xattr_get(h, *n, &value, &len);
                if (code) {
                        r = ext2_error(w->err, code, "cannot read the extended attribute %s of '%s'", *n, w->path);
                        break;
                }
                archive_entry_xattr_add_entry(e, *n, value, len);
                if (w->xattr_fn)
                        r = w->xattr_fn(w->err, w->path, *n, value, len, w->userdata);
                ext2fs_free_mem(&value);
                if (r < 0)
                        break;
        }
        strv_free(x.names);
        return r;
}

static const char *find_link(TarWriter *w, ext2_ino_t ino) {
        for (size_t i = 0; i < w->n_links; i++)
                if (w->links[i].ino == ino)
                        return w->links[i].path;
        return NULL;
}

static int remember_link(TarWriter *w, ext2_ino_t ino) {
        Link *l = reallocarray(w->links, w->n_links + 1, sizeof *l);

        if (!l)
                return -ENOMEM;
        w->links = l;
        l[w->n_links].ino = ino;
        l[w->n_links].path = strdup(w->path);
        if (!l[w->n_links].path)
                return -ENOMEM;
        w->n_links++;
        return 0;
}

static void device_numbers(const struct ext2_inode *inode, unsigned *major_ret, unsigned *minor_ret) {
        /* The old encoding (16 bits in the first block pointer) or the new
         * one (in the second), as the kernel writes them. */
        if (inode->i_block[0]) {
                *major_ret = (inode->i_block[0] >> 8) & 255;
                *minor_ret = inode->i_block[0] & 255;
        } else {
                *major_ret = (inode->i_block[1] & 0xfff00) >> 8;
                *minor_ret = (inode->i_block[1] & 0xff) | ((inode->i_block[1] >> 12) & 0xfff00);
        }
}

static int symlink_target(TarWriter *w, ext2_ino_t ino, struct ext2_inode *inode, char **ret);

static int write_tree(TarWriter *w, ext2_ino_t dir);

static int write_entry(TarWriter *w, ext2_ino_t ino) {
        _cleanup_(archive_entry_freep) struct archive_entry *e = archive_entry_new();
        _cleanup_free_ char *target = NULL;
        struct ext2_inode_large large;
        struct ext2_inode *inode = (struct ext2_inode *) &large;
        uint32_t mode;
        int64_t mtime;
        errcode_t code;
        int r;

        if (!e)
                return -ENOMEM;
        if (cancel_requested())
                return error_set(w->err, -ECANCELED, "interrupted");
        code = ext2fs_read_inode_full(w->t->fs, ino, inode, sizeof large);
        if (code)
                return ext2_error(w->err, code, "cannot read the inode of '%s'", w->path);
        mode = inode->i_mode;
        mtime = inode->i_mtime;
        if (EXT2_INODE_SIZE(w->t->fs->super) > EXT2_GOOD_OLD_INODE_SIZE &&
            large.i_extra_isize >= offsetof(struct ext2_inode_large, i_mtime_extra) + 4 -
                                           EXT2_GOOD_OLD_INODE_SIZE)
                /* The two epoch bits past 2038. */
                mtime = (int64_t) (int32_t) inode->i_mtime + ((int64_t) (large.i_mtime_extra & 3) << 32);

        archive_entry_set_pathname(e, w->path);
        archive_entry_set_uid(e, inode_uid(*inode));
        archive_entry_set_gid(e, inode_gid(*inode));
        archive_entry_set_perm(e, mode & 07777);
        archive_entry_set_mtime(e, mtime < w->epoch ? mtime : w->epoch, 0);
        archive_entry_set_atime(e, w->epoch, 0);
        archive_entry_set_ctime(e, w->epoch, 0);

        if (!LINUX_S_ISDIR(mode) && inode->i_links_count > 1) {
                const char *first = find_link(w, ino);
                if (first) {
                        /* Only the name: the inode came with the first one. */
                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_hardlink(e, first);
                        archive_entry_set_size(e, 0);
                        if (archive_write_header(w->a, e) != ARCHIVE_OK)
                                return archive_error(w->err, w->a, "cannot write '%s' into the archive", w->path);
                        return 0;
                }
                r = remember_link(w, ino);
                if (r < 0)
                        return r;
        }

        switch (mode & LINUX_S_IFMT) {
        case LINUX_S_IFREG:
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_size(e, (la_int64_t) EXT2_I_SIZE(inode));
                break;
        case LINUX_S_IFDIR:
                archive_entry_set_filetype(e, AE_IFDIR);
                break;
        case LINUX_S_IFLNK:
                archive_entry_set_filetype(e, AE_IFLNK);
                r = symlink_target(w, ino, inode, &target);
                if (r < 0)
                        return r;
                archive_entry_set_symlink(e, target);
                break;
        case LINUX_S_IFCHR:
        case LINUX_S_IFBLK: {
                unsigned major, minor;
                device_numbers(inode, &major, &minor);
                archive_entry_set_filetype(e, LINUX_S_ISCHR(mode) ? AE_IFCHR : AE_IFBLK);
                archive_entry_set_rdev(e, makedev(major, minor));
                break;
        }
        case LINUX_S_IFIFO:
                archive_entry_set_filetype(e, AE_IFIFO);
                break;
        case LINUX_S_IFSOCK:
                archive_entry_set_filetype(e, AE_IFSOCK);
                break;
        default:
                return error_set(w->err, -EBADMSG, "'%s' has an unknown file type (mode %o)", w->path, mode);
        }

        r = add_xattrs(w, ino, e);
        if (r < 0)
                return r;
        if (archive_write_header(w->a, e) != ARCHIVE_OK)
                return archive_error(w->err, w->a, "cannot write '%s' into the archive", w->path);
        if (LINUX_S_ISREG(mode) && EXT2_I_SIZE(inode) > 0) {
                r = read_data(w->err, w->t, ino, inode, w->path, archive_sink, w);
                if (r < 0)
                        return r;
        }
        if (LINUX_S_ISDIR(mode))
                return write_tree(w, ino);
        return 0;
}

/* A slow symbolic link's target, read as a file's data is. */
typedef struct MemorySink {
        char *p;
        uint64_t left;
} MemorySink;

static int memory_sink(ErrorSlot *err, const void *p, size_t n, void *userdata) {
        MemorySink *m = userdata;

        if (n > m->left)
                return error_set(err, -EIO, "a file of the tree holds more than its size");
        memcpy(m->p, p, n);
        m->p += n;
        m->left -= n;
        return 0;
}

static int symlink_target(TarWriter *w, ext2_ino_t ino, struct ext2_inode *inode, char **ret) {
        uint64_t size = EXT2_I_SIZE(inode);
        _cleanup_free_ char *s = NULL;

        if (size == 0 || size > 65536)
                return error_set(w->err, -EBADMSG, "the symbolic link '%s' has a target of %" PRIu64 " bytes",
                                 w->path, size);
        s = malloc(size + 1);
        if (!s)
                return -ENOMEM;
        if (ext2fs_is_fast_symlink(inode))
                /* In the inode itself, where the block map would be. */
                memcpy(s, inode->i_block, size);
        else {
                MemorySink m = { .p = s, .left = size };
                int r = read_data(w->err, w->t, ino, inode, w->path, memory_sink, &m);
                if (r < 0)
                        return r;
        }
        s[size] = 0;
        if (strlen(s) != size)
                return error_set(w->err, -EBADMSG, "the symbolic link '%s' has a NUL in its target", w->path);
        *ret = TAKE_PTR(s);
        return 0;
}

static int write_tree(TarWriter *w, ext2_ino_t dir) {
        DirList l = { 0 };
        size_t base = strlen(w->path);
        bool at_root = streq(w->path, ".");
        errcode_t code;
        int r = 0;

        code = ext2fs_dir_iterate(w->t->fs, dir, 0, NULL, collect_entry, &l);
        if (code || l.r < 0) {
                dir_list_done(&l);
                if (l.r == -EBADMSG)
                        return error_set(w->err, -EBADMSG, "the directory '%s' holds a name with a '/' or a NUL",
                                         w->path);
                return l.r < 0 ? l.r : ext2_error(w->err, code, "cannot read the directory '%s'", w->path);
        }
        qsort(l.e, l.n, sizeof *l.e, dir_entry_cmp);

        for (size_t i = 0; i < l.n && r >= 0; i++) {
                size_t need = base + 1 + strlen(l.e[i].name) + 1;

                if (need > w->path_alloc) {
                        char *p = realloc(w->path, need * 2);
                        if (!p) {
                                r = -ENOMEM;
                                break;
                        }
                        w->path = p;
                        w->path_alloc = need * 2;
                }
                /* "name" under the root, "dir/name" below it. */
                if (at_root)
                        strcpy(w->path, l.e[i].name);
                else
                        sprintf(w->path + base, "/%s", l.e[i].name);
                r = write_entry(w, l.e[i].ino);
                if (at_root)
                        strcpy(w->path, ".");
                else
                        w->path[base] = 0;
        }
        dir_list_done(&l);
        return r;
}

int ext2_tree_write_tar(ErrorSlot *err, Ext2Tree *t, int fd, int64_t epoch, Ext2XattrFn xattr_fn, void *userdata) {
        _cleanup_(archive_write_freep) struct archive *a = archive_write_new();
        TarWriter w = { .t = t, .a = a, .epoch = epoch, .xattr_fn = xattr_fn, .userdata = userdata, .err = err };
        int r;

        if (!a)
                return -ENOMEM;
        /* Names are bytes, written as they are (hdrcharset=BINARY): not
         * converted from this process's locale, which fails on a name that
         * is not in it, and read back as they are. */
        if (archive_write_set_format_pax(a) != ARCHIVE_OK || archive_write_add_filter_none(a) != ARCHIVE_OK ||
            archive_write_set_format_option(a, "pax", "hdrcharset", "BINARY") != ARCHIVE_OK ||
            archive_write_open_fd(a, fd) != ARCHIVE_OK)
                return archive_error(err, a, "cannot start the archive of '%s'", t->path);
        w.path_alloc = 4096;
        w.path = malloc(w.path_alloc);
        if (!w.path)
                return -ENOMEM;
        strcpy(w.path, ".");
        r = write_entry(&w, EXT2_ROOT_INO);
        if (r >= 0 && archive_write_close(a) != ARCHIVE_OK)
                r = archive_error(err, a, "cannot finish the archive of '%s'", t->path);
        for (size_t i = 0; i < w.n_links; i++)
                free(w.links[i].path);
        free(w.links);
        free(w.path);
        return r;
}
