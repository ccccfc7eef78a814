/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>

#include "dpkg-progress.h"
#include "log.h"
#include "package-progress.h"

bool package_progress_line(const char *line, void *userdata) {
        PackageProgress *p = userdata;
        char pkg[128], what[160];
        const char *verb;
        size_t total, done;

        switch (dpkg_progress_line(line, pkg, sizeof pkg)) {
        case DPKG_RETRIEVE:
                p->retrieved++;
                verb = "fetching";
                break;
        case DPKG_UNPACK:
                p->unpacked++;
                verb = "unpacking";
                break;
        case DPKG_CONFIGURE:
                p->configured++;
                verb = "setting up";
                break;
        default:
                return false;
        }
        total = p->total ?: p->retrieved;
        done = (p->unpacked + p->configured) / 2;
        if (total > 0 && done > total)
                done = total;
        snprintf(what, sizeof what, "%s %s", verb, pkg);
        log_progress_packages(p->label, what, done, total);
        return true;
}
