/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * What a disk image file is, from its first bytes, before anything opens
 * it: `compare` and `verify` take images from anyone (a published release),
 * and qemu follows what an image's header names.  A qcow2 may name a
 * backing file or an external data file, a VMDK a parent or other extents:
 * any of them could be a disk or file of the verifier's host, whose files
 * would then be listed.  So the format is taken from the content, never
 * from the file name, and these are refused:
 *
 *   qcow2   a backing file, an external data file (incompatible feature
 *           bit 2 or its header extension), encryption, a version other
 *           than 2 or 3, a header that does not fit the bytes given;
 *   VMDK    a text descriptor ("# Disk DescriptorFile": it names other
 *           files), a sparse header whose embedded descriptor is not in
 *           the bytes given, names a parent (parentFileNameHint, a
 *           parentCID other than ffffffff) or is of another createType
 *           than monolithicSparse or streamOptimized;
 *   all     a virtual size above DISK_MAX_VIRTUAL_SIZE.
 *
 * Anything else is raw: qemu, told "raw", reads its bytes and follows
 * nothing.
 */

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Bytes to read from the start of an image for disk_header_parse(). */
#define DISK_HEADER_READ (64u * 1024u)
/* 16 TiB: more than any recipe's DiskSize a target can hold. */
#define DISK_MAX_VIRTUAL_SIZE (UINT64_C(16) << 40)

typedef enum DiskFormat {
        DISK_RAW,
        DISK_QCOW2,
        DISK_VMDK,
} DiskFormat;

typedef struct DiskHeader {
        DiskFormat format;
        uint64_t virtual_size;  /* bytes */
} DiskHeader;

/* Parse the first size bytes of an image of file_size bytes; name is for
 * messages.  -EPERM for what is refused above (with the reason), -EBADMSG
 * for a malformed header, -EFBIG for a virtual size over the limit. */
int disk_header_parse(ErrorSlot *err, const char *name, const uint8_t *data, size_t size, uint64_t file_size,
                      DiskHeader *ret);

/* "raw", "qcow2", "vmdk": qemu's names. */
const char *disk_format_name(DiskFormat f);
