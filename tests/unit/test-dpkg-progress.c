/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Package progress in apt's, dpkg's and debootstrap's lines
 * (format/dpkg-progress.c), and the counts the hook makes of them
 * (stage/package-progress.c). */
#include <inttypes.h>
#include <string.h>

#include "dpkg-progress.h"
#include "log.h"
#include "package-progress.h"
#include "tap.h"

static void line_is(const char *line, DpkgStep want, const char *pkg_want) {
        char pkg[64];
        DpkgStep s = dpkg_progress_line(line, pkg, sizeof pkg);

        tap_ok(s == want && streq(pkg, pkg_want), "'%s': step %d, package '%s' (got %d, '%s')", line, want, pkg_want, s,
               pkg);
}

static uint64_t last_done, last_total;
static char last_what[160];
static unsigned events;

static void sink(const ProgressEvent *e, void *userdata) {
        if (e->unit != PROGRESS_PACKAGES)
                return;
        events++;
        last_done = e->done;
        last_total = e->total;
        snprintf(last_what, sizeof last_what, "%s", strempty(e->what));
}

int main(void) {
        tap_plan_lazy();
        line_is("Unpacking tor (0.4.9.15-0+deb13u1) ...", DPKG_UNPACK, "tor");
        line_is("Unpacking libc6:amd64 (2.41-12) over (2.41-11) ...", DPKG_UNPACK, "libc6");
        line_is("Setting up libreoffice-core (4:25.2.3-2) ...", DPKG_CONFIGURE, "libreoffice-core");
        line_is("Setting up g++-14 (14.2.0-19) ...", DPKG_CONFIGURE, "g++-14");
        line_is("I: Retrieving libc6 2.41-12", DPKG_RETRIEVE, "libc6");
        line_is("I: Unpacking base-files...", DPKG_UNPACK, "base-files");
        line_is("I: Configuring libc-bin...", DPKG_CONFIGURE, "libc-bin");
        line_is("I: Retrieving InRelease ", DPKG_NONE, "");
        line_is("I: Retrieving Packages ", DPKG_NONE, "");
        line_is("I: Unpacking the base system...", DPKG_NONE, "");
        line_is("I: Configuring the base system...", DPKG_NONE, "");
        line_is("I: Unpacking required packages...", DPKG_NONE, "");
        line_is("Setting up tor", DPKG_NONE, "");
        line_is("Unpacking Tor (1) ...", DPKG_NONE, "");
        line_is("Selecting previously unselected package tor.", DPKG_NONE, "");
        line_is("Processing triggers for man-db (2.13.1-1) ...", DPKG_NONE, "");
        line_is("", DPKG_NONE, "");
        {
                char small[5];
                DpkgStep s = dpkg_progress_line("Setting up libreoffice-core (1) ...", small, sizeof small);
                tap_ok(s == DPKG_CONFIGURE && streq(small, "libr"), "a long name is cut to the buffer ('%s')", small);
        }

        log_set_progress_sink(sink, NULL);
        {
                PackageProgress p = PACKAGE_PROGRESS_INIT("gateway", 2);
                bool other = package_progress_line("Reading package lists...", &p);
                package_progress_line("Unpacking tor (1) ...", &p);
                package_progress_line("Unpacking obfs4proxy (1) ...", &p);
                tap_ok(!other && last_done == 1 && last_total == 2 && streq(last_what, "unpacking obfs4proxy"),
                       "apt: two of two unpacked is one of two done (%u events, %s)", events, last_what);
                package_progress_line("Setting up tor (1) ...", &p);
                package_progress_line("Setting up obfs4proxy (1) ...", &p);
                tap_ok(last_done == 2 && last_total == 2 && streq(last_what, "setting up obfs4proxy"),
                       "... and set up, two of two");
        }
        {
                PackageProgress p = PACKAGE_PROGRESS_INIT("bootstrap", 0);
                package_progress_line("I: Retrieving base-files 13.8", &p);
                package_progress_line("I: Retrieving libc6 2.41-12", &p);
                package_progress_line("I: Retrieving dpkg 1.22.21", &p);
                tap_ok(last_done == 0 && last_total == 3 && streq(last_what, "fetching dpkg"),
                       "debootstrap: the total is what it retrieved (%" PRIu64 ")", last_total);
                package_progress_line("I: Unpacking base-files...", &p);
                package_progress_line("I: Configuring base-files...", &p);
                tap_ok(last_done == 1 && last_total == 3, "... one unpacked and configured is one of three");
        }
        log_set_progress_sink(NULL, NULL);
        return tap_done();
}
