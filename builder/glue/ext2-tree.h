/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The one wrapper around libext2fs: an ext2/3/4 filesystem in an image file
 * on the host, read without mounting it (no root needed), as a tree.
 * Nothing else includes <ext2fs/ext2fs.h>.
 *
 *     _cleanup_(ext2_tree_closep) Ext2Tree *t = NULL;
 *     r = ext2_tree_open(err, "tree.raw", &t);
 *     r = ext2_tree_copy_out(err, t, "/usr/sbin/mke2fs", "tools/mke2fs");
 *     r = ext2_tree_write_tar(err, t, pipe_fd, epoch);
 *
 * libext2fs's own error codes come into the ErrorSlot as its message text.
 */
#include <stdint.h>

#include "error.h"

typedef struct Ext2Tree Ext2Tree;

/* Open the filesystem that fills the image file at path, read-only. */
int ext2_tree_open(ErrorSlot *err, const char *path, Ext2Tree **ret);
Ext2Tree *ext2_tree_close(Ext2Tree *t);
static inline void ext2_tree_closep(Ext2Tree **t) {
        *t = ext2_tree_close(*t);
}

/* Copy the regular file at path (absolute, in the tree; symbolic links on
 * the way are followed inside the tree, never on the host) to dest on the
 * host, which must not exist, with mode.  -ENOENT when the tree has no such
 * file (the message names it). */
int ext2_tree_copy_out(ErrorSlot *err, Ext2Tree *t, const char *path, const char *dest, mode_t mode);

/* Called for each extended attribute of an entry, as it goes into the
 * archive: the entry's path there, the attribute's name and value.  A
 * negative return stops the archive with that error. */
typedef int (*Ext2XattrFn)(ErrorSlot *err, const char *path, const char *name, const void *value, size_t size,
                           void *userdata);

/* The whole tree as a POSIX pax archive written to fd, in a fixed order
 * (each directory's names sorted bytewise, a directory before what it
 * holds, the root as "."), so that the same tree gives the same entries on
 * any host:
 *   - numeric owners, modes, device numbers, symbolic link targets and
 *     file contents as in the tree; a file with more than one name is
 *     written once and its other names as hard links to the first;
 *   - every extended attribute, POSIX ACLs included (as the raw
 *     system.posix_acl_* attributes, in the kernel's format), but not the
 *     filesystem's own system.data;
 *   - mtime at most epoch, atime and ctime epoch: the times a rebuild of
 *     the same tree gives.
 * The archive ends at the tree's end; fd is left open.  A write error
 * (the reader went away: EPIPE) fails with that errno.  xattr_fn may be
 * NULL. */
int ext2_tree_write_tar(ErrorSlot *err, Ext2Tree *t, int fd, int64_t epoch, Ext2XattrFn xattr_fn, void *userdata);
