/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The dpkg status, Packages index and package list parsers on arbitrary
 * input, and apt's archive file names (one a line).  The first byte picks
 * the parser; for the index, the rest is matched against a fixed installed
 * list. */
#include "fuzz.h"
#include "packages.h"

static const char installed[] = "Package: tor\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n\n"
                                "Package: base-files\nStatus: install ok installed\nVersion: 13\nArchitecture: all\n";

static void check_list(const PackageList *l) {
        for (size_t i = 0; i < l->n; i++) {
                if (!l->items[i].name || !l->items[i].version || !l->items[i].architecture)
                        __builtin_trap();
                if (i > 0 && strcmp(l->items[i - 1].name, l->items[i].name) > 0)
                        __builtin_trap();
                if (package_list_find(l, l->items[i].name, l->items[i].architecture) != &l->items[i])
                        __builtin_trap();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(package_list_freep) PackageList *l = NULL;
        ErrorSlot err = {};
        const char *text = (const char *) data + 1;
        int r;

        if (size < 1)
                return 0;
        size--;
        switch (data[0] % 4) {
        case 0:
                r = package_list_from_status(&err, text, size, &l);
                break;
        case 1:
                if (package_list_from_status(&err, installed, strlen(installed), &l) < 0)
                        __builtin_trap();
                r = package_list_match_index(&err, l, text, size);
                if (r >= 0)
                        for (size_t i = 0; i < l->n; i++)
                                if (l->items[i].sha256[0] && (strlen(l->items[i].sha256) != 64 || !l->items[i].filename))
                                        __builtin_trap();
                break;
        case 3: {
                /* Lines as the names in apt's archive directory: every
                 * package found is named exactly as apt names it. */
                _cleanup_strv_free_ char **names = NULL;
                _cleanup_free_ char *copy = strndup(text, size);
                if (!copy)
                        return 0;
                for (char *line = copy, *next; line; line = next) {
                        next = strchr(line, '\n');
                        if (next)
                                *next++ = 0;
                        if (strv_extend(&names, line) < 0)
                                return 0;
                }
                r = package_list_from_archive(&err, names, NULL, &l);
                if (r >= 0) {
                        for (size_t i = 0; i < l->n; i++) {
                                _cleanup_free_ char *n = package_archive_name(&l->items[i]);
                                if (!n || !strv_contains(names, n))
                                        __builtin_trap();
                        }
                        l = package_list_free(l);
                }
                break;
        }
        default:
                r = package_list_parse(&err, text, size, &l);
                if (r >= 0) {
                        _cleanup_free_ char *out = NULL;
                        if (package_list_format(l, &out) < 0 || strlen(out) != size || memcmp(out, text, size) != 0)
                                __builtin_trap();
                }
                break;
        }
        if (r >= 0 && l)
                check_list(l);
        else if (r < 0 && !err.message && r != -ENOMEM)
                __builtin_trap();
        error_done(&err);
        return 0;
}
