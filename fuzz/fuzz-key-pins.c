/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The keys/suites reader (format/key-pins.c) on arbitrary input: on
 * success every suite is findable, unique, with uppercase 40-hex
 * fingerprints; on failure there is a message. */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "key-pins.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(key_pins_freep) KeyPins *p = NULL;
        ErrorSlot err = {};
        int r;

        r = key_pins_parse(&err, "fuzz/suites", (const char *) data, size, &p);
        if (r >= 0) {
                for (size_t i = 0; i < p->n; i++) {
                        if (key_pins_for(p, p->suites[i]) != p->fprs[i] || !p->fprs[i][0])
                                __builtin_trap();
                        STRV_FOREACH(f, p->fprs[i])
                                if (strlen(*f) != 40 || strspn(*f, "0123456789ABCDEF") != 40)
                                        __builtin_trap();
                }
        } else if (!err.message && r != -ENOMEM)
                __builtin_trap();
        error_done(&err);
        return 0;
}
