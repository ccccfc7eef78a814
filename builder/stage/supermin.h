/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Our libguestfs appliance.  Debian's appliance lacks perl and wget, which
 * debootstrap needs.  We build a "fixed" appliance with supermin from the
 * system's supermin.d (its files linked, not copied) plus those packages (and gpgv),
 * into <cache>/appliance/<key>/, and point libguestfs at it.  The key covers
 * the host's package database and the supermin.d inputs, so the appliance is
 * rebuilt exactly when the host packages it is made of change (supermin
 * takes the files from the host's installed packages).
 */

#include "cache.h"

/* Build or reuse the appliance; *ret_path is the directory to give
 * libguestfs (guestfs_set_path).  ret_reused tells whether it was cached. */
int supermin_prepare(ErrorSlot *err, Cache *cache, char **ret_path, bool *ret_reused);

/* Where the system's supermin.d is, or -ENOENT. */
int supermin_find_system_dir(ErrorSlot *err, char **ret);
