/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Corpus replay driver: runs each file named on the command line (or each
 * file in each named directory) through the fuzz target once and reports TAP.
 * Crashes show up as a failed test; sanitizer builds make them loud.
 */
#include <dirent.h>
#include <sys/stat.h>

#include "../tests/tap.h"
#include "fuzz.h"
#include "util.h"

#define FUZZ_INPUT_MAX (1024 * 1024)

static void run_file(const char *path) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r = read_full_file(path, FUZZ_INPUT_MAX, &data, &size);

        if (r < 0) {
                tap_ok(false, "read %s: %s", path, strerror(-r));
                return;
        }
        LLVMFuzzerTestOneInput((const uint8_t *) data, size);
        tap_ok(true, "%s", path);
}

static int cmp(const void *a, const void *b) {
        return strcmp(*(char * const *) a, *(char * const *) b);
}

int main(int argc, char **argv) {
        tap_plan_lazy();
        for (int i = 1; i < argc; i++) {
                struct stat st;

                if (stat(argv[i], &st) < 0) {
                        tap_ok(false, "stat %s: %m", argv[i]);
                        continue;
                }
                if (!S_ISDIR(st.st_mode)) {
                        run_file(argv[i]);
                        continue;
                }
                _cleanup_strv_free_ char **names = NULL;
                DIR *d = opendir(argv[i]);
                struct dirent *de;

                if (!d) {
                        tap_ok(false, "opendir %s: %m", argv[i]);
                        continue;
                }
                while ((de = readdir(d)))
                        if (de->d_name[0] != '.')
                                (void) strv_consume(&names, path_join(argv[i], de->d_name));
                closedir(d);
                if (names)
                        qsort(names, strv_length(names), sizeof(char *), cmp);
                STRV_FOREACH(n, names)
                        run_file(*n);
        }
        if (tap_n == 0)
                tap_ok(false, "corpus is empty");
        return tap_done();
}
