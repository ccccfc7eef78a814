/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The build cache: a directory (default $XDG_CACHE_HOME/whonix-build) that
 * holds everything worth keeping between builds:
 *
 *   lock                 flock()ed by the build that uses the cache
 *   appliance/<key>/     our supermin appliance (supermin.h)
 *   sources/             verified InRelease files and the exported keyring
 *   debs.img             the package cache disk attached to the appliance;
 *                        every .deb on it is checked against the signed
 *                        index by debootstrap/apt before use
 *   base/<key>.qcow2     bootstrapped bases, shared by both flavors
 *   layers/<key>.qcow2   customize steps (qcow2 over their parent)
 *   final/<key>.img      final disks (and <key>.packages, their package list)
 *   qcow2/<key>.qcow2    the kvm export's compressed image of a final disk
 *   vmdk/<key>.vmdk      the virtualbox export's VMDK of a final disk (the
 *                        OVA is written from it)
 *   last-build           the entries the last build used (cache_note_use())
 *
 * Stage outputs are content-addressed: a key is the SHA-256 of the stage's
 * named inputs (CacheKey), so an unchanged key means the output can be
 * reused and a changed input can never pick up a stale one.
 */

#include <pthread.h>

#include "error.h"
#include "sha256.h"

typedef struct Cache {
        char *dir;
        int lock_fd;
        pthread_mutex_t used_lock;
        char **used;            /* entries used by this build, "<subdir>/<name>" */
        char **step_times;      /* "<step>\t<seconds>": how long each step took when last built */
} Cache;

#define CACHE_LAST_BUILD "last-build"
#define CACHE_STEP_TIMES "step-times"

/* The default cache directory: $XDG_CACHE_HOME/whonix-build, else
 * $HOME/.cache/whonix-build. */
int cache_default_dir(char **ret);

/* Create the directory if needed and take its lock; a cache in use by
 * another build is -EBUSY with a message saying so.  c->dir is absolute
 * (qcow2 backing paths are resolved relative to the layer's directory). */
int cache_open(ErrorSlot *err, const char *dir, Cache **ret);
/* The existing cache at dir without its lock, for looking only (a build may
 * be changing it meanwhile). */
int cache_open_unlocked(ErrorSlot *err, const char *dir, Cache **ret);
Cache *cache_free(Cache *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Cache *, cache_free);

/* <cache>/<a>[/<b>]; b may be NULL. */
char *cache_path(const Cache *c, const char *a, const char *b);

/* A stage output in the cache: <cache>/<subdir>/<key><ext>.  If it exists it
 * is reused; otherwise produce() writes it under a temporary name in the same
 * directory, which is renamed into place only when produce() succeeded, so
 * an interrupted stage never leaves a half-written output under the final
 * name.  *ret_built says which happened. */
typedef int (*CacheProduceFn)(ErrorSlot *err, const char *tmp_path, void *userdata);
int cache_produce(ErrorSlot *err, Cache *c, const char *subdir, const char *key, const char *ext,
                  CacheProduceFn produce, void *userdata, char **ret_path, bool *ret_built);

/* This build uses <subdir>/<name> (reused or made): its time of last use is
 * now (its mtime), and cache_write_last_build() will list it, so that a
 * prune keeps it.  cache_produce() notes its outputs itself.  Any thread. */
void cache_note_use(Cache *c, const char *subdir, const char *name);
/* <cache>/last-build: what this build used, one entry a line, sorted; and
 * <cache>/step-times (cache_note_step_seconds()). */
int cache_write_last_build(ErrorSlot *err, Cache *c);

/* How long a step ("customize gateway packages", "finalize gateway",
 * "bootstrap") took when it was last built in this cache, for the progress
 * line's estimate; 0 if unknown.  cache_note_step_seconds() records a build
 * of it; cache_write_last_build() writes them.  Any thread. */
double cache_step_seconds(Cache *c, const char *step);
void cache_note_step_seconds(Cache *c, const char *step, double seconds);

/* Incremental key over named inputs.  Names and values are length-prefixed,
 * so ("ab","c") and ("a","bc") differ; lists are hashed as given (sort them
 * first when their order does not matter). */
typedef struct CacheKey {
        Sha256 sha;
} CacheKey;

void cache_key_init(CacheKey *k, const char *kind);
void cache_key_add(CacheKey *k, const char *name, const char *value);
void cache_key_add_u64(CacheKey *k, const char *name, uint64_t value);
void cache_key_add_strv(CacheKey *k, const char *name, char * const *values);
/* Hash a file's content under name. */
int cache_key_add_file(CacheKey *k, const char *name, const char *path);
/* Lowercase hex; NULL on allocation failure. */
char *cache_key_final(CacheKey *k);
