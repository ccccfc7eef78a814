/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * How many packages of how many apt or debootstrap has installed, from
 * their own lines (format/dpkg-progress.h), as progress reports
 * (log_progress_packages()): an appliance line hook.
 *
 *     PackageProgress p = PACKAGE_PROGRESS_INIT(label, n);   // n: 0 counts debootstrap's retrievals
 *     appliance_set_line_hook(a, package_progress_line, &p);
 *     ... apt-get install ...
 *     appliance_set_line_hook(a, NULL, NULL);
 *
 * A package is done once unpacked and configured: done is half the sum of
 * both counts, so it moves through both phases.
 */

#include <stdbool.h>
#include <stddef.h>

typedef struct PackageProgress {
        const char *label;
        size_t total;           /* 0: the packages debootstrap retrieved */
        size_t retrieved, unpacked, configured;
} PackageProgress;

#define PACKAGE_PROGRESS_INIT(l, n) ((PackageProgress) { .label = (l), .total = (n) })

bool package_progress_line(const char *line, void *userdata);
