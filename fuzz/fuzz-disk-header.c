/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The disk image header reader (format/disk-header.c) on arbitrary
 * input: on success the format is one of three and the virtual size within
 * the limit; on failure there is a message. */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "disk-header.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ErrorSlot err = {};
        DiskHeader h;
        int r;

        r = disk_header_parse(&err, "fuzz.img", data, size, size, &h);
        if (r >= 0) {
                if ((h.format != DISK_RAW && h.format != DISK_QCOW2 && h.format != DISK_VMDK) ||
                    h.virtual_size > DISK_MAX_VIRTUAL_SIZE || !disk_format_name(h.format))
                        __builtin_trap();
        } else if (!err.message && r != -ENOMEM)
                __builtin_trap();
        error_done(&err);
        return 0;
}
