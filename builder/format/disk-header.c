/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "disk-header.h"
#include "util.h"

#define QCOW2_MAGIC "QFI\xfb"
#define QCOW2_V2_HEADER 72u
#define QCOW2_V3_HEADER 104u
#define QCOW2_INCOMPAT_DATA_FILE (UINT64_C(1) << 2)
#define QCOW2_EXT_END 0u
#define QCOW2_EXT_DATA_FILE 0x44415441u  /* "DATA": the external data file's name */

#define VMDK_MAGIC "KDMV"
#define VMDK_SPARSE_HEADER 77u
#define VMDK_TEXT_MAGIC "# Disk DescriptorFile"
#define SECTOR 512u

const char *disk_format_name(DiskFormat f) {
        switch (f) {
        case DISK_QCOW2:
                return "qcow2";
        case DISK_VMDK:
                return "vmdk";
        default:
                return "raw";
        }
}

static uint32_t be32(const uint8_t *p) {
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p) {
        return (uint64_t) be32(p) << 32 | be32(p + 4);
}

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[3] << 24 | (uint32_t) p[2] << 16 | (uint32_t) p[1] << 8 | p[0];
}

static uint64_t le64(const uint8_t *p) {
        return (uint64_t) le32(p + 4) << 32 | le32(p);
}

static int check_size(ErrorSlot *err, const char *name, uint64_t v) {
        if (v > DISK_MAX_VIRTUAL_SIZE)
                return error_set(err, -EFBIG, "'%s': virtual size %" PRIu64 " bytes is above the limit of 16 TiB",
                                 name, v);
        return 0;
}

static int parse_qcow2(ErrorSlot *err, const char *name, const uint8_t *d, size_t size, DiskHeader *h) {
        uint32_t version, cluster_bits, header_len = QCOW2_V2_HEADER;
        uint64_t cluster;
        size_t off, end;

        if (size < QCOW2_V2_HEADER)
                return error_set(err, -EBADMSG, "'%s': qcow2 header is cut short", name);
        version = be32(d + 4);
        if (version != 2 && version != 3)
                return error_set(err, -EBADMSG, "'%s': qcow2 version %u is not 2 or 3", name, version);
        if (be64(d + 8) != 0 || be32(d + 16) != 0)
                return error_set(err, -EPERM,
                                 "'%s' names a backing file: refused, it could be any file of this machine", name);
        cluster_bits = be32(d + 20);
        if (cluster_bits < 9 || cluster_bits > 21)
                return error_set(err, -EBADMSG, "'%s': qcow2 cluster size 2^%u is out of range", name,
                                 cluster_bits);
        cluster = UINT64_C(1) << cluster_bits;
        if (be32(d + 32) != 0)
                return error_set(err, -EPERM, "'%s' is encrypted: refused", name);
        if (version == 3) {
                if (size < QCOW2_V3_HEADER)
                        return error_set(err, -EBADMSG, "'%s': qcow2 version 3 header is cut short", name);
                if (be64(d + 72) & QCOW2_INCOMPAT_DATA_FILE)
                        return error_set(err, -EPERM,
                                         "'%s' keeps its data in an external file: refused, it could be any file "
                                         "of this machine",
                                         name);
                header_len = be32(d + 100);
                if (header_len < QCOW2_V3_HEADER || header_len % 8 != 0 || header_len > cluster)
                        return error_set(err, -EBADMSG, "'%s': qcow2 header length %u is invalid", name,
                                         header_len);
        }
        /* Header extensions: up to an end marker within the first
         * cluster, all of it in the bytes we were given. */
        end = cluster < size ? (size_t) cluster : size;
        for (off = header_len;;) {
                uint32_t type, len;

                if (off > end || end - off < 8)
                        return error_set(err, -EBADMSG,
                                         "'%s': qcow2 header extensions run past the first %zu bytes", name, end);
                type = be32(d + off);
                len = be32(d + off + 4);
                if (type == QCOW2_EXT_END)
                        break;
                if (type == QCOW2_EXT_DATA_FILE)
                        return error_set(err, -EPERM,
                                         "'%s' names an external data file: refused, it could be any file of this "
                                         "machine",
                                         name);
                if (len > end - off - 8)
                        return error_set(err, -EBADMSG, "'%s': a qcow2 header extension runs past the header",
                                         name);
                off += 8 + (((size_t) len + 7) & ~(size_t) 7);
        }
        h->format = DISK_QCOW2;
        h->virtual_size = be64(d + 24);
        return check_size(err, name, h->virtual_size);
}

/* The value of KEY="value" or KEY=value on a line of the descriptor, or
 * NULL; into buf (at most n bytes with the NUL). */
static const char *descriptor_value(const char *text, const char *key, char *buf, size_t n) {
        size_t k = strlen(key);

        for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
                const char *p = line, *v;
                size_t len = 0;

                while (*p == ' ' || *p == '\t')
                        p++;
                if (strncmp(p, key, k) != 0)
                        continue;
                p += k;
                while (*p == ' ' || *p == '\t')
                        p++;
                if (*p != '=')
                        continue;
                p++;
                while (*p == ' ' || *p == '\t')
                        p++;
                if (*p == '"')
                        p++;
                v = p;
                while (v[len] && v[len] != '"' && v[len] != '\n' && v[len] != '\r')
                        len++;
                if (len >= n)
                        len = n - 1;
                memcpy(buf, v, len);
                buf[len] = 0;
                return buf;
        }
        return NULL;
}

static int parse_vmdk(ErrorSlot *err, const char *name, const uint8_t *d, size_t size, DiskHeader *h) {
        uint64_t capacity, desc_off, desc_sectors;
        _cleanup_free_ char *text = NULL;
        char value[64];
        const char *v;
        uint32_t version;
        size_t start, len;

        if (size < VMDK_SPARSE_HEADER)
                return error_set(err, -EBADMSG, "'%s': VMDK header is cut short", name);
        version = le32(d + 4);
        if (version < 1 || version > 3)
                return error_set(err, -EBADMSG, "'%s': VMDK version %u is not 1 to 3", name, version);
        capacity = le64(d + 12);
        desc_off = le64(d + 28);
        desc_sectors = le64(d + 36);
        if (capacity > DISK_MAX_VIRTUAL_SIZE / SECTOR)
                return check_size(err, name, DISK_MAX_VIRTUAL_SIZE + 1);
        /* qemu reads the embedded descriptor for a parent: it must be
         * here to be checked. */
        if (desc_off == 0 || desc_sectors == 0 || desc_off > size / SECTOR || desc_sectors > size / SECTOR ||
            desc_off * SECTOR + desc_sectors * SECTOR > size)
                return error_set(err, -EBADMSG, "'%s': the VMDK's descriptor is not within its first %zu bytes",
                                 name, size);
        start = (size_t) (desc_off * SECTOR);
        len = (size_t) (desc_sectors * SECTOR);
        text = malloc(len + 1);
        if (!text)
                return -ENOMEM;
        memcpy(text, d + start, len);
        text[len] = 0;  /* the text ends at its first NUL, or here */

        v = descriptor_value(text, "createType", value, sizeof value);
        if (!v || (!streq(v, "monolithicSparse") && !streq(v, "streamOptimized")))
                return error_set(err, -EPERM, "'%s': VMDK createType '%s' is refused (only monolithicSparse and "
                                 "streamOptimized, which name no other file)", name, v ? v : "(none)");
        if (descriptor_value(text, "parentFileNameHint", value, sizeof value))
                return error_set(err, -EPERM, "'%s' names a parent disk: refused, it could be any file of this "
                                 "machine", name);
        v = descriptor_value(text, "parentCID", value, sizeof value);
        if (v && strcasecmp(v, "ffffffff") != 0)
                return error_set(err, -EPERM, "'%s' has a parent disk (parentCID %s): refused", name, v);
        h->format = DISK_VMDK;
        h->virtual_size = capacity * SECTOR;
        return 0;
}

int disk_header_parse(ErrorSlot *err, const char *name, const uint8_t *data, size_t size, uint64_t file_size,
                      DiskHeader *ret) {
        DiskHeader h = { .format = DISK_RAW, .virtual_size = file_size };
        int r;

        if (size > DISK_HEADER_READ)
                size = DISK_HEADER_READ;
        if (size >= 4 && memcmp(data, QCOW2_MAGIC, 4) == 0)
                r = parse_qcow2(err, name, data, size, &h);
        else if (size >= 4 && memcmp(data, VMDK_MAGIC, 4) == 0)
                r = parse_vmdk(err, name, data, size, &h);
        else if (size >= strlen(VMDK_TEXT_MAGIC) && memcmp(data, VMDK_TEXT_MAGIC, strlen(VMDK_TEXT_MAGIC)) == 0)
                r = error_set(err, -EPERM, "'%s' is a VMDK descriptor, which names other files: refused", name);
        else
                r = check_size(err, name, file_size);
        if (r < 0)
                return r;
        *ret = h;
        return 0;
}
