/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The customize stage: one layer of packages, overlays and scripts applied
 * to a parent disk, inside the appliance, into a new qcow2 whose backing
 * file is the parent.  The build applies two layers: the shared base layer
 * (the recipe both flavors include: kernel, bootloader, hardening), then the
 * flavor's own additions.
 *
 * Inside the guest: apt and dpkg run in a chroot with the package cache disk
 * mounted as /var/cache/apt/archives (apt checks every .deb against the
 * signed index); services never start (policy-rc.d); fsyncs, translations
 * and man-db triggers are switched off for the build and the switches
 * removed afterwards.  apt's sources during the build (/etc/apt/sources.list,
 * debootstrap's file, which finalize removes) name this build's mirror:
 * a parent disk made from another mirror (a cached base, a verifier's local
 * mirror) has its sources rewritten and its package lists fetched again,
 * which the pinned InRelease makes the same lists.
 *
 * Order within a layer: early overlays (what install-time hooks such as
 * mkinitramfs must read), the packages, the overlays (dpkg is done with
 * them: a package's conffile is replaced by ours), the scripts, the user,
 * the host name and Tor's connection file.  The build makes each recipe layer in two cached steps, one
 * spec each: early overlays and packages (the costly part), then the rest,
 * so that changing an overlay file re-runs no apt.
 */

#include "error.h"

typedef struct CustomizeSpec {
        const char *label;            /* "base" or the flavor, for progress and messages */
        char **packages;              /* installed with apt (may be empty) */
        char **remove_packages;       /* purged after the install */
        char **early_overlay_dirs;    /* absolute overlay tree paths, applied before the packages */
        char **overlay_dirs;          /* absolute overlay tree paths, applied after the packages */
        char **scripts;               /* absolute paths, run in the guest chroot in order */
        const char *hostname;         /* NULL: leave as is */
        const char *tor_connection;   /* NULL, or /etc/tor/torrc.d/40-connection.conf (a gateway's
                                       * [Tor] section, format/tor-connection.h) */
        const char *user_name;        /* NULL: no user */
        char **user_groups;
        int64_t source_date_epoch;    /* clamps overlay mtimes */
        const char *proxy;            /* NULL, or the HTTP proxy apt uses during the build (as the
                                       * appliance reaches it: appliance_url()); never in the image,
                                       * never in the key: it changes where the bytes come from, not
                                       * which bytes (apt checks them against the signed index) */
        const char *mirror;           /* the build's Debian mirror as the appliance reaches it
                                       * (appliance_url()), for apt during the build: NULL leaves the
                                       * parent's sources.  Never in the key, for the proxy's reason */
        const char *suite;            /* with mirror: the suite and components apt installs from */
        char **components;
} CustomizeSpec;

/* Key of the layer: the parent's key and every input of the spec (overlay
 * trees and scripts by content). */
int customize_key(ErrorSlot *err, const CustomizeSpec *spec, const char *parent_key, char **ret);

/* Whether the step uses the package cache disk (packages to install or
 * remove, or scripts, which may call apt).  The disk is one filesystem:
 * only one appliance at a time may have it. */
bool customize_needs_packages_disk(const CustomizeSpec *spec);

/* Apply the layer: dest_disk (must not exist) becomes a qcow2 backed by
 * parent_disk.  debs_disk is the package cache disk, NULL if the step does
 * not need it.  On failure dest_disk is removed. */
int customize_run(ErrorSlot *err, const CustomizeSpec *spec, const char *appliance_path, const char *debs_disk,
                  const char *parent_disk, const char *dest_disk, bool verbose);

/* A layer is made in two cached steps: its early overlays and packages
 * (apt and the maintainer scripts, the costly part), then its overlays,
 * scripts, user and host name, so that changing an overlay file re-runs
 * only the second.  has_* says whether a step has anything to do. */
typedef struct CustomizeSteps {
        CustomizeSpec packages, files;
        bool has_packages, has_files;
} CustomizeSteps;

void customize_split(const CustomizeSpec *whole, CustomizeSteps *ret);
