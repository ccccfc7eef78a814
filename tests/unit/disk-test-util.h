/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Helpers of the disk image writers' tests (VMDK, qcow2): raw images with
 * data at chosen offsets, file sizes, and qemu-img as the independent reader.
 */

#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "spawn.h"
#include "tap.h"
#include "util.h"

/* A multi-line text as TAP diagnostics. */
static inline void diag_lines(const char *s) {
        for (const char *p = strempty(s); *p;) {
                size_t n = strcspn(p, "\n");
                printf("# %.*s\n", (int) n, p);
                p += n + (p[n] == '\n');
        }
}

static inline int write_at(int fd, uint64_t offset, const void *p, size_t n) {
        return pwrite(fd, p, n, (off_t) offset) == (ssize_t) n ? 0 : -errno;
}

static inline int file_size(const char *path, uint64_t *ret) {
        struct stat st;

        if (stat(path, &st) < 0)
                return -errno;
        *ret = (uint64_t) st.st_size;
        return 0;
}

/* Run qemu-img with the NULL-terminated arguments that follow; its output
 * into *ret_output (may be NULL), its error as diagnostics. */
static inline int qemu_img(char **ret_output, ...) {
        const char *argv[16] = { "qemu-img" };
        ErrorSlot err = {};
        size_t n = 1;
        va_list ap;
        int r;

        va_start(ap, ret_output);
        while (n < ELEMENTSOF(argv) - 1 && (argv[n] = va_arg(ap, const char *)))
                n++;
        va_end(ap);
        argv[n] = NULL;
        r = spawn_run(&err, (char * const *) argv, NULL, ret_output);
        if (r < 0)
                diag_lines(error_text(&err, r));
        error_done(&err);
        return r;
}
