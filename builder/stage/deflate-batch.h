/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Deflate many fixed-size chunks of a disk image side by side (the qcow2
 * and VMDK writers compress each 64 KiB cluster or grain on its own).  The
 * converter fills the batch chunk by chunk in order, runs it, and writes
 * the results in that same order; each thread has its own compressor with
 * the same parameters, and deflate's output depends on its input and
 * parameters only, so the bytes do not depend on the number of threads.
 */

#include <stdbool.h>
#include <stdint.h>
#include <zlib.h>

#include "error.h"

#define DEFLATE_BATCH_CHUNKS 128u
#define DEFLATE_BATCH_THREADS_MAX 16u

typedef struct DeflateBatch {
        size_t chunk_size;
        size_t out_max;         /* room for one chunk's output */
        size_t out_limit;       /* output longer than this counts as "does not shrink" */
        unsigned threads;
        z_stream z[DEFLATE_BATCH_THREADS_MAX];
        bool z_ready[DEFLATE_BATCH_THREADS_MAX];
        uint8_t *in, *out;      /* DEFLATE_BATCH_CHUNKS chunks each */
        uint64_t index[DEFLATE_BATCH_CHUNKS]; /* the caller's number of each chunk */
        size_t out_len[DEFLATE_BATCH_CHUNKS]; /* 0: it did not fit in out_limit */
        int zlib_error[DEFLATE_BATCH_CHUNKS];
        size_t n;
} DeflateBatch;

/* window_bits and mem_level as for zlib's deflateInit2() (negative window
 * bits: raw deflate).  out_limit: a chunk whose output would be longer
 * gets out_len 0 (compressBound(chunk_size) when every chunk must be
 * stored compressed). */
int deflate_batch_init(ErrorSlot *err, DeflateBatch *b, size_t chunk_size, size_t out_limit, int level,
                       int window_bits, int mem_level, unsigned threads);
void deflate_batch_done(DeflateBatch *b);

/* Where the next chunk goes (chunk_size bytes); then deflate_batch_add()
 * with its number.  Returns true when the batch is full. */
static inline uint8_t *deflate_batch_next(DeflateBatch *b) {
        return b->in + b->n * b->chunk_size;
}
bool deflate_batch_add(DeflateBatch *b, uint64_t index);

/* Compress the chunks added since the last run; what names the input in a
 * zlib error.  Then chunk i's output is at deflate_batch_output(b, i). */
int deflate_batch_run(ErrorSlot *err, DeflateBatch *b, const char *what);
static inline const uint8_t *deflate_batch_output(const DeflateBatch *b, size_t i) {
        return b->out + i * b->out_max;
}
static inline const uint8_t *deflate_batch_input(const DeflateBatch *b, size_t i) {
        return b->in + i * b->chunk_size;
}
/* Empty the batch for the next chunks. */
static inline void deflate_batch_clear(DeflateBatch *b) {
        b->n = 0;
}
