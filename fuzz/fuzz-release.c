/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Release parser and date parser on arbitrary input. */
#include "fuzz.h"
#include "release.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(release_freep) ReleaseFile *rel = NULL;
        ErrorSlot err = {};
        int r;

        r = release_parse(&err, (const char *) data, size, &rel);
        if (r >= 0) {
                if (!rel->architectures || !rel->components)
                        __builtin_trap();
                for (size_t i = 0; i < rel->n_entries; i++)
                        if (strlen(rel->entries[i].sha256) != 64 ||
                            release_find(rel, rel->entries[i].path) != &rel->entries[i])
                                __builtin_trap();
                if (rel->valid_until) {
                        int64_t t;
                        (void) release_parse_date(rel->valid_until, &t);
                }
        } else if (rel || !err.message)
                __builtin_trap();
        error_done(&err);
        return 0;
}
