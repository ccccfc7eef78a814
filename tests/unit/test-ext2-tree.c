/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The tree of an ext4 image as a pax archive (what finalize streams into
 * the image's own mke2fs), read back with libarchive: the order, every
 * file type, owners set by debugfs, modes, contents across many blocks,
 * a file with two names, fast and slow symbolic links, a device, extended
 * attributes and a POSIX ACL in the kernel's format, times clamped and
 * fixed, the same bytes twice; copying a file out through a symbolic link
 * of the tree; which libraries the loader did not find in a directory.
 * The image is made by the host's mke2fs and changed by its debugfs, an
 * independent writer: without them the test skips (and in CI a skip of it is
 * a failure: tests/guarantees.txt).
 */
#include <inttypes.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "archive-util.h"
#include "disk-test-util.h"
#include "ext2-tree.h"
#include "finalize-native.h"

#define EPOCH INT64_C(1700000000)
#define BIG_SIZE (3u << 20)

static uint8_t big_byte(size_t i) {
        return (uint8_t) ((i * 2654435761u) >> 13);
}

static int write_text(const char *dir, const char *name, const void *data, size_t n, mode_t mode) {
        _cleanup_free_ char *p = path_join(dir, name);
        _cleanup_close_ int fd = -EBADF;

        if (!p)
                return -ENOMEM;
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0 || write(fd, data, n) != (ssize_t) n || fchmod(fd, mode) < 0)
                return -errno;
        return 0;
}

/* An ACL in the kernel's xattr format: version 2, then (tag, perm, id). */
static const uint8_t acl[] = {
        2, 0, 0, 0,                                   /* version */
        1, 0, 7, 0, 0xff, 0xff, 0xff, 0xff,           /* user::rwx */
        2, 0, 5, 0, 0xe8, 0x03, 0, 0,                 /* user:1000:r-x */
        4, 0, 5, 0, 0xff, 0xff, 0xff, 0xff,           /* group::r-x */
        0x10, 0, 5, 0, 0xff, 0xff, 0xff, 0xff,        /* mask::r-x */
        0x20, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,        /* other::--- */
};

/* The same as libext2fs gives it back: the entries that name nobody carry
 * id 0 (the kernel ignores their id; it writes -1). */
static const uint8_t acl_read[] = {
        2, 0, 0, 0, 1, 0, 7, 0, 0, 0, 0, 0, 2, 0, 5, 0, 0xe8, 0x03, 0, 0,
        4, 0, 5, 0, 0, 0, 0, 0, 0x10, 0, 5, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0,
};

static int make_image(const char *dir, const char *image) {
        _cleanup_free_ char *src = path_join(dir, "src"), *a = NULL, *big = malloc(BIG_SIZE), *cmds = NULL,
                            *aclfile = NULL, *z = NULL, *hard = NULL, *s = NULL, *lng = NULL, *fifo = NULL,
                            *cmdtext = NULL;
        char target[101];
        int r;

        if (!src || !big || mkdir(src, 0755) < 0)
                return -ENOMEM;
        a = path_join(src, "a");
        z = path_join(src, "a/z");
        hard = path_join(src, "hard");
        s = path_join(src, "s");
        lng = path_join(src, "long");
        fifo = path_join(src, "fifo");
        cmds = path_join(dir, "cmds");
        aclfile = path_join(dir, "acl");
        if (!a || !z || !hard || !s || !lng || !fifo || !cmds || !aclfile || mkdir(a, 0750) < 0 || chmod(a, 0750) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < BIG_SIZE; i++)
                big[i] = (char) big_byte(i);
        memset(target, 'x', 100);
        target[100] = 0;
        /* Made in an order that is not the sorted one. */
        if ((r = write_text(src, "b", "hello\n", 6, 0640)) < 0 || (r = write_text(a, "z", big, BIG_SIZE, 0644)) < 0 ||
            (r = write_text(a, "y", "", 0, 0600)) < 0 || (r = write_text(src, "caf\xc3\xa9", "u", 1, 0644)) < 0 ||
            (r = write_text(src, "x\xff", "l", 1, 0644)) < 0 || (r = write_text(dir, "acl", acl, sizeof acl, 0644)) < 0)
                return r;
        if (link(z, hard) < 0 || symlink("b", s) < 0 || symlink(target, lng) < 0 || mkfifo(fifo, 0600) < 0)
                return -errno;
        r = spawn_run(NULL, ARGV("mke2fs", "-q", "-F", "-t", "ext4", "-E", "root_owner=0:0", "-d", src, (char *) image,
                                 "32M"),
                      NULL, NULL);
        if (r < 0)
                return r;
        cmdtext = strdup_printf("sif /b uid 1234\nsif /b gid 5678\nsif /b mtime @2000000000\n"
                                "sif /a/y mtime @1600000000\nmknod dev0 c 1 3\nea_set /b user.note hello\n"
                                "ea_set -f %s /a system.posix_acl_access\n",
                                aclfile);
        if (!cmdtext)
                return -ENOMEM;
        if ((r = write_text(dir, "cmds", cmdtext, strlen(cmdtext), 0644)) < 0)
                return r;
        return spawn_run(NULL, ARGV("debugfs", "-w", "-f", cmds, (char *) image), NULL, NULL);
}

typedef struct Seen {
        char *path;
        mode_t type, perm;
        int64_t uid, gid, mtime, atime, ctime;
        char *hardlink, *symlink;
        dev_t rdev;
        char *data;
        size_t size;
        char *note;   /* user.note */
        char *acl;    /* system.posix_acl_access */
        size_t acl_size;
        size_t n_xattrs; /* others */
} Seen;

static void seen_done(Seen *s, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(s[i].path);
                free(s[i].hardlink);
                free(s[i].symlink);
                free(s[i].data);
                free(s[i].note);
                free(s[i].acl);
        }
}

static int read_back(const char *tar, Seen *seen, size_t max, size_t *ret_n) {
        _cleanup_(archive_read_freep) struct archive *a = archive_read_new();
        struct archive_entry *e;
        size_t n = 0;

        if (!a || archive_read_support_format_tar(a) != ARCHIVE_OK ||
            archive_read_open_filename(a, tar, 65536) != ARCHIVE_OK)
                return -EIO;
        while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
                Seen *s = &seen[n];
                const char *name, *value;
                const void *v;
                size_t len;

                if (n == max)
                        return -E2BIG;
                *s = (Seen) {};
                s->path = strdup(archive_entry_pathname(e));
                if (!s->path)
                        return -ENOMEM;
                if (endswith(s->path, "/") && strlen(s->path) > 1)
                        s->path[strlen(s->path) - 1] = 0;
                s->type = archive_entry_filetype(e);
                s->perm = archive_entry_perm(e);
                s->uid = archive_entry_uid(e);
                s->gid = archive_entry_gid(e);
                s->mtime = archive_entry_mtime(e);
                s->atime = archive_entry_atime_is_set(e) ? archive_entry_atime(e) : -1;
                s->ctime = archive_entry_ctime_is_set(e) ? archive_entry_ctime(e) : -1;
                s->hardlink = archive_entry_hardlink(e) ? strdup(archive_entry_hardlink(e)) : NULL;
                s->symlink = archive_entry_symlink(e) ? strdup(archive_entry_symlink(e)) : NULL;
                s->rdev = archive_entry_rdev(e);
                archive_entry_xattr_reset(e);
                while (archive_entry_xattr_next(e, &name, &v, &len) == ARCHIVE_OK) {
                        /* libarchive gives each twice: from libarchive's
                         * own pax record and from the star-compatible one. */
                        if (streq(name, "user.note"))
                                s->note = strndup(v, len);
                        else if (streq(name, "system.posix_acl_access")) {
                                s->acl = malloc(len);
                                if (s->acl)
                                        memcpy(s->acl, v, len);
                                s->acl_size = len;
                        } else
                                s->n_xattrs++;
                }
                (void) value;
                if (archive_entry_size(e) > 0) {
                        s->size = (size_t) archive_entry_size(e);
                        s->data = malloc(s->size);
                        if (!s->data || archive_read_data(a, s->data, s->size) != (la_ssize_t) s->size)
                                return -EIO;
                }
                n++;
        }
        *ret_n = n;
        return 0;
}

static const Seen *find(const Seen *s, size_t n, const char *path) {
        for (size_t i = 0; i < n; i++)
                if (streq(s[i].path, path))
                        return &s[i];
        return NULL;
}

static int note_xattr(ErrorSlot *err, const char *path, const char *name, const void *value, size_t size,
                      void *userdata) {
        char ***l = userdata;
        _cleanup_free_ char *s = strdup_printf("%s %s %zu", path, name, size);

        return s ? strv_extend(l, s) : -ENOMEM;
}

static int write_tar(Ext2Tree *t, const char *path, ErrorSlot *err, char ***xattrs) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        if (fd < 0)
                return -errno;
        return ext2_tree_write_tar(err, t, fd, EPOCH, xattrs ? note_xattr : NULL, xattrs);
}

static void check_archive(const Seen *s, size_t n) {
        static const char * const order[] = { ".",    "a",    "a/y",        "a/z", "b",         "caf\xc3\xa9",
                                               "dev0", "fifo", "hard", "long", "lost+found", "s", "x\xff" };
        bool in_order = n == ELEMENTSOF(order);
        const Seen *e;

        for (size_t i = 0; in_order && i < n; i++)
                in_order = streq(s[i].path, order[i]);
        if (!tap_ok(in_order, "the entries in sorted order, the root first (%zu entries)", n))
                for (size_t i = 0; i < n; i++)
                        tap_diag("entry %zu: %s", i, s[i].path);

        e = find(s, n, "b");
        tap_ok(e && e->type == AE_IFREG && e->perm == 0640 && e->size == 6 && memcmp(e->data, "hello\n", 6) == 0,
               "a small file: type, mode and contents");
        tap_ok(e && e->uid == 1234 && e->gid == 5678, "numeric owners, as debugfs set them");
        tap_ok(e && e->mtime == EPOCH, "an mtime after the epoch is the epoch");
        tap_ok(e && e->note && streq(e->note, "hello") && e->n_xattrs == 0 && !e->acl, "a user extended attribute, and no other");
        e = find(s, n, "a/y");
        tap_ok(e && e->mtime == 1600000000 && e->atime == EPOCH && e->ctime == EPOCH && e->perm == 0600 &&
                       e->size == 0,
               "an older mtime kept; atime and ctime the epoch; an empty file");
        e = find(s, n, "a/z");
        bool same = e && e->size == BIG_SIZE && e->data;
        for (size_t i = 0; same && i < BIG_SIZE; i++)
                same = (uint8_t) e->data[i] == big_byte(i);
        tap_ok(same, "a file of many blocks, byte for byte");
        e = find(s, n, "hard");
        tap_ok(e && e->hardlink && streq(e->hardlink, "a/z") && e->size == 0,
               "the second name of a file is a hard link to the first in the order");
        e = find(s, n, "s");
        tap_ok(e && e->type == AE_IFLNK && e->symlink && streq(e->symlink, "b"), "a fast symbolic link");
        e = find(s, n, "long");
        tap_ok(e && e->type == AE_IFLNK && e->symlink && strlen(e->symlink) == 100 &&
                       strspn(e->symlink, "x") == 100,
               "a slow symbolic link (its target in a block)");
        e = find(s, n, "dev0");
        tap_ok(e && e->type == AE_IFCHR && major(e->rdev) == 1 && minor(e->rdev) == 3, "a character device 1:3");
        e = find(s, n, "caf\xc3\xa9");
        tap_ok(e && e->size == 1 && e->data[0] == 'u', "a UTF-8 name, as it is");
        e = find(s, n, "x\xff");
        tap_ok(e && e->size == 1 && e->data[0] == 'l', "a name that is not UTF-8, as it is");
        e = find(s, n, "fifo");
        tap_ok(e && e->type == AE_IFIFO && e->perm == 0600, "a FIFO");
        e = find(s, n, "a");
        tap_ok(e && e->type == AE_IFDIR && e->perm == 0750 && e->acl && e->acl_size == sizeof acl_read &&
                       memcmp(e->acl, acl_read, sizeof acl_read) == 0 && e->n_xattrs == 0,
               "a directory's POSIX ACL, in the kernel's format, byte for byte");
        e = find(s, n, ".");
        tap_ok(e && e->type == AE_IFDIR && e->uid == 0 && e->gid == 0, "the root, owned by root");
}

int main(void) {
        _cleanup_free_ char *dir = NULL, *image = NULL, *tar1 = NULL, *tar2 = NULL, *out = NULL, *big = NULL,
                            *missing = NULL;
        _cleanup_(ext2_tree_closep) Ext2Tree *t = NULL;
        Seen seen[32];
        ErrorSlot err = {};
        size_t n = 0, n1 = 0, n2 = 0;
        int r;

        tap_plan_lazy();
        if (!program_in_path("mke2fs") || !program_in_path("debugfs"))
                return tap_skip_all("e2fsprogs (mke2fs, debugfs) is not installed");
        r = mkdtemp_in(NULL, "test-ext2-tree", &dir);
        if (r < 0)
                return tap_skip_all("cannot create a temporary directory");
        image = path_join(dir, "tree.img");
        tar1 = path_join(dir, "1.tar");
        tar2 = path_join(dir, "2.tar");
        out = path_join(dir, "copied");
        missing = path_join(dir, "missing");
        if (!image || !tar1 || !tar2 || !out || !missing)
                return tap_skip_all("out of memory");

        r = make_image(dir, image);
        if (!tap_ok(r == 0, "make an ext4 image with the host's mke2fs and debugfs")) {
                (void) rm_rf(dir);
                return tap_done();
        }
        r = ext2_tree_open(&err, image, &t);
        tap_ok(r == 0, "open it: %s", r < 0 ? error_text(&err, r) : "ok");
        error_clear(&err);
        if (r == 0) {
                _cleanup_strv_free_ char **xattrs = NULL;
                r = write_tar(t, tar1, &err, &xattrs);
                tap_ok(r == 0, "write the archive: %s", r < 0 ? error_text(&err, r) : "ok");
                error_clear(&err);
                _cleanup_free_ char *joined = strv_join(xattrs, ", ");
                tap_ok(joined && streq(joined, "a system.posix_acl_access 44, b user.note 5"),
                       "each extended attribute is told to the caller, with its entry's path (%s)", strempty(joined));
                r = read_back(tar1, seen, ELEMENTSOF(seen), &n);
                tap_ok(r == 0, "libarchive reads it back");
                if (r == 0)
                        check_archive(seen, n);
                seen_done(seen, n);

                r = write_tar(t, tar2, &err, NULL);
                error_clear(&err);
                tap_ok(r == 0 && read_full_file(tar1, 64u << 20, &big, &n1) == 0 &&
                               read_full_file(tar2, 64u << 20, &out, &n2) == 0 && n1 == n2 && memcmp(big, out, n1) == 0,
                       "the same tree gives the same bytes (%zu)", n1);
                free(out);
                out = path_join(dir, "copied");

                r = ext2_tree_copy_out(&err, t, "/s", out, 0755);
                error_clear(&err);
                struct stat st;
                _cleanup_free_ char *copied = NULL;
                size_t nc = 0;
                tap_ok(r == 0 && stat(out, &st) == 0 && (st.st_mode & 07777) == 0755 &&
                               read_full_file(out, 1024, &copied, &nc) == 0 && nc == 6 && memcmp(copied, "hello\n", 6) == 0,
                       "copy out a file through a symbolic link of the tree, with the mode asked for");
                r = ext2_tree_copy_out(&err, t, "/nope", missing, 0644);
                tap_ok(r == -ENOENT && strstr(error_text(&err, r), "/nope") && access(missing, F_OK) < 0,
                       "a missing file: -ENOENT, named (%s)", error_text(&err, r));
                error_clear(&err);
                r = ext2_tree_copy_out(&err, t, "/a", missing, 0644);
                tap_ok(r == -EINVAL && access(missing, F_OK) < 0, "a directory is not copied out (%s)",
                       error_text(&err, r));
                error_clear(&err);
        }
        r = ext2_tree_open(&err, tar1, &t);
        tap_ok(r < 0 && strstr(error_text(&err, r), "1.tar"), "not a filesystem: refused, named (%s)",
               error_text(&err, r));
        error_clear(&err);

        /* ld.so --list, as the tree's loader prints it. */
        static const char list[] = "\tlinux-vdso.so.1 (0x00007ffd)\n"
                                   "\tlibext2fs.so.2 => /t/tools/libext2fs.so.2 (0x00007f01)\n"
                                   "\tlibc.so.6 => /t/tools/libc.so.6 (0x00007f02)\n"
                                   "\t/lib64/ld-linux-x86-64.so.2 (0x00007f03)\n";
        static const char host[] = "\tlibext2fs.so.2 => /t/tools/libext2fs.so.2 (0x1)\n"
                                   "\tlibmagic.so.1 => /lib/x86_64-linux-gnu/libmagic.so.1 (0x2)\n";
        static const char missing_lib[] = "\tlibfoo.so.1 => not found\n";
        static const char prefix[] = "\tlibbar.so.1 => /t/tools2/libbar.so.1 (0x1)\n";
        _cleanup_free_ char *f1 = finalize_native_foreign_library(list, "/t/tools"),
                            *f2 = finalize_native_foreign_library(host, "/t/tools"),
                            *f3 = finalize_native_foreign_library(missing_lib, "/t/tools"),
                            *f4 = finalize_native_foreign_library(prefix, "/t/tools");
        tap_ok(!f1, "all libraries from the directory: none foreign");
        tap_ok(f2 && streq(f2, "libmagic.so.1"), "one the host's loader found elsewhere is foreign");
        tap_ok(f3 && streq(f3, "libfoo.so.1"), "one not found is foreign");
        tap_ok(f4 && streq(f4, "libbar.so.1"), "a directory whose name starts like it is not it");

        (void) rm_rf(dir);
        return tap_done();
}
