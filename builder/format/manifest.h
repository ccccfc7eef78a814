/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * An image's root filesystem as compare (stage/compare.c) reads it through
 * the appliance, and the lines that say how two differ (the format of those
 * lines is described in stage/compare.h).
 *
 * manifest_parse() reads the two texts the appliance writes (outside input:
 * bounded, strict): the metadata, one line per path as find -printf
 * '%y %m %U %G %s %T@ %P\t%l\n' prints it, and the contents, as
 * sha256sum prints them for "./path" names.
 */

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/* The two texts, written into the image's throwaway overlay: the parser
 * leaves them out of the manifest. */
#define MANIFEST_META_NAME ".wb-manifest-meta"
#define MANIFEST_SUMS_NAME ".wb-manifest-sums"

#define MANIFEST_SIZE_MAX (128u * 1024u * 1024u)
#define MANIFEST_ENTRIES_MAX 1000000u

typedef struct ManifestEntry {
        char *path;
        char *target;           /* symlink target, "" otherwise */
        char *mtime;
        char type;              /* find -printf %y: f d l c b p s */
        unsigned mode, uid, gid;
        uint64_t size;
        char sha256[65];        /* regular files; "" otherwise */
} ManifestEntry;

#define SUPERBLOCK_OFFSET 1024u
#define SUPERBLOCK_SIZE 1024u

typedef struct Manifest {
        ManifestEntry *items;   /* sorted by path */
        size_t n;
        bool has_superblock;    /* an ext2/3/4 root: superblock holds its bytes */
        uint8_t superblock[SUPERBLOCK_SIZE];
} Manifest;

Manifest *manifest_free(Manifest *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manifest *, manifest_free);

int manifest_parse(ErrorSlot *err, const char *meta, size_t meta_size, const char *sums, size_t sums_size,
                   Manifest **ret);
/* Keep the root filesystem's superblock (SUPERBLOCK_SIZE bytes read at
 * SUPERBLOCK_OFFSET) if it is one of ext2/3/4 (by its magic); ignored
 * otherwise. */
void manifest_set_superblock(Manifest *m, const uint8_t sb[static SUPERBLOCK_SIZE]);

/* The difference lines described above (an empty vector when equal). */
int manifest_diff(const Manifest *a, const Manifest *b, char ***ret_lines);
