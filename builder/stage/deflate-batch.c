/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>

#include "deflate-batch.h"
#include "parallel.h"
#include "util.h"

int deflate_batch_init(ErrorSlot *err, DeflateBatch *b, size_t chunk_size, size_t out_limit, int level,
                       int window_bits, int mem_level, unsigned threads) {
        *b = (DeflateBatch) {
                .chunk_size = chunk_size,
                .out_limit = out_limit,
                .out_max = out_limit > compressBound(chunk_size) ? out_limit : compressBound(chunk_size),
                .threads = threads == 0 ? 1 : threads > DEFLATE_BATCH_THREADS_MAX ? DEFLATE_BATCH_THREADS_MAX : threads,
        };
        b->in = malloc(DEFLATE_BATCH_CHUNKS * b->chunk_size);
        b->out = malloc(DEFLATE_BATCH_CHUNKS * b->out_max);
        if (!b->in || !b->out)
                return -ENOMEM;
        for (unsigned t = 0; t < b->threads; t++) {
                int r = deflateInit2(&b->z[t], level, Z_DEFLATED, window_bits, mem_level, Z_DEFAULT_STRATEGY);
                if (r != Z_OK)
                        return r == Z_MEM_ERROR ? -ENOMEM
                                                : error_set(err, -EIO, "zlib: cannot start the compressor (%d)", r);
                b->z_ready[t] = true;
        }
        return 0;
}

void deflate_batch_done(DeflateBatch *b) {
        for (unsigned t = 0; t < DEFLATE_BATCH_THREADS_MAX; t++)
                if (b->z_ready[t])
                        deflateEnd(&b->z[t]);
        free(b->in);
        free(b->out);
        *b = (DeflateBatch) {};
}

bool deflate_batch_add(DeflateBatch *b, uint64_t index) {
        b->index[b->n++] = index;
        return b->n == DEFLATE_BATCH_CHUNKS;
}

/* Chunks w, w + threads, ... with compressor w. */
static int compress_share(ErrorSlot *err, size_t w, void *userdata) {
        DeflateBatch *b = userdata;
        z_stream *z = &b->z[w];

        (void) err;
        for (size_t i = w; i < b->n; i += b->threads) {
                int r = deflateReset(z);

                b->zlib_error[i] = Z_OK;
                b->out_len[i] = 0;
                if (r != Z_OK) {
                        b->zlib_error[i] = r;
                        continue;
                }
                z->next_in = b->in + i * b->chunk_size;
                z->avail_in = (uInt) b->chunk_size;
                z->next_out = b->out + i * b->out_max;
                z->avail_out = (uInt) b->out_limit;
                r = deflate(z, Z_FINISH);
                if (r == Z_STREAM_END)
                        b->out_len[i] = z->total_out;
                else if (r != Z_OK && r != Z_BUF_ERROR)
                        b->zlib_error[i] = r;
        }
        return 0;
}

int deflate_batch_run(ErrorSlot *err, DeflateBatch *b, const char *what) {
        size_t workers = b->threads < b->n ? b->threads : b->n;
        int r;

        if (b->n == 0)
                return 0;
        r = parallel_run(err, workers, b->threads, compress_share, b);
        if (r < 0)
                return r;
        for (size_t i = 0; i < b->n; i++)
                if (b->zlib_error[i] != Z_OK)
                        return error_set(err, b->zlib_error[i] == Z_MEM_ERROR ? -ENOMEM : -EIO,
                                         "cannot compress chunk %" PRIu64 " of '%s': zlib error %d", b->index[i],
                                         what, b->zlib_error[i]);
        return 0;
}
