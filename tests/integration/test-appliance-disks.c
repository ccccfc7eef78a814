/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which disk is which inside the appliance.  Its kernel probes SCSI disks
 * asynchronously and names them in the order they answer: under TCG the
 * second drive added is often not /dev/sdb there.  libguestfs's own calls
 * translate names, a command in the appliance's shell does not, and a
 * finalize once partitioned the appliance's own root that way.  Here four
 * drives of different sizes: for each, the kernel's name that
 * appliance_kernel_device() gives must be the disk of that size to a shell
 * command, and libguestfs's name (appliance_device()) must be to
 * libguestfs's calls, whatever order the kernel chose this time. */
#include <inttypes.h>

#include "guestfs-util.h"
#include "helpers/have-appliance.h"
#include "tap.h"

#define N_DISKS 4u
#define MIB (1024u * 1024u)

static uint64_t size_of(unsigned i) {
        return (64u + i) * MIB;
}

int main(void) {
        _cleanup_(appliance_freep) Appliance *a = NULL;
        _cleanup_free_ char *scratch = NULL;
        ApplianceConfig cfg = { .label = "disks", .path = getenv("WB_APPLIANCE"), .memsize_mib = 768 };
        ErrorSlot err = {};
        const char *why = NULL;
        unsigned in_order = 0;
        int r = 0;

        tap_plan_lazy();
        if (!have_appliance(&why))
                return tap_skip_all(why);
        if (mkdtemp_in(NULL, "test-appliance-disks", &scratch) < 0)
                return tap_skip_all("cannot create a temporary directory");

        r = appliance_new(&err, &cfg, &a);
        for (unsigned i = 0; r >= 0 && i < N_DISKS; i++) {
                _cleanup_free_ char *name = strdup_printf("disk%u.img", i), *path = NULL;

                path = name ? path_join(scratch, name) : NULL;
                r = path ? disk_create(&err, path, "raw", size_of(i), NULL, NULL) : -ENOMEM;
                if (r >= 0)
                        r = appliance_add_drive(&err, a, path, "raw", i != 0, "unsafe");
        }
        if (r >= 0)
                r = appliance_launch(&err, a);
        if (!tap_ok(r >= 0, "an appliance with %u disks of %u..%u MiB starts", N_DISKS, 64u, 64u + N_DISKS - 1)) {
                tap_diag("%s", error_text(&err, r));
                goto finish;
        }

        for (unsigned i = 0; i < N_DISKS; i++) {
                _cleanup_free_ char *kdev = NULL, *dev = NULL, *out = NULL, *want = NULL;
                char expect[16];

                r = appliance_kernel_device(&err, a, i, &kdev);
                if (!tap_ok(r >= 0 && startswith(kdev, "/dev/sd"), "disk %u: the kernel's name is known (%s)", i,
                            r >= 0 ? kdev : error_text(&err, r))) {
                        error_clear(&err);
                        continue;
                }
                snprintf(expect, sizeof expect, "/dev/sd%c", 'a' + (int) i);
                if (streq(kdev, expect))
                        in_order++;
                r = appliance_run(&err, a, NULL, ARGV("blockdev", "--getsize64", kdev), &out);
                want = strdup_printf("%" PRIu64, size_of(i));
                if (!tap_ok(r >= 0 && want && strstr(strempty(out), want),
                            "disk %u: a shell command given %s reaches the disk of %" PRIu64 " MiB", i, kdev,
                            size_of(i) / MIB))
                        tap_diag("blockdev said: %s", r >= 0 ? strempty(out) : error_text(&err, r));
                error_clear(&err);

                r = appliance_device(&err, a, i, &dev);
                if (r >= 0)
                        r = appliance_check_device_size(&err, a, dev, size_of(i));
                if (!tap_ok(r >= 0, "disk %u: libguestfs's calls given %s reach the same disk", i,
                            dev ? dev : "(none)"))
                        tap_diag("%s", error_text(&err, r));
                error_clear(&err);
        }
        tap_diag("this time the kernel named %s", in_order == N_DISKS ? "the disks in order"
                                                                       : "some disks out of order");
        r = appliance_shutdown(&err, a);
        tap_ok(r >= 0, "the appliance shuts down");
finish:
        a = appliance_free(a);
        (void) rm_rf(scratch);
        return tap_done();
}
