/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The one wrapper around libarchive.  Nothing else includes <archive.h> or
 * <archive_entry.h>; code that needs the types includes this header.
 *
 *     _cleanup_(archive_write_freep) struct archive *a = archive_write_new();
 *     ...
 *     if (archive_write_header(a, e) != ARCHIVE_OK)
 *             return archive_error(err, a, "cannot write '%s'", path);
 *
 * archive_error() copies libarchive's own message (archive_error_string())
 * into the ErrorSlot, after the caller's context, and turns archive_errno()
 * into a negative errno (-EIO when libarchive gave none).
 */

#include <archive.h>
#include <archive_entry.h>

#include "error.h"

/* libarchive's _free() functions return int; the cleanup wrappers drop it
 * because a failure there has nothing left to tell (writers must call
 * archive_write_close() themselves and check it). */
static inline void archive_write_freep(struct archive **a) {
        if (*a)
                (void) archive_write_free(*a);
}

static inline void archive_read_freep(struct archive **a) {
        if (*a)
                (void) archive_read_free(*a);
}

static inline void archive_entry_freep(struct archive_entry **e) {
        if (*e)
                archive_entry_free(*e);
}

/* Record "<fmt>: <libarchive's message>" in the slot and return the negative
 * errno. */
int archive_error(ErrorSlot *err, struct archive *a, const char *fmt, ...) _printf_(3, 4);

/* The xz- or gzip-compressed data (an index file of a Debian archive),
 * decompressed into a NUL-terminated buffer of at most max bytes (-EFBIG
 * beyond); -EBADMSG for anything else.  what names it in messages. */
int archive_decompress_memory(ErrorSlot *err, const char *what, const void *data, size_t size, size_t max,
                              char **ret, size_t *ret_size);

/* The files of a Debian package (the .deb at deb_path, an ar archive): its
 * data.tar member, decompressed (xz or gzip), as a plain tar of at most max
 * bytes. */
int archive_deb_data_tar(ErrorSlot *err, const char *deb_path, size_t max, char **ret, size_t *ret_size);

/* The directory of the libarchive this program runs with (the
 * libarchive.so.13 that the dynamic loader found), for a program that
 * loads it by name from a library path of its own. */
int archive_library_dir(ErrorSlot *err, char **ret);
