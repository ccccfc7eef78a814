/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * streamOptimized VMDK (the disk format inside an OVA, VMware's "Virtual
 * Disk Format 5.0"), written from a raw disk image without qemu-img, so that
 * the output is a function of the input alone:
 *
 *   sector 0         sparse extent header ("KDMV", version 3, flags
 *                    0x30001: newline detection, compressed grains,
 *                    markers; grain 128 sectors, 512 entries per grain
 *                    table, gdOffset "at the end")
 *   sectors 1..20    the text descriptor (createType="streamOptimized",
 *                    CID from the options, parentCID=ffffffff)
 *   from sector 128  grains: a marker (LBA, compressed size) followed by
 *                    the zlib-compressed 64 KiB grain, padded to a sector;
 *                    after the grains of each 32 MiB span, a grain-table
 *                    marker and that grain table (if any grain is stored)
 *   at the end       grain-directory marker and directory, footer marker
 *                    and a copy of the header with gdOffset set, end-of-
 *                    stream marker
 *
 * All-zero grains are not stored (holes are found with SEEK_DATA, data
 * grains are checked for zeros), so a sparse 100 GiB image with 2 GiB of
 * data costs about 2 GiB of reading.  The output has no timestamps and no
 * random numbers: the same input, options and zlib version give the same
 * bytes.  Memory stays bounded: one grain and its compressed form, one
 * grain table (2 KiB) and the grain directory (4 bytes per 32 MiB of
 * capacity: 12.5 KiB for 100 GiB, 128 KiB for the 1 TiB maximum).
 *
 * The raw size must be a multiple of 512 (VMDK capacity is in sectors); a
 * last grain that is only partly inside the disk is stored zero-padded to a
 * whole grain, as readers decompress whole grains.
 */

#include "error.h"

#define VMDK_CAPACITY_MAX (UINT64_C(1) << 40) /* 1 TiB: keeps sector offsets within 32 bits */

typedef struct VmdkOptions {
        uint32_t cid;             /* content id in the descriptor: give a deterministic one */
        const char *adapter_type; /* "ide" (default; VirtualBox attaches it to SATA fine), "lsilogic", "buslogic" */
        int compression_level;    /* zlib level 1..9; 0 means the default (6) */
        const char *extent_name;  /* file name in the descriptor's extent line; NULL: basename of dest_path */
        unsigned threads;         /* grains deflated side by side (0 or 1: in the calling thread); the bytes are the same */
} VmdkOptions;

/* Convert the raw image at raw_path into a streamOptimized VMDK at
 * dest_path (via a temporary file in the same directory and rename; mode
 * 0644).  opts may be NULL (CID 0, "ide", level 6).  ret_size (may be NULL)
 * gets the size of the VMDK in bytes. */
int vmdk_from_raw(ErrorSlot *err, const char *raw_path, const char *dest_path, const VmdkOptions *opts,
                  uint64_t *ret_size);
