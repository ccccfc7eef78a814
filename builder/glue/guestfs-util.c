/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <guestfs.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "cancel.h"
#include "guestfs-util.h"
#include "kvm.h"
#include "log.h"

#define LINE_MAX_LEN 4096

/* Markers around a command's output on the appliance console, so that the
 * boot noise before it is not shown as the command's progress. */
#define MARK_BEGIN "@@WB-BEGIN@@"
#define MARK_END "@@WB-END@@"
#define MARK_EXIT "@@WB-EXIT:"
/* In the appliance's own /run (a tmpfs), which a command chrooted into the guest
 * cannot reach: the exit status never travels in the command's output. */
#define STATUS_FILE "/run/wb-exit-status"

/* Letters of the labels "wba" ... "wbz". */
#define DRIVES_MAX 26u
/* What the guest's kernel prints when a disk answers a write with "space
 * allocation failed" (qemu's answer to ENOSPC on the host, once the drive
 * reports write errors instead of pausing the guest). */
#define NOSPC_MESSAGE "critical space allocation error, dev "

struct Appliance {
        guestfs_h *g;
        char *label;
        bool verbose;
        bool tcg;
        const char *tcg_reason;
        unsigned n_drives;
        /* Every drive, by the order added (its label's letter): the first
         * names qemu in the process table, writable ones show progress by
         * growing and say which file's filesystem is full. */
        char *paths[DRIVES_MAX];
        bool writable[DRIVES_MAX];
        /* Each drive's name as the appliance's kernel gave it ("sdc"), read
         * after launch from libguestfs's label links.  The kernel probes
         * SCSI disks asynchronously and names them in the order they answer,
         * which under TCG is often not the order they were added in;
         * libguestfs translates the names its own calls take ("/dev/sdb" is
         * always the second drive there), but a command run in the
         * appliance's shell sees the kernel's names. */
        char kernel_names[DRIVES_MAX][16];
        /* The kernel's name of a disk whose write failed for want of space
         * on the host ("sdb"), "" if none: set by the console callback. */
        char nospc_dev[16];
        /* qemu's PID: found by the watchdog while qemu boots, or from
         * libguestfs once launch returns; registered with cancel either way. */
        _Atomic pid_t pid;

        /* The stall watchdog: a thread that kills qemu when neither the
         * console nor a writable drive has moved for stall_usec. */
        uint64_t stall_usec;
        _Atomic uint64_t last_activity;
        atomic_bool stalled;
        pthread_t watchdog;
        bool watchdog_running;
        pthread_mutex_t watchdog_lock;
        pthread_cond_t watchdog_cond;
        bool watchdog_stop;

        /* Console line assembly for progress. */
        char line[LINE_MAX_LEN];
        size_t line_len;
        bool streaming;
        uint64_t lines;
        /* A stage's own reading of the command's lines (package counts). */
        ApplianceLineHook line_hook;
        void *line_hook_data;
};

void appliance_set_line_hook(Appliance *a, ApplianceLineHook hook, void *userdata) {
        a->line_hook = hook;
        a->line_hook_data = userdata;
}

static _Atomic unsigned default_stall_seconds = APPLIANCE_STALL_SECONDS_DEFAULT;

void appliance_set_stall_seconds(unsigned seconds) {
        default_stall_seconds = seconds ?: APPLIANCE_STALL_SECONDS_DEFAULT;
}

/* The label of drive number index: letters only (libguestfs's rule),
 * "wba", "wbb", ... */
#define DRIVE_LABEL_SIZE 4
static void drive_label(unsigned index, char ret[static DRIVE_LABEL_SIZE]) {
        snprintf(ret, DRIVE_LABEL_SIZE, "wb%c", 'a' + (int) (index % DRIVES_MAX));
}

/* Bytes we may still write in the filesystem that holds path (root may use
 * the reserved blocks), or -1 if it cannot be told. */
static int64_t free_bytes(const char *path) {
        struct statvfs sv;

        if (statvfs(path, &sv) < 0)
                return -1;
        return (int64_t) ((geteuid() == 0 ? sv.f_bfree : sv.f_bavail) * sv.f_frsize);
}

/* A write failed because the host's filesystem under a drive is full: the
 * real cause of whatever failed next.  The kernel named the disk; its
 * label says which of ours it is. */
static int nospc_error(ErrorSlot *err, Appliance *a, const char *what) {
        const char *path = NULL;
        char dev[32];
        int64_t f;

        snprintf(dev, sizeof dev, "/dev/%s", a->nospc_dev);
        for (unsigned j = 0; j < a->n_drives; j++)
                if (a->kernel_names[j][0] && streq(a->kernel_names[j], a->nospc_dev))
                        path = a->paths[j];
        if (!path)
                return error_set(err, -ENOSPC,
                                 "%s: the host's filesystem under the appliance's disk %s is full: free some space "
                                 "(for the cache: remove old entries, or use --cache on a larger filesystem) and build "
                                 "again", what, dev);
        f = free_bytes(path);
        return error_set(err, -ENOSPC,
                         "%s: the filesystem that holds '%s' is full (a write of the appliance failed; %" PRId64
                         " bytes free now): free some space there (for the cache: remove old entries, or use --cache "
                         "on a larger filesystem) and build again", what, path, f);
}

/* Record libguestfs's last error in the slot and return r.  After the
 * watchdog stopped a stalled qemu every call fails; the cause is the stall. */
static int gerr(ErrorSlot *err, Appliance *a, int r, const char *what) {
        const char *m = guestfs_last_error(a->g);
        int e = guestfs_last_errno(a->g);

        if (a->nospc_dev[0])
                return nospc_error(err, a, what);
        if (atomic_load(&a->stalled))
                return error_set(err, -ETIMEDOUT,
                                 "%s: the appliance made no progress for %" PRIu64 " s (no console output, no disk "
                                 "writes) and was stopped; an emulated CPU on an overloaded host can stall like this",
                                 what, a->stall_usec / 1000000u);

        if (r == 0)
                r = e > 0 ? -e : -EIO;
        /* libguestfs's advice names variables our handles ignore
         * (GUESTFS_CREATE_NO_ENVIRONMENT): give ours instead. */
        if (m && strstr(m, "LIBGUESTFS_DEBUG"))
                return error_set(err, r, "%s: %s [whonix-build ignores LIBGUESTFS_DEBUG and LIBGUESTFS_TRACE: run it "
                                 "again with --verbose to see the appliance's messages]", what, m);
        return error_set(err, r, "%s: %s", what, m ?: "unknown libguestfs error");
}

/* A stalled guest's kernel still talks: its lockup detectors print every
 * few seconds.  Those lines are no sign of progress. */
static bool is_stall_report(const char *line) {
        return strstr(line, "soft lockup") || strstr(line, "hard LOCKUP") || strstr(line, "self-detected stall") ||
               strstr(line, "rcu_sched detected stall") || strstr(line, "rcu_preempt detected stall") ||
               strstr(line, "hung_task") || strstr(line, "blocked for more than");
}

static void console_line(Appliance *a, const char *line) {
        const char *p;

        if (!a->nospc_dev[0] && (p = strstr(line, NOSPC_MESSAGE))) {
                p += strlen(NOSPC_MESSAGE);
                size_t n = strcspn(p, ", ");
                if (n > 0 && n < sizeof a->nospc_dev)
                        memcpy(a->nospc_dev, p, n);
        }

        if (!is_stall_report(line))
                atomic_store(&a->last_activity, now_usec());

        if (!a->streaming) {
                if (strstr(line, MARK_BEGIN))
                        a->streaming = true;
                else if (a->verbose)
                        log_debug("appliance: %s", line);
                return;
        }
        if ((p = strstr(line, MARK_END))) {
                a->streaming = false;
                return;
        }
        a->lines++;
        if (a->verbose)
                log_debug("%s: %s", a->label, line);
        if (a->line_hook && a->line_hook(line, a->line_hook_data))
                return;
        log_progress(a->label, line, a->lines, 0);
}

static void on_console(guestfs_h *g, void *opaque, uint64_t event, int event_handle, int flags, const char *buf,
                       size_t buf_len, const uint64_t *array, size_t array_len) {
        Appliance *a = opaque;

        for (size_t i = 0; i < buf_len; i++) {
                char c = buf[i];

                if (c == '\n') {
                        a->line[a->line_len] = 0;
                        console_line(a, a->line);
                        a->line_len = 0;
                } else if (c == '\r') {
                        continue;
                } else if (a->line_len < LINE_MAX_LEN - 1)
                        a->line[a->line_len++] = c;
        }
}

static void on_progress(guestfs_h *g, void *opaque, uint64_t event, int event_handle, int flags, const char *buf,
                        size_t buf_len, const uint64_t *array, size_t array_len) {
        Appliance *a = opaque;

        atomic_store(&a->last_activity, now_usec());
        /* array: proc_nr, serial, position, total.  Small transfers are
         * over before a progress line would mean anything. */
        if (array_len >= 4 && array[3] >= (1u << 20))
                log_progress(a->label, NULL, array[2], array[3]);
}

char *appliance_url(const char *url) {
        const char *scheme_end = strstr(url, "://"), *host, *host_end;
        size_t n;

        if (!scheme_end)
                return strdup(url);
        host = scheme_end + 3;
        n = strcspn(host, ":/");
        host_end = host + n;
        if (!((n == 9 && strncmp(host, "127.0.0.1", n) == 0) || (n == 9 && strncasecmp(host, "localhost", n) == 0)))
                return strdup(url);
        return strdup_printf("%.*s" APPLIANCE_HOST_ADDRESS "%s", (int) (host - url), url, host_end);
}

int appliance_new(ErrorSlot *err, const ApplianceConfig *cfg, Appliance **ret) {
        _cleanup_(appliance_freep) Appliance *a = NULL;
        char *tcg_settings[] = { (char *) "force_tcg", NULL };

        a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        a->label = strdup(cfg->label ?: "appliance");
        if (!a->label)
                return -ENOMEM;
        a->verbose = cfg->verbose;
        a->stall_usec = (uint64_t) (cfg->stall_seconds ?: default_stall_seconds) * 1000000u;
        pthread_mutex_init(&a->watchdog_lock, NULL);
        pthread_cond_init(&a->watchdog_cond, NULL);

        /* Ignore LIBGUESTFS_* from the environment: every setting that
         * matters is made here, so builds do not depend on the caller's
         * shell. */
        a->g = guestfs_create_flags(GUESTFS_CREATE_NO_ENVIRONMENT | GUESTFS_CREATE_NO_CLOSE_ON_EXIT);
        if (!a->g)
                return error_set(err, -ENOMEM, "cannot create libguestfs handle");
        guestfs_set_error_handler(a->g, NULL, NULL);

        if (guestfs_set_backend(a->g, "direct") < 0)
                return gerr(err, a, 0, "cannot select the direct backend");

        a->tcg = !kvm_usable(&a->tcg_reason);
        if (a->tcg && guestfs_set_backend_settings(a->g, tcg_settings) < 0)
                return gerr(err, a, 0, "cannot force TCG");

        if (cfg->path && guestfs_set_path(a->g, cfg->path) < 0)
                return gerr(err, a, 0, "cannot set appliance path");

        if (guestfs_set_smp(a->g, (int) APPLIANCE_CPUS) < 0)
                return gerr(err, a, 0, "cannot set appliance CPUs");
        if (guestfs_set_memsize(a->g, (int) (cfg->memsize_mib ?: APPLIANCE_MEMORY_MIB)) < 0)
                return gerr(err, a, 0, "cannot set appliance memory");
        if (cfg->network && guestfs_set_network(a->g, 1) < 0)
                return gerr(err, a, 0, "cannot enable appliance network");
        if (guestfs_set_autosync(a->g, 1) < 0)
                return gerr(err, a, 0, "cannot enable autosync");
        if (cfg->verbose)
                (void) guestfs_set_verbose(a->g, 1);

        if (guestfs_set_event_callback(a->g, on_console, GUESTFS_EVENT_APPLIANCE, 0, a) < 0 ||
            guestfs_set_event_callback(a->g, on_progress, GUESTFS_EVENT_PROGRESS, 0, a) < 0)
                return gerr(err, a, 0, "cannot register event callbacks");

        *ret = TAKE_PTR(a);
        return 0;
}

static void watchdog_stop(Appliance *a) {
        if (!a->watchdog_running)
                return;
        pthread_mutex_lock(&a->watchdog_lock);
        a->watchdog_stop = true;
        pthread_cond_signal(&a->watchdog_cond);
        pthread_mutex_unlock(&a->watchdog_lock);
        pthread_join(a->watchdog, NULL);
        a->watchdog_running = false;
}

Appliance *appliance_free(Appliance *a) {
        if (!a)
                return NULL;
        watchdog_stop(a);
        if (a->g) {
                pid_t pid = atomic_load(&a->pid);
                if (pid > 0) {
                        /* Not shut down cleanly: the disks are scratch now. */
                        (void) kill(pid, SIGKILL);
                        cancel_unwatch_pid(pid);
                }
                guestfs_close(a->g);
        }
        for (unsigned i = 0; i < a->n_drives; i++)
                free(a->paths[i]);
        pthread_mutex_destroy(&a->watchdog_lock);
        pthread_cond_destroy(&a->watchdog_cond);
        free(a->label);
        free(a);
        return NULL;
}

bool appliance_uses_tcg(const Appliance *a, const char **ret_reason) {
        if (a->tcg && ret_reason)
                *ret_reason = a->tcg_reason;
        return a->tcg;
}

int appliance_add_drive(ErrorSlot *err, Appliance *a, const char *path, const char *format, bool readonly,
                        const char *cachemode) {
        struct guestfs_add_drive_opts_argv o = {
                .bitmask = GUESTFS_ADD_DRIVE_OPTS_FORMAT_BITMASK | GUESTFS_ADD_DRIVE_OPTS_READONLY_BITMASK,
                .format = format,
                .readonly = readonly,
        };

        char label[DRIVE_LABEL_SIZE];

        if (cachemode) {
                o.bitmask |= GUESTFS_ADD_DRIVE_OPTS_CACHEMODE_BITMASK;
                o.cachemode = cachemode;
        }
        /* The kernel's names (sda, sdb, ...) need not follow the order the
         * drives were added in, and one of them is the appliance's own
         * root: each drive carries a label, and appliance_device() goes by
         * it, never by position. */
        if (a->n_drives >= DRIVES_MAX)
                return error_set(err, -E2BIG, "at most 26 disks in one appliance");
        drive_label(a->n_drives, label);
        o.bitmask |= GUESTFS_ADD_DRIVE_OPTS_LABEL_BITMASK;
        o.label = label;
        if (guestfs_add_drive_opts_argv(a->g, path, &o) < 0)
                return gerr(err, a, 0, "cannot add disk");
        a->paths[a->n_drives] = strdup(path);
        if (!a->paths[a->n_drives])
                return -ENOMEM;
        a->writable[a->n_drives] = !readonly;
        /* qemu's default for a failed write is to pause the guest and wait
         * (for room on a full filesystem, say), for ever.  Report it to the
         * guest instead: the command fails, and the kernel's message says
         * why.  libguestfs names its drives hd0, hd1, ... in order. */
        if (!readonly) {
                char set[64];

                snprintf(set, sizeof set, "drive.hd%u.werror=report", a->n_drives);
                if (guestfs_config(a->g, "-set", set) < 0)
                        return gerr(err, a, 0, "cannot set how the disk reports write errors");
                snprintf(set, sizeof set, "drive.hd%u.rerror=report", a->n_drives);
                if (guestfs_config(a->g, "-set", set) < 0)
                        return gerr(err, a, 0, "cannot set how the disk reports read errors");
        }
        a->n_drives++;
        return 0;
}

/* Our child process that is this appliance's qemu: its command line names
 * the first drive, which no other appliance of ours has. */
static pid_t find_qemu(const Appliance *a) {
        _cleanup_(closedirp) DIR *d = opendir("/proc");
        pid_t self = getpid();
        struct dirent *de;

        if (!d || a->n_drives == 0)
                return 0;
        while ((de = readdir(d))) {
                char path[64], stat_buf[512], cmd[8192];
                _cleanup_close_ int fd = -1;
                ssize_t n;
                pid_t pid, ppid;
                const char *p;

                if (!isdigit((unsigned char) de->d_name[0]))
                        continue;
                pid = (pid_t) atoi(de->d_name);
                snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0 || (n = read(fd, stat_buf, sizeof stat_buf - 1)) <= 0)
                        continue;
                stat_buf[n] = 0;
                /* "pid (comm) state ppid ...": comm may hold anything; the
                 * last ')' ends it. */
                p = strrchr(stat_buf, ')');
                if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1 || ppid != self)
                        continue;
                close(fd);
                fd = -1;
                snprintf(path, sizeof path, "/proc/%d/cmdline", (int) pid);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0 || (n = read(fd, cmd, sizeof cmd - 1)) <= 0)
                        continue;
                cmd[n] = 0;
                if (!strstr(cmd, "qemu"))
                        continue;
                for (ssize_t i = 0; i < n; i++)
                        if (cmd[i] == 0)
                                cmd[i] = ' ';
                if (strstr(cmd, a->paths[0]))
                        return pid;
        }
        return 0;
}

static void adopt_pid(Appliance *a, pid_t pid) {
        pid_t none = 0;

        if (pid > 0 && atomic_compare_exchange_strong(&a->pid, &none, pid))
                cancel_watch_pid(pid);
}

static void *watchdog_main(void *userdata) {
        Appliance *a = userdata;
        uint64_t blocks[DRIVES_MAX] = {};

        pthread_mutex_lock(&a->watchdog_lock);
        while (!a->watchdog_stop) {
                struct timespec ts;
                uint64_t now;

                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += 1;
                (void) pthread_cond_timedwait(&a->watchdog_cond, &a->watchdog_lock, &ts);
                if (a->watchdog_stop)
                        break;

                /* qemu is registered for Ctrl-C as soon as it exists, not
                 * only once libguestfs's launch has returned. */
                if (atomic_load(&a->pid) == 0)
                        adopt_pid(a, find_qemu(a));

                now = now_usec();
                for (unsigned i = 0; i < a->n_drives; i++) {
                        struct stat st;
                        if (a->writable[i] && stat(a->paths[i], &st) == 0 && (uint64_t) st.st_blocks != blocks[i]) {
                                blocks[i] = (uint64_t) st.st_blocks;
                                atomic_store(&a->last_activity, now);
                        }
                }
                /* The console callback may have stamped a time later than
                 * our now: that is activity, not 2^64 microseconds of quiet. */
                uint64_t last = atomic_load(&a->last_activity);
                if (last < now && now - last > a->stall_usec) {
                        pid_t pid = atomic_load(&a->pid);
                        /* Without qemu's PID there is nothing to stop yet:
                         * keep looking for it. */
                        if (pid <= 0)
                                continue;
                        atomic_store(&a->stalled, true);
                        (void) kill(pid, SIGKILL);
                        break;
                }
        }
        pthread_mutex_unlock(&a->watchdog_lock);
        return NULL;
}

bool appliance_stalled(const Appliance *a) {
        return atomic_load(&a->stalled);
}

pid_t appliance_pid(const Appliance *a) {
        return atomic_load(&a->pid);
}

static int run_common(ErrorSlot *err, Appliance *a, bool chroot, char * const *env, char * const *argv,
                      char **ret_output);

/* The kernel's name of every drive, from the links that libguestfs's udev
 * rule makes from each drive's serial, which is its label:
 * /dev/disk/guestfs/LABEL. */
static int read_kernel_names(ErrorSlot *err, Appliance *a) {
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_free_ char *out = NULL;
        char *p, *save = NULL;
        unsigned j = 0;
        int r;

        if (a->n_drives == 0)
                return 0;
        if (strv_extend(&argv, "readlink") < 0 || strv_extend(&argv, "-e") < 0)
                return -ENOMEM;
        for (unsigned i = 0; i < a->n_drives; i++) {
                char label[DRIVE_LABEL_SIZE];
                _cleanup_free_ char *link = NULL;

                drive_label(i, label);
                link = strdup_printf("/dev/disk/guestfs/%s", label);
                if (!link || strv_extend(&argv, link) < 0)
                        return -ENOMEM;
        }
        r = run_common(err, a, false, NULL, argv, &out);
        if (r < 0)
                return error_prefix(err, r, "cannot tell the appliance's disks apart");
        for (p = strtok_r(out, " \t\r\n", &save); p; p = strtok_r(NULL, " \t\r\n", &save)) {
                const char *name = startswith(p, "/dev/");

                if (!name)
                        continue;
                if (j >= a->n_drives || strlen(name) >= sizeof a->kernel_names[j] || strchr(name, '/'))
                        return error_set(err, -EPROTO, "unexpected disk name '%s' in the appliance", p);
                strcpy(a->kernel_names[j++], name);
        }
        if (j != a->n_drives)
                return error_set(err, -EPROTO, "the appliance named %u of its %u disks", j, a->n_drives);
        for (unsigned i = 0; i < a->n_drives; i++) {
                char want[8];

                snprintf(want, sizeof want, "sd%c", 'a' + (int) i);
                if (!streq(a->kernel_names[i], want)) {
                        log_debug("%s: the appliance's kernel named its disks out of order (disk %u is %s)", a->label,
                                  i, a->kernel_names[i]);
                        break;
                }
        }
        return 0;
}

int appliance_launch(ErrorSlot *err, Appliance *a) {
        int pid, r;

        log_progress(a->label, "starting appliance", 0, 0);
        atomic_store(&a->last_activity, now_usec());
        r = pthread_create(&a->watchdog, NULL, watchdog_main, a);
        if (r != 0)
                return error_set_errno(err, -r, "cannot start the appliance's watchdog");
        a->watchdog_running = true;
        if (guestfs_launch(a->g) < 0)
                return gerr(err, a, 0, "cannot start the libguestfs appliance");
        pid = guestfs_get_pid(a->g);
        if (pid > 0 && atomic_load(&a->pid) != pid) {
                pid_t old = atomic_exchange(&a->pid, pid);
                if (old > 0)
                        cancel_unwatch_pid(old);
                cancel_watch_pid(pid);
        }
        /* A Ctrl-C that came while qemu was starting found no pid to kill. */
        if (cancel_requested())
                return error_set(err, -ECANCELED, "interrupted");
        return read_kernel_names(err, a);
}

int appliance_shutdown(ErrorSlot *err, Appliance *a) {
        int r = guestfs_shutdown(a->g);
        pid_t pid;

        watchdog_stop(a);
        pid = atomic_exchange(&a->pid, 0);
        if (pid > 0)
                cancel_unwatch_pid(pid);
        if (r < 0)
                return gerr(err, a, 0, "cannot shut the appliance down cleanly");
        return 0;
}

int appliance_device(ErrorSlot *err, Appliance *a, unsigned index, char **ret) {
        _cleanup_strv_free_ char **labels = guestfs_list_disk_labels(a->g);
        char want[DRIVE_LABEL_SIZE];

        if (!labels)
                return gerr(err, a, 0, "cannot list the appliance's disks");
        if (index >= DRIVES_MAX)
                return error_set(err, -ENODEV, "the appliance has no disk number %u", index);
        drive_label(index, want);
        /* Pairs: label, device. */
        for (size_t i = 0; labels[i] && labels[i + 1]; i += 2)
                if (streq(labels[i], want)) {
                        *ret = strdup(labels[i + 1]);
                        return *ret ? 0 : -ENOMEM;
                }
        return error_set(err, -ENODEV, "the appliance shows no disk labelled '%s' (disk number %u)", want, index);
}

int appliance_kernel_device(ErrorSlot *err, Appliance *a, unsigned index, char **ret) {
        if (index >= a->n_drives || !a->kernel_names[index][0])
                return error_set(err, -ENODEV, "the appliance has no disk number %u", index);
        *ret = strdup_printf("/dev/%s", a->kernel_names[index]);
        return *ret ? 0 : -ENOMEM;
}

int appliance_find_root(ErrorSlot *err, Appliance *a, const char *label, char **ret) {
        _cleanup_strv_free_ char **parts = NULL;
        char *dev;

        guestfs_push_error_handler(a->g, NULL, NULL);
        dev = guestfs_findfs_label(a->g, label);
        guestfs_pop_error_handler(a->g);
        if (dev) {
                *ret = dev;
                return 0;
        }
        parts = guestfs_list_partitions(a->g);
        if (!parts)
                return gerr(err, a, 0, "cannot list the appliance's partitions");
        if (parts[0]) {
                *ret = strdup(parts[strv_length(parts) - 1]);
                return *ret ? 0 : -ENOMEM;
        }
        return appliance_device(err, a, 0, ret);
}

int appliance_check_device_size(ErrorSlot *err, Appliance *a, const char *device, uint64_t want) {
        int64_t n = guestfs_blockdev_getsize64(a->g, device);

        if (n < 0)
                return gerr(err, a, 0, "cannot read a device's size");
        if ((uint64_t) n != want)
                return error_set(err, -ENODEV, "%s is not the disk it should be: %" PRId64 " bytes, not %" PRIu64,
                                 device, n, want);
        return 0;
}

int appliance_vfs_type(ErrorSlot *err, Appliance *a, const char *device, char **ret) {
        char *t;

        /* vfs_type fails on a device without a filesystem; that is "". */
        guestfs_push_error_handler(a->g, NULL, NULL);
        t = guestfs_vfs_type(a->g, device);
        guestfs_pop_error_handler(a->g);
        if (!t)
                t = strdup("");
        if (!t)
                return -ENOMEM;
        *ret = t;
        return 0;
}

int appliance_mkfs(ErrorSlot *err, Appliance *a, const char *fstype, const char *device, const char *label) {
        struct guestfs_mkfs_opts_argv o = { .bitmask = 0 };

        if (guestfs_mkfs_opts_argv(a->g, fstype, device, &o) < 0)
                return gerr(err, a, 0, "cannot make a filesystem");
        if (label && guestfs_set_label(a->g, device, label) < 0)
                return gerr(err, a, 0, "cannot label the filesystem");
        return 0;
}

int appliance_mount(ErrorSlot *err, Appliance *a, const char *device, const char *mountpoint) {
        if (guestfs_mount(a->g, device, mountpoint) < 0)
                return gerr(err, a, 0, "cannot mount");
        return 0;
}

int appliance_umount(ErrorSlot *err, Appliance *a, const char *mountpoint) {
        if (guestfs_umount(a->g, mountpoint) < 0)
                return gerr(err, a, 0, "cannot unmount");
        return 0;
}

int appliance_mkdir_p(ErrorSlot *err, Appliance *a, const char *path) {
        if (guestfs_mkdir_p(a->g, path) < 0)
                return gerr(err, a, 0, "cannot create directory");
        return 0;
}

int appliance_rm_rf(ErrorSlot *err, Appliance *a, const char *path) {
        if (guestfs_rm_rf(a->g, path) < 0)
                return gerr(err, a, 0, "cannot remove");
        return 0;
}

int appliance_upload(ErrorSlot *err, Appliance *a, const char *host_path, const char *guest_path) {
        if (guestfs_upload(a->g, host_path, guest_path) < 0)
                return gerr(err, a, 0, "cannot copy a file into the guest");
        return 0;
}

int appliance_tar_in(ErrorSlot *err, Appliance *a, const char *tar_path, const char *guest_dir) {
        /* No compress option: the tar is plain (libguestfs has no "none"). */
        struct guestfs_tar_in_opts_argv o = {
                .bitmask = GUESTFS_TAR_IN_OPTS_XATTRS_BITMASK | GUESTFS_TAR_IN_OPTS_SELINUX_BITMASK |
                           GUESTFS_TAR_IN_OPTS_ACLS_BITMASK,
                .xattrs = 0,
                .selinux = 0,
                .acls = 0,
        };

        if (guestfs_tar_in_opts_argv(a->g, tar_path, guest_dir, &o) < 0)
                return gerr(err, a, 0, "cannot unpack a tar into the guest");
        return 0;
}

int appliance_write(ErrorSlot *err, Appliance *a, const char *guest_path, const char *data, size_t size) {
        if (guestfs_write(a->g, guest_path, data, size) < 0)
                return gerr(err, a, 0, "cannot write a file in the guest");
        return 0;
}

int appliance_pread_device(ErrorSlot *err, Appliance *a, const char *device, uint64_t offset, size_t size,
                           void *buf) {
        _cleanup_free_ char *data = NULL;
        size_t n = 0;

        if (size > INT_MAX || offset > INT64_MAX)
                return -EINVAL;
        data = guestfs_pread_device(a->g, device, (int) size, (int64_t) offset, &n);
        if (!data)
                return gerr(err, a, 0, "cannot read a device of the guest");
        if (n != size)
                return error_set(err, -EIO, "short read of '%s': %zu of %zu bytes at %" PRIu64, device, n, size, offset);
        memcpy(buf, data, size);
        return 0;
}

int appliance_read_file(ErrorSlot *err, Appliance *a, const char *guest_path, size_t max, char **ret,
                        size_t *ret_size) {
        _cleanup_free_ char *data = NULL;
        int64_t size;
        size_t n;

        size = guestfs_filesize(a->g, guest_path);
        if (size < 0)
                return gerr(err, a, 0, "cannot read a file in the guest");
        if ((uint64_t) size > max)
                return error_set(err, -EFBIG, "'%s' in the guest is larger than %zu bytes", guest_path, max);
        data = guestfs_read_file(a->g, guest_path, &n);
        if (!data)
                return gerr(err, a, 0, "cannot read a file in the guest");
        atomic_store(&a->last_activity, now_usec());
        /* guestfs_read_file() NUL-terminates. */
        *ret = TAKE_PTR(data);
        if (ret_size)
                *ret_size = n;
        return 0;
}

int appliance_vfs_uuid(ErrorSlot *err, Appliance *a, const char *device, char **ret) {
        char *u = guestfs_vfs_uuid(a->g, device);

        if (!u)
                return gerr(err, a, 0, "cannot read the filesystem UUID");
        *ret = u;
        return 0;
}

int appliance_symlink(ErrorSlot *err, Appliance *a, const char *target, const char *linkname) {
        if (guestfs_ln_sf(a->g, target, linkname) < 0)
                return gerr(err, a, 0, "cannot create a symlink in the guest");
        return 0;
}

int appliance_ls(ErrorSlot *err, Appliance *a, const char *guest_dir, char ***ret) {
        char **l = guestfs_ls(a->g, guest_dir);

        if (!l)
                return gerr(err, a, 0, "cannot list a guest directory");
        strv_sort(l);
        *ret = l;
        return 0;
}

int appliance_sha256(ErrorSlot *err, Appliance *a, const char *guest_path, char ret[static 65]) {
        _cleanup_free_ char *sum = guestfs_checksum(a->g, "sha256", guest_path);

        if (!sum)
                return gerr(err, a, 0, "cannot hash a guest file");
        /* A loop of silent calls is progress too. */
        atomic_store(&a->last_activity, now_usec());
        if (strlen(sum) != 64)
                return error_set(err, -EPROTO, "the appliance's sha256 of '%s' is not 64 characters", guest_path);
        memcpy(ret, sum, 65);
        return 0;
}

int appliance_xattrs(ErrorSlot *err, Appliance *a, const char *guest_path, char ***ret) {
        struct guestfs_xattr_list *l = guestfs_lgetxattrs(a->g, guest_path);
        _cleanup_strv_free_ char **out = NULL;
        int r = 0;

        if (!l)
                return gerr(err, a, 0, "cannot read the extended attributes of a guest file");
        for (uint32_t i = 0; i < l->len && r >= 0; i++) {
                _cleanup_free_ char *hex = hexmem(l->val[i].attrval, l->val[i].attrval_len);
                char *line = hex ? strdup_printf("%s %s", l->val[i].attrname, hex) : NULL;
                r = line ? strv_consume(&out, line) : -ENOMEM;
        }
        guestfs_free_xattr_list(l);
        if (r < 0)
                return r;
        strv_sort(out);
        *ret = TAKE_PTR(out);
        return 0;
}

int appliance_nlink(ErrorSlot *err, Appliance *a, const char *guest_path, uint64_t *ret) {
        struct guestfs_statns *st = guestfs_lstatns(a->g, guest_path);

        if (!st)
                return gerr(err, a, 0, "cannot stat a guest file");
        *ret = (uint64_t) st->st_nlink;
        guestfs_free_statns(st);
        return 0;
}

int appliance_exists(ErrorSlot *err, Appliance *a, const char *guest_path) {
        int r = guestfs_exists(a->g, guest_path);

        if (r < 0)
                return gerr(err, a, 0, "cannot check a path in the guest");
        return r;
}

char *shell_quote_argv(char * const *argv) {
        size_t n = 0;
        char *s, *p;

        STRV_FOREACH(arg, argv) {
                n += 3;
                for (const char *c = *arg; *c; c++)
                        n += *c == '\'' ? 4 : 1;
        }
        s = malloc(n + 1);
        if (!s)
                return NULL;
        p = s;
        STRV_FOREACH(arg, argv) {
                if (p != s)
                        *p++ = ' ';
                *p++ = '\'';
                for (const char *c = *arg; *c; c++) {
                        if (*c == '\'') {
                                memcpy(p, "'\\''", 4);
                                p += 4;
                        } else
                                *p++ = *c;
                }
                *p++ = '\'';
        }
        *p = 0;
        return s;
}

static int run_common(ErrorSlot *err, Appliance *a, bool chroot, char * const *env, char * const *argv,
                      char **ret_output) {
        _cleanup_strv_free_ char **full = NULL;
        _cleanup_free_ char *quoted = NULL, *script = NULL, *out = NULL, *cmd = NULL;
        char *debug_argv[2] = { NULL, NULL };
        char *mark, *begin, *end;
        int status;

        if (cancel_requested())
                return error_set(err, -ECANCELED, "interrupted");
        cmd = strv_join(argv, " ");
        if (!cmd)
                return -ENOMEM;

        /* env(1) gives the command its environment without a shell
         * assignment; chroot(8) enters the guest tree. */
        if (chroot && (strv_extend(&full, "chroot") < 0 || strv_extend(&full, "/sysroot") < 0))
                return -ENOMEM;
        if (strv_extend(&full, "env") < 0 || strv_extend(&full, "-i") < 0 ||
            strv_extend(&full, "PATH=/usr/sbin:/usr/bin:/sbin:/bin") < 0 || strv_extend(&full, "LC_ALL=C") < 0 ||
            strv_extend(&full, "HOME=/root") < 0 || strv_extend(&full, "DEBIAN_FRONTEND=noninteractive") < 0 ||
            strv_extend_strv(&full, env) < 0 || strv_extend_strv(&full, argv) < 0)
                return -ENOMEM;
        quoted = shell_quote_argv(full);
        if (!quoted)
                return -ENOMEM;

        /* libguestfs can only run a shell string in the appliance itself
         * (debug "sh"); every argument above is quoted.  Output goes to the
         * console so that it streams to us while the command runs; the exit
         * status travels in a marker line because the pipe hides it. */
        script = strdup_printf("rm -f " STATUS_FILE "; "
                               "{ echo '" MARK_BEGIN "'; %s </dev/null 2>&1; echo $? >" STATUS_FILE "; echo '" MARK_END "'; } 2>&1 "
                               "| tee /dev/console | tail -c %u; "
                               "printf '\\n" MARK_EXIT "%%s@@\\n' \"$(cat " STATUS_FILE " 2>/dev/null)\"",
                               quoted, APPLIANCE_OUTPUT_MAX);
        if (!script)
                return -ENOMEM;
        debug_argv[0] = script;

        a->streaming = false;
        a->lines = 0;
        uint64_t started = now_usec();
        out = guestfs_debug(a->g, "sh", debug_argv);
        /* With --verbose, each command's time: where a stage's time goes. */
        log_debug("%s: '%.120s' took %.1f s", a->label, cmd, (double) (now_usec() - started) / 1e6);
        if (!out)
                return gerr(err, a, 0, "cannot run a command in the appliance");

        /* The begin marker is only there for the console stream. */
        begin = strstr(out, MARK_BEGIN "\n");
        if (begin)
                memset(begin, ' ', strlen(MARK_BEGIN) + 1);
        /* Ours is the last marker: it is printed after the pipeline has
         * ended, from the status file.  Markers in the output are the
         * command's own. */
        mark = NULL;
        for (char *p = strstr(out, MARK_EXIT); p; p = strstr(p + 1, MARK_EXIT))
                mark = p;
        if (!mark || sscanf(mark + strlen(MARK_EXIT), "%d", &status) != 1)
                return error_set(err, -EPROTO, "'%s' in the appliance ended without an exit status:\n%s", cmd, out);
        *mark = 0;
        end = NULL;
        for (char *p = strstr(out, MARK_END "\n"); p; p = strstr(p + 1, MARK_END "\n"))
                end = p;
        if (end)
                *end = 0;
        /* Even a command that succeeded: a write it made was lost. */
        if (a->nospc_dev[0])
                return nospc_error(err, a, cmd);
        if (status != 0) {
                const char *tail = out;
                size_t l = strlen(out);
                if (l > 3000)
                        tail = out + l - 3000;
                return error_set(err, -EPROTO, "'%s' failed in the appliance with exit status %d:\n%s", cmd, status,
                                 strstrip((char *) tail));
        }
        if (ret_output)
                *ret_output = TAKE_PTR(out);
        return 0;
}

int appliance_run(ErrorSlot *err, Appliance *a, char * const *env, char * const *argv, char **ret_output) {
        return run_common(err, a, false, env, argv, ret_output);
}

int appliance_chroot(ErrorSlot *err, Appliance *a, char * const *env, char * const *argv, char **ret_output) {
        return run_common(err, a, true, env, argv, ret_output);
}

int disk_create(ErrorSlot *err, const char *path, const char *format, uint64_t size, const char *backing_file,
                const char *backing_format) {
        struct guestfs_disk_create_argv o = { .bitmask = 0 };
        guestfs_h *g;
        int r = 0;

        g = guestfs_create_flags(GUESTFS_CREATE_NO_ENVIRONMENT | GUESTFS_CREATE_NO_CLOSE_ON_EXIT);
        if (!g)
                return error_set(err, -ENOMEM, "cannot create libguestfs handle");
        guestfs_set_error_handler(g, NULL, NULL);
        if (backing_file) {
                o.bitmask |= GUESTFS_DISK_CREATE_BACKINGFILE_BITMASK;
                o.backingfile = backing_file;
                if (backing_format) {
                        o.bitmask |= GUESTFS_DISK_CREATE_BACKINGFORMAT_BITMASK;
                        o.backingformat = backing_format;
                }
        }
        if (streq(format, "qcow2")) {
                o.bitmask |= GUESTFS_DISK_CREATE_PREALLOCATION_BITMASK;
                o.preallocation = "off";
        } else {
                o.bitmask |= GUESTFS_DISK_CREATE_PREALLOCATION_BITMASK;
                o.preallocation = "sparse";
        }
        if (guestfs_disk_create_argv(g, path, format, backing_file ? -1 : (int64_t) size, &o) < 0)
                r = error_set(err, -EIO, "cannot create disk '%s': %s", path,
                              guestfs_last_error(g) ?: "unknown libguestfs error");
        guestfs_close(g);
        return r;
}
