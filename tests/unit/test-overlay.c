/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Overlay packing: the tar's members, owners, modes, contents and mtimes;
 * byte-for-byte reproducibility, whatever the umask; the modes manifest;
 * the tree hash; refused trees and manifests. */
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "archive-util.h"
#include "overlay.h"
#include "sha256.h"
#include "tap.h"

#define CLAMP INT64_C(1000000)

static char *scratch;

static bool write_mode(const char *dir, const char *rel, const char *content, mode_t mode) {
        _cleanup_free_ char *p = path_join(dir, rel);
        _cleanup_close_ int fd = -EBADF;
        size_t n = strlen(content);

        if (!p)
                return false;
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, content, n) != (ssize_t) n)
                return false;
        /* Explicit modes: the umask of whoever runs the test must not matter. */
        return fchmod(fd, mode) == 0;
}

/* As git checks a file out: 0666 or 0777 less the umask. */
static bool write_checkout(const char *dir, const char *rel, const char *content, bool exec) {
        _cleanup_free_ char *p = path_join(dir, rel);
        _cleanup_close_ int fd = -EBADF;
        size_t n = strlen(content);

        if (!p)
                return false;
        fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, exec ? 0777 : 0666);
        return fd >= 0 && write(fd, content, n) == (ssize_t) n;
}

static bool mkdir_checkout(const char *dir, const char *rel) {
        _cleanup_free_ char *p = path_join(dir, rel);

        return p && mkdir(p, 0777) == 0;
}

/* Write data (of size n, NULs allowed) to scratch/rel. */
static bool write_raw(const char *rel, const char *data, size_t n) {
        _cleanup_free_ char *p = path_join(scratch, rel);
        _cleanup_close_ int fd = -EBADF;

        if (!p)
                return false;
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        return fd >= 0 && write(fd, data, n) == (ssize_t) n;
}

static mode_t mode_of(const char *dir, const char *rel) {
        _cleanup_free_ char *p = path_join(dir, rel);
        struct stat st;

        return p && lstat(p, &st) == 0 ? st.st_mode & 07777 : (mode_t) -1;
}

static bool mkdir_mode(const char *dir, const char *rel, mode_t mode) {
        _cleanup_free_ char *p = path_join(dir, rel);

        return p && mkdir(p, 0700) == 0 && chmod(p, mode) == 0;
}

static bool symlink_at(const char *dir, const char *rel, const char *target) {
        _cleanup_free_ char *p = path_join(dir, rel);

        return p && symlink(target, p) == 0;
}

static bool set_mtime(const char *dir, const char *rel, time_t t) {
        _cleanup_free_ char *p = path_join(dir, rel);
        struct timespec ts[2] = { { .tv_sec = t }, { .tv_sec = t } };

        return p && utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW) == 0;
}

static const char *const all_paths[] = {
        "etc",           "etc/link", "etc/motd",  "etc/motd.copy", "etc/private",        "etc/secret",
        "tmp",           "usr",      "usr/local", "usr/local/bin", "usr/local/bin/suid", "usr/local/bin/tool",
        "usr/local/bin/up",
};

/* Three- and four-digit modes, comments, blank lines, blanks around the
 * fields. */
static const char tree_modes[] = "# modes the umask cannot give\n"
                                 "0440 etc/secret\n"
                                 "\n"
                                 "700 etc/private\n"
                                 "  1777\t tmp  \n"
                                 "4755 usr/local/bin/suid\n";

static bool touch_all(const char *tree, time_t t) {
        for (size_t i = 0; i < ELEMENTSOF(all_paths); i++)
                if (!set_mtime(tree, all_paths[i], t))
                        return false;
        return true;
}

/* The tree as a checkout under the current umask would have it, with its
 * manifest NAME.modes beside it. */
static char *make_tree(const char *name) {
        _cleanup_free_ char *tree = path_join(scratch, name), *modes = NULL;
        if (!tree || mkdir(tree, 0777) < 0)
                return NULL;
        modes = strdup_printf("%s.modes", name);
        if (!modes)
                return NULL;
        if (!mkdir_checkout(tree, "etc") || !write_checkout(tree, "etc/motd", "hello\n", false) ||
            !write_checkout(tree, "etc/secret", "s3cret", false) ||
            !write_checkout(tree, "etc/motd.copy", "hello\n", false) ||
            !symlink_at(tree, "etc/link", "motd") || !mkdir_checkout(tree, "etc/private") ||
            !mkdir_checkout(tree, "tmp") || !mkdir_checkout(tree, "usr") || !mkdir_checkout(tree, "usr/local") ||
            !mkdir_checkout(tree, "usr/local/bin") ||
            !write_checkout(tree, "usr/local/bin/tool", "#!/bin/sh\necho tool\n", true) ||
            !write_checkout(tree, "usr/local/bin/suid", "x", true) ||
            !symlink_at(tree, "usr/local/bin/up", "../../../etc/./motd") ||
            !write_raw(modes, tree_modes, sizeof(tree_modes) - 1))
                return NULL;
        /* Everything newer than the clamp, except one file older. */
        if (!touch_all(tree, (time_t) (CLAMP + 5000)) || !set_mtime(tree, "etc/secret", 500))
                return NULL;
        return TAKE_PTR(tree);
}

typedef struct Member {
        char *path;
        unsigned type;
        unsigned mode;
        int64_t uid, gid, mtime;
        char *uname, *gname, *link, *content;
        bool has_atime, has_ctime;
} Member;

static void members_free(Member *m, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(m[i].path);
                free(m[i].uname);
                free(m[i].gname);
                free(m[i].link);
                free(m[i].content);
        }
        free(m);
}

static int read_tar(const char *path, Member **ret, size_t *ret_n) {
        _cleanup_(archive_read_freep) struct archive *a = archive_read_new();
        Member *m = NULL;
        size_t n = 0;
        int r;

        if (!a || archive_read_support_format_tar(a) != ARCHIVE_OK ||
            archive_read_open_filename(a, path, 10240) != ARCHIVE_OK)
                return -EIO;
        for (;;) {
                struct archive_entry *e;
                Member *x;
                int64_t size;
                Member *t;

                r = archive_read_next_header(a, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK) {
                        members_free(m, n);
                        return -EIO;
                }
                t = realloc(m, (n + 1) * sizeof(Member));
                if (!t) {
                        members_free(m, n);
                        return -ENOMEM;
                }
                m = t;
                x = &m[n++];
                *x = (Member) {
                        .path = strdup(archive_entry_pathname(e)),
                        .type = archive_entry_filetype(e),
                        .mode = archive_entry_perm(e),
                        .uid = archive_entry_uid(e),
                        .gid = archive_entry_gid(e),
                        .mtime = archive_entry_mtime(e),
                        .uname = strdup(strempty(archive_entry_uname(e))),
                        .gname = strdup(strempty(archive_entry_gname(e))),
                        .link = archive_entry_symlink(e) ? strdup(archive_entry_symlink(e)) : NULL,
                        .has_atime = archive_entry_atime_is_set(e),
                        .has_ctime = archive_entry_ctime_is_set(e),
                };
                size = archive_entry_size(e);
                x->content = calloc(1, (size_t) size + 1);
                if (x->content && size > 0 && archive_read_data(a, x->content, (size_t) size) != size) {
                        members_free(m, n);
                        return -EIO;
                }
        }
        *ret = m;
        *ret_n = n;
        return 0;
}

static char *file_hash(const char *path) {
        char *h = NULL;

        return sha256_file(path, &h) < 0 ? NULL : h;
}

static char *tree_hash(const char *tree) {
        ErrorSlot err = {};
        char *h = NULL;

        if (overlay_tree_hash(&err, tree, &h) < 0)
                tap_diag("tree hash: %s", error_text(&err, -EIO));
        error_done(&err);
        return h;
}

static Member *find(Member *m, size_t n, const char *path) {
        for (size_t i = 0; i < n; i++) {
                size_t l = strlen(m[i].path);
                /* Directories may come with a trailing slash. */
                if (streq(m[i].path, path) ||
                    (l == strlen(path) + 1 && m[i].path[l - 1] == '/' && strncmp(m[i].path, path, l - 1) == 0))
                        return &m[i];
        }
        return NULL;
}

static void test_members(const char *tree) {
        _cleanup_free_ char *tar = path_join(scratch, "members.tar");
        OverlayPackOptions opts = { .mtime = CLAMP };
        ErrorSlot err = {};
        Member *m = NULL, *x;
        size_t n = 0;
        bool ok;
        int r;

        r = overlay_pack(&err, tree, tar, &opts);
        if (!tap_ok(r == 0, "pack the tree")) {
                tap_diag("%s", error_text(&err, r));
                error_done(&err);
                return;
        }
        r = read_tar(tar, &m, &n);
        tap_ok(r == 0, "read the tar back");

        ok = n == ELEMENTSOF(all_paths);
        for (size_t i = 0; ok && i < n; i++)
                ok = find(&m[i], 1, all_paths[i]) != NULL;
        if (!tap_ok(ok, "members in sorted walk order, relative, no './'"))
                for (size_t i = 0; i < n; i++)
                        tap_diag("member %s", m[i].path);

        ok = true;
        for (size_t i = 0; i < n; i++)
                ok = ok && m[i].uid == 0 && m[i].gid == 0 && streq(m[i].uname, "root") && streq(m[i].gname, "root") &&
                     !m[i].has_atime && !m[i].has_ctime && m[i].path[0] != '/' && !startswith(m[i].path, "./");
        tap_ok(ok, "every member is owned by root (0:0, root:root), no atime or ctime");

        x = find(m, n, "etc/motd");
        tap_ok(x && x->type == AE_IFREG && x->mode == 0644 && streq(x->content, "hello\n"),
               "etc/motd 0644 (0600 on disk) content");
        x = find(m, n, "etc/motd.copy");
        tap_ok(x && x->type == AE_IFREG && x->mode == 0644 && streq(x->content, "hello\n"),
               "a second file with the same content is packed as itself");
        x = find(m, n, "etc/secret");
        tap_ok(x && x->mode == 0440 && streq(x->content, "s3cret"), "etc/secret 0440 from the manifest, content");
        tap_ok(x && x->mtime == 500, "an mtime older than the clamp is kept");
        x = find(m, n, "usr/local/bin/tool");
        tap_ok(x && x->mode == 0755 && streq(x->content, "#!/bin/sh\necho tool\n"), "tool 0755 (0700 on disk) content");
        x = find(m, n, "usr/local/bin/suid");
        tap_ok(x && x->mode == 04755, "setuid 4755 from the manifest");
        x = find(m, n, "tmp");
        tap_ok(x && x->type == AE_IFDIR && x->mode == 01777, "sticky world-writable directory 1777 from the manifest");
        x = find(m, n, "etc/private");
        tap_ok(x && x->type == AE_IFDIR && x->mode == 0700, "directory etc/private 0700 from a 3-digit manifest mode");
        x = find(m, n, "etc/link");
        tap_ok(x && x->type == AE_IFLNK && streq_ptr(x->link, "motd"), "relative symlink kept");
        x = find(m, n, "usr/local/bin/up");
        tap_ok(x && x->type == AE_IFLNK && streq_ptr(x->link, "../../../etc/./motd"),
               "symlink climbing to the tree's top kept");
        x = find(m, n, "etc");
        tap_ok(x && x->type == AE_IFDIR && x->mode == 0755 && x->mtime == CLAMP,
               "directory etc 0755 (0700 on disk), mtime clamped");
        x = find(m, n, "usr/local/bin/up");
        tap_ok(x && x->mode == 0777, "symlink 0777");
        x = find(m, n, "usr/local/bin/tool");
        tap_ok(x && x->mtime == CLAMP, "newer mtimes clamped");

        members_free(m, n);

        /* Without a clamp the actual mtimes are kept. */
        r = overlay_pack(&err, tree, tar, NULL);
        m = NULL;
        n = 0;
        tap_ok(r == 0 && read_tar(tar, &m, &n) == 0 && (x = find(m, n, "etc/motd")) && x->mtime == CLAMP + 5000,
               "no clamp: actual mtime");
        members_free(m, n);
        error_done(&err);
}

static void test_reproducible(const char *tree) {
        _cleanup_free_ char *t1 = path_join(scratch, "r1.tar"), *t2 = path_join(scratch, "r2.tar"),
                            *t3 = path_join(scratch, "r3.tar"), *t4 = path_join(scratch, "r4.tar");
        _cleanup_free_ char *h1 = NULL, *h2 = NULL, *h3 = NULL, *h4 = NULL;
        OverlayPackOptions opts = { .mtime = CLAMP };
        ErrorSlot err = {};
        pid_t pid;
        int status = -1;

        tap_ok(overlay_pack(&err, tree, t1, &opts) == 0 && overlay_pack(&err, tree, t2, &opts) == 0,
               "pack twice");
        h1 = file_hash(t1);
        h2 = file_hash(t2);
        tap_ok(h1 && h2 && streq(h1, h2), "same tree, same bytes");

        /* Later mtimes (still above the clamp) and a different mode of the
         * tree's top directory (not an entry) change nothing. */
        tap_ok(touch_all(tree, (time_t) (CLAMP + 99999)) && set_mtime(tree, "etc/secret", 500) &&
                       chmod(tree, 0700) == 0,
               "touch every entry, chmod the top directory");
        tap_ok(overlay_pack(&err, tree, t3, &opts) == 0, "pack again");
        h3 = file_hash(t3);
        tap_ok(h1 && h3 && streq(h1, h3), "later mtimes and the top directory's mode do not change the bytes");
        (void) chmod(tree, 0755);

        /* Another process (pax header names must not carry a pid). */
        pid = fork();
        if (pid == 0)
                _exit(overlay_pack(NULL, tree, t4, &opts) == 0 ? 0 : 1);
        if (pid > 0)
                (void) waitpid(pid, &status, 0);
        h4 = file_hash(t4);
        tap_ok(status == 0 && h1 && h4 && streq(h1, h4), "another process packs the same bytes");
        error_done(&err);
}

static void test_pax(void) {
        _cleanup_free_ char *tree = path_join(scratch, "pax"), *t1 = path_join(scratch, "p1.tar"),
                            *t2 = path_join(scratch, "p2.tar"), *h1 = NULL, *h2 = NULL, *longname = NULL;
        OverlayPackOptions opts = { .mtime = CLAMP };
        const char *utf = "caf\xc3\xa9-\xe2\x9c\x93";
        ErrorSlot err = {};
        Member *m = NULL;
        size_t n = 0;
        pid_t pid;
        int status = -1, r;

        longname = malloc(201);
        if (!tree || !longname || mkdir(tree, 0755) < 0)
                return (void) tap_ok(false, "pax tree");
        memset(longname, 'n', 200);
        longname[200] = 0;
        tap_ok(write_mode(tree, longname, "long", 0644) && write_mode(tree, utf, "utf", 0644) &&
                       set_mtime(tree, longname, (time_t) (CLAMP + 1)) && set_mtime(tree, utf, (time_t) (CLAMP + 1)),
               "a 200-character name and a UTF-8 name");
        r = overlay_pack(&err, tree, t1, &opts);
        if (!tap_ok(r == 0, "pack names that need pax headers"))
                tap_diag("%s", error_text(&err, r));
        pid = fork();
        if (pid == 0)
                _exit(overlay_pack(NULL, tree, t2, &opts) == 0 ? 0 : 1);
        if (pid > 0)
                (void) waitpid(pid, &status, 0);
        h1 = file_hash(t1);
        h2 = file_hash(t2);
        tap_ok(status == 0 && h1 && h2 && streq(h1, h2), "pax headers are the same from another process");
        tap_ok(read_tar(t1, &m, &n) == 0 && n == 2 && find(m, n, utf) && find(m, n, longname) &&
                       streq(find(m, n, longname)->content, "long"),
               "long and UTF-8 names read back intact");
        members_free(m, n);
        error_done(&err);
}

/* The same checkout under umask 077 and 022: the modes on disk differ, the
 * tar and the hash do not. */
static void test_umask(const char *tree) {
        _cleanup_free_ char *tree022 = NULL, *t1 = path_join(scratch, "u077.tar"), *t2 = path_join(scratch, "u022.tar");
        _cleanup_free_ char *b1 = NULL, *b2 = NULL, *h1 = NULL, *h2 = NULL;
        OverlayPackOptions opts = { .mtime = CLAMP };
        ErrorSlot err = {};
        mode_t old;
        int r;

        old = umask(022);
        tree022 = make_tree("tree022");
        (void) umask(old);
        if (!tap_ok(tree022 != NULL, "build the same tree under umask 022"))
                return;
        tap_ok(mode_of(tree, "etc/motd") == 0600 && mode_of(tree022, "etc/motd") == 0644 &&
                       mode_of(tree, "etc") == 0700 && mode_of(tree022, "etc") == 0755 &&
                       mode_of(tree, "usr/local/bin/tool") == 0700 && mode_of(tree022, "usr/local/bin/tool") == 0755,
               "the checkouts' modes differ on disk");
        r = overlay_pack(&err, tree, t1, &opts);
        if (r >= 0)
                r = overlay_pack(&err, tree022, t2, &opts);
        if (!tap_ok(r == 0, "pack both"))
                tap_diag("%s", error_text(&err, r));
        b1 = file_hash(t1);
        b2 = file_hash(t2);
        tap_ok(b1 && b2 && streq(b1, b2), "umask 077 and 022 pack to the same bytes");
        h1 = tree_hash(tree);
        h2 = tree_hash(tree022);
        tap_ok(h1 && h2 && streq(h1, h2), "umask 077 and 022 give the same tree hash");
        error_done(&err);
}

/* Without a manifest, setuid, setgid, sticky, group and other bits on disk
 * are dropped: only the owner's x bit counts. */
static void test_default_modes(void) {
        _cleanup_free_ char *odd = path_join(scratch, "odd"), *plain = path_join(scratch, "plain"),
                            *t1 = path_join(scratch, "odd.tar"), *t2 = path_join(scratch, "plain.tar"), *b1 = NULL,
                            *b2 = NULL, *h1 = NULL, *h2 = NULL;
        OverlayPackOptions opts = { .mtime = CLAMP };
        ErrorSlot err = {};
        Member *m = NULL, *x;
        size_t n = 0;
        int r;

        if (!odd || !plain || mkdir(odd, 0755) < 0 || mkdir(plain, 0755) < 0)
                return (void) tap_ok(false, "default modes: set up");
        tap_ok(mkdir_mode(odd, "sticky", 01777) && mkdir_mode(odd, "sgid", 02770) &&
                       write_mode(odd, "sticky/f", "f", 0666) && write_mode(odd, "sgid/suid", "s", 06711) &&
                       write_mode(odd, "sgid/gx", "g", 0654) && mkdir_mode(plain, "sticky", 0755) &&
                       mkdir_mode(plain, "sgid", 0755) && write_mode(plain, "sticky/f", "f", 0644) &&
                       write_mode(plain, "sgid/suid", "s", 0755) && write_mode(plain, "sgid/gx", "g", 0644),
               "a tree with odd modes and one with plain modes");
        r = overlay_pack(&err, odd, t1, &opts);
        if (r >= 0)
                r = overlay_pack(&err, plain, t2, &opts);
        if (!tap_ok(r == 0, "pack both"))
                tap_diag("%s", error_text(&err, r));
        tap_ok(read_tar(t1, &m, &n) == 0 && n == 5, "read the tar back");
        x = find(m, n, "sticky");
        tap_ok(x && x->mode == 0755, "a 1777 directory on disk is 0755");
        x = find(m, n, "sgid");
        tap_ok(x && x->mode == 0755, "a 2770 directory on disk is 0755");
        x = find(m, n, "sticky/f");
        tap_ok(x && x->mode == 0644, "a 0666 file on disk is 0644");
        x = find(m, n, "sgid/suid");
        tap_ok(x && x->mode == 0755, "a 6711 file on disk is 0755");
        x = find(m, n, "sgid/gx");
        tap_ok(x && x->mode == 0644, "a 0654 file on disk (group x, no owner x) is 0644");
        members_free(m, n);
        /* mtimes aside, which the clamp evens out. */
        b1 = file_hash(t1);
        b2 = file_hash(t2);
        tap_ok(b1 && b2 && streq(b1, b2), "odd and plain modes on disk pack to the same bytes");
        h1 = tree_hash(odd);
        h2 = tree_hash(plain);
        tap_ok(h1 && h2 && streq(h1, h2), "and give the same tree hash");
        error_done(&err);
}

static bool replace_file(const char *tree, const char *rel, const char *content, mode_t mode) {
        _cleanup_free_ char *p = path_join(tree, rel);

        return p && unlink(p) == 0 && write_mode(tree, rel, content, mode);
}

static void test_hash(const char *tree) {
        _cleanup_free_ char *h0 = NULL, *h = NULL, *a = NULL, *b = NULL, *link = NULL, *motd = NULL,
                            *modes = NULL, *commented = NULL;

        h0 = tree_hash(tree);
        tap_ok(h0 && strlen(h0) == 64, "tree hash is 64 hex characters");

        tap_ok(touch_all(tree, (time_t) (CLAMP + 123456)), "touch every entry");
        h = tree_hash(tree);
        tap_ok(h && h0 && streq(h, h0), "tree hash ignores mtimes");
        free(h);
        h = NULL;

        tap_ok(replace_file(tree, "etc/secret", "s3creT", 0600), "change a file's content");
        h = tree_hash(tree);
        tap_ok(h && h0 && !streq(h, h0), "tree hash changes with content");
        free(h);
        h = NULL;
        (void) replace_file(tree, "etc/secret", "s3cret", 0600);
        h = tree_hash(tree);
        tap_ok(h && h0 && streq(h, h0), "same again once the content is restored");
        free(h);
        h = NULL;

        motd = path_join(tree, "etc/motd");
        tap_ok(motd && chmod(motd, 0664) == 0, "give a file group write and other read on disk");
        h = tree_hash(tree);
        tap_ok(h && h0 && streq(h, h0), "tree hash ignores on-disk mode bits other than the owner's x");
        free(h);
        h = NULL;
        tap_ok(motd && chmod(motd, 0700) == 0, "make a file executable on disk");
        h = tree_hash(tree);
        tap_ok(h && h0 && !streq(h, h0), "tree hash changes with the owner's x bit");
        free(h);
        h = NULL;
        (void) chmod(motd, 0600);

        modes = strdup_printf("%s.modes", tree);
        tap_ok(modes && write_raw("tree.modes", "0400 etc/secret\n", 16), "change a mode in the manifest");
        h = tree_hash(tree);
        tap_ok(h && h0 && !streq(h, h0), "tree hash changes with a manifest mode");
        free(h);
        h = NULL;
        commented = strdup_printf("%s# one more comment\n", tree_modes);
        tap_ok(commented && write_raw("tree.modes", commented, strlen(commented)),
               "manifest with the same entries and one more comment");
        h = tree_hash(tree);
        tap_ok(h && h0 && !streq(h, h0), "tree hash changes with the manifest's bytes, comments included");
        free(h);
        h = NULL;
        tap_ok(unlink(modes) == 0, "remove the manifest");
        h = tree_hash(tree);
        tap_ok(h && h0 && !streq(h, h0), "tree hash changes without the manifest");
        free(h);
        h = NULL;
        tap_ok(write_raw("tree.modes", tree_modes, sizeof(tree_modes) - 1), "restore the manifest");
        h = tree_hash(tree);
        tap_ok(h && h0 && streq(h, h0), "same again once the manifest is restored");
        free(h);
        h = NULL;

        /* Not etc/secret: the manifest names it. */
        a = path_join(tree, "etc/motd.copy");
        b = path_join(tree, "etc/motd.copY");
        tap_ok(a && b && rename(a, b) == 0, "rename a file");
        h = tree_hash(tree);
        tap_ok(h && h0 && !streq(h, h0), "tree hash changes with a name");
        free(h);
        h = NULL;
        (void) rename(b, a);

        link = path_join(tree, "etc/link");
        tap_ok(link && unlink(link) == 0 && symlink("secret", link) == 0, "change a symlink's target");
        h = tree_hash(tree);
        tap_ok(h && h0 && !streq(h, h0), "tree hash changes with a link target");
        free(h);
        h = NULL;
        (void) unlink(link);
        (void) symlink("motd", link);

        h = tree_hash(tree);
        tap_ok(h && h0 && streq(h, h0), "tree hash back to the original");
        free(h);
        h = NULL;
}

static size_t count_entries(const char *dir) {
        size_t n = 0;
        DIR *d = opendir(dir);
        struct dirent *de;

        if (!d)
                return SIZE_MAX;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

typedef enum { BAD_SYMLINK, BAD_FIFO, BAD_FILE, BAD_DIR, BAD_HARDLINK } BadKind;

static void test_refused(const char *label, BadKind kind, const char *rel, const char *target,
                         int expect_r, const char *expect) {
        _cleanup_free_ char *tree = NULL, *out = NULL, *tar = NULL, *p = NULL;
        OverlayPackOptions opts = { .mtime = CLAMP };
        ErrorSlot err = {};
        bool made;
        int r;

        tree = strdup_printf("%s/bad-%s", scratch, label);
        out = strdup_printf("%s/out-%s", scratch, label);
        if (!tree || !out || mkdir(tree, 0755) < 0 || mkdir(out, 0755) < 0 || !mkdir_mode(tree, "etc", 0755) ||
            !mkdir_mode(tree, "etc/sub", 0755) || !write_mode(tree, "etc/ok", "ok", 0644))
                return (void) tap_ok(false, "%s: set up", label);
        tar = path_join(out, "overlay.tar");
        p = path_join(tree, rel);
        switch (kind) {
        case BAD_SYMLINK:
                made = p && symlink(target, p) == 0;
                break;
        case BAD_FIFO:
                made = p && mkfifo(p, 0644) == 0;
                break;
        case BAD_DIR:
                made = p && mkdir(p, 0755) == 0;
                break;
        case BAD_HARDLINK: {
                /* target: a file outside the tree (relative to the
                 * scratch directory), as a host file would be */
                _cleanup_free_ char *host = path_join(scratch, target);

                made = p && host && write_raw(target, "host secret\n", 12) && chmod(host, 0600) == 0 &&
                       link(host, p) == 0;
                break;
        }
        default:
                made = write_mode(tree, rel, "x", 0644);
        }
        if (!tap_ok(made && tar, "%s: set up", label))
                return;
        r = overlay_pack(&err, tree, tar, &opts);
        if (!tap_ok(r == expect_r && err.message && strstr(err.message, expect), "%s: refused with '%s'", label,
                    expect))
                tap_diag("r=%d message: %s", r, strempty(err.message));
        tap_ok(access(tar, F_OK) < 0 && count_entries(out) == 0, "%s: nothing left at the destination", label);
        error_done(&err);
}

/* Trees and manifests reached through a symlink, or hard links: each could
 * be any file of the build host, so each is refused, and no message
 * quotes what it holds. */
static void test_host_files(void) {
        _cleanup_free_ char *real = strdup_printf("%s/real-tree", scratch), *ltree = strdup_printf("%s/link-tree", scratch);
        _cleanup_free_ char *secret = strdup_printf("%s/secret.modes", scratch), *tar = strdup_printf("%s/link.tar", scratch);
        _cleanup_free_ char *mt = strdup_printf("%s/msym", scratch), *mlink = strdup_printf("%s/msym.modes", scratch);
        _cleanup_free_ char *ht = strdup_printf("%s/mhard", scratch), *hlink = strdup_printf("%s/mhard.modes", scratch);
        _cleanup_free_ char *h = NULL;
        ErrorSlot err = {};
        int r;

        if (!tap_ok(real && ltree && secret && tar && mt && mlink && ht && hlink && mkdir(real, 0755) == 0 &&
                    write_mode(real, "key", "PRIVATE KEY\n", 0600) && symlink("real-tree", ltree) == 0 &&
                    write_raw("secret.modes", "0600 key\n", 9) && mkdir(mt, 0755) == 0 && write_mode(mt, "key", "k", 0644) &&
                    symlink("secret.modes", mlink) == 0 && mkdir(ht, 0755) == 0 && write_mode(ht, "key", "k", 0644) &&
                    link(secret, hlink) == 0,
                    "host files: set up"))
                return;
        r = overlay_pack(&err, ltree, tar, NULL);
        if (!tap_ok(r == -ELOOP && err.message && strstr(err.message, "is a symlink; an overlay must be a directory"),
                    "an overlay that is a symlink is refused"))
                tap_diag("r=%d message: %s", r, strempty(err.message));
        tap_ok(access(tar, F_OK) < 0, "and nothing is packed");
        error_done(&err);
        r = overlay_tree_hash(&err, ltree, &h);
        tap_ok(r == -ELOOP && !h, "its tree hash is refused too");
        error_done(&err);

        r = overlay_pack(&err, mt, tar, NULL);
        if (!tap_ok(r == -ELOOP && err.message && strstr(err.message, "the modes manifest is a symlink") &&
                    !strstr(err.message, "0600"),
                    "a modes manifest that is a symlink is refused, its target's content unquoted"))
                tap_diag("r=%d message: %s", r, strempty(err.message));
        error_done(&err);
        r = overlay_pack(&err, ht, tar, NULL);
        if (!tap_ok(r == -EMLINK && err.message && strstr(err.message, "the modes manifest is a hard link"),
                    "a modes manifest that is a hard link is refused"))
                tap_diag("r=%d message: %s", r, strempty(err.message));
        error_done(&err);
}

/* A private mount namespace for this process: as root directly, otherwise
 * in a user namespace of our own (uid and gid mapped to ours). */
static bool enter_mount_namespace(void) {
        uid_t uid = getuid();
        gid_t gid = getgid();
        char map[64];
        int fd;

        if (unshare(CLONE_NEWNS) < 0) {
                if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
                        return false;
                fd = open("/proc/self/setgroups", O_WRONLY | O_CLOEXEC);
                if (fd >= 0) {
                        (void) !write(fd, "deny", 4);
                        close(fd);
                }
                snprintf(map, sizeof map, "0 %u 1", (unsigned) uid);
                fd = open("/proc/self/uid_map", O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, map, strlen(map)) < 0)
                        return false;
                close(fd);
                snprintf(map, sizeof map, "0 %u 1", (unsigned) gid);
                fd = open("/proc/self/gid_map", O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, map, strlen(map)) < 0)
                        return false;
                close(fd);
        }
        return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
}

/* A file on another filesystem inside an overlay (a mount point: git never
 * makes one) is refused.  In a child, in a mount namespace of its own, with
 * a tmpfs mounted on the tree's etc/mnt. */
static void test_other_filesystem(void) {
        _cleanup_free_ char *tree = strdup_printf("%s/mounted", scratch), *tar = strdup_printf("%s/mounted.tar", scratch);
        int status;
        pid_t pid;

        if (!tap_ok(tree && tar && mkdir(tree, 0755) == 0 && mkdir_mode(tree, "etc", 0755) &&
                            mkdir_mode(tree, "etc/mnt", 0755) && write_mode(tree, "etc/ok", "ok", 0644),
                    "other filesystem: set up"))
                return;
        pid = fork();
        if (pid == 0) {
                _cleanup_free_ char *mnt = path_join(tree, "etc/mnt");
                ErrorSlot err = {};
                int r;

                if (!mnt || !enter_mount_namespace())
                        _exit(77);
                if (mount("tmpfs", mnt, "tmpfs", 0, "size=64k") < 0)
                        _exit(77);
                if (!write_mode(tree, "etc/mnt/host-file", "from another filesystem\n", 0644))
                        _exit(2);
                r = overlay_pack(&err, tree, tar, NULL);
                if (r == -EXDEV && err.message && strstr(err.message, "is on another filesystem than the overlay") &&
                    access(tar, F_OK) < 0)
                        _exit(0);
                fprintf(stderr, "# r=%d message: %s\n", r, strempty(err.message));
                _exit(1);
        }
        if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status)) {
                tap_ok(false, "a file on another filesystem inside an overlay is refused (the child failed)");
                return;
        }
        if (WEXITSTATUS(status) == 77) {
                tap_skip_one("neither root nor allowed to make a user namespace: cannot mount inside an overlay here");
                return;
        }
        tap_ok(WEXITSTATUS(status) == 0,
               "a file on another filesystem (a tmpfs mounted inside the overlay) is refused, nothing packed");
}

/* A small tree m-LABEL (etc/ok, etc/sub/f, etc/link -> sub, etc/run/) with
 * m-LABEL.modes holding manifest. */
static char *make_manifest_tree(const char *label, const char *manifest, size_t size) {
        _cleanup_free_ char *tree = NULL, *modes = NULL, *link = NULL;

        tree = strdup_printf("%s/m-%s", scratch, label);
        modes = strdup_printf("m-%s.modes", label);
        link = tree ? path_join(tree, "etc/link") : NULL;
        if (!tree || !modes || !link || mkdir(tree, 0755) < 0 || !mkdir_mode(tree, "etc", 0755) ||
            !mkdir_mode(tree, "etc/sub", 0755) || !mkdir_mode(tree, "etc/run", 0755) ||
            !write_mode(tree, "etc/ok", "ok", 0644) || !write_mode(tree, "etc/sub/f", "f", 0644) ||
            symlink("sub", link) < 0)
                return NULL;
        if (manifest && !write_raw(modes, manifest, size))
                return NULL;
        return TAKE_PTR(tree);
}

static void test_manifest_ok(void) {
        static const char manifest[] = "#!no shebang, just a comment\n"
                                       "\t# indented comment\n"
                                       "   \n"
                                       "2775 etc/sub\n"
                                       "664 etc/sub/f\n"
                                       "1777 etc/run\n"
                                       "0000 etc/ok";  /* no final newline */
        _cleanup_free_ char *tree = make_manifest_tree("ok", manifest, sizeof(manifest) - 1);
        _cleanup_free_ char *slash = NULL, *t1 = path_join(scratch, "mok1.tar"), *t2 = path_join(scratch, "mok2.tar");
        _cleanup_free_ char *b1 = NULL, *b2 = NULL, *h1 = NULL, *h2 = NULL;
        ErrorSlot err = {};
        Member *m = NULL, *x;
        size_t n = 0;
        int r;

        if (!tap_ok(tree != NULL, "manifest: set up"))
                return;
        r = overlay_pack(&err, tree, t1, NULL);
        if (!tap_ok(r == 0, "manifest with comments, blanks, no final newline"))
                tap_diag("%s", error_text(&err, r));
        tap_ok(read_tar(t1, &m, &n) == 0 && n == 6, "read the tar back");
        x = find(m, n, "etc/sub");
        tap_ok(x && x->mode == 02775, "setgid group-writable directory 2775");
        x = find(m, n, "etc/sub/f");
        tap_ok(x && x->mode == 0664, "group-writable file 664");
        x = find(m, n, "etc/run");
        tap_ok(x && x->mode == 01777, "world-writable directory with the sticky bit 1777");
        x = find(m, n, "etc/ok");
        tap_ok(x && x->mode == 0, "mode 0000 on the last line");
        x = find(m, n, "etc");
        tap_ok(x && x->mode == 0755, "a directory not in the manifest 0755");
        members_free(m, n);

        /* The manifest is found from a tree_dir with trailing slashes too. */
        slash = strdup_printf("%s//", tree);
        r = slash ? overlay_pack(&err, slash, t2, NULL) : -ENOMEM;
        b1 = file_hash(t1);
        b2 = file_hash(t2);
        tap_ok(r == 0 && b1 && b2 && streq(b1, b2), "tree_dir with trailing slashes finds the same manifest");
        h1 = tree_hash(tree);
        h2 = slash ? tree_hash(slash) : NULL;
        tap_ok(h1 && h2 && streq(h1, h2), "and the same tree hash");
        error_done(&err);
}

/* A refused manifest: overlay_pack and overlay_tree_hash both fail with
 * "FILE:LINE: message" (line 0: "FILE: message"), and nothing is packed. */
static void test_manifest_refused(const char *label, const char *manifest, size_t size, unsigned line, int expect_r,
                                  const char *expect) {
        _cleanup_free_ char *tree = NULL, *out = NULL, *tar = NULL, *full = NULL, *h = NULL;
        ErrorSlot err = {};
        int r;

        tree = make_manifest_tree(label, manifest, size);
        out = strdup_printf("%s/mout-%s", scratch, label);
        if (!tree || !out || mkdir(out, 0755) < 0)
                return (void) tap_ok(false, "manifest %s: set up", label);
        if (!manifest) {
                /* A directory where the manifest should be. */
                _cleanup_free_ char *modes = strdup_printf("%s.modes", tree);

                if (!modes || mkdir(modes, 0755) < 0)
                        return (void) tap_ok(false, "manifest %s: set up", label);
        }
        tar = path_join(out, "overlay.tar");
        full = line ? strdup_printf("%s.modes:%u: %s", tree, line, expect)
                    : strdup_printf("%s.modes: %s", tree, expect);
        if (!tar || !full)
                return (void) tap_ok(false, "manifest %s: set up", label);

        r = overlay_pack(&err, tree, tar, NULL);
        if (!tap_ok(r == expect_r && streq_ptr(err.message, full), "manifest %s: pack refused with '%.200s'", label,
                    full + strlen(scratch) + 1))
                tap_diag("r=%d message: %s", r, strempty(err.message));
        tap_ok(access(tar, F_OK) < 0 && count_entries(out) == 0, "manifest %s: nothing left at the destination",
               label);
        error_clear(&err);
        r = overlay_tree_hash(&err, tree, &h);
        if (!tap_ok(r == expect_r && !h && streq_ptr(err.message, full), "manifest %s: tree hash refused too", label))
                tap_diag("r=%d message: %s", r, strempty(err.message));
        error_done(&err);
}

#define REFUSED(label, text, line, r, msg) test_manifest_refused(label, text, sizeof(text) - 1, line, r, msg)

static void test_manifest_errors(void) {
        _cleanup_free_ char *longline = malloc(4098), *maxline = malloc(4097), *many = NULL, *big = malloc(65537),
                            *tree = NULL, *expect = NULL, *h = NULL;
        ErrorSlot err = {};
        size_t n;
        int r;

        REFUSED("no-path", "0644\n", 1, -EBADMSG, "expected 'MODE PATH', got '0644'");
        REFUSED("no-path-blank", "0644 \t\n", 1, -EBADMSG, "expected 'MODE PATH', got '0644'");
        REFUSED("bad-digit", "# a comment\n0648 etc/ok\n", 2, -EBADMSG, "mode '0648' is not 3 or 4 octal digits");
        REFUSED("five-digits", "00644 etc/ok\n", 1, -EBADMSG, "mode '00644' is not 3 or 4 octal digits");
        REFUSED("two-digits", "\n\n44 etc/ok\n", 3, -EBADMSG, "mode '44' is not 3 or 4 octal digits");
        REFUSED("symbolic", "rw-r--r-- etc/ok\n", 1, -EBADMSG, "mode 'rw-r--r--' is not 3 or 4 octal digits");
        REFUSED("absolute", "0644 /etc/ok\n", 1, -EBADMSG,
                "path '/etc/ok' is absolute; paths are relative to the tree");
        REFUSED("dotdot", "0644 etc/sub/../ok\n", 1, -EBADMSG, "path 'etc/sub/../ok' has a '..' component");
        REFUSED("dotdot-only", "0755 ..\n", 1, -EBADMSG, "path '..' has a '..' component");
        REFUSED("dot", "0644 ./etc/ok\n", 1, -EBADMSG,
                "path './etc/ok' has an empty or '.' component or a trailing '/'");
        REFUSED("top", "0700 .\n", 1, -EBADMSG, "path '.' has an empty or '.' component or a trailing '/'");
        REFUSED("double-slash", "0644 etc//ok\n", 1, -EBADMSG,
                "path 'etc//ok' has an empty or '.' component or a trailing '/'");
        REFUSED("trailing-slash", "0755 etc/sub/\n", 1, -EBADMSG,
                "path 'etc/sub/' has an empty or '.' component or a trailing '/'");
        REFUSED("duplicate", "0644 etc/ok\n\n0700 etc/sub\n0640 etc/ok\n0750 etc/sub\n", 4, -EBADMSG,
                "duplicate path 'etc/ok' (first on line 1)");
        REFUSED("missing", "0644 etc/ok\n0644 etc/nope\n", 2, -ENOENT, "path 'etc/nope' is not in the tree");
        REFUSED("behind-symlink", "0600 etc/link/f\n", 1, -ENOENT, "path 'etc/link/f' is not in the tree");
        REFUSED("crlf", "0644 etc/ok\r\n", 1, -ENOENT, "path 'etc/ok\\x0d' is not in the tree");
        REFUSED("symlink", "0644 etc/ok\n0644 etc/link\n", 2, -EINVAL,
                "'etc/link' is a symlink; only files and directories take a mode");
        REFUSED("o+w-file", "0666 etc/ok\n", 1, -EPERM,
                "mode 0666 of 'etc/ok' is world-writable; only a directory with the sticky bit may be");
        REFUSED("sticky-file", "1777 etc/ok\n", 1, -EPERM,
                "mode 1777 of 'etc/ok' is world-writable; only a directory with the sticky bit may be");
        REFUSED("o+w-dir", "0644 etc/ok\n777 etc/run\n", 2, -EPERM,
                "mode 0777 of 'etc/run' is world-writable; only a directory with the sticky bit may be");
        REFUSED("nul", "0644 etc/ok\n0644 etc/\0ok\n", 2, -EBADMSG, "line contains a NUL byte");
        test_manifest_refused("directory", NULL, 0, 0, -EINVAL,
                              "cannot read the modes manifest: not a regular file");

        /* Limits: 4096 characters a line, 4096 entries, 64 KiB. */
        n = 4097 * strlen("0644 etc/ok\n");
        many = malloc(n);
        if (!longline || !maxline || !big || !many)
                return (void) tap_ok(false, "manifest limits: set up");
        memcpy(longline, "0644 ", 5);
        memset(longline + 5, 'a', 4092);
        longline[4097] = 0;
        memcpy(maxline, longline, 4096);
        maxline[4096] = 0;
        test_manifest_refused("long-line", longline, 4097, 1, -E2BIG, "line is longer than 4096 characters");
        expect = strdup_printf("path '%s' is not in the tree", maxline + 5);
        test_manifest_refused("max-line", maxline, 4096, 1, -ENOENT, strempty(expect));

        for (size_t i = 0; i < 4097; i++)
                memcpy(many + i * 12, "0644 etc/ok\n", 12);
        /* 4096 entries parse (and then are duplicates); the 4097th does not. */
        test_manifest_refused("max-entries", many, n - 12, 2, -EBADMSG, "duplicate path 'etc/ok' (first on line 1)");
        test_manifest_refused("too-many", many, n, 4097, -E2BIG, "more than 4096 entries");

        memset(big, '#', 65537);
        for (size_t i = 99; i < 65537; i += 100)
                big[i] = '\n';
        test_manifest_refused("too-big", big, 65537, 0, -EFBIG, "file is larger than 64 KiB");
        tree = make_manifest_tree("max-size", big, 65536);
        r = tree ? overlay_tree_hash(&err, tree, &h) : -ENOMEM;
        if (!tap_ok(r == 0, "a manifest of exactly 64 KiB (comments only) is read"))
                tap_diag("%s", error_text(&err, r));
        error_done(&err);
}

int main(void) {
        _cleanup_free_ char *tree = NULL;
        ErrorSlot err = {};

        tap_plan_lazy();
        umask(077);  /* a hostile umask: modes come from the tree only */
        if (mkdtemp_in(NULL, "test-overlay", &scratch) < 0)
                return tap_skip_all("cannot create a temporary directory");

        tree = make_tree("tree");
        if (!tap_ok(tree != NULL, "build the tree"))
                goto finish;

        test_members(tree);
        test_reproducible(tree);
        test_umask(tree);
        test_default_modes();
        test_pax();
        test_hash(tree);
        test_manifest_ok();
        test_manifest_errors();

        test_refused("absolute", BAD_SYMLINK, "etc/abs", "/etc/passwd", -EPERM,
                     "overlay 'bad-absolute': symlink 'etc/abs' points outside the tree ('/etc/passwd')");
        test_refused("escape", BAD_SYMLINK, "etc/up", "../../x", -EPERM,
                     "symlink 'etc/up' points outside the tree ('../../x')");
        test_refused("escape-deep", BAD_SYMLINK, "etc/sub/up", "../../../etc", -EPERM,
                     "symlink 'etc/sub/up' points outside the tree ('../../../etc')");
        test_refused("dotdot-after-name", BAD_SYMLINK, "etc/sneaky", "sub/../../..", -EPERM,
                     "symlink 'etc/sneaky' has '..' after a name in its target ('sub/../../..')");
        test_refused("fifo", BAD_FIFO, "etc/sub/pipe", NULL, -EPERM,
                     "overlay 'bad-fifo': 'etc/sub/pipe' is a FIFO; only files, directories and symlinks are allowed");
        test_refused("newline", BAD_FILE, "etc/bad\nname", NULL, -EINVAL,
                     "name 'etc/bad\\x0aname' contains a control character");
        test_refused("newline-dir", BAD_DIR, "etc/x\ny", NULL, -EINVAL,
                     "name 'etc/x\\x0ay' contains a control character");
        test_refused("hardlink", BAD_HARDLINK, "etc/shadow", "host-shadow", -EMLINK,
                     "overlay 'bad-hardlink': 'etc/shadow' is a hard link (2 names)");
        test_host_files();
        test_other_filesystem();
        test_refused("latin1", BAD_FILE, "etc/caf\xe9", NULL, -EINVAL, "name 'etc/caf\\xe9' contains invalid UTF-8");

        tap_ok(overlay_pack(&err, "/nonexistent/overlay", "/nonexistent/x.tar", NULL) < 0 && err.message,
               "a missing tree or destination is an error with a message");
        error_done(&err);

finish:
        (void) rm_rf(scratch);
        free(scratch);
        return tap_done();
}
