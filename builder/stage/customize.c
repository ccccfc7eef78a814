/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>

#include "cache.h"
#include "customize.h"
#include "debs-disk.h"
#include "guest-apt.h"
#include "guestfs-util.h"
#include "log.h"
#include "overlay.h"
#include "package-progress.h"

/* Bump when the way a layer is made changes. */
#define CUSTOMIZE_FORMAT "5"

#define WORK_DIR "/.whonix-build"
#define ARCHIVES "/var/cache/apt/archives"

/* Build-time switches, written before apt runs and removed afterwards. */
static const struct {
        const char *path;
        const char *content;
        int mode;
} build_files[] = {
        /* Services must not start inside the build. */
        { "/usr/sbin/policy-rc.d", "#!/bin/sh\n# whonix-build: no service starts during the build\nexit 101\n", 0755 },
        /* fsync costs dearly under emulation and the disk is scratch until the build ends. */
        { "/etc/dpkg/dpkg.cfg.d/whonix-build", "force-unsafe-io\n", 0644 },
        { "/etc/apt/apt.conf.d/99whonix-build",
          "Acquire::Languages \"none\";\n"
          /* The fetch stage checked the InRelease's Valid-Until (not that
           * of a pinned rebuild's: its hash is the authority), and the
           * guest's must be that very file (guest_check_inrelease()). */
          "Acquire::Check-Valid-Until \"false\";\n"
          "APT::Install-Recommends \"false\";\n"
          "APT::Install-Suggests \"false\";\n"
          "Dpkg::Use-Pty \"false\";\n"
          "Dpkg::Options { \"--force-confdef\"; \"--force-confold\"; };\n",
          0644 },
};

/* Overlay trees enter a key by content, not by path. */
static int add_overlay_hashes(ErrorSlot *err, CacheKey *k, const char *name, char * const *dirs) {
        STRV_FOREACH(d, dirs) {
                _cleanup_free_ char *h = NULL;
                int r;

                r = overlay_tree_hash(err, *d, &h);
                if (r < 0)
                        return r;
                cache_key_add(k, name, h);
        }
        return 0;
}

int customize_key(ErrorSlot *err, const CustomizeSpec *spec, const char *parent_key, char **ret) {
        CacheKey k;
        int r;

        cache_key_init(&k, "layer");
        cache_key_add(&k, "format", CUSTOMIZE_FORMAT);
        cache_key_add(&k, "parent", parent_key);
        cache_key_add_strv(&k, "packages", spec->packages);
        cache_key_add_strv(&k, "remove", spec->remove_packages);
        if ((r = add_overlay_hashes(err, &k, "early-overlay", spec->early_overlay_dirs)) < 0 ||
            (r = add_overlay_hashes(err, &k, "overlay", spec->overlay_dirs)) < 0)
                return r;
        STRV_FOREACH(s, spec->scripts) {
                r = cache_key_add_file(&k, "script", *s);
                if (r < 0)
                        return error_set_errno(err, r, "cannot read script '%s'", *s);
        }
        cache_key_add(&k, "hostname", spec->hostname);
        cache_key_add(&k, "tor-connection", spec->tor_connection);
        cache_key_add(&k, "user", spec->user_name);
        cache_key_add_strv(&k, "groups", spec->user_groups);
        cache_key_add_u64(&k, "epoch", (uint64_t) spec->source_date_epoch);
        *ret = cache_key_final(&k);
        return *ret ? 0 : -ENOMEM;
}

static int run(ErrorSlot *err, Appliance *a, char * const *argv) {
        return appliance_run(err, a, NULL, argv, NULL);
}

/* Every program of the build sees SOURCE_DATE_EPOCH: mkinitramfs (run by
 * the kernel's postinst), and whatever else honours the convention, then
 * stamps the build date instead of the clock. */
static int in_chroot(ErrorSlot *err, Appliance *a, const CustomizeSpec *spec, char * const *argv) {
        char sde[48];

        snprintf(sde, sizeof sde, "SOURCE_DATE_EPOCH=%" PRId64, spec->source_date_epoch);
        return appliance_chroot(err, a, (char *[]) { sde, NULL }, argv, NULL);
}


/* The kernel file systems a chroot needs for apt, dpkg and maintainer
 * scripts. */
static int chroot_mount(ErrorSlot *err, Appliance *a) {
        int r;

        if ((r = run(err, a, ARGV("mount", "--bind", "/dev", "/sysroot/dev"))) < 0 ||
            (r = run(err, a, ARGV("mount", "--bind", "/dev/pts", "/sysroot/dev/pts"))) < 0 ||
            (r = run(err, a, ARGV("mount", "-t", "proc", "proc", "/sysroot/proc"))) < 0 ||
            (r = run(err, a, ARGV("mount", "-t", "sysfs", "sysfs", "/sysroot/sys"))) < 0)
                return r;
        return 0;
}

static int chroot_umount(ErrorSlot *err, Appliance *a) {
        return run(err, a, ARGV("umount", "/sysroot/sys", "/sysroot/proc", "/sysroot/dev/pts", "/sysroot/dev"));
}

/* The proxy, if any, in a build-time file of its own. */
#define PROXY_CONF "/etc/apt/apt.conf.d/99whonix-build-proxy"

static int write_build_files(ErrorSlot *err, Appliance *a, const char *proxy) {
        int r;

        if (proxy) {
                /* recipe_check_proxy() let in nothing that could end the
                 * string. */
                _cleanup_free_ char *conf = strdup_printf("Acquire::http::Proxy \"%s\";\n"
                                                          "Acquire::https::Proxy \"%s\";\n", proxy, proxy);

                if (!conf)
                        return -ENOMEM;
                if ((r = appliance_mkdir_p(err, a, "/etc/apt/apt.conf.d")) < 0 ||
                    (r = appliance_write(err, a, PROXY_CONF, conf, strlen(conf))) < 0)
                        return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(build_files); i++) {
                _cleanup_free_ char *dir = strdup(build_files[i].path);
                char mode[8];

                if (!dir)
                        return -ENOMEM;
                *strrchr(dir, '/') = 0;
                snprintf(mode, sizeof mode, "%o", (unsigned) build_files[i].mode);
                if ((r = appliance_mkdir_p(err, a, dir)) < 0 ||
                    (r = appliance_write(err, a, build_files[i].path, build_files[i].content,
                                         strlen(build_files[i].content))) < 0)
                        return r;
                _cleanup_free_ char *full = strdup_printf("/sysroot%s", build_files[i].path);
                if (!full)
                        return -ENOMEM;
                if ((r = run(err, a, ARGV("chmod", mode, full))) < 0)
                        return r;
        }
        return 0;
}

static int remove_build_files(ErrorSlot *err, Appliance *a) {
        int r = appliance_rm_rf(err, a, PROXY_CONF);

        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(build_files); i++) {
                r = appliance_rm_rf(err, a, build_files[i].path);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* apt in the chroot resolves the mirror with the appliance's resolver, not
 * with the image's (the Workstation's points at the Gateway).  The image's
 * file is moved aside and put back afterwards. */
#define RESOLV "/sysroot/etc/resolv.conf"
#define RESOLV_SAVED "/sysroot/etc/resolv.conf.whonix-build"

static int resolver_borrow(ErrorSlot *err, Appliance *a) {
        return appliance_run(err, a, NULL,
                             ARGV("sh", "-c",
                                  "if [ -e " RESOLV " ] || [ -L " RESOLV " ]; then mv " RESOLV " " RESOLV_SAVED "; fi; "
                                  "cp /etc/resolv.conf " RESOLV),
                             NULL);
}

static int resolver_restore(ErrorSlot *err, Appliance *a) {
        return appliance_run(err, a, NULL,
                             ARGV("sh", "-c",
                                  "rm -f " RESOLV "; if [ -e " RESOLV_SAVED " ] || [ -L " RESOLV_SAVED " ]; then mv "
                                  RESOLV_SAVED " " RESOLV "; fi"),
                             NULL);
}

static int apt_install_and_purge(ErrorSlot *err, Appliance *a, const CustomizeSpec *spec, bool new_sources);

/* apt's sources for the build: the one line debootstrap writes, naming this
 * build's mirror.  1 if the file had to change (the parent disk was made
 * from another mirror: its package lists are not this build's), 0 if it
 * already said so, or if the spec names no mirror. */
#define BUILD_SOURCES "/etc/apt/sources.list"

static int set_build_sources(ErrorSlot *err, Appliance *a, const CustomizeSpec *spec) {
        _cleanup_free_ char *components = NULL, *line = NULL, *old = NULL;
        size_t size;
        int r;

        if (!spec->mirror)
                return 0;
        components = strv_join(spec->components, " ");
        if (!components)
                return -ENOMEM;
        line = strdup_printf("deb %s %s %s\n", spec->mirror, spec->suite, isempty(components) ? "main" : components);
        if (!line)
                return -ENOMEM;
        r = appliance_read_file(err, a, BUILD_SOURCES, 1u << 20, &old, &size);
        if (r == -ENOENT)
                error_clear(err);
        else if (r < 0)
                return error_prefix(err, r, "cannot read the build's apt sources");
        else if (size == strlen(line) && memcmp(old, line, size) == 0)
                return 0;
        r = appliance_write(err, a, BUILD_SOURCES, line, strlen(line));
        if (r < 0)
                return error_prefix(err, r, "cannot write the build's apt sources");
        return 1;
}

/* Only the package step sees the cache, and only after guest_check_archive():
 * a script that calls apt downloads afresh, and apt checks what it
 * downloads itself. */
bool customize_needs_packages_disk(const CustomizeSpec *spec) {
        return strv_length(spec->packages) > 0;
}

static int install_packages(ErrorSlot *err, Appliance *a, const CustomizeSpec *spec, bool new_sources) {
        int r;

        if (strv_length(spec->packages) == 0 && strv_length(spec->remove_packages) == 0)
                return 0;
        r = resolver_borrow(err, a);
        if (r < 0)
                return r;
        r = apt_install_and_purge(err, a, spec, new_sources);
        if (r < 0)
                return r;
        return resolver_restore(err, a);
}

/* 1 if a parent layer left apt's package indexes, 0 if not. */
static int have_package_lists(ErrorSlot *err, Appliance *a) {
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = appliance_ls(err, a, "/var/lib/apt/lists", &names);
        if (r < 0) {
                error_clear(err);
                return 0;
        }
        STRV_FOREACH(n, names)
                if (endswith(*n, "_Packages"))
                        return 1;
        return 0;
}

/* The names of the .debs apt takes from its archive directory to install
 * the layer's packages: what it would download into an empty one
 * (--print-uris lists "'URI' NAME SIZE HASH", one a line), into a file
 * that apt's other output cannot disturb. */
#define EMPTY_ARCHIVES WORK_DIR "/empty-archives"
#define URIS_FILE WORK_DIR "/uris"

static int archive_files_wanted(ErrorSlot *err, Appliance *a, const CustomizeSpec *spec, char ***ret) {
        _cleanup_strv_free_ char **argv = NULL, **wanted = NULL;
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = appliance_mkdir_p(err, a, EMPTY_ARCHIVES "/partial");
        if (r < 0)
                return r;
        if (strv_extend(&argv, "sh") < 0 || strv_extend(&argv, "-c") < 0 ||
            strv_extend(&argv, "exec \"$@\" >" URIS_FILE) < 0 || strv_extend(&argv, "sh") < 0 ||
            strv_extend(&argv, "apt-get") < 0 || strv_extend(&argv, "-q") < 0 || strv_extend(&argv, "-y") < 0 ||
            strv_extend(&argv, "--print-uris") < 0 || strv_extend(&argv, "-o") < 0 ||
            strv_extend(&argv, "Dir::Cache::Archives=" EMPTY_ARCHIVES "/") < 0 || strv_extend(&argv, "install") < 0 ||
            strv_extend_strv(&argv, spec->packages) < 0)
                return -ENOMEM;
        r = in_chroot(err, a, spec, argv);
        if (r < 0)
                return error_prefix(err, r, "cannot list the packages apt would install");
        r = appliance_read_file(err, a, URIS_FILE, 64u << 20, &text, &size);
        if (r < 0)
                return r;
        wanted = calloc(1, sizeof(char *));
        if (!wanted)
                return -ENOMEM;
        for (char *line = text, *next; line && *line; line = next) {
                char *q, *sp;

                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                /* "'URI' NAME ...": the URI is quoted and holds no quote. */
                if (line[0] != '\'' || !(q = strchr(line + 1, '\'')) || q[1] != ' ')
                        continue;
                sp = strchr(q + 2, ' ');
                if (sp)
                        *sp = 0;
                if (q[2] && strv_extend(&wanted, q + 2) < 0)
                        return -ENOMEM;
        }
        r = appliance_rm_rf(err, a, EMPTY_ARCHIVES);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(wanted);
        return 0;
}

static int apt_install_and_purge(ErrorSlot *err, Appliance *a, const CustomizeSpec *spec, bool new_sources) {
        _cleanup_strv_free_ char **argv = NULL, **wanted = NULL;
        int r;

        /* The man-db trigger rebuilds its index after every package: off for
         * the build (the image's first man run rebuilds it). */
        r = appliance_rm_rf(err, a, "/var/lib/man-db/auto-update");
        if (r < 0)
                return r;

        /* A parent layer's lists are the ones of this build when they come
         * from the same mirror: every layer's key descends from the base's,
         * which is keyed by the InRelease. */
        r = new_sources ? 0 : have_package_lists(err, a);
        if (r < 0)
                return r;
        if (r == 0) {
                log_progress(spec->label, "apt-get update", 0, 0);
                r = in_chroot(err, a, spec, ARGV("apt-get", "-q", "update"));
                if (r < 0)
                        return error_prefix(err, r, "cannot update the package lists of layer '%s'", spec->label);
        }

        if (strv_length(spec->packages) > 0) {
                /* Download first, check every cached .deb apt may take
                 * against the signed index, then install. */
                if (strv_extend(&argv, "apt-get") < 0 || strv_extend(&argv, "-q") < 0 ||
                    strv_extend(&argv, "-y") < 0 || strv_extend(&argv, "--download-only") < 0 ||
                    strv_extend(&argv, "install") < 0 || strv_extend_strv(&argv, spec->packages) < 0)
                        return -ENOMEM;
                r = in_chroot(err, a, spec, argv);
                if (r < 0)
                        return error_prefix(err, r, "cannot download the packages of layer '%s'", spec->label);
                r = archive_files_wanted(err, a, spec, &wanted);
                if (r < 0)
                        return r;
                r = guest_check_archive(err, a, ARCHIVES, wanted, spec->label);
                if (r < 0)
                        return r;
                free(argv[3]);
                argv[3] = strdup("install");
                free(argv[4]);
                argv[4] = strdup("--no-download");
                if (!argv[3] || !argv[4])
                        return -ENOMEM;
                /* How many of the packages apt takes are installed, from
                 * its own lines. */
                PackageProgress pp = PACKAGE_PROGRESS_INIT(spec->label, strv_length(wanted));
                appliance_set_line_hook(a, package_progress_line, &pp);
                r = in_chroot(err, a, spec, argv);
                appliance_set_line_hook(a, NULL, NULL);
                if (r < 0)
                        return error_prefix(err, r, "cannot install the packages of layer '%s'", spec->label);
        }
        if (strv_length(spec->remove_packages) > 0) {
                strv_free(argv);
                argv = NULL;
                if (strv_extend(&argv, "apt-get") < 0 || strv_extend(&argv, "-q") < 0 ||
                    strv_extend(&argv, "-y") < 0 || strv_extend(&argv, "purge") < 0 ||
                    strv_extend_strv(&argv, spec->remove_packages) < 0)
                        return -ENOMEM;
                r = in_chroot(err, a, spec, argv);
                if (r < 0)
                        return error_prefix(err, r, "cannot remove the packages of layer '%s'", spec->label);
        }
        return 0;
}

static int apply_overlays(ErrorSlot *err, Appliance *a, const CustomizeSpec *spec, char * const *dirs) {
        STRV_FOREACH(d, dirs) {
                int r;

                log_progress(spec->label, *d, 0, 0);
                r = overlay_apply(err, a, *d, "/", spec->source_date_epoch);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int run_scripts(ErrorSlot *err, Appliance *a, const CustomizeSpec *spec) {
        unsigned n = 0;
        int r;

        if (strv_length(spec->scripts) == 0)
                return 0;
        r = appliance_mkdir_p(err, a, WORK_DIR "/scripts");
        if (r < 0)
                return r;
        STRV_FOREACH(s, spec->scripts) {
                _cleanup_free_ char *guest = strdup_printf(WORK_DIR "/scripts/%02u", n++);
                _cleanup_free_ char *host_guest = NULL;

                if (!guest)
                        return -ENOMEM;
                host_guest = strdup_printf("/sysroot%s", guest);
                if (!host_guest)
                        return -ENOMEM;
                if ((r = appliance_upload(err, a, *s, guest)) < 0 ||
                    (r = run(err, a, ARGV("chmod", "0755", host_guest))) < 0)
                        return r;
                log_progress(spec->label, *s, 0, 0);
                r = in_chroot(err, a, spec, ARGV(guest));
                if (r < 0)
                        return error_prefix(err, r, "script '%s' failed", *s);
        }
        return appliance_rm_rf(err, a, WORK_DIR "/scripts");
}

static int set_hostname(ErrorSlot *err, Appliance *a, const char *hostname) {
        _cleanup_free_ char *h = NULL, *hosts = NULL;
        int r;

        h = strdup_printf("%s\n", hostname);
        hosts = strdup_printf("127.0.0.1\tlocalhost\n"
                              "127.0.1.1\t%s\n"
                              "\n"
                              "::1\tlocalhost ip6-localhost ip6-loopback\n"
                              "ff02::1\tip6-allnodes\n"
                              "ff02::2\tip6-allrouters\n",
                              hostname);
        if (!h || !hosts)
                return -ENOMEM;
        if ((r = appliance_write(err, a, "/etc/hostname", h, strlen(h))) < 0 ||
            (r = appliance_write(err, a, "/etc/hosts", hosts, strlen(hosts))) < 0)
                return r;
        return 0;
}

/* The file whonix-connect rewrites after boot. */
#define TOR_CONNECTION_FILE "/etc/tor/torrc.d/40-connection.conf"

/* 1 if /etc/passwd of the guest has an entry for name, 0 if not. */
static int user_exists(ErrorSlot *err, Appliance *a, const char *name) {
        _cleanup_free_ char *passwd = NULL;
        size_t size, n = strlen(name);
        int r;

        r = appliance_read_file(err, a, "/etc/passwd", 16u << 20, &passwd, &size);
        if (r < 0)
                return r;
        for (const char *l = passwd; l && l < passwd + size;) {
                const char *eol = memchr(l, '\n', (size_t) (passwd + size - l));
                if ((size_t) ((eol ? eol : passwd + size) - l) > n && memcmp(l, name, n) == 0 && l[n] == ':')
                        return 1;
                l = eol ? eol + 1 : NULL;
        }
        return 0;
}

static int add_user(ErrorSlot *err, Appliance *a, const CustomizeSpec *spec) {
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_free_ char *groups = NULL;
        int r;

        /* A layer above the one that created the user gives it the files
         * its overlays added to /etc/skel, without replacing any.  The
         * user database is read, not asked with id(1): a failure to look
         * (a dead appliance) must not pass for "no such user". */
        r = user_exists(err, a, spec->user_name);
        if (r < 0)
                return error_prefix(err, r, "cannot look up the user '%s'", spec->user_name);
        if (r > 0) {
                _cleanup_free_ char *home = strdup_printf("/home/%s/", spec->user_name),
                                    *owner = strdup_printf("%s:%s", spec->user_name, spec->user_name);
                if (!home || !owner)
                        return -ENOMEM;
                if ((r = in_chroot(err, a, spec, ARGV("cp", "-a", "--update=none", "/etc/skel/.", home))) < 0 ||
                    (r = in_chroot(err, a, spec, ARGV("chown", "-R", owner, home))) < 0)
                        return error_prefix(err, r, "cannot bring /etc/skel to the user '%s'", spec->user_name);
                return 0;
        }

        if (strv_extend(&argv, "useradd") < 0 || strv_extend(&argv, "--create-home") < 0 ||
            strv_extend(&argv, "--user-group") < 0 || strv_extend(&argv, "--shell") < 0 ||
            strv_extend(&argv, "/bin/bash") < 0)
                return -ENOMEM;
        if (strv_length(spec->user_groups) > 0) {
                groups = strv_join(spec->user_groups, ",");
                if (!groups || strv_extend(&argv, "--groups") < 0 || strv_extend(&argv, groups) < 0)
                        return -ENOMEM;
        }
        if (strv_extend(&argv, spec->user_name) < 0)
                return -ENOMEM;
        r = in_chroot(err, a, spec, argv);
        if (r < 0)
                return error_prefix(err, r, "cannot create the user '%s'", spec->user_name);
        return 0;
}

int customize_run(ErrorSlot *err, const CustomizeSpec *spec, const char *appliance_path, const char *debs_disk,
                  const char *parent_disk, const char *dest_disk, bool verbose) {
        _cleanup_(appliance_freep) Appliance *a = NULL;
        _cleanup_free_ char *root_dev = NULL, *debs_dev = NULL;
        bool new_sources = false;
        ApplianceConfig cfg = {
                .path = appliance_path,
                .label = spec->label,
                /* apt-get update, and scripts may call apt. */
                .network = strv_length(spec->packages) + strv_length(spec->remove_packages) + strv_length(spec->scripts) > 0,
                .verbose = verbose,
        };
        int r;

        if (debs_disk && (r = debs_disk_prepare(err, debs_disk)) < 0)
                return r;
        r = disk_create(err, dest_disk, "qcow2", 0, parent_disk, "qcow2");
        if (r < 0)
                return r;

        if ((r = appliance_new(err, &cfg, &a)) < 0 ||
            (r = appliance_add_drive(err, a, dest_disk, "qcow2", false, "unsafe")) < 0 ||
            (debs_disk && (r = appliance_add_drive(err, a, debs_disk, "raw", false, NULL)) < 0) ||
            (r = appliance_launch(err, a)) < 0 || (r = appliance_device(err, a, 0, &root_dev)) < 0 ||
            (debs_disk && (r = appliance_device(err, a, 1, &debs_dev)) < 0) ||
            (debs_disk && (r = debs_disk_format_if_new(err, a, debs_disk, debs_dev, spec->label)) < 0))
                goto fail;

        if ((r = appliance_mount(err, a, root_dev, "/")) < 0)
                goto fail;
        if (debs_disk && ((r = appliance_mkdir_p(err, a, ARCHIVES)) < 0 ||
                          (r = appliance_mount(err, a, debs_dev, ARCHIVES)) < 0 ||
                          (r = appliance_mkdir_p(err, a, ARCHIVES "/partial")) < 0))
                goto fail;
        if ((r = chroot_mount(err, a)) < 0 || (r = write_build_files(err, a, spec->proxy)) < 0)
                goto fail;
        /* The steps that run apt (packages, or scripts that may) use this
         * build's mirror. */
        if (cfg.network) {
                r = set_build_sources(err, a, spec);
                if (r < 0)
                        goto fail;
                new_sources = r > 0;
        }

        if ((r = apply_overlays(err, a, spec, spec->early_overlay_dirs)) < 0 ||
            (r = install_packages(err, a, spec, new_sources)) < 0)
                goto fail;
        if (debs_disk) {
                r = appliance_umount(err, a, ARCHIVES);
                if (r < 0)
                        goto fail;
        }
        if ((r = apply_overlays(err, a, spec, spec->overlay_dirs)) < 0 || (r = run_scripts(err, a, spec)) < 0)
                goto fail;
        if (spec->user_name && (r = add_user(err, a, spec)) < 0)
                goto fail;
        if (spec->hostname && (r = set_hostname(err, a, spec->hostname)) < 0)
                goto fail;
        if (spec->tor_connection &&
            ((r = appliance_mkdir_p(err, a, "/etc/tor/torrc.d")) < 0 ||
             (r = appliance_write(err, a, TOR_CONNECTION_FILE, spec->tor_connection, strlen(spec->tor_connection))) < 0))
                goto fail;

        if ((r = remove_build_files(err, a)) < 0 || (r = chroot_umount(err, a)) < 0 ||
            (r = appliance_rm_rf(err, a, WORK_DIR)) < 0 ||
            (r = appliance_shutdown(err, a)) < 0)
                goto fail;
        return 0;
fail:
        a = appliance_free(a);
        (void) unlink(dest_disk);
        return r;
}

void customize_split(const CustomizeSpec *whole, CustomizeSteps *ret) {
        *ret = (CustomizeSteps) {
                .packages = {
                        .label = whole->label,
                        .early_overlay_dirs = whole->early_overlay_dirs,
                        .packages = whole->packages,
                        .remove_packages = whole->remove_packages,
                        .source_date_epoch = whole->source_date_epoch,
                        .proxy = whole->proxy,
                        .mirror = whole->mirror,
                        .suite = whole->suite,
                        .components = whole->components,
                },
                .files = {
                        .label = whole->label,
                        .overlay_dirs = whole->overlay_dirs,
                        .scripts = whole->scripts,
                        .hostname = whole->hostname,
                        .tor_connection = whole->tor_connection,
                        .user_name = whole->user_name,
                        .user_groups = whole->user_groups,
                        .source_date_epoch = whole->source_date_epoch,
                        .proxy = whole->proxy,
                        .mirror = whole->mirror,
                        .suite = whole->suite,
                        .components = whole->components,
                },
        };
        ret->has_packages = strv_length(whole->early_overlay_dirs) + strv_length(whole->packages) +
                                    strv_length(whole->remove_packages) > 0;
        ret->has_files = strv_length(whole->overlay_dirs) + strv_length(whole->scripts) > 0 || whole->hostname ||
                         whole->user_name || whole->tor_connection;
}
