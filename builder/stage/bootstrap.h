/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The bootstrap stage: debootstrap runs inside the libguestfs appliance,
 * writing into a fresh ext4 filesystem on the base disk, so the build needs
 * no root and no package script ever runs on the build host.
 *
 * Packages come through the cache disk (debs.img, attached as the second
 * drive and given to debootstrap as --cache-dir): debootstrap checks every
 * cached .deb against the SHA256 in the Packages index it verified with the
 * keyring, and downloads only what is missing or does not match.
 *
 * The result is keyed (bootstrap_key()) by everything that decides its
 * content, and shared by both flavors.
 */

#include "error.h"

typedef struct BootstrapSpec {
        const char *mirror;
        const char *suite;
        const char *architecture;
        const char *variant;
        char **components;
        char **include;            /* extra packages (debootstrap --include) */
        const char *keyring_path;  /* binary OpenPGP keyring on the host */
        const char *inrelease_sha256;
        const char *proxy;         /* NULL, or the HTTP proxy debootstrap uses, as the appliance
                                    * reaches it (appliance_url()); not in the key */
        const char *debootstrap_version; /* the pinned debootstrap (debootstrap-pin.h): */
        const char *debootstrap_sha256;  /* its .deb, in the key */
        const char *debootstrap_tar;     /* its files, unpacked in the appliance */
} BootstrapSpec;

/* Virtual size of the base disk: the final images are built from its tree,
 * so this only bounds what the build can install. */
#define BOOTSTRAP_DISK_SIZE (16ull << 30)

/* The key names the pinned debootstrap's .deb: a base depends on it, not on
 * the rest of the appliance, so an unrelated package change on the host
 * keeps the base, and a base is the same key on any host. */
int bootstrap_key(const BootstrapSpec *spec, char **ret);

/* Bootstrap into a new qcow2 at dest_disk (which must not exist).  On failure
 * dest_disk is removed. */
int bootstrap_run(ErrorSlot *err, const BootstrapSpec *spec, const char *appliance_path, const char *debs_disk,
                  const char *dest_disk, bool verbose);
