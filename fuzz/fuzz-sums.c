/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The SHA256SUMS parser on arbitrary input (verify-signature reads it from
 * whoever published the directory).  What it accepts must format back and
 * parse again to the same entries. */
#include "fuzz.h"
#include "sums.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = NULL;
        SumsEntry *e = NULL, *again = NULL;
        size_t n = 0, m = 0;
        ErrorSlot err = {};

        if (sums_parse(&err, (const char *) data, size, &e, &n) < 0) {
                if (!err.message)
                        __builtin_trap();
                error_done(&err);
                return 0;
        }
        if (n == 0 || n > SUMS_MAX_FILES)
                __builtin_trap();
        if (sums_format(e, n, &text) < 0)
                __builtin_trap();
        if (sums_parse(&err, text, strlen(text), &again, &m) < 0 || m != n)
                __builtin_trap();
        /* The formatted text is sorted: every entry is found in it once. */
        for (size_t i = 0; i < n; i++) {
                size_t found = 0;

                for (size_t j = 0; j < m; j++)
                        if (streq(e[i].name, again[j].name) && streq(e[i].sha256, again[j].sha256))
                                found++;
                if (found != 1)
                        __builtin_trap();
                if (i > 0 && strcmp(again[i - 1].name, again[i].name) >= 0)
                        __builtin_trap();
        }
        sums_entries_free(e, n);
        sums_entries_free(again, m);
        return 0;
}
