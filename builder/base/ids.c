/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ids.h"
#include "sha256.h"
#include "util.h"

static void add_string(Sha256 *s, const char *str) {
        uint64_t l = strlen(str);
        uint8_t len[8];

        /* Fixed-width little-endian length first: unambiguous concatenation. */
        for (size_t i = 0; i < sizeof len; i++)
                len[i] = (uint8_t) (l >> (8 * i));
        sha256_update(s, len, sizeof len);
        sha256_update(s, str, l);
}

/* Fill out[0..n) from SHA-256(kind, seed, what, counter) for counter 0, 1,
 * ...: one block covers UUIDs and MACs, id_hex() may need more. */
static int derive(const char *kind, const char *seed, const char *what, uint8_t *out, size_t n) {
        if (!seed || !what)
                return -EINVAL;

        for (uint32_t counter = 0; n > 0; counter++) {
                uint8_t digest[SHA256_DIGEST_SIZE], c[4];
                size_t k = n < sizeof digest ? n : sizeof digest;
                Sha256 s;

                for (size_t i = 0; i < sizeof c; i++)
                        c[i] = (uint8_t) (counter >> (8 * i));
                sha256_init(&s);
                add_string(&s, "whonix-build-id");
                add_string(&s, kind);
                add_string(&s, seed);
                add_string(&s, what);
                sha256_update(&s, c, sizeof c);
                sha256_final(&s, digest);
                memcpy(out, digest, k);
                out += k;
                n -= k;
        }
        return 0;
}

int id_uuid(const char *seed, const char *what, char ret[static ID_UUID_STRING_MAX]) {
        uint8_t b[16];
        char s[ID_UUID_STRING_MAX];
        int r;

        r = derive("uuid", seed, what, b, sizeof b);
        if (r < 0)
                return r;
        b[6] = (uint8_t) ((b[6] & 0x0f) | 0x40); /* version 4 */
        b[8] = (uint8_t) ((b[8] & 0x3f) | 0x80); /* variant RFC 4122 */
        snprintf(s, sizeof s,
                 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                 b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
        memcpy(ret, s, sizeof s);
        return 0;
}

static int parse_oui(const char *oui, uint8_t ret[static 3]) {
        uint8_t b[3];

        if (!oui || strlen(oui) != 8)
                return -EINVAL;
        for (size_t i = 0; i < 3; i++) {
                int hi = unhexchar(oui[3 * i]), lo = unhexchar(oui[3 * i + 1]);

                if (hi < 0 || lo < 0 || (i < 2 && oui[3 * i + 2] != ':'))
                        return -EINVAL;
                b[i] = (uint8_t) (hi << 4 | lo);
        }
        /* A multicast "OUI" would make every NIC a group address. */
        if (b[0] & 0x01)
                return -EINVAL;
        memcpy(ret, b, sizeof b);
        return 0;
}

int id_mac(const char *seed, const char *what, const char *oui, char ret[static ID_MAC_STRING_MAX]) {
        uint8_t o[3], b[3];
        char s[ID_MAC_STRING_MAX];
        int r;

        r = parse_oui(oui, o);
        if (r < 0)
                return r;
        r = derive("mac", seed, what, b, sizeof b);
        if (r < 0)
                return r;
        snprintf(s, sizeof s, "%02x:%02x:%02x:%02x:%02x:%02x", o[0], o[1], o[2], b[0], b[1], b[2]);
        memcpy(ret, s, sizeof s);
        return 0;
}

int id_hex(const char *seed, const char *what, size_t nbytes, char **ret) {
        _cleanup_free_ uint8_t *b = NULL;
        char *h;
        int r;

        if (nbytes == 0 || nbytes > ID_HEX_BYTES_MAX)
                return -EINVAL;
        b = malloc(nbytes);
        if (!b)
                return -ENOMEM;
        r = derive("hex", seed, what, b, nbytes);
        if (r < 0)
                return r;
        h = hexmem(b, nbytes);
        if (!h)
                return -ENOMEM;
        *ret = h;
        return 0;
}
