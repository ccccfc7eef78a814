/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * What the cache holds, and making it smaller.  An entry is one stage
 * output: appliance/<key>/, base/<key>.qcow2, layers/<key>.qcow2,
 * final/<key>.img with its <key>.packages, qcow2/<key>.qcow2.  (sources/
 * and the package cache disk debs.img are not entries: they are small or
 * bounded, and every build needs them.)  An entry's last use is its mtime,
 * which a build that reuses it sets (cache_note_use()).
 *
 * A layer is a qcow2 over its parent (a base or another layer): an entry
 * that a kept one stands on is kept too, whatever the policy says, and so
 * is everything the last build used (<cache>/last-build).  The caller holds
 * the cache's lock (cache_open()), so no build is using it meanwhile.
 */

#include "cache.h"

typedef struct CacheEntry {
        char *name;         /* "<subdir>/<file or directory>", as last-build lists it */
        char *kind;         /* the subdir: "appliance", "base", "layers", "final", "qcow2" */
        char **paths;       /* its files (or directory), absolute */
        uint64_t bytes;     /* allocated on disk */
        int64_t last_used;  /* seconds since the epoch (mtime) */
        char *parent;       /* the entry a layer stands on (its qcow2 backing file), or NULL */
        bool last_build;    /* the last build used it */
} CacheEntry;

void cache_entries_free(CacheEntry *e, size_t n);

/* Every entry, sorted by name.  A layer whose backing file cannot be read
 * is an error (the cache is damaged: the message names it). */
int cache_list(ErrorSlot *err, const Cache *c, CacheEntry **ret, size_t *ret_n);

typedef struct CachePrunePolicy {
        int64_t max_age;    /* > 0: remove entries unused for longer (seconds) */
        uint64_t max_bytes; /* > 0: then remove the least recently used until the entries take no more */
        int64_t now;        /* the time to measure age from */
        bool dry_run;       /* decide, remove nothing */
} CachePrunePolicy;

/* Removes what the policy allows, oldest first, never an entry the last
 * build used or that a remaining entry stands on.  *ret lists the entries
 * removed (or, with dry_run, that would be), in the order removed. */
int cache_prune(ErrorSlot *err, const Cache *c, const CachePrunePolicy *p, CacheEntry **ret, size_t *ret_n);
