/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Overlay trees (overlays/NAME/ in the project) are copied into the guest
 * as a tar: packed here with libarchive, unpacked inside the appliance with
 * tar-in, so that no file of the build host is ever written as root.
 *
 * The tar is a function of the tree's names, types, contents, link
 * targets, owner-exec bits and modes manifest (plus the mtime clamp) and of
 * nothing else: entries are sorted by name at each level, paths are
 * relative ("etc/tor/torrc", no "./"), owner is always root (uid/gid 0,
 * uname/gname "root"), there are no atimes, ctimes, xattrs or ACLs, and the
 * tree's top directory itself
 * is not an entry (the guest directory it lands in keeps its owner and
 * mode).  Directory entries do carry their
 * mode, and tar applies it to a directory that already exists in the guest.
 *
 * Modes.  Git records only the executable bit, so the rest of a checked-out
 * mode is the umask of whoever checked it out and must not reach the image.
 * Directories are 0755; regular files 0755 if the owner may execute them
 * in the tree, else 0644; symlinks 0777.  Nothing else of the on-disk mode
 * is used.  Other modes come from the optional manifest beside the tree:
 * for tree_dir "overlays/NAME" (trailing slashes ignored) it is
 * "overlays/NAME.modes", one entry per line:
 *
 *     # sudo refuses drop-ins that others can write
 *     0440 etc/sudoers.d/whonix
 *     700 root
 *     4755 usr/local/bin/helper
 *
 * MODE is 3 or 4 octal digits (setuid, setgid and sticky allowed); PATH is
 * the rest of the line, relative to the tree's top (no leading '/', no '.',
 * '..' or empty components, no trailing '/'), and names a file or a
 * directory of the tree (not a symlink, not the top itself).  Blank lines
 * and lines starting with '#' are ignored, as are blanks around the fields.
 * A missing manifest is no manifest; its errors, as "FILE:LINE: message"
 * (FILE: the manifest's path as derived from tree_dir): malformed lines, a path given twice, a
 * path that is not in the tree (or only behind a symlink), a world-writable
 * mode (o+w) other than on a directory with the sticky bit.  Limits: 64 KiB,
 * 4096 entries, 4096 characters a line.
 *
 * Refused, with the path in the message (each could bring a file of the
 * build host into the image): a tree or manifest that is itself a symlink;
 * a regular file or manifest with more than one name (a hard link: git
 * never makes one); anything on another filesystem than the tree's top (a
 * mount point, a bind mount); symlinks that are absolute or
 * climb above the tree (only leading ".." components are allowed, and no
 * more of them than the link's depth), devices, FIFOs and sockets, names
 * with control characters or invalid UTF-8, more than 64 levels, more than
 * 100000 entries, files larger than 1 GiB.
 *
 * overlay_tree_hash() hashes the same walk (path, type, mode as packed,
 * size, content, link target; not mtimes, not owners) and the manifest's
 * bytes (comments included) for the build's cache key.
 */

#include "error.h"
#include "guestfs-util.h"

#define OVERLAY_MAX_DEPTH 64u
#define OVERLAY_MAX_ENTRIES 100000u
#define OVERLAY_MAX_FILE_SIZE (UINT64_C(1) << 30)

typedef struct OverlayPackOptions {
        /* SOURCE_DATE_EPOCH-style clamp: when >= 0, every entry's mtime is
         * min(actual, mtime).  Negative: the actual mtimes (whole seconds). */
        int64_t mtime;
} OverlayPackOptions;

/* Write the tar of tree_dir to dest_tar (replaced atomically; on failure
 * nothing is left there).  opts may be NULL (no clamp). */
int overlay_pack(ErrorSlot *err, const char *tree_dir, const char *dest_tar, const OverlayPackOptions *opts);

/* Lowercase hex SHA-256 of the normalized tree. */
int overlay_tree_hash(ErrorSlot *err, const char *tree_dir, char **ret_hex);

/* Pack tree_dir (mtimes clamped to mtime when >= 0) into a temporary file
 * and unpack it at guest_dir inside the launched appliance. */
int overlay_apply(ErrorSlot *err, Appliance *a, const char *tree_dir, const char *guest_dir, int64_t mtime);

/* SHA-256 over the recipes/, overlays/ and keys/ trees of a data directory
 * (content, modes, names; see overlay_tree_hash(); the buildinfo's Recipe-Tree-SHA256). */
int overlay_data_dir_hash(ErrorSlot *err, const char *data_dir, char **ret);
