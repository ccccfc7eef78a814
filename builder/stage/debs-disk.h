/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The package cache disk (debs.img): one sparse raw disk with an ext4
 * filesystem, attached to every appliance that installs packages, which
 * outlives builds.  Whichever step needs it first makes it: the bootstrap,
 * or a layer on a base that came from elsewhere (a copied cache, a disk the
 * user removed to free space).
 *
 *     r = debs_disk_prepare(&err, path);            before adding the drive
 *     ...launch...
 *     r = debs_disk_format_if_new(&err, a, path, device, "bootstrap");
 *
 * debs_disk_prepare() creates the file (DEBS_DISK_SIZE, sparse) if it does
 * not exist.  debs_disk_format_if_new() checks that device is that disk (its
 * size; never format another) and makes the filesystem if it has none.
 */

#include "guestfs-util.h"

/* Virtual size of the package cache disk (sparse). */
#define DEBS_DISK_SIZE (32ull << 30)

int debs_disk_prepare(ErrorSlot *err, const char *path);
int debs_disk_format_if_new(ErrorSlot *err, Appliance *a, const char *path, const char *device, const char *label);
