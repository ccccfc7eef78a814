/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>

#include "archive-util.h"
#include "ext2-tree.h"
#include "finalize-native.h"
#include "log.h"
#include "spawn.h"

#define TREE_LIBDIR "/usr/lib/x86_64-linux-gnu/"

/* What the tree's mke2fs and debugfs link (Debian 13's e2fsprogs 1.47.2);
 * each is checked with the tree's loader after the copy, so that a new
 * dependency fails here, by name, instead of being taken from the host. */
static const char * const tree_libraries[] = {
        "libc.so.6",     "libext2fs.so.2", "libcom_err.so.2", "libblkid.so.1",
        "libuuid.so.1",  "libe2p.so.2",    "libss.so.2",      NULL,
};

int finalize_native_nospc(ErrorSlot *err, int r, const char *path, const char *who) {
        struct statvfs sv;
        int64_t f = -1;

        if (r >= 0 || (r != -ENOSPC && !strstr(error_text(err, r), "No space left on device")))
                return r;
        if (statvfs(path, &sv) == 0)
                f = (int64_t) ((geteuid() == 0 ? sv.f_bfree : sv.f_bavail) * sv.f_frsize);
        error_clear(err);
        return error_set(err, -ENOSPC,
                         "the filesystem that holds '%s' is full (a write of %s failed; %" PRId64
                         " bytes free now): free some space there (for the cache: remove old entries, or use --cache "
                         "on a larger filesystem) and build again",
                         path, who, f);
}

bool finalize_native_possible(void) {
        struct utsname u;

        return uname(&u) == 0 && streq(u.machine, "x86_64");
}

char *finalize_native_foreign_library(const char *list_output, const char *dir) {
        _cleanup_strv_free_ char **lines = NULL;

        if (strv_split(strempty(list_output), "\n", &lines) < 0)
                return strdup("(out of memory)");
        STRV_FOREACH(l, lines) {
                /* "\tlibfoo.so.1 => /path/libfoo.so.1 (0x...)", or "=> not found";
                 * the vDSO has no "=>", the loader's own line names the one
                 * that runs (the copy in dir). */
                const char *s = *l + strspn(*l, " \t"), *arrow = strstr(s, " => ");
                if (!arrow)
                        continue;
                const char *where = arrow + 4;
                const char *under = startswith(where, dir);
                if (!under || *under != '/')
                        return strndup(s, (size_t) (arrow - s));
        }
        return NULL;
}

typedef struct Tools {
        char *dir, *ld, *mke2fs, *debugfs, *conf, *library_path;
} Tools;

static void tools_done(Tools *t) {
        if (t->dir)
                (void) rm_rf(t->dir);
        free(t->dir);
        free(t->ld);
        free(t->mke2fs);
        free(t->debugfs);
        free(t->conf);
        free(t->library_path);
}

static int copy_tool(ErrorSlot *err, Ext2Tree *tree, const char *dir, const char *path, mode_t mode, char **ret) {
        _cleanup_free_ char *dest = path_join(dir, strrchr(path, '/') + 1);
        int r;

        if (!dest)
                return -ENOMEM;
        r = ext2_tree_copy_out(err, tree, path, dest, mode);
        if (r == -ENOENT)
                return error_prefix(err, r,
                                    "the image's own e2fsprogs and C library make its root filesystem, and the image "
                                    "lacks one of their files (the recipe's packages must include e2fsprogs)");
        if (r < 0)
                return r;
        if (ret)
                *ret = TAKE_PTR(dest);
        return 0;
}

/* Check that the loader resolves every library of program into the tools'
 * directory. */
static int check_libraries(ErrorSlot *err, const Tools *t, const char *program) {
        _cleanup_free_ char *out = NULL, *foreign = NULL;
        int r;

        r = spawn_run(err, ARGV(t->ld, "--inhibit-cache", "--library-path", t->dir, "--list", (char *) program), NULL,
                      &out);
        if (r < 0)
                return error_prefix(err, r, "the image's own loader cannot load its %s", strrchr(program, '/') + 1);
        foreign = finalize_native_foreign_library(out, t->dir);
        if (foreign)
                return error_set(err, -ENOENT,
                                 "the image's %s needs %s, which is not among the libraries copied out of the image "
                                 "(whonix-build must learn of it)",
                                 strrchr(program, '/') + 1, foreign);
        return 0;
}

static int tools_copy(ErrorSlot *err, Ext2Tree *tree, const char *work_dir, Tools *t) {
        _cleanup_free_ char *archive_dir = NULL;
        int r;

        r = mkdtemp_in(work_dir, "e2fsprogs", &t->dir);
        if (r < 0)
                return error_set_errno(err, r, "cannot make a directory in '%s'", work_dir);
        if ((r = copy_tool(err, tree, t->dir, TREE_LIBDIR "ld-linux-x86-64.so.2", 0755, &t->ld)) < 0 ||
            (r = copy_tool(err, tree, t->dir, "/usr/sbin/mke2fs", 0755, &t->mke2fs)) < 0 ||
            (r = copy_tool(err, tree, t->dir, "/usr/sbin/debugfs", 0755, &t->debugfs)) < 0 ||
            (r = copy_tool(err, tree, t->dir, "/etc/mke2fs.conf", 0644, &t->conf)) < 0)
                return r;
        for (size_t i = 0; tree_libraries[i]; i++) {
                _cleanup_free_ char *path = strdup_printf(TREE_LIBDIR "%s", tree_libraries[i]);
                if (!path)
                        return -ENOMEM;
                r = copy_tool(err, tree, t->dir, path, 0644, NULL);
                if (r < 0)
                        return r;
        }
        if ((r = check_libraries(err, t, t->mke2fs)) < 0 || (r = check_libraries(err, t, t->debugfs)) < 0)
                return r;

        r = archive_library_dir(err, &archive_dir);
        if (r < 0)
                return r;
        t->library_path = strdup_printf("%s:%s", t->dir, archive_dir);
        return t->library_path ? 0 : -ENOMEM;
}

/* mke2fs's tar reader (e2fsprogs 1.47.2 to 1.47.4 at least) copies only
 * these two extended attributes of an entry; the others (the POSIX ACLs of
 * /var/log/journal, say) are set afterwards by debugfs, from the commands
 * gathered here as the archive is written. */
static bool mke2fs_takes_xattr(const char *name) {
        return streq(name, "security.capability") || streq(name, "gnu.translator");
}

typedef struct XattrCommands {
        const char *dir; /* where the values go, a file each */
        FILE *f;         /* the debugfs commands */
        char *text;
        size_t size;
        unsigned n;
} XattrCommands;

static int gather_xattr(ErrorSlot *err, const char *path, const char *name, const void *value, size_t size,
                        void *userdata) {
        XattrCommands *c = userdata;
        _cleanup_free_ char *file = NULL, *shown = NULL;
        int r;

        if (mke2fs_takes_xattr(name))
                return 0;
        /* debugfs reads a command line: a double quote or a newline in the
         * path, white space in the name, could not be said. */
        if (strpbrk(path, "\"\n") || strpbrk(name, "\" \t\n")) {
                shown = escape_for_message(path, true);
                return error_set(err, -EINVAL, "the extended attribute %s of '%s' cannot be set by debugfs", name,
                                 strempty(shown));
        }
        file = strdup_printf("%s/xattr-%u", c->dir, c->n++);
        if (!file)
                return -ENOMEM;
        r = write_file_atomic(file, value, size, 0600);
        if (r < 0)
                return error_set_errno(err, r, "cannot write '%s'", file);
        if (strpbrk(file, "\"\n"))
                return error_set(err, -EINVAL, "'%s' cannot be named to debugfs", file);
        /* "." is the root. */
        fprintf(c->f, "ea_set -f \"%s\" \"/%s\" %s\n", file, streq(path, ".") ? "" : path, name);
        return 0;
}

typedef struct Feeder {
        Ext2Tree *tree;
        int fd;
        int64_t epoch;
        XattrCommands *xattrs;
        ErrorSlot err;
        int r;
} Feeder;

static void *feed(void *userdata) {
        Feeder *f = userdata;
        sigset_t pipe_signal;

        /* mke2fs going away is an error this thread returns (EPIPE), not a
         * signal that ends the program. */
        sigemptyset(&pipe_signal);
        sigaddset(&pipe_signal, SIGPIPE);
        (void) pthread_sigmask(SIG_BLOCK, &pipe_signal, NULL);
        f->r = ext2_tree_write_tar(&f->err, f->tree, f->fd, f->epoch, gather_xattr, f->xattrs);
        (void) close(f->fd);
        f->fd = -EBADF;
        return NULL;
}

static int make_filesystem(ErrorSlot *err, const NativeFilesystem *n, const Tools *t, Ext2Tree *tree,
                           XattrCommands *xattrs) {
        _cleanup_free_ char *fake = NULL, *sde = NULL, *conf = NULL, *ext = NULL, *size = NULL;
        Feeder f = { .tree = tree, .epoch = n->epoch, .xattrs = xattrs };
        int pipefd[2], r;
        pthread_t thread;

        fake = strdup_printf("E2FSPROGS_FAKE_TIME=%" PRId64, n->epoch);
        sde = strdup_printf("SOURCE_DATE_EPOCH=%" PRId64, n->epoch);
        conf = strdup_printf("MKE2FS_CONFIG=%s", t->conf);
        /* As in the appliance (see finalize.c), and: the partition's place
         * in the disk, and the owner of what mke2fs makes before the archive
         * says otherwise (by default the user who runs it). */
        ext = strdup_printf("hash_seed=%s,nodiscard,lazy_itable_init=1,lazy_journal_init=1,offset=%" PRIu64
                            ",root_owner=0:0",
                            n->uuid, n->offset);
        /* In KiB: mke2fs takes as many blocks as fit, as it did from the
         * partition's device. */
        size = strdup_printf("%" PRIu64 "k", n->size / 1024);
        if (!fake || !sde || !conf || !ext || !size)
                return -ENOMEM;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return error_set_errno(err, -errno, "cannot make a pipe");
        f.fd = pipefd[1];
        r = -pthread_create(&thread, NULL, feed, &f);
        if (r < 0) {
                close(pipefd[0]);
                close(pipefd[1]);
                return error_set_errno(err, r, "cannot start a thread");
        }
        r = spawn_run_stdin(err,
                            ARGV(t->ld, "--inhibit-cache", "--library-path", t->library_path, t->mke2fs, "-q", "-F",
                                 "-t", "ext4", "-L", "root", "-U", (char *) n->uuid, "-E", ext, "-d", "-",
                                 (char *) n->dest, size),
                            ARGV(fake, sde, conf, "SS_READLINE_PATH=none"), pipefd[0], NULL);
        /* The feeder gets EPIPE, if it was not done: mke2fs is gone. */
        close(pipefd[0]);
        (void) pthread_join(thread, NULL);
        if (r < 0) {
                error_done(&f.err);
                if (strstr(error_text(err, r), "you need libarchive"))
                        return error_prefix(err, r,
                                            "cannot make the root filesystem: the image's mke2fs could not load this "
                                            "host's libarchive (%s) with the image's own C library",
                                            t->library_path);
                return error_prefix(err, r, "cannot make the root filesystem");
        }
        if (f.r < 0) {
                r = error_set(err, f.r, "cannot make the root filesystem: %s", error_text(&f.err, f.r));
                error_done(&f.err);
                return r;
        }
        error_done(&f.err);
        return 0;
}

/* The extended attributes mke2fs did not take, then the superblock's
 * count of kilobytes written: how much mke2fs wrote varies between builds
 * of the same tree (by some hundred KiB), and libext2fs adds to the count
 * on close only when it is not 0.  Under the same fake clock. */
static int finish_filesystem(ErrorSlot *err, const NativeFilesystem *n, const Tools *t, const char *xattr_commands) {
        _cleanup_free_ char *fake = strdup_printf("E2FSPROGS_FAKE_TIME=%" PRId64, n->epoch),
                            *device = strdup_printf("%s?offset=%" PRIu64, n->dest, n->offset),
                            *commands = path_join(t->dir, "commands"),
                            *text = strdup_printf("%sssv kbytes_written 0\n", strempty(xattr_commands)), *out = NULL;
        _cleanup_strv_free_ char **lines = NULL;
        int r;

        if (!fake || !device || !commands || !text)
                return -ENOMEM;
        r = write_file_atomic(commands, text, strlen(text), 0644);
        if (r < 0)
                return error_set_errno(err, r, "cannot write '%s'", commands);
        r = spawn_run(err,
                      ARGV(t->ld, "--inhibit-cache", "--library-path", t->library_path, t->debugfs, "-w", "-f",
                           commands, device),
                      ARGV(fake, "SS_READLINE_PATH=none"), &out);
        if (r < 0)
                return error_prefix(err, r, "cannot finish the root filesystem");
        /* It prints its banner and echoes each command; anything else is
         * an error it did not exit for. */
        if (strv_split(out, "\n", &lines) < 0)
                return -ENOMEM;
        STRV_FOREACH(l, lines)
                if (!isempty(*l) && !startswith(*l, "debugfs ") && !startswith(*l, "debugfs: "))
                        return error_set(err, -EIO, "cannot finish the root filesystem: debugfs: %s", *l);
        return 0;
}

int finalize_native_filesystem(ErrorSlot *err, const NativeFilesystem *n) {
        _cleanup_(ext2_tree_closep) Ext2Tree *tree = NULL;
        Tools t = {};
        int r;

        uint64_t started = now_usec(), copied = 0, made = 0;

        r = ext2_tree_open(err, n->tree_image, &tree);
        if (r < 0)
                return r;
        log_progress(n->label, "making the root filesystem from the tree", 0, 0);
        XattrCommands xattrs = {};

        r = finalize_native_nospc(err, tools_copy(err, tree, n->work_dir, &t), n->dest,
                                  "the image's e2fsprogs, copied out of it");
        copied = now_usec();
        if (r >= 0) {
                xattrs.dir = t.dir;
                xattrs.f = open_memstream(&xattrs.text, &xattrs.size);
                r = xattrs.f ? make_filesystem(err, n, &t, tree, &xattrs) : -ENOMEM;
                r = finalize_native_nospc(err, r, n->dest, "mke2fs");
                if (xattrs.f && fclose(xattrs.f) != 0 && r >= 0)
                        r = -ENOMEM;
        }
        made = now_usec();
        if (r >= 0)
                r = finalize_native_nospc(err, finish_filesystem(err, n, &t, xattrs.text), n->dest, "debugfs");
        free(xattrs.text);
        tools_done(&t);
        if (r >= 0)
                log_debug("%s: natively: e2fsprogs copied out of the tree in %.1f s, mke2fs from the tree's archive "
                          "%.1f s, debugfs (%u extended attributes) %.1f s",
                          n->label, (double) (copied - started) / 1e6, (double) (made - copied) / 1e6, xattrs.n,
                          (double) (now_usec() - made) / 1e6);
        return r;
}
