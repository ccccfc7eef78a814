/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The overlay modes manifest parser (format/overlay-modes.c) on arbitrary
 * input: on success the rules are sorted, unique, findable and within
 * 07777, and their paths are relative names; on failure there is a
 * message. */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "overlay-modes.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(overlay_modes_done) OverlayModes m = {};
        ErrorSlot err = {};
        int r;

        r = overlay_modes_parse(&err, "fuzz.modes", (const char *) data, size, &m);
        if (r >= 0) {
                if (m.size != size || memcmp(m.data, data, size) != 0)
                        __builtin_trap();
                for (size_t i = 0; i < m.n_rules; i++) {
                        const ModeRule *rule = &m.rules[i];

                        if (rule->mode > 07777 || rule->path[0] == '/' || rule->path[0] == 0 ||
                            strstr(rule->path, "//") || overlay_modes_find(&m, rule->path) != rule)
                                __builtin_trap();
                        if (i > 0 && strcmp(m.rules[i - 1].path, rule->path) >= 0)
                                __builtin_trap();
                }
        } else if (!err.message)
                __builtin_trap();
        error_done(&err);
        return 0;
}
