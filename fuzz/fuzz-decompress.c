/* SPDX-License-Identifier: GPL-2.0-or-later */
/* archive_decompress_memory() (a mirror's Packages.xz / .gz) on arbitrary
 * input: a NUL-terminated result within the bound, or an error with a
 * message; never both, never neither. */
#include "archive-util.h"
#include "fuzz.h"

#define FUZZ_MAX (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = NULL;
        ErrorSlot err = {};
        size_t n = 0;
        int r;

        r = archive_decompress_memory(&err, "fuzz input", data, size, FUZZ_MAX, &text, &n);
        if (r >= 0) {
                if (!text || n > FUZZ_MAX || text[n] != 0 || err.message)
                        __builtin_trap();
        } else if (text || (r != -ENOMEM && !err.message))
                __builtin_trap();
        error_done(&err);
        return 0;
}
