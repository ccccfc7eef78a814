/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The image manifest reader on arbitrary input (split at the first
 * form feed into metadata and sums), and the diff of what it accepts,
 * with the input's first bytes (and their complement) as superblocks. */
#include "manifest.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        const char *text = (const char *) data, *ff = memchr(text, '\f', size);
        size_t meta_size = ff ? (size_t) (ff - text) : size;
        ErrorSlot err = {};
        int r;

        r = manifest_parse(&err, text, meta_size, ff ? ff + 1 : "", ff ? size - meta_size - 1 : 0, &m);
        if (r >= 0) {
                _cleanup_strv_free_ char **lines = NULL, **sb_lines = NULL;
                _cleanup_(manifest_freep) Manifest *other = NULL;
                uint8_t sb[SUPERBLOCK_SIZE] = {}, flipped[SUPERBLOCK_SIZE];

                if (manifest_diff(m, m, &lines) < 0 || strv_length(lines) != 0)
                        __builtin_trap();
                memcpy(sb, data, size < sizeof sb ? size : sizeof sb);
                sb[0x38] = 0x53;
                sb[0x39] = 0xef;
                for (size_t i = 0; i < sizeof sb; i++)
                        flipped[i] = (uint8_t) ~sb[i];
                flipped[0x38] = 0x53;
                flipped[0x39] = 0xef;
                if (manifest_parse(&err, text, meta_size, ff ? ff + 1 : "", ff ? size - meta_size - 1 : 0, &other) < 0)
                        __builtin_trap();
                manifest_set_superblock(m, sb);
                manifest_set_superblock(other, flipped);
                /* Every byte but the magic differs: some lines, all of them
                 * about the superblock. */
                if (manifest_diff(m, other, &sb_lines) < 0 || strv_length(sb_lines) == 0)
                        __builtin_trap();
                STRV_FOREACH(l, sb_lines)
                        if (!startswith(*l, "superblock "))
                                __builtin_trap();
                for (size_t i = 1; i < m->n; i++)
                        if (strcmp(m->items[i - 1].path, m->items[i].path) >= 0)
                                __builtin_trap();
        } else if (m || (!err.message && r != -ENOMEM))
                __builtin_trap();
        error_done(&err);
        return 0;
}
