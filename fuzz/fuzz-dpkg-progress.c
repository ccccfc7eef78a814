/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Package progress lines (format/dpkg-progress.c) on arbitrary input, one
 * line at a time as the appliance's console gives them: a step comes with
 * a package name of package-name characters, and no other line has one. */
#include <stdlib.h>
#include <string.h>

#include "dpkg-progress.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = malloc(size + 1), *save = NULL;
        char pkg[64];

        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = 0;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                DpkgStep s = dpkg_progress_line(line, pkg, sizeof pkg);
                size_t n = strlen(pkg);
                if (s == DPKG_NONE ? n != 0 : (n < 2 || strspn(pkg, "abcdefghijklmnopqrstuvwxyz0123456789+-.") != n))
                        __builtin_trap();
        }
        free(text);
        return 0;
}
