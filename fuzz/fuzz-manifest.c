/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The image manifest reader on arbitrary input (split at the first
 * form feed into metadata and sums), and the diff of what it accepts. */
#include "compare.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        const char *text = (const char *) data, *ff = memchr(text, '\f', size);
        size_t meta_size = ff ? (size_t) (ff - text) : size;
        ErrorSlot err = {};
        int r;

        r = manifest_parse(&err, text, meta_size, ff ? ff + 1 : "", ff ? size - meta_size - 1 : 0, &m);
        if (r >= 0) {
                _cleanup_strv_free_ char **lines = NULL;
                if (manifest_diff(m, m, &lines) < 0 || strv_length(lines) != 0)
                        __builtin_trap();
                for (size_t i = 1; i < m->n; i++)
                        if (strcmp(m->items[i - 1].path, m->items[i].path) >= 0)
                                __builtin_trap();
        } else if (m || (!err.message && r != -ENOMEM))
                __builtin_trap();
        error_done(&err);
        return 0;
}
