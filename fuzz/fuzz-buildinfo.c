/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The buildinfo reader on arbitrary input: whatever it accepts, the writer
 * writes back byte for byte. */
#include "buildinfo.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(buildinfo_freep) Buildinfo *b = NULL;
        ErrorSlot err = {};
        int r;

        r = buildinfo_parse(&err, (const char *) data, size, &b);
        if (r >= 0) {
                _cleanup_free_ char *out = NULL;
                if (buildinfo_format(&err, b, &out) < 0 || strlen(out) != size || memcmp(out, data, size) != 0)
                        __builtin_trap();
        } else if (b || (!err.message && r != -ENOMEM))
                __builtin_trap();
        error_done(&err);
        return 0;
}
