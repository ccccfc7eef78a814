/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test helper: look inside (or change a throwaway copy of) a disk image from
 * outside, through our own appliance wrapper, so TCG is chosen as the build
 * chooses it.
 *
 *   wb-inspect [--rw] DISK DEVICE COMMAND ARGS...
 *     cat PATH...              print files
 *     exists PATH...           exit 0 if all exist, 1 if one does not
 *     sha256 PATH...           print "HASH  PATH" lines, as sha256sum does
 *     ls DIR...                list directories, one name a line
 *     xattrs PATH...           print "PATH NAME HEXVALUE" for each extended
 *                              attribute (ACLs in the kernel's format)
 *     nlink PATH...            print "PATH LINKS": how many names each has
 *     uuid                     print the UUID of DEVICE's filesystem
 *     upload HOSTFILE PATH     copy a host file into the guest (--rw)
 *     mkdir PATH               create a directory and its parents (--rw)
 *     ln-s TARGET LINK         create a symlink (--rw)
 *     tar-in HOSTTAR DIR       unpack an uncompressed host tar at DIR, owners
 *                              and modes kept (--rw): many files, one launch
 *     each OUT CMD ARGS... [-- OUT CMD ARGS...]...
 *                              several of the read commands (uuid, cat, ls,
 *                              exists, sha256, xattrs, nlink) in one launch, each one's
 *                              output into its own file OUT
 *
 * Exit status: 0 done; 1 a path of "exists" is absent (and only then);
 * 2 usage; 3 could not look (the appliance did not start, the device
 * does not mount, a file cannot be read).  A caller that asks whether a
 * file is absent checks for 1 exactly.
 */
#include <inttypes.h>
#include "guestfs-util.h"

#define EXIT_ABSENT 1
#define EXIT_COULD_NOT_LOOK 3

static bool stalled_seen;

static int fail(ErrorSlot *err, int r, const char *what) {
        fprintf(stderr, "wb-inspect: %s: %s\n", what, error_text(err, r));
        error_clear(err);
        if (r == -ETIMEDOUT)
                stalled_seen = true;
        return EXIT_COULD_NOT_LOOK;
}

/* Its commands are short reads: an appliance that shows nothing and writes
 * nothing for this long has stalled (a TCG guest in soft lockups). */
#define INSPECT_STALL_SECONDS 120u

static int inspect(int argc, char **argv, bool rw);

int main(int argc, char **argv) {
        bool rw = false;
        int status;

        if (argc > 1 && streq(argv[1], "--rw")) {
                rw = true;
                argv++;
                argc--;
        }
        if (argc < 4) {
                fprintf(stderr, "usage: wb-inspect [--rw] DISK DEVICE cat|exists|ls|sha256|xattrs|nlink|uuid|each|upload|mkdir|ln-s|tar-in ARGS...\n");
                return 2;
        }
        status = inspect(argc, argv, rw);
        if (stalled_seen) {
                fprintf(stderr, "wb-inspect: the appliance stalled; trying once more with a fresh one\n");
                stalled_seen = false;
                status = inspect(argc, argv, rw);
        }
        return status;
}

/* One read-only command on the mounted device (uuid reads the device
 * itself), its output to out. */
static int run_read(Appliance *a, const char *device, const char *cmd, char **args, int n, FILE *out) {
        ErrorSlot err = {};
        int r, status = 0;

        if (streq(cmd, "uuid")) {
                _cleanup_free_ char *u = NULL;
                if (n != 0) {
                        fprintf(stderr, "wb-inspect: uuid takes no argument\n");
                        return 2;
                }
                if ((r = appliance_vfs_uuid(&err, a, device, &u)) < 0)
                        return fail(&err, r, device);
                fprintf(out, "%s\n", u);
                return 0;
        }
        if (!streq(cmd, "cat") && !streq(cmd, "ls") && !streq(cmd, "exists") && !streq(cmd, "sha256") &&
            !streq(cmd, "xattrs") && !streq(cmd, "nlink")) {
                fprintf(stderr, "wb-inspect: unknown command '%s' (or it needs --rw)\n", cmd);
                return 2;
        }
        for (int i = 0; i < n; i++) {
                if (streq(cmd, "cat")) {
                        _cleanup_free_ char *data = NULL;
                        size_t size;
                        r = appliance_read_file(&err, a, args[i], 64u << 20, &data, &size);
                        if (r < 0) {
                                status = fail(&err, r, args[i]);
                                continue;
                        }
                        fwrite(data, 1, size, out);
                } else if (streq(cmd, "ls")) {
                        _cleanup_strv_free_ char **names = NULL;
                        r = appliance_ls(&err, a, args[i], &names);
                        if (r < 0) {
                                status = fail(&err, r, args[i]);
                                continue;
                        }
                        STRV_FOREACH(name, names)
                                fprintf(out, "%s\n", *name);
                } else if (streq(cmd, "xattrs")) {
                        /* "PATH NAME HEX" a line; nothing for a file without any. */
                        _cleanup_strv_free_ char **l = NULL;
                        r = appliance_xattrs(&err, a, args[i], &l);
                        if (r < 0) {
                                status = fail(&err, r, args[i]);
                                continue;
                        }
                        STRV_FOREACH(x, l)
                                fprintf(out, "%s %s\n", args[i], *x);
                } else if (streq(cmd, "nlink")) {
                        uint64_t links;
                        r = appliance_nlink(&err, a, args[i], &links);
                        if (r < 0) {
                                status = fail(&err, r, args[i]);
                                continue;
                        }
                        fprintf(out, "%s %" PRIu64 "\n", args[i], links);
                } else if (streq(cmd, "exists")) {
                        r = appliance_exists(&err, a, args[i]);
                        if (r < 0)
                                return fail(&err, r, args[i]);
                        if (r == 0) {
                                fprintf(stderr, "wb-inspect: '%s' does not exist\n", args[i]);
                                status = EXIT_ABSENT;
                        }
                } else {
                        char sum[65];
                        r = appliance_sha256(&err, a, args[i], sum);
                        if (r < 0) {
                                status = fail(&err, r, args[i]);
                                continue;
                        }
                        fprintf(out, "%s  %s\n", sum, args[i]);
                }
        }
        return status;
}

/* each OUT CMD ARGS... [-- OUT CMD ARGS...]...: the worst status of the
 * groups (could not look beats absent). */
static int run_each(Appliance *a, const char *device, char **args, int n) {
        int status = 0;

        for (int i = 0; i < n;) {
                int end = i;
                while (end < n && !streq(args[end], "--"))
                        end++;
                if (end - i < 2) {
                        fprintf(stderr, "wb-inspect: each: a group is OUT CMD ARGS...\n");
                        return 2;
                }
                FILE *out = fopen(args[i], "we");
                if (!out) {
                        fprintf(stderr, "wb-inspect: cannot write '%s': %m\n", args[i]);
                        return EXIT_COULD_NOT_LOOK;
                }
                int s = run_read(a, device, args[i + 1], args + i + 2, end - i - 2, out);
                if (fclose(out) != 0 && s == 0)
                        s = EXIT_COULD_NOT_LOOK;
                if (s == 2)
                        return 2;
                if (s > status)
                        status = s;
                i = end + 1;
        }
        return status;
}

static int inspect(int argc, char **argv, bool rw) {
        _cleanup_(appliance_freep) Appliance *a = NULL;
        ApplianceConfig cfg = { .label = "inspect", .memsize_mib = 768, .stall_seconds = INSPECT_STALL_SECONDS };
        ErrorSlot err = {};
        const char *disk, *device, *cmd;
        int r, status = 0;

        disk = argv[1];
        device = argv[2];
        cmd = argv[3];
        if ((r = appliance_new(&err, &cfg, &a)) < 0 ||
            (r = appliance_add_drive(&err, a, disk,
                                     endswith(disk, ".qcow2") ? "qcow2" : endswith(disk, ".vmdk") ? "vmdk" : "raw", !rw,
                                     NULL)) < 0 ||
            (r = appliance_launch(&err, a)) < 0)
                return fail(&err, r, disk);

        /* uuid alone reads the device, unmounted. */
        if (!streq(cmd, "uuid") && (r = appliance_mount(&err, a, device, "/")) < 0)
                return fail(&err, r, device);

        if (streq(cmd, "upload") || streq(cmd, "ln-s") || streq(cmd, "tar-in")) {
                if (!rw || argc != 6) {
                        fprintf(stderr, "wb-inspect: %s needs --rw and two arguments\n", cmd);
                        return 2;
                }
                r = streq(cmd, "upload") ? appliance_upload(&err, a, argv[4], argv[5])
                    : streq(cmd, "tar-in") ? appliance_tar_in(&err, a, argv[4], argv[5])
                                           : appliance_symlink(&err, a, argv[4], argv[5]);
                if (r < 0)
                        return fail(&err, r, argv[5]);
        } else if (streq(cmd, "mkdir")) {
                if (!rw) {
                        fprintf(stderr, "wb-inspect: mkdir needs --rw\n");
                        return 2;
                }
                for (int i = 4; i < argc; i++) {
                        r = appliance_mkdir_p(&err, a, argv[i]);
                        if (r < 0)
                                status = fail(&err, r, argv[i]);
                }
        } else if (streq(cmd, "each"))
                status = run_each(a, device, argv + 4, argc - 4);
        else
                status = run_read(a, device, cmd, argv + 4, argc - 4, stdout);
        if (status == 2)
                return 2;
        r = appliance_shutdown(&err, a);
        if (r < 0)
                return fail(&err, r, "shutdown");
        error_done(&err);
        return status;
}
