/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <sys/stat.h>

#include <zlib.h>

#include "deflate-batch.h"
#include "image-io.h"
#include "vmdk.h"

#define SECTOR 512u
#define GRAIN_SECTORS 128u                       /* 64 KiB grains */
#define GRAIN_BYTES (GRAIN_SECTORS * SECTOR)
#define GTES_PER_GT 512u                         /* one grain table covers 32 MiB */
#define GT_SECTORS (GTES_PER_GT * 4u / SECTOR)
#define DESCRIPTOR_OFFSET 1u
#define DESCRIPTOR_SECTORS 20u
#define OVERHEAD_SECTORS 128u                    /* header + descriptor, rounded up to a grain */
#define MAGIC 0x564d444bu                        /* "KDMV" on disk */
#define FLAG_NEWLINE_DETECTION (1u << 0)
#define FLAG_COMPRESSED (1u << 16)
#define FLAG_MARKERS (1u << 17)
#define COMPRESS_DEFLATE 1u
#define GD_AT_END UINT64_MAX
#define MARKER_EOS 0u
#define MARKER_GT 1u
#define MARKER_GD 2u
#define MARKER_FOOTER 3u
#define GRAIN_MARKER_SIZE 12u                    /* uint64 lba, uint32 size */
#define EXTENT_NAME_MAX 255u

/* The 512-byte SparseExtentHeader (little-endian, packed). */
static void header_build(uint8_t h[static SECTOR], uint64_t capacity_sectors, uint64_t gd_offset) {
        memset(h, 0, SECTOR);
        put_le32(h + 0, MAGIC);
        put_le32(h + 4, 3);                      /* version: streamOptimized */
        put_le32(h + 8, FLAG_NEWLINE_DETECTION | FLAG_COMPRESSED | FLAG_MARKERS);
        put_le64(h + 12, capacity_sectors);
        put_le64(h + 20, GRAIN_SECTORS);
        put_le64(h + 28, DESCRIPTOR_OFFSET);
        put_le64(h + 36, DESCRIPTOR_SECTORS);
        put_le32(h + 44, GTES_PER_GT);
        put_le64(h + 48, 0);                     /* rgdOffset: no redundant tables */
        put_le64(h + 56, gd_offset);
        put_le64(h + 64, OVERHEAD_SECTORS);
        h[72] = 0;                               /* uncleanShutdown */
        /* Newline detection: a reader that sees these altered knows the
         * file went through a text-mode transfer. */
        h[73] = '\n';
        h[74] = ' ';
        h[75] = '\r';
        h[76] = '\n';
        put_le16(h + 77, COMPRESS_DEFLATE);
}

static uint64_t out_sector(const ImageOut *o) {
        return o->pos / SECTOR;
}

static int out_marker(ImageOut *o, uint64_t num_sectors, uint32_t type) {
        uint8_t m[SECTOR] = {};

        put_le64(m + 0, num_sectors);
        put_le32(m + 8, 0);
        put_le32(m + 12, type);
        return image_out_write(o, m, sizeof m);
}

static int descriptor_build(ErrorSlot *err, uint64_t capacity_sectors, const VmdkOptions *o, const char *extent,
                            uint8_t buf[static DESCRIPTOR_SECTORS * SECTOR]) {
        uint64_t cylinders = capacity_sectors / (16 * 63);
        int n;

        /* The legacy CHS geometry that VMware and VirtualBox write for
         * IDE: 16 heads, 63 sectors, at most 16383 cylinders. */
        if (cylinders > 16383)
                cylinders = 16383;
        memset(buf, 0, DESCRIPTOR_SECTORS * SECTOR);
        n = snprintf((char *) buf, DESCRIPTOR_SECTORS * SECTOR,
                     "# Disk DescriptorFile\n"
                     "version=1\n"
                     "CID=%08" PRIx32 "\n"
                     "parentCID=ffffffff\n"
                     "createType=\"streamOptimized\"\n"
                     "\n"
                     "# Extent description\n"
                     "RW %" PRIu64 " SPARSE \"%s\"\n"
                     "\n"
                     "# The Disk Data Base\n"
                     "#DDB\n"
                     "\n"
                     "ddb.virtualHWVersion = \"4\"\n"
                     "ddb.geometry.cylinders = \"%" PRIu64 "\"\n"
                     "ddb.geometry.heads = \"16\"\n"
                     "ddb.geometry.sectors = \"63\"\n"
                     "ddb.adapterType = \"%s\"\n",
                     o->cid, capacity_sectors, extent, cylinders, o->adapter_type);
        if (n < 0 || (size_t) n >= DESCRIPTOR_SECTORS * SECTOR)
                return error_set(err, -E2BIG, "VMDK descriptor for '%s' does not fit", extent);
        return 0;
}

static bool extent_name_valid(const char *s) {
        if (isempty(s) || strlen(s) > EXTENT_NAME_MAX)
                return false;
        for (const char *p = s; *p; p++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+", *p))
                        return false;
        return true;
}

typedef struct Converter {
        ImageOut out;
        RawReader in;
        uint64_t capacity_sectors, n_grains, n_gts;
        DeflateBatch batch;
        uint32_t gt[GTES_PER_GT];
        uint32_t *gd;
} Converter;

static void converter_done(Converter *c) {
        deflate_batch_done(&c->batch);
        raw_reader_close(&c->in);
        free(c->gd);
}

static int sector_u32(Converter *c, uint64_t sector, uint32_t *ret) {
        if (sector > UINT32_MAX)
                return error_set(c->out.err, -EFBIG, "VMDK '%s' would outgrow 32-bit sector offsets",
                                 c->out.path);
        *ret = (uint32_t) sector;
        return 0;
}

/* Deflate the batch's grains (zlib format, as compress2() writes it), then
 * store each in order as marker + data. */
static int batch_store(Converter *c) {
        DeflateBatch *b = &c->batch;
        int r;

        r = deflate_batch_run(c->out.err, b, c->in.path);
        if (r < 0)
                return r;
        for (size_t i = 0; i < b->n; i++) {
                uint64_t g = b->index[i];
                uint8_t marker[GRAIN_MARKER_SIZE];
                uint32_t sector = 0;

                r = sector_u32(c, out_sector(&c->out), &sector);
                if (r < 0)
                        return r;
                put_le64(marker, g * GRAIN_SECTORS);
                put_le32(marker + 8, (uint32_t) b->out_len[i]);
                if ((r = image_out_write(&c->out, marker, sizeof marker)) < 0 ||
                    (r = image_out_write(&c->out, deflate_batch_output(b, i), b->out_len[i])) < 0 ||
                    (r = image_out_pad(&c->out, SECTOR)) < 0)
                        return r;
                c->gt[g % GTES_PER_GT] = sector;
        }
        deflate_batch_clear(b);
        return 0;
}

/* Write the grain table t if any of its grains is stored. */
static int gt_flush(Converter *c, uint64_t t) {
        uint8_t buf[GTES_PER_GT * 4];
        bool any = false;
        uint32_t sector = 0;
        int r;

        for (unsigned i = 0; i < GTES_PER_GT; i++) {
                put_le32(buf + 4 * i, c->gt[i]);
                any = any || c->gt[i] != 0;
        }
        if (!any)
                return 0;
        r = out_marker(&c->out, GT_SECTORS, MARKER_GT);
        if (r < 0)
                return r;
        r = sector_u32(c, out_sector(&c->out), &sector);
        if (r < 0)
                return r;
        r = image_out_write(&c->out, buf, sizeof buf);
        if (r < 0)
                return r;
        c->gd[t] = sector;
        memset(c->gt, 0, sizeof c->gt);
        return 0;
}

static int grains_write(Converter *c) {
        int r;

        for (uint64_t g = 0; g < c->n_grains; g++) {
                bool data;

                r = raw_reader_chunk(&c->in, g, deflate_batch_next(&c->batch), GRAIN_BYTES, &data);
                if (r < 0)
                        return r;
                if (data && deflate_batch_add(&c->batch, g) && (r = batch_store(c)) < 0)
                        return r;
                if ((g + 1) % GTES_PER_GT == 0 || g + 1 == c->n_grains) {
                        /* The table's grains are all stored before the table. */
                        r = batch_store(c);
                        if (r < 0)
                                return r;
                        r = gt_flush(c, g / GTES_PER_GT);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int tail_write(Converter *c) {
        _cleanup_free_ uint8_t *gd = NULL;
        uint8_t header[SECTOR];
        uint64_t gd_sectors = (c->n_gts * 4 + SECTOR - 1) / SECTOR, gd_offset;
        int r;

        gd = calloc(gd_sectors, SECTOR);
        if (!gd)
                return -ENOMEM;
        for (uint64_t t = 0; t < c->n_gts; t++)
                put_le32(gd + 4 * t, c->gd[t]);
        r = out_marker(&c->out, gd_sectors, MARKER_GD);
        if (r < 0)
                return r;
        gd_offset = out_sector(&c->out);
        r = image_out_write(&c->out, gd, gd_sectors * SECTOR);
        if (r < 0)
                return r;
        /* Readers that cannot stream find the directory through this copy
         * of the header, the third sector from the end. */
        r = out_marker(&c->out, 1, MARKER_FOOTER);
        if (r < 0)
                return r;
        header_build(header, c->capacity_sectors, gd_offset);
        r = image_out_write(&c->out, header, sizeof header);
        if (r < 0)
                return r;
        return out_marker(&c->out, 0, MARKER_EOS);
}

int vmdk_from_raw(ErrorSlot *err, const char *raw_path, const char *dest_path, const VmdkOptions *opts,
                  uint64_t *ret_size) {
        _cleanup_(converter_done) Converter c = { .in.fd = -EBADF };
        _cleanup_close_ int out_fd = -EBADF;
        _cleanup_unlink_ char *tmp = NULL;
        _cleanup_free_ char *dest_copy = NULL;
        _cleanup_free_ uint8_t *desc = NULL;
        VmdkOptions o = opts ? *opts : (VmdkOptions) {};
        uint8_t header[SECTOR];
        const char *extent;
        int r;

        if (isempty(raw_path) || isempty(dest_path))
                return -EINVAL;
        if (!o.adapter_type)
                o.adapter_type = "ide";
        if (!streq(o.adapter_type, "ide") && !streq(o.adapter_type, "lsilogic") && !streq(o.adapter_type, "buslogic"))
                return error_set(err, -EINVAL, "unknown VMDK adapter type '%s'", o.adapter_type);
        if (o.compression_level == 0)
                o.compression_level = 6;
        if (o.compression_level < 1 || o.compression_level > 9)
                return error_set(err, -EINVAL, "zlib compression level %d is not in 1..9", o.compression_level);
        dest_copy = strdup(dest_path);
        if (!dest_copy)
                return -ENOMEM;
        extent = o.extent_name ?: basename(dest_copy);
        if (!extent_name_valid(extent))
                return error_set(err, -EINVAL, "'%s' is not a valid VMDK extent file name", extent);

        r = raw_reader_open(err, raw_path, VMDK_CAPACITY_MAX, "the VMDK limit of 1 TiB", &c.in);
        if (r < 0)
                return r;
        c.capacity_sectors = c.in.size / SECTOR;
        c.n_grains = (c.in.size + GRAIN_BYTES - 1) / GRAIN_BYTES;
        c.n_gts = (c.n_grains + GTES_PER_GT - 1) / GTES_PER_GT;
        c.gd = calloc(c.n_gts, sizeof(uint32_t));
        desc = malloc(DESCRIPTOR_SECTORS * SECTOR);
        if (!c.gd || !desc)
                return -ENOMEM;
        /* Every grain compressed, with compress2()'s parameters (zlib
         * format, 32 KiB window, memory level 8): the bytes of the writer
         * before it compressed on several threads. */
        r = deflate_batch_init(err, &c.batch, GRAIN_BYTES, compressBound(GRAIN_BYTES), o.compression_level, 15, 8,
                               o.threads);
        if (r < 0)
                return r;
        r = descriptor_build(err, c.capacity_sectors, &o, extent, desc);
        if (r < 0)
                return r;

        tmp = strdup_printf("%s.tmpXXXXXX", dest_path);
        if (!tmp)
                return -ENOMEM;
        out_fd = mkostemp(tmp, O_CLOEXEC);
        if (out_fd < 0) {
                r = -errno;
                free(TAKE_PTR(tmp)); /* nothing to unlink */
                return error_set_errno(err, r, "cannot create a temporary file next to '%s'", dest_path);
        }
        c.out = (ImageOut) { .fd = out_fd, .path = tmp, .err = err };

        /* The header up front says "directory at the end": a streaming
         * reader needs nothing else, the footer has the real offset. */
        header_build(header, c.capacity_sectors, GD_AT_END);
        r = image_out_write(&c.out, header, sizeof header);
        if (r >= 0)
                r = image_out_write(&c.out, desc, DESCRIPTOR_SECTORS * SECTOR);
        while (r >= 0 && out_sector(&c.out) < OVERHEAD_SECTORS) {
                static const uint8_t zero_sector[SECTOR];
                r = image_out_write(&c.out, zero_sector, sizeof zero_sector);
        }
        if (r >= 0)
                r = grains_write(&c);
        if (r >= 0)
                r = tail_write(&c);
        if (r < 0)
                return r;
        if (fchmod(out_fd, 0644) < 0 || fsync(out_fd) < 0)
                return error_set_errno(err, -errno, "cannot finish '%s'", tmp);
        if (rename(tmp, dest_path) < 0)
                return error_set_errno(err, -errno, "cannot rename '%s' to '%s'", tmp, dest_path);
        free(TAKE_PTR(tmp));
        if (ret_size)
                *ret_size = c.out.pos;
        return 0;
}
