/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Bridge lines (format/tor-connection.c) on arbitrary input, one line at a
 * time: a line the check accepts renders into a file whose lines after the
 * two comment lines are exactly "UseBridges 1", at most one
 * ClientTransportPlugin and one "Bridge " line of printable ASCII: nothing
 * a line holds can become an option of its own. */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "tor-connection.h"
#include "util.h"

static void one(const char *line) {
        _cleanup_free_ char *text = NULL;
        unsigned bridges = 0, plugins = 0, use = 0, comments = 0;

        if (tor_bridge_line_check(line)) {
                if (tor_connection_render(true, (char *[]) { (char *) line, NULL }, &text) != -EINVAL)
                        __builtin_trap();
                return;
        }
        if (tor_connection_render(true, (char *[]) { (char *) line, NULL }, &text) < 0)
                __builtin_trap();
        for (const char *l = text; *l;) {
                const char *nl = strchr(l, '\n');

                if (!nl)
                        __builtin_trap();
                for (const char *c = l; c < nl; c++)
                        if ((unsigned char) *c < 0x20 || (unsigned char) *c > 0x7e)
                                __builtin_trap();
                if (l[0] == '#')
                        comments++;
                else if (strncmp(l, "UseBridges 1\n", 13) == 0)
                        use++;
                else if (strncmp(l, "ClientTransportPlugin ", 22) == 0)
                        plugins++;
                else if (strncmp(l, "Bridge ", 7) == 0)
                        bridges++;
                else
                        __builtin_trap();
                l = nl + 1;
        }
        if (comments != 2 || use != 1 || plugins > 1 || bridges != 1)
                __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *copy = NULL;

        if (size > 64 * 1024)
                return 0;
        copy = malloc(size + 1);
        if (!copy)
                return 0;
        memcpy(copy, data, size);
        copy[size] = 0;
        /* NUL and newline both end a line, as the recipe reader's lines end. */
        for (char *l = copy, *end = copy + size; l <= end;) {
                char *nl = memchr(l, '\n', (size_t) (end - l));

                if (nl)
                        *nl = 0;
                one(l);
                if (!nl)
                        break;
                l = nl + 1;
        }
        return 0;
}
