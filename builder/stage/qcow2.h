/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * A compressed qcow2 (version 3, as qemu's "compat=1.1") written from a raw
 * disk image by our own code, so that its bytes depend on the input, this
 * program and zlib's deflate, not on the qemu-img of the host that built it
 * (qemu's writer has changed between releases).  The layout, in one pass:
 *
 *   cluster 0        the header (104 bytes; no backing file, no
 *                    encryption, no extensions), written last
 *   from cluster 1   for each 512 MiB the L2 table covers: its non-zero
 *                    64 KiB clusters, raw deflate (window 2^12, as qemu
 *                    reads them), packed one after the other at any byte
 *                    offset; a cluster that does not shrink by a sector is
 *                    stored whole at a cluster boundary; then, if any was
 *                    stored, the L2 table itself
 *   at the end       the L1 table, the refcount blocks (16-bit counts), the
 *                    refcount table
 *
 * All-zero clusters are not stored (their L2 entry stays 0, which reads as
 * zeros: the image has no backing file).  A host cluster's refcount is the
 * number of stored clusters that use it, as qemu-img check counts it.  No
 * time stamps, no random numbers: the same input gives the same bytes.
 * The clusters are deflated 128 at a time on up to `threads` threads (16 at
 * most) and written in order: the bytes do not depend on the number of
 * threads.  Memory: 128 clusters and their compressed forms (16 MiB), one
 * L2 table (64 KiB), the L1 table (8 bytes per 512 MiB) and 2 bytes per
 * 64 KiB of output.
 */

#include "error.h"

#define QCOW2_SIZE_MAX (UINT64_C(1) << 40) /* 1 TiB, as our VMDK writer */

/* Convert the raw image at raw_path into a qcow2 at dest_path (created or
 * truncated, mode 0644; the caller renames it into place), compressing on
 * up to threads threads (0 or 1: in the calling thread).  ret_size (may be
 * NULL) gets the size of the qcow2 in bytes. */
int qcow2_from_raw(ErrorSlot *err, const char *raw_path, const char *dest_path, unsigned threads,
                   uint64_t *ret_size);
