/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Recipe parser on arbitrary bytes.  No base directory, so Include= and
 * Scripts= are refused and the input alone decides what happens.  A recipe
 * that parses must format; a failure must leave nothing behind but a
 * message (allocation failures aside).
 */
#include "fuzz.h"
#include "recipe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(recipe_freep) Recipe *r = NULL;
        _cleanup_free_ char *text = NULL;
        ErrorSlot err = {};
        int k;

        k = recipe_parse_buffer(&err, "fuzz.conf", (const char *) data, size, NULL, &r);
        if (k >= 0) {
                if (!r || !r->components || !r->packages || !r->networks || recipe_format(r, &text) < 0)
                        __builtin_trap();
        } else if (r || (k != -ENOMEM && !err.message))
                __builtin_trap();
        error_done(&err);
        return 0;
}
