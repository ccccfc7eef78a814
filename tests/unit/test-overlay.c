/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Overlay packing: the tar's members, owners, modes, contents and mtimes;
 * byte-for-byte reproducibility; the tree hash; refused trees. */
#include <dirent.h>
#include <fcntl.h>
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
        "etc", "etc/link", "etc/motd", "etc/motd.hard", "etc/secret", "tmp", "usr", "usr/local", "usr/local/bin",
        "usr/local/bin/suid", "usr/local/bin/tool", "usr/local/bin/up",
};

static bool touch_all(const char *tree, time_t t) {
        for (size_t i = 0; i < ELEMENTSOF(all_paths); i++)
                if (!set_mtime(tree, all_paths[i], t))
                        return false;
        return true;
}

static char *make_tree(const char *name) {
        _cleanup_free_ char *tree = path_join(scratch, name);
        _cleanup_free_ char *motd = NULL, *hard = NULL;

        if (!tree || mkdir(tree, 0755) < 0)
                return NULL;
        motd = path_join(tree, "etc/motd");
        hard = path_join(tree, "etc/motd.hard");
        if (!motd || !hard)
                return NULL;
        if (!mkdir_mode(tree, "etc", 0755) || !write_mode(tree, "etc/motd", "hello\n", 0644) ||
            !write_mode(tree, "etc/secret", "s3cret", 0600) || link(motd, hard) < 0 ||
            !symlink_at(tree, "etc/link", "motd") || !mkdir_mode(tree, "tmp", 01777) ||
            !mkdir_mode(tree, "usr", 0755) || !mkdir_mode(tree, "usr/local", 0755) ||
            !mkdir_mode(tree, "usr/local/bin", 0755) ||
            !write_mode(tree, "usr/local/bin/tool", "#!/bin/sh\necho tool\n", 0755) ||
            !write_mode(tree, "usr/local/bin/suid", "x", 04755) ||
            !symlink_at(tree, "usr/local/bin/up", "../../../etc/./motd"))
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
                tap_diag("tree hash: %s", error_message(&err, -EIO));
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
                tap_diag("%s", error_message(&err, r));
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
        tap_ok(x && x->type == AE_IFREG && x->mode == 0644 && streq(x->content, "hello\n"), "etc/motd 0644 content");
        x = find(m, n, "etc/motd.hard");
        tap_ok(x && x->type == AE_IFREG && x->mode == 0644 && streq(x->content, "hello\n"),
               "a hard link is packed as a separate regular file");
        x = find(m, n, "etc/secret");
        tap_ok(x && x->mode == 0600 && streq(x->content, "s3cret"), "etc/secret 0600 content");
        tap_ok(x && x->mtime == 500, "an mtime older than the clamp is kept");
        x = find(m, n, "usr/local/bin/tool");
        tap_ok(x && x->mode == 0755 && streq(x->content, "#!/bin/sh\necho tool\n"), "tool 0755 content");
        x = find(m, n, "usr/local/bin/suid");
        tap_ok(x && x->mode == 04755, "setuid bit kept");
        x = find(m, n, "tmp");
        tap_ok(x && x->type == AE_IFDIR && x->mode == 01777, "sticky directory kept");
        x = find(m, n, "etc/link");
        tap_ok(x && x->type == AE_IFLNK && streq_ptr(x->link, "motd"), "relative symlink kept");
        x = find(m, n, "usr/local/bin/up");
        tap_ok(x && x->type == AE_IFLNK && streq_ptr(x->link, "../../../etc/./motd"),
               "symlink climbing to the tree's top kept");
        x = find(m, n, "etc");
        tap_ok(x && x->type == AE_IFDIR && x->mode == 0755 && x->mtime == CLAMP, "directory etc 0755, mtime clamped");
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
                tap_diag("%s", error_message(&err, r));
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

static bool replace_file(const char *tree, const char *rel, const char *content, mode_t mode) {
        _cleanup_free_ char *p = path_join(tree, rel);

        return p && unlink(p) == 0 && write_mode(tree, rel, content, mode);
}

static void test_hash(const char *tree) {
        _cleanup_free_ char *h0 = NULL, *h = NULL, *a = NULL, *b = NULL, *link = NULL;

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

        a = path_join(tree, "etc/secret");
        b = path_join(tree, "etc/secreT");
        tap_ok(a && chmod(a, 0640) == 0, "change a file's mode");
        h = tree_hash(tree);
        tap_ok(h && h0 && !streq(h, h0), "tree hash changes with mode");
        free(h);
        h = NULL;
        (void) chmod(a, 0600);

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

typedef enum { BAD_SYMLINK, BAD_FIFO, BAD_FILE, BAD_DIR } BadKind;

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
        test_pax();
        test_hash(tree);

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
        test_refused("latin1", BAD_FILE, "etc/caf\xe9", NULL, -EINVAL, "name 'etc/caf\\xe9' contains invalid UTF-8");

        tap_ok(overlay_pack(&err, "/nonexistent/overlay", "/nonexistent/x.tar", NULL) < 0 && err.message,
               "a missing tree or destination is an error with a message");
        error_done(&err);

finish:
        (void) rm_rf(scratch);
        free(scratch);
        return tap_done();
}
