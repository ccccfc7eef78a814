/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The tools that wrote the bytes of a build's artifacts, for its buildinfo
 * (Tools:).  From the image, from the pinned archive: e2fsprogs (mke2fs and
 * debugfs make the root filesystem) and GRUB (its boot code).  From the
 * host: the kernel the appliance boots (it reads and writes the layers'
 * filesystems), debootstrap (it lays out the base tree), gdisk (sgdisk
 * writes the partition table), e2fsprogs (it makes the layers'
 * filesystems; its libext2fs reads the normalized tree for the image's
 * mke2fs), qemu and libguestfs (they run the appliance), supermin (it
 * makes it), and the libraries this program links: zlib (the deflate of
 * the qcow2 and VMDK) and libarchive (the OVA's tar; the image's mke2fs
 * reads the tree's archive with it).  A host package that is not installed
 * is recorded as "none".
 */

#include "buildinfo.h"
#include "packages.h"

/* image: a flavor's installed packages (the image tools' versions);
 * debootstrap_version: the pinned debootstrap's (NULL: none ran). */
int tools_record(ErrorSlot *err, Buildinfo *bi, const PackageList *image, const char *debootstrap_version);

/* The kernel supermin boots: the highest version among /boot/vmlinuz-*
 * (exposed for tests; boot_dir is "/boot").  *ret is the release ("6.1.0-41-amd64"). */
int tools_appliance_kernel(ErrorSlot *err, const char *boot_dir, char **ret);
