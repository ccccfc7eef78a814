/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The two ends of a disk image converter (VMDK, qcow2).  RawReader reads a
 * raw image chunk by chunk: holes are skipped with SEEK_DATA without
 * reading them, a chunk that reads as zeros is reported as such, a partial
 * last chunk is padded with zeros.  ImageOut writes the output in one pass,
 * counting the bytes.
 */

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

typedef struct RawReader {
        int fd;
        const char *path;
        uint64_t size;
        uint64_t data; /* first offset known to maybe hold data */
        ErrorSlot *err;
} RawReader;

/* Open path: a regular file whose size is a positive multiple of 512 and at
 * most max_size bytes (what_max names the limit in the error). */
int raw_reader_open(ErrorSlot *err, const char *path, uint64_t max_size, const char *what_max, RawReader *ret);
void raw_reader_close(RawReader *r);

/* Chunk number i of chunk_size bytes into buf (chunk_size bytes, zero-padded
 * past the end of the image).  *ret_data is false when the chunk is all
 * zeros (buf is then not necessarily filled).  Checks for a Ctrl-C. */
int raw_reader_chunk(RawReader *r, uint64_t i, uint8_t *buf, size_t chunk_size, bool *ret_data);

bool buffer_all_zero(const uint8_t *p, size_t n);

typedef struct ImageOut {
        int fd;
        uint64_t pos; /* bytes written */
        const char *path;
        ErrorSlot *err;
} ImageOut;

int image_out_write(ImageOut *o, const void *p, size_t n);
/* Zeros up to the next multiple of align (a power of two). */
int image_out_pad(ImageOut *o, uint64_t align);

void put_le16(uint8_t *p, uint16_t v);
void put_le32(uint8_t *p, uint32_t v);
void put_le64(uint8_t *p, uint64_t v);
void put_be16(uint8_t *p, uint16_t v);
void put_be32(uint8_t *p, uint32_t v);
void put_be64(uint8_t *p, uint64_t v);
