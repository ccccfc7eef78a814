/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>

#include "cache.h"
#include "finalize-native.h"
#include "finalize.h"
#include "guest-apt.h"
#include "guestfs-util.h"
#include "ids.h"
#include "log.h"
#include "packages.h"
#include "sha256.h"
#include "spawn.h"

#define FINALIZE_FORMAT "13"


/* GPT layout: a 1 MiB BIOS boot partition for GRUB's core image, then root. */
#define BIOS_START "2048"
#define BIOS_END "4095"
#define ROOT_START "4096"
/* Type codes for sgdisk: BIOS boot, Linux root (x86-64). */
#define BIOS_TYPE "EF02"
#define ROOT_TYPE "8304"

/* Build-time files and state that must not ship (the paths are guest paths;
 * globs are expanded by find below, not by a shell). */
static const char * const remove_paths[] = {
        "/var/lib/dbus/machine-id",
        "/var/lib/systemd/random-seed",
        "/var/lib/systemd/credential.secret",
        "/var/cache/ldconfig/aux-cache",
        "/var/log/bootstrap.log",
        "/var/log/dpkg.log",
        "/var/log/alternatives.log",
        /* fontconfig's trigger logs each cache it writes, in the order and at
         * the times it ran: the one file a rebuild of the desktop changed. */
        "/var/log/fontconfig.log",
        "/var/log/apt/history.log",
        "/var/log/apt/term.log",
        "/var/log/apt/eipp.log.xz",
        "/var/cache/apt/pkgcache.bin",
        "/var/cache/apt/srcpkgcache.bin",
        "/etc/passwd-",
        "/etc/group-",
        "/etc/shadow-",
        "/etc/gshadow-",
        "/etc/subuid-",
        "/etc/subgid-",
        /* debootstrap's, naming the build's mirror: the recipe's replace it. */
        "/etc/apt/sources.list",
        /* debootstrap's (root's, 0755), or apt's own (its _apt user's, 0700)
         * when a layer ran apt-get update (its parent's lists came from
         * another mirror): apt makes it again at its first update. */
        "/var/lib/apt/lists/partial",
        NULL,
};

#define APT_SOURCES "/etc/apt/sources.list.d/debian.sources"
#define APT_KEYRING "/usr/share/keyrings/debian-archive-keyring.gpg"

static void put_stanza(FILE *f, const char *uri, const char *suites, char * const *components) {
        fprintf(f, "Types: deb\nURIs: %s\nSuites: %s\nComponents:", uri, suites);
        STRV_FOREACH(c, components)
                fprintf(f, " %s", *c);
        fprintf(f, "\nSigned-By: %s\n", APT_KEYRING);
}

int finalize_apt_sources(const Recipe *recipe, const char *suite, char **ret) {
        _cleanup_free_ char *buf = NULL, *suites = NULL, *security = NULL;
        size_t size = 0;
        FILE *f;

        suites = strdup_printf("%s %s-updates", suite, suite);
        security = strdup_printf("%s-security", suite);
        if (!suites || !security)
                return -ENOMEM;
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        if (recipe->apt_mirror || recipe->apt_security_mirror)
                fputs("# whonix-build: the image's apt sources (the recipe's [Apt]), over Tor where the\n"
                      "# URIs say tor+: see /etc/apt/apt.conf.d/50whonix-tor for the SOCKS port.\n", f);
        if (recipe->apt_mirror)
                put_stanza(f, recipe->apt_mirror, suites, recipe->components);
        if (recipe->apt_security_mirror) {
                if (recipe->apt_mirror)
                        fputc('\n', f);
                put_stanza(f, recipe->apt_security_mirror, security, recipe->components);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        return 0;
}

int finalize_root_uuid(const char *seed, const char *vm_name, char ret[static 37]) {
        _cleanup_free_ char *what = strdup_printf("fs:root:%s", vm_name);

        if (!what)
                return -ENOMEM;
        return id_uuid(seed, what, ret);
}

int finalize_key(ErrorSlot *err, const FinalizeSpec *spec, const char *parent_key, char **ret) {
        CacheKey k;

        cache_key_init(&k, "final");
        cache_key_add(&k, "format", FINALIZE_FORMAT);
        cache_key_add(&k, "parent", parent_key);
        cache_key_add(&k, "vm", spec->recipe->vm_name);
        cache_key_add_u64(&k, "disk-size", spec->recipe->disk_size);
        cache_key_add_strv(&k, "cmdline", spec->recipe->kernel_cmdline);
        cache_key_add(&k, "seed", spec->seed);
        cache_key_add_u64(&k, "epoch", (uint64_t) spec->source_date_epoch);
        cache_key_add(&k, "suite", spec->suite);
        cache_key_add_strv(&k, "components", spec->recipe->components);
        cache_key_add(&k, "apt-mirror", spec->recipe->apt_mirror);
        cache_key_add(&k, "apt-security-mirror", spec->recipe->apt_security_mirror);
        cache_key_add(&k, "machine-id", spec->recipe->machine_id);
        *ret = cache_key_final(&k);
        return *ret ? 0 : -ENOMEM;
}

static int run(ErrorSlot *err, Appliance *a, char * const *argv) {
        return appliance_run(err, a, NULL, argv, NULL);
}

static int normalize_tree(ErrorSlot *err, Appliance *a, const FinalizeSpec *spec) {
        _cleanup_free_ char *epoch = NULL, *days = NULL, *at = NULL;
        int r;

        epoch = strdup_printf("%" PRId64, spec->source_date_epoch);
        days = strdup_printf("%" PRId64, spec->source_date_epoch / 86400);
        at = strdup_printf("@%" PRId64, spec->source_date_epoch);
        if (!epoch || !days || !at)
                return -ENOMEM;

        for (size_t i = 0; remove_paths[i]; i++) {
                r = appliance_rm_rf(err, a, remove_paths[i]);
                if (r < 0)
                        return r;
        }
        /* Package lists, ssh host keys (made at first boot), debconf's
         * backups, Python caches. */
        if ((r = run(err, a, ARGV("find", "/sysroot/var/lib/apt/lists", "-mindepth", "1", "-maxdepth", "1", "-type", "f",
                                  "-delete"))) < 0 ||
            (r = run(err, a, ARGV("find", "/sysroot/etc/ssh", "-maxdepth", "1", "-name", "ssh_host_*", "-delete"))) < 0 ||
            (r = run(err, a, ARGV("find", "/sysroot/var/cache/debconf", "-maxdepth", "1", "-name", "*-old",
                                  "-delete"))) < 0 ||
            (r = run(err, a, ARGV("find", "/sysroot/usr", "/sysroot/etc", "-depth", "-type", "d", "-name",
                                  "__pycache__", "-exec", "rm", "-rf", "{}", "+"))) < 0)
                return r;

        /* The recipe's fixed machine id, or one that systemd makes at
         * first boot. */
        _cleanup_free_ char *machine_id = strdup_printf("%s\n", spec->recipe->machine_id ?: "uninitialized");
        if (!machine_id)
                return -ENOMEM;
        r = appliance_write(err, a, "/etc/machine-id", machine_id, strlen(machine_id));
        if (r < 0)
                return r;

        _cleanup_free_ char *sources = NULL;
        r = finalize_apt_sources(spec->recipe, spec->suite, &sources);
        if (r < 0)
                return r;
        if (!isempty(sources) && (r = appliance_write(err, a, APT_SOURCES, sources, strlen(sources))) < 0)
                return error_prefix(err, r, "cannot write the image's apt sources");

        /* debootstrap copied the appliance's resolver configuration; an
         * overlay that ships its own replaced it already. */
        r = appliance_run(err, a, NULL,
                          ARGV("sh", "-c",
                               "if cmp -s /etc/resolv.conf /sysroot/etc/resolv.conf; then "
                               ": > /sysroot/etc/resolv.conf; fi"),
                          NULL);
        if (r < 0)
                return r;

        /* systemd's update stamps: ConditionNeedsUpdate= units (ldconfig,
         * the journal's catalog, the hardware database) run again at a
         * boot only when /usr is newer than the stamp.  The image's caches
         * were made by the packages' own triggers in the build, and every
         * mtime is the build date at most: stamped with the build date,
         * the first boot does not redo them (without the stamps it did
         * redo ldconfig and the catalog, rewriting image files on every
         * machine's first boot).  A package update later touches /usr and
         * they run again, as on any Debian. */
        _cleanup_free_ char *stamp = strdup_printf("TIMESTAMP_NSEC=%" PRId64 "000000000\n", spec->source_date_epoch);
        if (!stamp)
                return -ENOMEM;
        if ((r = appliance_write(err, a, "/etc/.updated", stamp, strlen(stamp))) < 0 ||
            (r = appliance_write(err, a, "/var/.updated", stamp, strlen(stamp))) < 0)
                return error_prefix(err, r, "cannot write systemd's update stamps");

        /* Password ages count days since the epoch of the build date, not
         * of the build's clock. */
        _cleanup_free_ char *expr = strdup_printf("s/^([^:]*:[^:]*:)[0-9]+:/\\1%s:/", days);
        if (!expr)
                return -ENOMEM;
        if ((r = run(err, a, ARGV("sed", "-i", "-E", expr, "/sysroot/etc/shadow"))) < 0)
                return r;
        return 0;
}

/* What is installed, pinned to the index apt verified; read before
 * normalize_tree() removes the lists. */
static int record_packages(ErrorSlot *err, Appliance *a, const FinalizeSpec *spec) {
        _cleanup_(package_list_freep) PackageList *l = NULL;
        _cleanup_free_ char *text = NULL;
        size_t n_indexes = 0;
        int r;

        r = guest_installed_packages(err, a, &l);
        if (r < 0)
                return error_prefix(err, r, "'%s'", spec->label);

        if (spec->inrelease_sha256) {
                r = guest_check_inrelease(err, a, spec->suite, spec->inrelease_sha256);
                if (r < 0)
                        return r;
        }
        log_progress(spec->label, "pinning the installed packages", 0, 0);
        r = guest_match_indexes(err, a, l, &n_indexes);
        if (r < 0)
                return r;
        if (n_indexes == 0)
                return error_set(err, -ENOENT, "no package index in the guest's %s: the layers must run apt-get update",
                                 GUEST_APT_LISTS);
        r = package_list_check_complete(err, l);
        if (r < 0)
                return r;
        r = package_list_format(l, &text);
        if (r < 0)
                return r;
        r = write_file_atomic(spec->packages_path, text, strlen(text), 0644);
        if (r < 0)
                return error_set_errno(err, r, "cannot write '%s'", spec->packages_path);
        return 0;
}

/* Last, after every file is written: no mtime later than SOURCE_DATE_EPOCH. */
static int clamp_mtimes(ErrorSlot *err, Appliance *a, int64_t epoch) {
        _cleanup_free_ char *at = strdup_printf("@%" PRId64, epoch);

        if (!at)
                return -ENOMEM;
        return run(err, a, ARGV("find", "/sysroot", "-xdev", "-newermt", at, "-exec", "touch", "-h", "-d", at, "{}", "+"));
}

/* The single kernel version installed in the tree. */
static int kernel_version(ErrorSlot *err, Appliance *a, char **ret) {
        _cleanup_strv_free_ char **names = NULL;
        const char *found = NULL;
        int r;

        r = appliance_ls(err, a, "/boot", &names);
        if (r < 0)
                return r;
        STRV_FOREACH(n, names) {
                const char *v = startswith(*n, "vmlinuz-");
                if (!v)
                        continue;
                if (found)
                        return error_set(err, -EINVAL, "more than one kernel in /boot ('%s' and '%s')", found, v);
                found = v;
        }
        if (!found)
                return error_set(err, -ENOENT, "no kernel in /boot: the recipe must install linux-image-amd64");
        *ret = strdup(found);
        return *ret ? 0 : -ENOMEM;
}

static int write_guest_file(ErrorSlot *err, Appliance *a, const char *path, const char *text) {
        return appliance_write(err, a, path, text, strlen(text));
}

/* fstab, GRUB's modules and core image, grub.cfg and /etc/default/grub. */
static int write_boot_files(ErrorSlot *err, Appliance *a, const FinalizeSpec *spec, const char *uuid) {
        _cleanup_free_ char *kver = NULL, *cmdline = NULL, *fstab = NULL, *grubcfg = NULL, *defaults = NULL,
                            *early = NULL;
        int r;

        r = kernel_version(err, a, &kver);
        if (r < 0)
                return r;
        cmdline = strv_join(spec->recipe->kernel_cmdline, " ");
        if (!cmdline)
                return -ENOMEM;

        fstab = strdup_printf("# whonix-build: the root filesystem, by the UUID the build derived for it.\n"
                              "UUID=%s\t/\text4\terrors=remount-ro\t0\t1\n",
                              uuid);
        /* update-grub (run on kernel updates) rebuilds grub.cfg from this. */
        defaults = strdup_printf("# whonix-build: GRUB settings from the recipe.\n"
                                 "GRUB_DEFAULT=0\n"
                                 "GRUB_TIMEOUT=1\n"
                                 "GRUB_DISTRIBUTOR=Debian\n"
                                 "GRUB_CMDLINE_LINUX_DEFAULT=\"\"\n"
                                 "GRUB_CMDLINE_LINUX=\"%s\"\n"
                                 "GRUB_TERMINAL=\"console serial\"\n"
                                 "GRUB_SERIAL_COMMAND=\"serial --unit=0 --speed=115200\"\n"
                                 "GRUB_DISABLE_OS_PROBER=true\n"
                                 "GRUB_DISABLE_RECOVERY=true\n",
                                 cmdline);
        grubcfg = strdup_printf("# whonix-build: generated at build time; update-grub rewrites it from\n"
                                "# /etc/default/grub when the kernel is updated.\n"
                                "serial --unit=0 --speed=115200\n"
                                "terminal_input console serial\n"
                                "terminal_output console serial\n"
                                "set default=0\n"
                                "set timeout=1\n"
                                "insmod part_gpt\n"
                                "insmod ext2\n"
                                "search --no-floppy --fs-uuid --set=root %s\n"
                                "menuentry 'Debian GNU/Linux, with Linux %s' --id debian {\n"
                                "\tlinux /boot/vmlinuz-%s root=UUID=%s ro %s\n"
                                "\tinitrd /boot/initrd.img-%s\n"
                                "}\n",
                                uuid, kver, kver, uuid, cmdline, kver);
        /* core.img finds its filesystem by UUID, wherever the disk is, and
         * talks on the serial port too, so a headless VM shows its errors. */
        early = strdup_printf("serial --unit=0 --speed=115200\n"
                              "terminal_input console serial\n"
                              "terminal_output console serial\n"
                              "search --no-floppy --fs-uuid --set=root %s\n"
                              "set prefix=($root)/boot/grub\n",
                              uuid);
        if (!fstab || !defaults || !grubcfg || !early)
                return -ENOMEM;

        if ((r = write_guest_file(err, a, "/etc/fstab", fstab)) < 0 ||
            (r = write_guest_file(err, a, "/etc/default/grub", defaults)) < 0 ||
            (r = appliance_rm_rf(err, a, "/boot/grub")) < 0 ||
            (r = appliance_mkdir_p(err, a, "/boot/grub/i386-pc")) < 0 ||
            (r = write_guest_file(err, a, "/boot/grub/grub.cfg", grubcfg)) < 0 ||
            (r = write_guest_file(err, a, "/boot/grub/early.cfg", early)) < 0)
                return r;

        r = appliance_chroot(err, a, NULL,
                             ARGV("sh", "-c", "cp /usr/lib/grub/i386-pc/*.mod /usr/lib/grub/i386-pc/*.lst "
                                              "/usr/lib/grub/i386-pc/boot.img /boot/grub/i386-pc/"),
                             NULL);
        if (r < 0)
                return error_prefix(err, r, "cannot install GRUB's modules (is grub-pc installed?)");
        r = appliance_chroot(err, a, NULL,
                             ARGV("grub-mkimage", "--format=i386-pc", "--output=/boot/grub/i386-pc/core.img",
                                  "--config=/boot/grub/early.cfg", "--prefix=/boot/grub", "biosdisk", "part_gpt",
                                  "ext2", "search", "search_fs_uuid", "serial", "terminal"),
                             NULL);
        if (r < 0)
                return error_prefix(err, r, "cannot make GRUB's core image");
        return 0;
}

/* kdev: the kernel's name for the new disk (the commands run in the
 * appliance's shell). */
static int partition(ErrorSlot *err, Appliance *a, const FinalizeSpec *spec, const char *kdev) {
        char disk_guid[37], bios_guid[37], root_guid[37];
        _cleanup_free_ char *w1 = NULL, *w2 = NULL, *w3 = NULL, *g1 = NULL, *g2 = NULL, *g3 = NULL, *size = NULL;
        const char *vm = spec->recipe->vm_name;
        int r;

        w1 = strdup_printf("disk:%s", vm);
        w2 = strdup_printf("part:bios:%s", vm);
        w3 = strdup_printf("part:root:%s", vm);
        if (!w1 || !w2 || !w3)
                return -ENOMEM;
        if ((r = id_uuid(spec->seed, w1, disk_guid)) < 0 || (r = id_uuid(spec->seed, w2, bios_guid)) < 0 ||
            (r = id_uuid(spec->seed, w3, root_guid)) < 0)
                return r;
        g1 = strdup_printf("--disk-guid=%s", disk_guid);
        g2 = strdup_printf("--partition-guid=1:%s", bios_guid);
        g3 = strdup_printf("--partition-guid=2:%s", root_guid);
        size = strdup_printf("%" PRIu64, spec->recipe->disk_size);
        if (!g1 || !g2 || !g3 || !size)
                return -ENOMEM;
        /* Never partition another disk than the new one (the tree's, or
         * the appliance's own root): the device sgdisk is given must have
         * the recipe's size. */
        r = run(err, a,
                ARGV("sh", "-c",
                     "s=$(blockdev --getsize64 \"$0\") && [ \"$s\" = \"$1\" ] || "
                     "{ echo \"$0 has $s bytes, not $1: it is not the new disk\"; exit 1; }",
                     kdev, size));
        if (r < 0)
                return error_prefix(err, r, "will not partition");
        r = run(err, a,
                ARGV("sgdisk", "--clear", g1, "--new=1:" BIOS_START ":" BIOS_END, "--typecode=1:" BIOS_TYPE,
                     "--change-name=1:BIOS boot", g2, "--new=2:" ROOT_START ":0", "--typecode=2:" ROOT_TYPE,
                     "--change-name=2:root", g3, kdev));
        if (r < 0)
                return error_prefix(err, r, "cannot partition the final disk");
        /* The kernel must see the new table before mke2fs opens the root
         * partition: under a slow emulator the node has been seen to be
         * missing after settle alone, so re-read and wait for it (bounded). */
        _cleanup_free_ char *part = strdup_printf("%s2", kdev);
        if (!part)
                return -ENOMEM;
        r = run(err, a,
                ARGV("sh", "-c",
                     "blockdev --rereadpt \"$0\" || partx -u \"$0\" || true; udevadm settle; "
                     "i=0; while [ ! -b \"$1\" ] && [ $i -lt 60 ]; do sleep 0.5; udevadm settle; i=$((i+1)); done; "
                     "[ -b \"$1\" ] || { echo \"$1 did not appear\"; exit 1; }",
                     kdev, part));
        if (r < 0)
                return error_prefix(err, r, "the root partition of the final disk did not appear");
        return 0;
}

/* The root filesystem is written by the tree's own e2fsprogs (from the
 * build's pinned archive, the same whatever the host), run by the tree's
 * own dynamic loader and libraries: not the appliance's, which are the
 * host's and differ from one Debian release to the next. */
#define TREE "/sysroot"
#define TREE_LIBS TREE "/usr/lib/x86_64-linux-gnu"
#define TREE_LD TREE_LIBS "/ld-linux-x86-64.so.2"
#define TREE_MKE2FS TREE "/usr/sbin/mke2fs"
#define TREE_DEBUGFS TREE "/usr/sbin/debugfs"
#define TREE_MKE2FS_CONF TREE "/etc/mke2fs.conf"

static int check_tree_tools(ErrorSlot *err, Appliance *a) {
        int r = run(err, a,
                    ARGV("sh", "-c",
                         "for f; do [ -f \"$f\" ] || { echo \"${f#" TREE "} is missing\"; exit 1; }; done", "sh",
                         TREE_LD, TREE_MKE2FS, TREE_DEBUGFS, TREE_MKE2FS_CONF));
        if (r < 0)
                return error_prefix(err, r,
                                    "the image's own e2fsprogs makes its root filesystem, and the image lacks it "
                                    "(the recipe's packages must include e2fsprogs)");
        return 0;
}

/* e2fsprogs 1.47.1 and later, given SOURCE_DATE_EPOCH, clamp every time
 * mke2fs -d copies from the tree to it (and take it as the time of
 * everything they write themselves).  version_line is what "mke2fs -V"
 * prints first, after any white space: "mke2fs 1.47.2 (1-Jan-2025)". */
bool finalize_mke2fs_clamps(const char *version_line) {
        unsigned major = 0, minor = 0, patch = 0;
        const char *p = strempty(version_line);

        p = startswith(p + strspn(p, " \t\n"), "mke2fs ");
        if (!p || sscanf(p, "%u.%u.%u", &major, &minor, &patch) < 2)
                return false;
        if (major != 1)
                return major > 1;
        if (minor != 47)
                return minor > 47;
        return patch >= 1;
}

static int tree_mke2fs_clamps(ErrorSlot *err, Appliance *a, bool *ret) {
        _cleanup_free_ char *out = NULL;
        int r;

        /* -V prints the version on stderr; the shell brings it to stdout. */
        r = appliance_run(err, a, NULL,
                          ARGV("sh", "-c", "\"$0\" --library-path \"$1\" \"$2\" -V 2>&1 | head -n 1", TREE_LD, TREE_LIBS,
                               TREE_MKE2FS),
                          &out);
        if (r < 0)
                return error_prefix(err, r, "cannot ask the image's mke2fs for its version");
        *ret = finalize_mke2fs_clamps(out);
        return 0;
}

/* With clamping, every atime and ctime of the tree must be at least the
 * epoch: a ctime is the clock's time of the last change, so the clock must
 * be later than the epoch (the archive's date: a clock before it is wrong);
 * an atime can be older (dpkg sets it to the package's mtime, a read
 * updates it or not), so those are set to the epoch, which makes their
 * ctime the clock's.  Last, after every file is written. */
static int raise_atimes(ErrorSlot *err, Appliance *a, int64_t epoch) {
        _cleanup_free_ char *e = strdup_printf("%" PRId64, epoch), *at = strdup_printf("@%" PRId64, epoch);
        _cleanup_free_ char *out = NULL;
        const char *clock;
        uint64_t now;
        int r;

        if (!e || !at)
                return -ENOMEM;
        /* The appliance's clock is the host's (kvmclock or the RTC qemu
         * gives it).  A failure to read it is not a wrong clock.  The
         * output starts with the blanked begin marker of appliance_run. */
        r = appliance_run(err, a, NULL, ARGV("date", "+%s"), &out);
        if (r < 0)
                return error_prefix(err, r, "cannot read the clock");
        clock = strstrip(out);
        if (safe_atou64(clock, &now) < 0)
                return error_set(err, -EBADMSG, "cannot read the clock: 'date +%%s' printed '%s'", clock);
        if (now <= (uint64_t) epoch)
                return error_set(err, -ERANGE,
                                 "the clock of this machine (%s) is not later than the build's SOURCE_DATE_EPOCH (%s), "
                                 "the date of the archive it builds from: set the clock right",
                                 clock, e);
        return run(err, a, ARGV("find", "/sysroot", "-xdev", "!", "-newerat", at, "-exec", "touch", "-h", "-a", "-d", at,
                                "{}", "+"));
}

#define MKE2FS_ATTEMPTS 5u

static int make_filesystem(ErrorSlot *err, Appliance *a, const FinalizeSpec *spec, const char *uuid,
                           const char *part) {
        _cleanup_free_ char *fake = NULL, *sde = NULL, *ext = NULL;
        int r;

        /* The fixed clock for what mke2fs writes itself: E2FSPROGS_FAKE_TIME
         * for any version, SOURCE_DATE_EPOCH for those that clamp. */
        fake = strdup_printf("E2FSPROGS_FAKE_TIME=%" PRId64, spec->source_date_epoch);
        sde = strdup_printf("SOURCE_DATE_EPOCH=%" PRId64, spec->source_date_epoch);
        /* The new disk is a fresh sparse file, zeros throughout: nothing
         * to discard and no journal to wipe (512 MiB of zeros written
         * again, a quarter of the desktop's mke2fs under TCG).  The inode
         * tables are left to the kernel's lazy init, said here rather
         * than left to mke2fs's look at the appliance kernel's features,
         * so that the bytes do not depend on that kernel. */
        ext = strdup_printf("hash_seed=%s,nodiscard,lazy_itable_init=1,lazy_journal_init=1", uuid);
        if (!fake || !sde || !ext)
                return -ENOMEM;
        log_progress(spec->label, "making the root filesystem from the tree", 0, 0);
        /* udev re-reads a disk's partition table when a writer closes it
         * (the inotify watch), on its own time: the partition can be busy
         * for a moment after "udevadm settle" returned, and mke2fs then
         * refuses it.  Wait for udev and try again, a bounded number of
         * times; any other failure is final. */
        for (unsigned attempt = 1;; attempt++) {
                r = appliance_run(err, a, ARGV(fake, sde, "MKE2FS_CONFIG=" TREE_MKE2FS_CONF),
                                  ARGV(TREE_LD, "--library-path", TREE_LIBS, TREE_MKE2FS, "-q", "-F", "-t", "ext4",
                                       "-L", "root", "-U", uuid, "-E", ext, "-d", TREE, part),
                                  NULL);
                if (r >= 0 || attempt >= MKE2FS_ATTEMPTS || !strstr(strempty(err->message), "apparently in use"))
                        break;
                log_debug("%s: %s is busy (udev); waiting for it, attempt %u of %u", spec->label, part, attempt + 1,
                          MKE2FS_ATTEMPTS);
                error_clear(err);
                r = run(err, a, ARGV("sh", "-c", "sleep 2; udevadm settle"));
                if (r < 0)
                        break;
        }
        if (r < 0)
                return error_prefix(err, r, "cannot make the root filesystem");
        return 0;
}

/* mke2fs -d copies each inode's atime and ctime from the tree, where they
 * are the build's real clock (a read, a chmod, the touch of clamp_mtimes()
 * all set them), and a ctime cannot be set from user space.  An mke2fs that
 * clamps (1.47.1 and later: Debian 13's) writes the epoch for them, once
 * raise_atimes() has made them all at least that.  With an older one
 * (Debian 12's 1.47.0) they are set in the new filesystem instead, to
 * SOURCE_DATE_EPOCH, with debugfs (one process, one command per path, under
 * the same fake clock as mke2fs so that the superblock's write time is
 * fixed too): 35 s for the desktop under TCG, where clamping costs nothing.
 * Last, either way, the superblock's count of kilobytes ever written goes
 * to 0: how much mke2fs wrote varies between builds of the same tree (by
 * some hundred KiB), and libext2fs adds to the count on close only when it
 * is not 0.
 *
 * The paths come from find in the appliance; the command file is written
 * here.  Both lists live in the tree's throwaway overlay, which mke2fs has
 * already read.  Names with a double quote or a newline cannot be written
 * as debugfs commands: refused (only on the per-path way). */
#define TIMES_PATHS "/.wb-times-paths"
#define TIMES_COMMANDS "/.wb-times"
#define TIMES_ERRORS "/.wb-times.err"

int finalize_debugfs_times(ErrorSlot *err, const char *paths, size_t size, int64_t epoch, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return -ENOMEM;
        for (size_t pos = 0; pos < size;) {
                const char *p = paths + pos, *end = memchr(p, 0, size - pos);
                size_t n = end ? (size_t) (end - p) : size - pos;

                pos += n + 1;
                /* find prints "." and "./NAME"; the lists themselves are not
                 * in the new filesystem. */
                if (n == 0 || p[0] != '.' || (n > 1 && p[1] != '/')) {
                        fclose(f);
                        return error_set(err, -EBADMSG, "find printed a path that does not start with './'");
                }
                if (memchr(p, '"', n) || memchr(p, '\n', n)) {
                        _cleanup_free_ char *shown = strndup(p, n), *esc = NULL;
                        esc = shown ? escape_for_message(shown, true) : NULL;
                        fclose(f);
                        return error_set(err, -EINVAL, "a file name with a double quote or newline cannot be "
                                         "normalized: '%s'", strempty(esc));
                }
                if ((n == strlen("." TIMES_PATHS) && memcmp(p, "." TIMES_PATHS, n) == 0) ||
                    (n == strlen("." TIMES_COMMANDS) && memcmp(p, "." TIMES_COMMANDS, n) == 0))
                        continue;
                const char *path = n == 1 ? "/" : p + 1;
                int len_path = n == 1 ? 1 : (int) n - 1;
                fprintf(f, "sif \"%.*s\" ctime @%" PRId64 "\nsif \"%.*s\" atime @%" PRId64 "\n", len_path, path,
                        epoch, len_path, path, epoch);
        }
        fputs("ssv kbytes_written 0\n", f);
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        return 0;
}

static int set_inode_times(ErrorSlot *err, Appliance *a, const FinalizeSpec *spec, const char *part, bool clamped) {
        _cleanup_free_ char *epoch = strdup_printf("%" PRId64, spec->source_date_epoch), *paths = NULL,
                            *commands = NULL, *errors = NULL;
        char fake[64];
        size_t size;
        int r;

        if (!epoch)
                return -ENOMEM;
        if (clamped) {
                commands = strdup("ssv kbytes_written 0\n");
                if (!commands)
                        return -ENOMEM;
        } else {
                log_progress(spec->label, "fixing atime and ctime in the new filesystem", 0, 0);
                if ((r = run(err, a, ARGV("sh", "-c", "cd /sysroot && find . -xdev -print0 > \"$0\"",
                                          "/sysroot" TIMES_PATHS))) < 0 ||
                    (r = appliance_read_file(err, a, TIMES_PATHS, 256u << 20, &paths, &size)) < 0 ||
                    (r = finalize_debugfs_times(err, paths, size, spec->source_date_epoch, &commands)) < 0)
                        return error_prefix(err, r, "cannot set the inode times of the root filesystem");
        }
        r = appliance_write(err, a, TIMES_COMMANDS, commands, strlen(commands));
        if (r < 0)
                return error_prefix(err, r, "cannot set the inode times of the root filesystem");
        /* debugfs echoes every command on stdout (tens of thousands of
         * lines); its errors go to a file, read below. */
        snprintf(fake, sizeof fake, "E2FSPROGS_FAKE_TIME=%s", epoch);
        r = appliance_run(err, a, (char *[]) { fake, NULL },
                          ARGV("sh", "-c", "\"$0\" --library-path \"$1\" \"$2\" -w -f \"$3\" \"$4\" >/dev/null 2>\"$5\"",
                               TREE_LD, TREE_LIBS, TREE_DEBUGFS, "/sysroot" TIMES_COMMANDS, (char *) part,
                               "/sysroot" TIMES_ERRORS),
                          NULL);
        if (r < 0)
                return error_prefix(err, r, "cannot set the inode times of the root filesystem");
        r = appliance_read_file(err, a, TIMES_ERRORS, 1u << 20, &errors, &size);
        if (r < 0)
                return r;
        /* The only line debugfs prints there when all went well is its
         * banner, "debugfs VERSION (DATE)". */
        for (char *l = errors, *next; l && *l; l = next) {
                next = strchr(l, '\n');
                if (next)
                        *next++ = 0;
                if (*l && !startswith(l, "debugfs "))
                        return error_set(err, -EIO, "cannot set the inode times of the root filesystem: debugfs: %s", l);
        }
        return 0;
}

/* Where the kernel put the root partition in the new disk, in bytes. */
static int root_partition_geometry(ErrorSlot *err, Appliance *a, const char *part, uint64_t *ret_offset,
                                   uint64_t *ret_size) {
        _cleanup_free_ char *out = NULL;
        _cleanup_strv_free_ char **words = NULL;
        const char *name = strrchr(part, '/');
        uint64_t start, sectors;
        int r;

        r = appliance_run(err, a, NULL,
                          ARGV("sh", "-c", "cat \"/sys/class/block/$0/start\" \"/sys/class/block/$0/size\"",
                               (char *) (name ? name + 1 : part)),
                          &out);
        if (r < 0)
                return error_prefix(err, r, "cannot read where the root partition is");
        if (strv_split(strstrip(out), " \t\n", &words) < 0)
                return -ENOMEM;
        if (strv_length(words) != 2 || safe_atou64(words[0], &start) < 0 || safe_atou64(words[1], &sectors) < 0 ||
            start == 0 || sectors == 0 || start > UINT64_MAX / 512 || sectors > UINT64_MAX / 512)
                return error_set(err, -EBADMSG, "cannot read where the root partition is: the kernel said '%s'",
                                 strstrip(out));
        /* In the kernel's 512-byte sectors, whatever the disk's. */
        *ret_offset = start * 512;
        *ret_size = sectors * 512;
        return 0;
}

static char *dir_of(const char *path) {
        const char *slash = strrchr(path, '/');

        if (!slash)
                return strdup(".");
        return slash == path ? strdup("/") : strndup(path, (size_t) (slash - path));
}

int finalize_run(ErrorSlot *err, const FinalizeSpec *spec, const char *appliance_path, const char *layer_disk,
                 const char *dest, bool verbose) {
        _cleanup_(appliance_freep) Appliance *a = NULL;
        _cleanup_free_ char *tree_dev = NULL, *disk_kdev = NULL, *root_part = NULL, *tree_overlay = NULL,
                            *tree_raw = NULL, *work_dir = NULL;
        ApplianceConfig cfg = { .path = appliance_path, .label = spec->label, .verbose = verbose };
        uint64_t root_offset = 0, root_size = 0;
        bool clamps = false, native = false;
        char uuid[37];
        int r;

        r = finalize_root_uuid(spec->seed, spec->recipe->vm_name, uuid);
        if (r < 0)
                return r;
        tree_overlay = strdup_printf("%s.tree.qcow2", dest);
        tree_raw = strdup_printf("%s.tree.raw", dest);
        work_dir = dir_of(dest);
        if (!tree_overlay || !tree_raw || !work_dir)
                return -ENOMEM;
        (void) unlink(tree_overlay);
        (void) unlink(tree_raw);
        r = disk_create(err, dest, "raw", spec->recipe->disk_size, NULL, NULL);
        if (r < 0)
                return r;
        /* The layer stays as it is: the normalization below is written to
         * an overlay of it, which is read again on the host when the
         * filesystem is made there. */
        r = disk_create(err, tree_overlay, "qcow2", 0, layer_disk, "qcow2");
        if (r < 0)
                goto fail;

        if ((r = appliance_new(err, &cfg, &a)) < 0 ||
            (r = appliance_add_drive(err, a, tree_overlay, "qcow2", false, "unsafe")) < 0 ||
            (r = appliance_add_drive(err, a, dest, "raw", false, "unsafe")) < 0 || (r = appliance_launch(err, a)) < 0 ||
            (r = appliance_device(err, a, 0, &tree_dev)) < 0 || (r = appliance_kernel_device(err, a, 1, &disk_kdev)) < 0)
                goto fail;
        /* The tree is mounted by a libguestfs call (its name for the disk);
         * the new disk is written by commands in the appliance's shell (the
         * kernel's name). */
        root_part = strdup_printf("%s2", disk_kdev);
        if (!root_part) {
                r = -ENOMEM;
                goto fail;
        }

        if ((r = appliance_mount(err, a, tree_dev, "/")) < 0 ||
            (spec->packages_path && (r = record_packages(err, a, spec)) < 0) || (r = normalize_tree(err, a, spec)) < 0 ||
            (r = write_boot_files(err, a, spec, uuid)) < 0 || (r = check_tree_tools(err, a)) < 0 ||
            (r = tree_mke2fs_clamps(err, a, &clamps)) < 0)
                goto fail;
        /* An mke2fs that clamps (1.47.1 and later) also reads a tarball: it
         * makes the filesystem natively, from the tree streamed by the host
         * (finalize-native.h), once the appliance is gone.  An older one
         * (Debian 12's) makes it here. */
        native = clamps && finalize_native_possible();
        if (clamps && !native)
                log_warning("%s: this host cannot run the image's x86-64 e2fsprogs: its root filesystem is made in the "
                            "appliance instead, and its bytes differ from those an x86-64 host makes",
                            spec->label);
        if (native) {
                if ((r = partition(err, a, spec, disk_kdev)) < 0 ||
                    (r = root_partition_geometry(err, a, root_part, &root_offset, &root_size)) < 0)
                        goto fail;
        } else if ((r = clamps ? raise_atimes(err, a, spec->source_date_epoch)
                               : clamp_mtimes(err, a, spec->source_date_epoch)) < 0 ||
                   (r = partition(err, a, spec, disk_kdev)) < 0 || (r = make_filesystem(err, a, spec, uuid, root_part)) < 0 ||
                   (r = set_inode_times(err, a, spec, root_part, clamps)) < 0)
                goto fail;

        /* GRUB's boot sector into the MBR, its core image into the BIOS boot
         * partition; the root partition is not touched (natively, it is
         * still empty).  The tool comes from the guest's grub-pc (the
         * appliance has none), so it runs in the tree, now that its files
         * are all written and bind mounts cannot leak into them. */
        if ((r = run(err, a, ARGV("mount", "--bind", "/dev", "/sysroot/dev"))) < 0 ||
            (r = run(err, a, ARGV("mount", "-t", "proc", "proc", "/sysroot/proc"))) < 0 ||
            (r = run(err, a, ARGV("mount", "-t", "sysfs", "sysfs", "/sysroot/sys"))) < 0)
                goto fail;
        r = appliance_chroot(err, a, NULL, ARGV("grub-bios-setup", "--directory=/boot/grub/i386-pc", disk_kdev), NULL);
        if (r < 0) {
                error_prefix(err, r, "cannot install GRUB's boot sector");
                goto fail;
        }
        if ((r = run(err, a, ARGV("umount", "/sysroot/sys", "/sysroot/proc", "/sysroot/dev"))) < 0)
                goto fail;
        r = appliance_shutdown(err, a);
        if (r < 0)
                goto fail;
        a = appliance_free(a);

        if (native) {
                NativeFilesystem n = {
                        .label = spec->label,
                        .tree_image = tree_raw,
                        .dest = dest,
                        .offset = root_offset,
                        .size = root_size,
                        .uuid = uuid,
                        .epoch = spec->source_date_epoch,
                        .work_dir = work_dir,
                };

                uint64_t started = now_usec();

                /* libext2fs reads a raw image; the layers are qcow2. */
                r = spawn_run(err, ARGV("qemu-img", "convert", "-f", "qcow2", "-O", "raw", tree_overlay, tree_raw), NULL,
                              NULL);
                r = finalize_native_nospc(err, r, tree_raw, "qemu-img");
                if (r < 0) {
                        error_prefix(err, r, "cannot read the normalized tree");
                        goto fail;
                }
                (void) unlink(tree_overlay);
                log_debug("%s: the normalized tree to a raw image took %.1f s", spec->label,
                          (double) (now_usec() - started) / 1e6);
                r = finalize_native_filesystem(err, &n);
                if (r < 0)
                        goto fail;
        }
        (void) unlink(tree_overlay);
        (void) unlink(tree_raw);
        return 0;
fail:
        a = appliance_free(a);
        (void) unlink(dest);
        (void) unlink(tree_overlay);
        (void) unlink(tree_raw);
        if (spec->packages_path)
                (void) unlink(spec->packages_path);
        return r;
}
