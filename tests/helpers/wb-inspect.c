/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test helper: look inside a disk image from outside, through our own
 * appliance wrapper (so TCG is chosen as the build chooses it).
 *
 *   wb-inspect DISK DEVICE cat PATH...     print files
 *   wb-inspect DISK DEVICE exists PATH...  exit 0 if all exist, 1 otherwise
 *   wb-inspect DISK DEVICE ls DIR...        list directories, one name a line
 */
#include "guestfs-util.h"

int main(int argc, char **argv) {
        _cleanup_(appliance_freep) Appliance *a = NULL;
        ApplianceConfig cfg = { .label = "inspect", .path = getenv("WB_APPLIANCE"), .memsize_mib = 768 };
        ErrorSlot err = {};
        int r, status = 0;

        if (argc < 5) {
                fprintf(stderr, "usage: wb-inspect DISK DEVICE cat|exists|ls PATH...\n");
                return 2;
        }
        if ((r = appliance_new(&err, &cfg, &a)) < 0 ||
            (r = appliance_add_drive(&err, a, argv[1], endswith(argv[1], ".qcow2") ? "qcow2" : "raw", true, NULL)) < 0 ||
            (r = appliance_launch(&err, a)) < 0 || (r = appliance_mount(&err, a, argv[2], "/")) < 0) {
                fprintf(stderr, "wb-inspect: %s\n", error_message(&err, r));
                return 1;
        }
        for (int i = 4; i < argc; i++) {
                if (streq(argv[3], "cat")) {
                        _cleanup_free_ char *data = NULL;
                        size_t n;
                        r = appliance_read_file(&err, a, argv[i], 64u << 20, &data, &n);
                        if (r < 0) {
                                fprintf(stderr, "wb-inspect: %s: %s\n", argv[i], error_message(&err, r));
                                error_clear(&err);
                                status = 1;
                                continue;
                        }
                        fwrite(data, 1, n, stdout);
                } else if (streq(argv[3], "ls")) {
                        _cleanup_strv_free_ char **names = NULL;
                        r = appliance_ls(&err, a, argv[i], &names);
                        if (r < 0) {
                                fprintf(stderr, "wb-inspect: %s: %s\n", argv[i], error_message(&err, r));
                                error_clear(&err);
                                status = 1;
                                continue;
                        }
                        STRV_FOREACH(n, names)
                                printf("%s\n", *n);
                } else if (streq(argv[3], "exists")) {
                        r = appliance_exists(&err, a, argv[i]);
                        if (r <= 0) {
                                fprintf(stderr, "wb-inspect: '%s' does not exist\n", argv[i]);
                                status = 1;
                        }
                } else {
                        fprintf(stderr, "wb-inspect: unknown command '%s'\n", argv[3]);
                        return 2;
                }
        }
        (void) appliance_shutdown(&err, a);
        error_done(&err);
        return status;
}
