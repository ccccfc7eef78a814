/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Both apt sources parsers on arbitrary input. */
#include "apt-sources.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = NULL;

        if (size > APT_SOURCES_FILE_MAX + 1)
                return 0;
        /* The parsers take C strings, as read_full_file() returns them. */
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = 0;

        for (int deb822 = 0; deb822 <= 1; deb822++) {
                AptSource **l = NULL;
                ErrorSlot err = {};
                int r = deb822 ? apt_sources_parse_deb822(&err, "fuzz.sources", text, &l)
                               : apt_sources_parse_list(&err, "fuzz.list", text, &l);

                if (r >= 0)
                        for (AptSource **s = l; *s; s++)
                                if (!(*s)->type || !(*s)->uris || !(*s)->suites || !(*s)->components)
                                        __builtin_trap();
                if (r < 0 && (l || !err.message))
                        __builtin_trap();
                apt_source_free_many(l);
                error_done(&err);
        }
        return 0;
}
