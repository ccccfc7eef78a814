/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include <zlib.h>

#include "deflate-batch.h"
#include "image-io.h"
#include "qcow2.h"

#define MAGIC UINT32_C(0x514649fb) /* "QFI\xfb" */
#define VERSION 3u
#define HEADER_LENGTH 104u
#define CLUSTER_BITS 16u
#define CLUSTER (UINT64_C(1) << CLUSTER_BITS)
#define L2_ENTRIES (CLUSTER / 8)               /* one L2 table covers 512 MiB */
#define REFCOUNT_ORDER 4u                      /* 16-bit refcounts */
#define REFCOUNTS_PER_BLOCK (CLUSTER / 2)
#define RT_ENTRIES_PER_CLUSTER (CLUSTER / 8)
#define OFLAG_COPIED (UINT64_C(1) << 63)       /* refcount exactly 1 */
#define OFLAG_COMPRESSED (UINT64_C(1) << 62)
/* A compressed cluster's descriptor: the byte offset in bits 0..CSIZE_SHIFT-1,
 * the number of 512-byte sectors it uses beyond its first one above. */
#define CSIZE_SHIFT (62u - (CLUSTER_BITS - 8u))
#define DEFLATE_WINDOW_BITS (-12)              /* raw deflate, 4 KiB window */
#define DEFLATE_LEVEL 6

typedef struct Converter {
        RawReader in;
        ImageOut out;
        DeflateBatch batch;
        uint8_t *table;
        uint64_t *l1, *l2;
        uint64_t l1_size;
        uint16_t *refcounts; /* per host cluster */
        uint64_t n_refcounts, refcounts_alloc;
} Converter;

static void converter_done(Converter *c) {
        deflate_batch_done(&c->batch);
        raw_reader_close(&c->in);
        free(c->table);
        free(c->l1);
        free(c->l2);
        free(c->refcounts);
}

/* One more user of host cluster i. */
static int refcount_add(Converter *c, uint64_t i) {
        if (i >= c->refcounts_alloc) {
                uint64_t n = c->refcounts_alloc ? c->refcounts_alloc * 2 : 1024;
                while (n <= i)
                        n *= 2;
                uint16_t *p = realloc(c->refcounts, n * sizeof(uint16_t));
                if (!p)
                        return -ENOMEM;
                memset(p + c->refcounts_alloc, 0, (n - c->refcounts_alloc) * sizeof(uint16_t));
                c->refcounts = p;
                c->refcounts_alloc = n;
        }
        if (c->refcounts[i] == UINT16_MAX)
                return error_set(c->out.err, -EOVERFLOW, "qcow2 '%s': too many clusters share host cluster %" PRIu64,
                                 c->out.path, i);
        c->refcounts[i]++;
        if (i >= c->n_refcounts)
                c->n_refcounts = i + 1;
        return 0;
}

/* Write n whole clusters (n * CLUSTER bytes of p) at the next cluster
 * boundary, each used once; *ret_offset gets where they start. */
static int put_clusters(Converter *c, const void *p, uint64_t n, uint64_t *ret_offset) {
        int r = image_out_pad(&c->out, CLUSTER);

        if (r < 0)
                return r;
        *ret_offset = c->out.pos;
        for (uint64_t i = 0; i < n; i++)
                if ((r = refcount_add(c, c->out.pos / CLUSTER + i)) < 0)
                        return r;
        return image_out_write(&c->out, p, n * CLUSTER);
}

/* Deflate the batch's clusters, then store them in order: each one packed
 * right after the previous one where deflate saved a sector, whole at a
 * cluster boundary otherwise; its L2 entry goes into c->l2. */
static int batch_store(Converter *c) {
        DeflateBatch *b = &c->batch;
        int r;

        r = deflate_batch_run(c->out.err, b, c->in.path);
        if (r < 0)
                return r;
        for (size_t i = 0; i < b->n; i++) {
                uint64_t g = b->index[i], offset, len = b->out_len[i];

                if (len > 0) {
                        offset = c->out.pos;
                        for (uint64_t h = offset / CLUSTER; h <= (offset + len - 1) / CLUSTER; h++)
                                if ((r = refcount_add(c, h)) < 0)
                                        return r;
                        c->l2[g % L2_ENTRIES] = OFLAG_COMPRESSED |
                                                ((((offset + len - 1) >> 9) - (offset >> 9)) << CSIZE_SHIFT) | offset;
                        r = image_out_write(&c->out, deflate_batch_output(b, i), len);
                } else {
                        r = put_clusters(c, deflate_batch_input(b, i), 1, &offset);
                        if (r < 0)
                                return r;
                        c->l2[g % L2_ENTRIES] = offset | OFLAG_COPIED;
                }
                if (r < 0)
                        return r;
        }
        deflate_batch_clear(b);
        return 0;
}

static int data_write(Converter *c) {
        uint64_t n_clusters = (c->in.size + CLUSTER - 1) / CLUSTER;
        int r;

        for (uint64_t t = 0; t < c->l1_size; t++) {
                bool any = false;

                memset(c->l2, 0, CLUSTER);
                for (uint64_t g = t * L2_ENTRIES; g < n_clusters && g < (t + 1) * L2_ENTRIES; g++) {
                        bool data;

                        r = raw_reader_chunk(&c->in, g, deflate_batch_next(&c->batch), CLUSTER, &data);
                        if (r < 0)
                                return r;
                        if (!data)
                                continue;
                        any = true;
                        if (deflate_batch_add(&c->batch, g) && (r = batch_store(c)) < 0)
                                return r;
                }
                /* The table's clusters are all stored before the table. */
                if ((r = batch_store(c)) < 0)
                        return r;
                if (!any)
                        continue;
                for (uint64_t i = 0; i < L2_ENTRIES; i++)
                        put_be64(c->table + 8 * i, c->l2[i]);
                r = put_clusters(c, c->table, 1, &c->l1[t]);
                if (r < 0)
                        return r;
                c->l1[t] |= OFLAG_COPIED;
        }
        return 0;
}

static uint64_t div_up(uint64_t a, uint64_t b) {
        return (a + b - 1) / b;
}

/* The L1 table, then the refcount blocks and table (which count
 * themselves).  ret_* get what the header needs. */
static int tail_write(Converter *c, uint64_t *ret_l1_offset, uint64_t *ret_rt_offset, uint64_t *ret_rt_clusters) {
        uint64_t l1_clusters = div_up(c->l1_size * 8, CLUSTER), blocks = 0, rt_clusters = 0, first, offset;
        _cleanup_free_ uint8_t *buf = NULL;
        int r;

        buf = calloc(l1_clusters, CLUSTER);
        if (!buf)
                return -ENOMEM;
        for (uint64_t i = 0; i < c->l1_size; i++)
                put_be64(buf + 8 * i, c->l1[i]);
        r = put_clusters(c, buf, l1_clusters, ret_l1_offset);
        if (r < 0)
                return r;
        free(TAKE_PTR(buf));

        /* Enough blocks for every cluster, the blocks and the table
         * included: grow both until they cover themselves. */
        first = c->out.pos / CLUSTER;
        for (;;) {
                uint64_t b = div_up(first + blocks + rt_clusters, REFCOUNTS_PER_BLOCK);
                uint64_t t = div_up(b, RT_ENTRIES_PER_CLUSTER);
                if (b == blocks && t == rt_clusters)
                        break;
                blocks = b;
                rt_clusters = t;
        }
        for (uint64_t i = first; i < first + blocks + rt_clusters; i++)
                if ((r = refcount_add(c, i)) < 0)
                        return r;

        buf = calloc(CLUSTER, 1);
        if (!buf)
                return -ENOMEM;
        for (uint64_t b = 0; b < blocks; b++) {
                memset(buf, 0, CLUSTER);
                for (uint64_t i = 0; i < REFCOUNTS_PER_BLOCK && b * REFCOUNTS_PER_BLOCK + i < c->n_refcounts; i++)
                        put_be16(buf + 2 * i, c->refcounts[b * REFCOUNTS_PER_BLOCK + i]);
                r = put_clusters(c, buf, 1, &offset);
                if (r < 0)
                        return r;
        }
        free(TAKE_PTR(buf));
        buf = calloc(rt_clusters, CLUSTER);
        if (!buf)
                return -ENOMEM;
        for (uint64_t b = 0; b < blocks; b++)
                put_be64(buf + 8 * b, (first + b) * CLUSTER);
        *ret_rt_clusters = rt_clusters;
        return put_clusters(c, buf, rt_clusters, ret_rt_offset);
}

static void header_build(uint8_t h[static HEADER_LENGTH], uint64_t size, uint64_t l1_size, uint64_t l1_offset,
                         uint64_t rt_offset, uint64_t rt_clusters) {
        memset(h, 0, HEADER_LENGTH);
        put_be32(h + 0, MAGIC);
        put_be32(h + 4, VERSION);
        /* 8: backing file offset, 16: its size: none. */
        put_be32(h + 20, CLUSTER_BITS);
        put_be64(h + 24, size);
        /* 32: no encryption. */
        put_be32(h + 36, (uint32_t) l1_size);
        put_be64(h + 40, l1_offset);
        put_be64(h + 48, rt_offset);
        put_be32(h + 56, (uint32_t) rt_clusters);
        /* 60, 64: no snapshots; 72, 80, 88: no incompatible, compatible or
         * autoclear features. */
        put_be32(h + 96, REFCOUNT_ORDER);
        put_be32(h + 100, HEADER_LENGTH);
        /* The header extensions follow: the cluster's zeros end them. */
}

int qcow2_from_raw(ErrorSlot *err, const char *raw_path, const char *dest_path, unsigned threads,
                   uint64_t *ret_size) {
        _cleanup_(converter_done) Converter c = { .in.fd = -EBADF };
        _cleanup_close_ int out_fd = -EBADF;
        uint64_t l1_offset = 0, rt_offset = 0, rt_clusters = 0, header_offset;
        _cleanup_free_ uint8_t *header = NULL;
        int r;

        if (isempty(raw_path) || isempty(dest_path))
                return -EINVAL;
        r = raw_reader_open(err, raw_path, QCOW2_SIZE_MAX, "our qcow2 writer's limit of 1 TiB", &c.in);
        if (r < 0)
                return r;
        c.l1_size = div_up(c.in.size, CLUSTER * L2_ENTRIES);
        c.table = malloc(CLUSTER);
        c.l2 = malloc(CLUSTER);
        c.l1 = calloc(c.l1_size, sizeof(uint64_t));
        header = calloc(CLUSTER, 1);
        if (!c.table || !c.l2 || !c.l1 || !header)
                return -ENOMEM;
        /* A cluster is stored compressed only when that saves a sector. */
        r = deflate_batch_init(err, &c.batch, CLUSTER, CLUSTER - 512, DEFLATE_LEVEL, DEFLATE_WINDOW_BITS, 9, threads);
        if (r < 0)
                return r;

        out_fd = open(dest_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
        if (out_fd < 0)
                return error_set_errno(err, -errno, "cannot create '%s'", dest_path);
        c.out = (ImageOut) { .fd = out_fd, .path = dest_path, .err = err };

        /* The header's cluster first, filled in at the end. */
        if ((r = put_clusters(&c, header, 1, &header_offset)) < 0 || (r = data_write(&c)) < 0 ||
            (r = tail_write(&c, &l1_offset, &rt_offset, &rt_clusters)) < 0)
                return r;
        header_build(header, c.in.size, c.l1_size, l1_offset, rt_offset, rt_clusters);
        if (pwrite(out_fd, header, HEADER_LENGTH, 0) != (ssize_t) HEADER_LENGTH)
                return error_set_errno(err, -errno, "cannot write '%s'", dest_path);
        if (fchmod(out_fd, 0644) < 0 || fsync(out_fd) < 0)
                return error_set_errno(err, -errno, "cannot finish '%s'", dest_path);
        if (ret_size)
                *ret_size = c.out.pos;
        return 0;
}
