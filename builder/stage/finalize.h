/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The finalize stage: from a customized tree to the bootable disk.
 *
 * The tree (the flavor's layer, under a qcow2 overlay that takes the
 * writes and is thrown away after) is normalized in the appliance —
 * build-time state that would differ between builds or leak the build host
 * is removed or fixed — and given fstab, GRUB's files and a generated
 * grub.cfg.  The final disk is then made without ever mounting it: a GPT
 * with a BIOS boot partition and the root partition (disk and partition
 * GUIDs derived from the seed), GRUB's boot sector and core image written
 * by grub-bios-setup, and an ext4 filesystem created *from the tree* by the
 * tree's own mke2fs with a derived UUID and hash seed, a fixed clock and
 * times clamped to SOURCE_DATE_EPOCH.  That mke2fs runs natively on the
 * host, fed the tree as an archive (finalize-native.h), when it can read
 * one (e2fsprogs 1.47.1 and later); an older one runs in the appliance and
 * reads the mounted tree.  Blocks the filesystem does not use stay holes,
 * so the raw disk is sparse.
 */

#include "error.h"
#include "recipe.h"

typedef struct FinalizeSpec {
        const char *label;
        const Recipe *recipe;        /* disk size, kernel command line */
        const char *seed;            /* for the disk, partition and filesystem UUIDs */
        int64_t source_date_epoch;
        const char *suite;           /* the suite whose signed InRelease ... */
        const char *inrelease_sha256; /* ... the host verified: the guest's apt must have used the same */
        const char *packages_path;   /* where to write the installed packages (package_list_format()) */
} FinalizeSpec;

/* The filesystem UUID of the root partition, as written into fstab and
 * grub.cfg (exposed for tests). */
int finalize_root_uuid(const char *seed, const char *vm_name, char ret[static 37]);

/* The debugfs commands that set every inode's ctime and atime to epoch,
 * from the NUL-separated paths find -print0 printed in the tree (".",
 * "./etc", ...), and zero the superblock's kbytes_written; a name holding a
 * double quote or a newline is refused (-EINVAL). */
int finalize_debugfs_times(ErrorSlot *err, const char *paths, size_t size, int64_t epoch, char **ret);

/* Whether an mke2fs that prints version_line for -V clamps the times it
 * copies to SOURCE_DATE_EPOCH (e2fsprogs 1.47.1 and later). */
bool finalize_mke2fs_clamps(const char *version_line);

/* The image's apt sources (deb822, /etc/apt/sources.list.d/debian.sources)
 * from the recipe's [Apt]: Mirror= for SUITE and SUITE-updates,
 * SecurityMirror= for SUITE-security, the recipe's components, Debian's
 * archive keyring.  "" when the recipe names no mirror (the image then has
 * no sources: the build's own, which name the build's mirror, never ship).
 * Exposed for tests. */
int finalize_apt_sources(const Recipe *recipe, const char *suite, char **ret);

int finalize_key(ErrorSlot *err, const FinalizeSpec *spec, const char *parent_key, char **ret);

/* Write the final raw disk to dest (which must not exist; removed on
 * failure), and the list of its installed packages, each pinned to the
 * SHA256 in the package index the guest's apt used, to packages_path.  That
 * index must come from the InRelease the host verified (the same SHA256):
 * if the mirror changed during the build, finalize fails and says so. */
int finalize_run(ErrorSlot *err, const FinalizeSpec *spec, const char *appliance_path, const char *layer_disk,
                 const char *dest, bool verbose);
