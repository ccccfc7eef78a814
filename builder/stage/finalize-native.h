/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The root filesystem of the final disk, made on the host instead of in
 * the appliance: the same program (the tree's own mke2fs, from the pinned
 * archive) given the same tree, but natively, where under TCG reading the
 * tree's files through the emulated kernel took most of its time (86 s of
 * the desktop's finalize, against 16 s natively).
 *
 * The normalized tree, a raw image of its filesystem, is read with
 * libext2fs (no mount, no root) and streamed as a pax archive into
 * "mke2fs -d -" (e2fsprogs 1.47.1 and later read a tarball there), which
 * writes the filesystem at the root partition's offset in the final disk;
 * the tree's debugfs then zeroes the superblock's count of kilobytes
 * written.  The tree's e2fsprogs run with the tree's own dynamic loader and
 * libraries, copied out of it; mke2fs loads libarchive by name, and finds
 * this program's (the host's) after the tree's libraries: it only parses
 * the archive, whose entries are fixed by the tree.
 */

#include <stdint.h>

#include "error.h"

typedef struct NativeFilesystem {
        const char *label;      /* for progress */
        const char *tree_image; /* raw image of the normalized tree's filesystem */
        const char *dest;       /* the final raw disk, partitioned */
        uint64_t offset, size;  /* the root partition in it, in bytes */
        const char *uuid;       /* the filesystem's UUID and hash seed */
        int64_t epoch;          /* SOURCE_DATE_EPOCH: the clock and the latest time */
        const char *work_dir;   /* for the tools copied out of the tree */
} NativeFilesystem;

/* A host program (who) failed with r while writing path, or beside it: if
 * its filesystem is full (the program said "No space left on device",
 * or r is -ENOSPC), say so, and which, as -ENOSPC (a full filesystem stays
 * full: the build does not try again); else r as it is. */
int finalize_native_nospc(ErrorSlot *err, int r, const char *path, const char *who);

/* Whether this host can run the tree's x86-64 programs. */
bool finalize_native_possible(void);

int finalize_native_filesystem(ErrorSlot *err, const NativeFilesystem *n);

/* From the output of "ld.so --list PROGRAM": the first library that was
 * not resolved into dir (not found, or found elsewhere: in the host's own
 * directories), or NULL when all were.  Exposed for tests. */
char *finalize_native_foreign_library(const char *list_output, const char *dir);
