/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The debootstrap that lays out the base tree comes from the build's own
 * pinned archive, not from the build host: its version is the suite's, the
 * same on any machine, and the base's cache key names its .deb.
 *
 *     DebootstrapPin pin = {};
 *     r = debootstrap_pin(&err, si, "amd64", proxy, cache_dir, &pin);
 *
 * The first time for an InRelease: the main/binary-ARCH Packages index it
 * signs (by hash first, checked against the InRelease's SHA256), the one
 * "debootstrap" (all) it lists, recorded in
 *   <cache_dir>/tools/debootstrap/<InRelease SHA256>.pin   "VERSION SHA256 SIZE FILENAME"
 * (the index itself is not kept).  Then, each time, the .deb
 *   <cache_dir>/tools/debootstrap/<SHA256>.deb             checked, downloaded if missing
 *   <cache_dir>/tools/debootstrap/<SHA256>.tar             its files (data.tar, decompressed)
 * A build whose cache has both files needs no network for them.
 */

#include "error.h"
#include "fetch.h"

typedef struct DebootstrapPin {
        char *version;
        char *filename;    /* its pool path in the archive */
        char sha256[65];   /* of the .deb */
        uint64_t size;
        char *tar_path;    /* its files, a plain tar to unpack in the appliance */
} DebootstrapPin;

void debootstrap_pin_done(DebootstrapPin *p);

int debootstrap_pin(ErrorSlot *err, const SourceInfo *si, const char *architecture, const char *proxy,
                    const char *cache_dir, DebootstrapPin *ret);

/* The pin file's line (exposed for tests): 0, or -EBADMSG. */
int debootstrap_pin_parse(const char *line, DebootstrapPin *ret);
