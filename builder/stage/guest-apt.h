/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * What apt in the guest tree (mounted at / in an appliance) knows, read
 * from outside the guest and parsed by format/packages:
 *
 *     guest_installed_packages()  dpkg's status: what is installed;
 *     guest_match_indexes()       fills in SHA256, Size and Filename from
 *                                 every "*_Packages" index in apt's lists
 *                                 (apt checked each against the InRelease
 *                                 whose signature the build verified);
 *     guest_check_archive()       checks the .debs in apt's archive
 *                                 directory that apt is about to install
 *                                 against those indexes, before apt runs
 *                                 dpkg.
 *
 * Why the last one: apt takes a file that is already in its archive
 * directory, named as it names downloads, on its size alone, and that
 * directory is the package cache disk, which outlives builds and is not
 * trusted.  A file whose SHA-256 or size differs from the index is removed
 * from the cache (so that the next build downloads it again) and the check
 * fails naming the package, the index's hash and the file's.
 */

#include "guestfs-util.h"
#include "packages.h"

#define GUEST_APT_LISTS "/var/lib/apt/lists"
#define GUEST_DPKG_STATUS "/var/lib/dpkg/status"

int guest_installed_packages(ErrorSlot *err, Appliance *a, PackageList **ret);
int guest_match_indexes(ErrorSlot *err, Appliance *a, PackageList *l, size_t *ret_n_indexes);
/* wanted: the archive file names apt is about to take (apt-get
 * --print-uris against an empty archive directory); NULL: every file. */
int guest_check_archive(ErrorSlot *err, Appliance *a, const char *archive_dir, char * const *wanted,
                        const char *label);
/* The suite's InRelease in apt's lists (left by debootstrap, or by apt-get
 * update) has the SHA256 the fetch stage verified: -ESTALE if not, -ENOENT
 * if there is none. */
int guest_check_inrelease(ErrorSlot *err, Appliance *a, const char *suite, const char *sha256);
