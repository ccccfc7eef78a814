/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The appliance watchdog (issue #14): an appliance that shows no output and
 * writes nothing for its stall limit is stopped, and the call fails with
 * -ETIMEDOUT and a message that says so; a qemu stopped with SIGSTOP is
 * found the same way; and qemu is known (for Ctrl-C) while it boots, so a
 * cancellation then ends the launch at once. */
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <signal.h>

#include "cancel.h"
#include "guestfs-util.h"
#include "helpers/have-appliance.h"
#include "tap.h"

static char *scratch;

static int launch(ErrorSlot *err, const char *label, unsigned stall, Appliance **ret) {
        _cleanup_free_ char *disk = path_join(scratch, label);
        ApplianceConfig cfg = { .label = label, .path = getenv("WB_APPLIANCE"), .memsize_mib = 512,
                                .stall_seconds = stall };
        int r;

        if (!disk)
                return -ENOMEM;
        r = disk_create(err, disk, "raw", 16u << 20, NULL, NULL);
        if (r >= 0)
                r = appliance_new(err, &cfg, ret);
        if (r >= 0)
                r = appliance_add_drive(err, *ret, disk, "raw", false, "unsafe");
        if (r >= 0)
                r = appliance_launch(err, *ret);
        return r;
}

/* Absent, or dead and not yet reaped. */
static bool process_gone(pid_t pid) {
        char path[64], buf[512];
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;
        const char *p;

        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        for (int i = 0; i < 50; i++) {
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return true;
                n = read(fd, buf, sizeof buf - 1);
                close(fd);
                fd = -EBADF;
                if (n <= 0)
                        return true;
                buf[n] = 0;
                p = strrchr(buf, ')');
                if (p && (p[2] == 'Z' || p[2] == 'X'))
                        return true;
                usleep(100000);
        }
        return false;
}

static void *cancel_when_qemu_appears(void *userdata) {
        Appliance *a = userdata;

        for (int i = 0; i < 6000 && appliance_pid(a) == 0; i++)
                usleep(10000);
        if (appliance_pid(a) > 0)
                cancel_request();
        return NULL;
}

int main(void) {
        ErrorSlot err = {};
        const char *why = NULL;
        uint64_t t0;
        int r;

        tap_plan_lazy();
        if (!have_appliance(&why))
                return tap_skip_all(why);
        if (mkdtemp_in(NULL, "test-watchdog", &scratch) < 0)
                return tap_skip_all("cannot create a temporary directory");

        /* 1. A command that is silent and writes nothing for longer than
         *    the limit: the appliance is stopped. */
        {
                _cleanup_(appliance_freep) Appliance *a = NULL;
                r = launch(&err, "silent", 15, &a);
                if (!tap_ok(r >= 0, "launch an appliance with a 15 s stall limit (%s)", r < 0 ? error_text(&err, r) : "ok")) {
                        error_clear(&err);
                        goto finish;
                }
                tap_ok(appliance_pid(a) > 0, "its qemu is known (pid %d)", (int) appliance_pid(a));
                t0 = now_usec();
                r = appliance_run(&err, a, NULL, ARGV("sleep", "120"), NULL);
                double s = (double) (now_usec() - t0) / 1e6;
                tap_ok(r == -ETIMEDOUT && appliance_stalled(a), "a silent 'sleep 120' is stopped: -ETIMEDOUT (r=%d)", r);
                tap_ok(s >= 14 && s < 40, "... after the limit, not before and not much later (%.1f s)", s);
                tap_ok(strstr(strempty(err.message), "made no progress for 15 s (no console output, no disk writes)") != NULL,
                       "... saying why: %s", strempty(err.message));
                error_clear(&err);
                r = appliance_run(&err, a, NULL, ARGV("true"), NULL);
                tap_ok(r == -ETIMEDOUT, "a later call on it fails the same way (r=%d)", r);
                error_clear(&err);
        }

        /* 2. A command that keeps printing is not stopped, however long. */
        {
                _cleanup_(appliance_freep) Appliance *a = NULL;
                r = launch(&err, "chatty", 15, &a);
                if (r >= 0)
                        r = appliance_run(&err, a, NULL,
                                          ARGV("sh", "-c", "i=0; while [ $i -lt 25 ]; do echo tick $i; sleep 1; i=$((i+1)); done"),
                                          NULL);
                tap_ok(r >= 0 && !appliance_stalled(a), "a command printing every second for 25 s runs to its end (%s)",
                       r < 0 ? error_text(&err, r) : "ok");
                error_clear(&err);
                if (r >= 0)
                        (void) appliance_shutdown(&err, a);
                error_clear(&err);
        }

        /* 2b. A guest that only reports its own lockups (the kernel's
         *     detectors keep printing while nothing moves) is stalled. */
        {
                _cleanup_(appliance_freep) Appliance *a = NULL;
                r = launch(&err, "lockup", 15, &a);
                if (r >= 0) {
                        t0 = now_usec();
                        r = appliance_run(&err, a, NULL,
                                          ARGV("sh", "-c",
                                               "while :; do echo 'watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [kworker]'; "
                                               "echo 'rcu: INFO: rcu_sched self-detected stall on CPU'; sleep 1; done"),
                                          NULL);
                }
                double s = (double) (now_usec() - t0) / 1e6;
                tap_ok(r == -ETIMEDOUT && a && appliance_stalled(a) && s < 40,
                       "a guest printing only lockup reports is stopped as stalled (r=%d, %.1f s)", r, s);
                error_clear(&err);
        }

        /* 3. qemu stopped with SIGSTOP (as a stalled TCG guest: nothing
         *    moves): found and stopped. */
        {
                _cleanup_(appliance_freep) Appliance *a = NULL;
                r = launch(&err, "sigstop", 15, &a);
                pid_t pid = a ? appliance_pid(a) : 0;
                if (r >= 0 && pid > 0 && kill(pid, SIGSTOP) == 0) {
                        t0 = now_usec();
                        r = appliance_run(&err, a, NULL, ARGV("echo", "hello"), NULL);
                        double s = (double) (now_usec() - t0) / 1e6;
                        tap_ok(r == -ETIMEDOUT && appliance_stalled(a) && s < 40,
                               "a qemu stopped with SIGSTOP is found out and killed in %.1f s (r=%d)", s, r);
                        tap_ok(process_gone(pid), "... and it is gone (dead, or a zombie until libguestfs reaps it)");
                } else {
                        tap_ok(false, "a qemu stopped with SIGSTOP is found out and killed (launch: %s)",
                               r < 0 ? error_text(&err, r) : "no pid");
                        tap_ok(false, "... and it is gone");
                }
                error_clear(&err);
        }

        /* 4. A launch that fails (qemu refuses 64 TiB of memory):
         *    libguestfs's advice to set LIBGUESTFS_DEBUG, which our handles
         *    ignore, comes with ours. */
        {
                _cleanup_(appliance_freep) Appliance *a = NULL;
                _cleanup_free_ char *disk = path_join(scratch, "huge");
                ApplianceConfig cfg = { .label = "huge", .path = getenv("WB_APPLIANCE"),
                                        .memsize_mib = 64u * 1024u * 1024u };

                r = disk ? disk_create(&err, disk, "raw", 16u << 20, NULL, NULL) : -ENOMEM;
                if (r >= 0)
                        r = appliance_new(&err, &cfg, &a);
                if (r >= 0)
                        r = appliance_add_drive(&err, a, disk, "raw", false, "unsafe");
                if (r >= 0)
                        r = appliance_launch(&err, a);
                tap_ok(r < 0, "an appliance asking for 64 TiB of memory does not launch (r=%d)", r);
                tap_ok(strstr(strempty(err.message), "LIBGUESTFS_DEBUG") &&
                               strstr(strempty(err.message), "run it again with --verbose"),
                       "... and libguestfs's advice to set LIBGUESTFS_DEBUG comes with ours, --verbose");
                error_clear(&err);
        }

        /* 5. A Ctrl-C while qemu boots (last: the cancellation stays): qemu is registered before launch
         *    returns, so the launch ends at once. */
        {
                _cleanup_(appliance_freep) Appliance *a = NULL;
                _cleanup_free_ char *disk = path_join(scratch, "cancel");
                ApplianceConfig cfg = { .label = "cancel", .path = getenv("WB_APPLIANCE"), .memsize_mib = 512 };
                pthread_t t;

                r = disk ? disk_create(&err, disk, "raw", 16u << 20, NULL, NULL) : -ENOMEM;
                if (r >= 0)
                        r = appliance_new(&err, &cfg, &a);
                if (r >= 0)
                        r = appliance_add_drive(&err, a, disk, "raw", false, "unsafe");
                if (r >= 0 && pthread_create(&t, NULL, cancel_when_qemu_appears, a) == 0) {
                        t0 = now_usec();
                        r = appliance_launch(&err, a);
                        double s = (double) (now_usec() - t0) / 1e6;
                        pthread_join(t, NULL);
                        tap_ok(r < 0 && cancel_requested(), "a cancellation while qemu boots fails the launch (r=%d)", r);
                        tap_ok(s < 20, "... %.1f s after the launch began (qemu was known before it returned)", s);
                } else
                        tap_ok(false, "a cancellation while qemu boots fails the launch (%s)", error_text(&err, r));
                error_clear(&err);
        }

finish:
        error_done(&err);
        (void) rm_rf(scratch);
        free(scratch);
        return tap_done();
}
