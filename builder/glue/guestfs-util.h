/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The one wrapper around libguestfs.  Nothing else includes <guestfs.h>.
 *
 * An Appliance is a libguestfs handle set up the way every stage wants it:
 * the direct backend, TCG when KVM is not usable (decided here, from
 * kvm_usable(), never from the user's environment), our own supermin
 * appliance (see supermin.h), both cores and enough memory.  libguestfs's
 * messages land in the caller's ErrorSlot, never on stderr.
 *
 * appliance_run() executes a program inside the appliance itself (not
 * chrooted into the guest), e.g. debootstrap; appliance_chroot() runs one
 * inside the guest tree mounted at /.  Both stream the program's output
 * line by line to log_progress() (and to log_debug() when verbose) while it
 * runs, and return its tail.
 *
 * Each appliance's qemu is registered with cancel_watch_pid(): a Ctrl-C
 * handler's cancel_request() (async-signal-safe) kills every one, the
 * blocked libguestfs call fails, and the stages unwind and remove their
 * temporary files.
 */

#include <sys/types.h>

#include "error.h"

typedef struct Appliance Appliance;

/* What the programs run in the appliance see, whatever the host: the
 * guest's package scripts run there, and what they write may depend on the
 * number of CPUs (a compressor's threads) or the memory, so a rebuild on
 * another machine must see the same. */
#define APPLIANCE_CPUS 2u
/* The host's loopback as the appliance sees it: qemu's user-mode network
 * (169.254.0.0/16, libguestfs's choice) forwards its host address, 169.254.2.2
 * (measured: the appliance has 169.254.2.15, its router and DNS .2.2, .2.3), to
 * the host's 127.0.0.1. */
#define APPLIANCE_HOST_ADDRESS "169.254.2.2"
#define APPLIANCE_MEMORY_MIB 1536u

typedef struct ApplianceConfig {
        const char *path;      /* fixed appliance directory, or NULL for libguestfs's default */
        const char *label;     /* stage name for progress reports */
        unsigned memsize_mib;  /* 0: APPLIANCE_MEMORY_MIB */
        bool network;          /* user-mode network for downloads from the mirror */
        bool verbose;          /* forward the appliance's console to log_debug() */
        unsigned stall_seconds; /* 0: appliance_set_stall_seconds()'s, by default APPLIANCE_STALL_SECONDS_DEFAULT */
} ApplianceConfig;

/*
 * The watchdog.  An emulated appliance on an overloaded host can stall (a
 * TCG guest in soft lockups: qemu busy, nothing written, no output, for
 * ever).  From appliance_launch() on, a thread watches the console output,
 * libguestfs's progress messages and the size on disk of every writable
 * drive; when none of them has moved for stall_seconds, it kills qemu, and
 * the blocked call, and every later one, fails with -ETIMEDOUT and a
 * message that says so.  The caller may try again with a fresh appliance.
 * The same thread finds qemu's PID while it boots (our child whose command
 * line names the first drive) and registers it for Ctrl-C at once.
 */
#define APPLIANCE_STALL_SECONDS_DEFAULT 600u
void appliance_set_stall_seconds(unsigned seconds);

/* Each line a command prints in the appliance goes to hook (until it is
 * set to NULL) before it becomes a progress report; the hook returns true
 * if it reported progress itself (the line is then not reported again). */
typedef bool (*ApplianceLineHook)(const char *line, void *userdata);
void appliance_set_line_hook(Appliance *a, ApplianceLineHook hook, void *userdata);

/* Output kept from a command run in the appliance (its tail). */
#define APPLIANCE_OUTPUT_MAX (64u * 1024u)

/* url as the appliance must use it: a host of 127.0.0.1 or localhost
 * becomes APPLIANCE_HOST_ADDRESS (a proxy or mirror on the host's loopback
 * is reachable from the appliance, but only over IPv4); any other URL is
 * copied.  NULL on ENOMEM. */
char *appliance_url(const char *url);

int appliance_new(ErrorSlot *err, const ApplianceConfig *cfg, Appliance **ret);
Appliance *appliance_free(Appliance *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(Appliance *, appliance_free);

/* Whether the watchdog stopped this appliance. */
bool appliance_stalled(const Appliance *a);
/* qemu's PID, 0 before it is known or after shutdown (for tests). */
pid_t appliance_pid(const Appliance *a);

/* Whether appliance_new() chose TCG, and why; valid after appliance_new(). */
bool appliance_uses_tcg(const Appliance *a, const char **ret_reason);

/* format: "raw" or "qcow2".  cachemode "unsafe" for scratch disks whose
 * contents do not matter after a crash. */
int appliance_add_drive(ErrorSlot *err, Appliance *a, const char *path, const char *format, bool readonly,
                        const char *cachemode);
int appliance_launch(ErrorSlot *err, Appliance *a);
/* Sync and stop cleanly; disks are consistent afterwards. */
int appliance_shutdown(ErrorSlot *err, Appliance *a);

/* The name of the n-th added drive in libguestfs's calls ("/dev/sda" ...),
 * which are the only ones that translate it: for appliance_mount() and the
 * like. */
int appliance_device(ErrorSlot *err, Appliance *a, unsigned index, char **ret);
/* The name the appliance's kernel gave the n-th added drive ("/dev/sdc"):
 * for a command run with appliance_run() or appliance_chroot().  The two
 * differ whenever the kernel probed the disks out of order, which it does
 * under TCG; a shell command given appliance_device()'s name writes to
 * whichever disk the kernel called that (the appliance's own root, seen). */
int appliance_kernel_device(ErrorSlot *err, Appliance *a, unsigned index, char **ret);
/* The filesystem labelled label, else the last partition, else the first
 * drive: libguestfs's name for it. */
int appliance_find_root(ErrorSlot *err, Appliance *a, const char *label, char **ret);
/* -ENODEV unless the device is want bytes: a guard before writing to a
 * disk, that it is the one meant (never the tree's or the appliance's). */
int appliance_check_device_size(ErrorSlot *err, Appliance *a, const char *device, uint64_t want);
/* Filesystem type on a device, "" if none. */
int appliance_vfs_type(ErrorSlot *err, Appliance *a, const char *device, char **ret);
int appliance_mkfs(ErrorSlot *err, Appliance *a, const char *fstype, const char *device, const char *label);
int appliance_mount(ErrorSlot *err, Appliance *a, const char *device, const char *mountpoint);
int appliance_umount(ErrorSlot *err, Appliance *a, const char *mountpoint);
int appliance_mkdir_p(ErrorSlot *err, Appliance *a, const char *path);
int appliance_rm_rf(ErrorSlot *err, Appliance *a, const char *path);
int appliance_upload(ErrorSlot *err, Appliance *a, const char *host_path, const char *guest_path);
/* Unpack an uncompressed tar from the host at guest_dir (which must exist).
 * tar runs as root in the appliance, so the tar's owners and modes are
 * kept: names are mapped by the appliance's own user database, where only
 * root is certain to exist, so tars meant for this should say uid/gid 0,
 * uname/gname "root" (overlay_pack() does).  No xattrs, ACLs or SELinux
 * labels are restored. */
int appliance_tar_in(ErrorSlot *err, Appliance *a, const char *tar_path, const char *guest_dir);
int appliance_write(ErrorSlot *err, Appliance *a, const char *guest_path, const char *data, size_t size);
/* Exactly size bytes of a device at offset (-EIO if it is shorter). */
int appliance_pread_device(ErrorSlot *err, Appliance *a, const char *device, uint64_t offset, size_t size,
                           void *buf);
int appliance_read_file(ErrorSlot *err, Appliance *a, const char *guest_path, size_t max, char **ret,
                        size_t *ret_size);
/* The UUID of the filesystem on a device. */
int appliance_vfs_uuid(ErrorSlot *err, Appliance *a, const char *device, char **ret);
int appliance_symlink(ErrorSlot *err, Appliance *a, const char *target, const char *linkname);
/* Names in a guest directory, sorted. */
int appliance_ls(ErrorSlot *err, Appliance *a, const char *guest_dir, char ***ret);
/* The SHA-256 of a guest file, lowercase hex, computed in the appliance. */
int appliance_sha256(ErrorSlot *err, Appliance *a, const char *guest_path, char ret[static 65]);
/* 1 if the path exists in the guest, 0 if not. */
/* The extended attributes of a guest file (not followed if a symbolic
 * link), each "NAME HEXVALUE", sorted; none is an empty list (may be NULL). */
int appliance_xattrs(ErrorSlot *err, Appliance *a, const char *guest_path, char ***ret);
/* Its number of names (hard links). */
int appliance_nlink(ErrorSlot *err, Appliance *a, const char *guest_path, uint64_t *ret);
int appliance_exists(ErrorSlot *err, Appliance *a, const char *guest_path);

/* Run argv inside the appliance (paths of the guest are under /sysroot).
 * env is a list of "NAME=value" (may be NULL).  Non-zero exit: -EPROTO with
 * the output's tail in the ErrorSlot. */
int appliance_run(ErrorSlot *err, Appliance *a, char * const *env, char * const *argv, char **ret_output);
/* The same, chrooted into the guest tree mounted at /. */
int appliance_chroot(ErrorSlot *err, Appliance *a, char * const *env, char * const *argv, char **ret_output);

/* Create a disk image without launching anything.  backing_file may be NULL. */
int disk_create(ErrorSlot *err, const char *path, const char *format, uint64_t size, const char *backing_file,
                const char *backing_format);

/* Quote argv for /bin/sh inside the appliance (exposed for tests). */
char *shell_quote_argv(char * const *argv);
