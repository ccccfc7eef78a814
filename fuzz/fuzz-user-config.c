/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The user's settings file (format/user-config.c) on arbitrary input: on
 * success the limits are within their ranges; on failure there is a
 * message. */
#include <errno.h>

#include "fuzz.h"
#include "user-config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        UserConfig c = {};
        ErrorSlot err = {};
        int r;

        r = user_config_parse(&err, "fuzz/config", (const char *) data, size, &c);
        if (r >= 0) {
                if (c.cache_max_age_days > 36500)
                        __builtin_trap();
        } else if (!err.message && r != -ENOMEM)
                __builtin_trap();
        error_done(&err);
        return 0;
}
