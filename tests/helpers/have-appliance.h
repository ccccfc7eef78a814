/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* For C tests that launch an appliance: whether this machine can, and if
 * not why (for tap_skip_all()). */

#include <glob.h>
#include <stdbool.h>
#include <unistd.h>

static inline bool have_appliance(const char **why) {
        glob_t g = {};
        bool kernel;

        if (access("/usr/bin/qemu-system-x86_64", X_OK) < 0) {
                *why = "qemu-system-x86 is not installed (tools/install-deps)";
                return false;
        }
        if (access("/usr/bin/supermin", X_OK) < 0) {
                *why = "supermin is not installed (tools/install-deps)";
                return false;
        }
        kernel = glob("/boot/vmlinuz-*", 0, NULL, &g) == 0;
        globfree(&g);
        if (!kernel) {
                *why = "no host kernel in /boot for the appliance";
                return false;
        }
        return true;
}
