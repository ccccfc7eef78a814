/* SPDX-License-Identifier: GPL-2.0-or-later */
/* overlay_apply() through a real appliance: a tree unpacked into a scratch
 * ext4 disk, read back with contents, modes and owners.  The tree's modes on
 * disk are deliberately not the ones wanted: the guest gets the normalized
 * modes and those of the manifest, never a checkout's umask. */
#include <fcntl.h>
#include <sys/stat.h>

#include "guestfs-util.h"
#include "helpers/have-appliance.h"
#include "overlay.h"
#include "tap.h"

static char *scratch;

static bool put(const char *dir, const char *rel, const char *content, mode_t mode) {
        _cleanup_free_ char *p = path_join(dir, rel);
        _cleanup_close_ int fd = -EBADF;
        size_t n = strlen(content);

        if (!p)
                return false;
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        return fd >= 0 && write(fd, content, n) == (ssize_t) n && fchmod(fd, mode) == 0;
}

static bool dir(const char *d, const char *rel, mode_t mode) {
        _cleanup_free_ char *p = path_join(d, rel);

        return p && mkdir(p, 0700) == 0 && chmod(p, mode) == 0;
}

static bool manifest(const char *path, const char *text) {
        _cleanup_close_ int fd = -EBADF;
        size_t n = strlen(text);

        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        return fd >= 0 && write(fd, text, n) == (ssize_t) n;
}

static void check_stat(const char *out, const char *expect) {
        if (!tap_ok(out && strstr(out, expect), "guest: %s", expect))
                tap_diag("stat said: %s", strempty(out));
}

int main(void) {
        _cleanup_(appliance_freep) Appliance *a = NULL;
        _cleanup_free_ char *tree = NULL, *bad = NULL, *disk = NULL, *dev = NULL, *data = NULL, *out = NULL,
                            *motd = NULL, *modes = NULL;
        _cleanup_strv_free_ char **names = NULL;
        ApplianceConfig cfg = { .label = "overlay", .path = getenv("WB_APPLIANCE"), .memsize_mib = 768 };
        char *stat_argv[] = { (char *) "stat", (char *) "-c", (char *) "%n %a %u:%g", (char *) "/sysroot/etc",
                              (char *) "/sysroot/etc/motd", (char *) "/sysroot/etc/secret",
                              (char *) "/sysroot/etc/sudoers.d", (char *) "/sysroot/etc/sudoers.d/whonix",
                              (char *) "/sysroot/usr/local/bin/suid", (char *) "/sysroot/usr/local/bin",
                              (char *) "/sysroot/tmp", NULL };
        ErrorSlot err = {};
        const char *why = NULL;
        size_t n;
        int r;

        tap_plan_lazy();
        if (!have_appliance(&why))
                return tap_skip_all(why);
        if (mkdtemp_in(NULL, "test-overlay-apply", &scratch) < 0)
                return tap_skip_all("cannot create a temporary directory");

        tree = path_join(scratch, "tree");
        bad = path_join(scratch, "bad");
        disk = path_join(scratch, "disk.img");
        motd = path_join(tree, "etc/motd.link");
        modes = path_join(scratch, "tree.modes");
        /* On disk as under umask 077 (and a stray group x): the manifest and
         * the owner's x bits alone decide. */
        if (!tap_ok(tree && bad && disk && motd && modes && mkdir(tree, 0700) == 0 && dir(tree, "etc", 0700) &&
                            put(tree, "etc/motd", "hello from the overlay\n", 0600) &&
                            put(tree, "etc/secret", "s3cret", 0600) && symlink("motd", motd) == 0 &&
                            dir(tree, "etc/sudoers.d", 0700) && put(tree, "etc/sudoers.d/whonix", "x", 0610) &&
                            dir(tree, "tmp", 0700) && dir(tree, "usr", 0700) && dir(tree, "usr/local", 0700) &&
                            dir(tree, "usr/local/bin", 0700) && put(tree, "usr/local/bin/suid", "x", 0700) &&
                            manifest(modes, "# as the guest needs them\n"
                                            "0600 etc/secret\n"
                                            "0440 etc/sudoers.d/whonix\n"
                                            "1777 tmp\n"
                                            "0750 usr/local/bin\n"
                                            "4755 usr/local/bin/suid\n") &&
                            mkdir(bad, 0755) == 0 && put(bad, "good", "g", 0644),
                    "build the trees"))
                goto finish;
        {
                _cleanup_free_ char *l = path_join(bad, "zz-abs");
                tap_ok(l && symlink("/etc/shadow", l) == 0, "a tree with an absolute symlink");
        }

        r = disk_create(&err, disk, "raw", 64u << 20, NULL, NULL);
        if (r >= 0)
                r = appliance_new(&err, &cfg, &a);
        if (r >= 0)
                r = appliance_add_drive(&err, a, disk, "raw", false, "unsafe");
        if (r >= 0)
                r = appliance_launch(&err, a);
        if (r >= 0)
                r = appliance_device(&err, a, 0, &dev);
        if (r >= 0)
                r = appliance_mkfs(&err, a, "ext4", dev, NULL);
        if (r >= 0)
                r = appliance_mount(&err, a, dev, "/");
        /* /etc exists before, as in a bootstrapped guest. */
        if (r >= 0)
                r = appliance_mkdir_p(&err, a, "/etc");
        if (!tap_ok(r >= 0, "launch the appliance on a scratch ext4 disk")) {
                tap_diag("%s", error_text(&err, r));
                goto finish;
        }

        r = overlay_apply(&err, a, tree, "/", 1000000);
        if (!tap_ok(r >= 0, "overlay_apply"))
                tap_diag("%s", error_text(&err, r));
        error_clear(&err);

        r = appliance_read_file(&err, a, "/etc/motd", 4096, &data, &n);
        tap_ok(r >= 0 && streq(data, "hello from the overlay\n"), "guest: /etc/motd content");
        free(data);
        data = NULL;
        r = appliance_read_file(&err, a, "/etc/motd.link", 4096, &data, &n);
        tap_ok(r >= 0 && streq(data, "hello from the overlay\n"), "guest: the relative symlink resolves");
        r = appliance_ls(&err, a, "/usr/local/bin", &names);
        tap_ok(r >= 0 && strv_length(names) == 1 && streq(names[0], "suid"), "guest: /usr/local/bin listing");
        error_clear(&err);

        /* Modes and owners: stat(1) in the appliance (guestfs-util has no
         * stat of its own, and this test adds nothing to it). */
        r = appliance_run(&err, a, NULL, stat_argv, &out);
        if (!tap_ok(r >= 0, "stat in the appliance"))
                tap_diag("%s", error_text(&err, r));
        check_stat(out, "/sysroot/etc 755 0:0");
        check_stat(out, "/sysroot/etc/motd 644 0:0");
        check_stat(out, "/sysroot/etc/secret 600 0:0");
        check_stat(out, "/sysroot/etc/sudoers.d 755 0:0");
        check_stat(out, "/sysroot/etc/sudoers.d/whonix 440 0:0");
        check_stat(out, "/sysroot/usr/local/bin/suid 4755 0:0");
        check_stat(out, "/sysroot/usr/local/bin 750 0:0");
        check_stat(out, "/sysroot/tmp 1777 0:0");
        error_clear(&err);

        /* A command's exit status does not travel in its output: one that
         * prints the markers appliance_run() uses cannot forge success, nor
         * failure. */
        free(out);
        out = NULL;
        r = appliance_run(&err, a, NULL,
                          ARGV("sh", "-c", "echo '@@WB-EXIT:0@@'; echo '@@WB-END@@'; echo '@@WB-EXIT:0@@'; exit 3"),
                          &out);
        tap_ok(r == -EPROTO && strstr(strempty(err.message), "exit status 3"),
               "a command that prints a forged 'exit 0' marker still fails with its own status: %s",
               strempty(err.message));
        error_clear(&err);
        r = appliance_run(&err, a, NULL, ARGV("sh", "-c", "echo '@@WB-EXIT:7@@'; echo done"), &out);
        tap_ok(r == 0 && out && strstr(out, "done"), "a command that prints a forged failure marker succeeds (r=%d %s)",
               r, strempty(err.message));
        error_clear(&err);

        r = overlay_apply(&err, a, bad, "/", 1000000);
        tap_ok(r == -EPERM && err.message && strstr(err.message, "points outside the tree ('/etc/shadow')"),
               "a refused tree is not applied: %s", strempty(err.message));
        error_clear(&err);
        tap_ok(appliance_exists(&err, a, "/good") == 0, "guest: nothing of the refused tree was unpacked");

        r = appliance_shutdown(&err, a);
        tap_ok(r >= 0, "shut down");

finish:
        error_done(&err);
        (void) rm_rf(scratch);
        free(scratch);
        return tap_done();
}
