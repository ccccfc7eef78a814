/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>

#include "sha256-x86.h"
#include "sha256.h"
#include "util.h"

/* First 32 bits of the fractional parts of the cube roots of the first 64
 * primes (FIPS 180-4, 4.2.2). */
static const uint32_t K[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t ror32(uint32_t x, unsigned n) {
        return (x >> n) | (x << (32 - n));
}

static inline uint32_t load_be32(const uint8_t *p) {
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | (uint32_t) p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t) (v >> 24);
        p[1] = (uint8_t) (v >> 16);
        p[2] = (uint8_t) (v >> 8);
        p[3] = (uint8_t) v;
}

static void sha256_block(Sha256 *s, const uint8_t *block) {
        uint32_t w[64], a, b, c, d, e, f, g, h;

        for (unsigned i = 0; i < 16; i++)
                w[i] = load_be32(block + 4 * i);
        for (unsigned i = 16; i < 64; i++) {
                uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^ (w[i - 15] >> 3);
                uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^ (w[i - 2] >> 10);
                w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }

        a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3];
        e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];

        for (unsigned i = 0; i < 64; i++) {
                uint32_t S1 = ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25);
                uint32_t ch = (e & f) ^ (~e & g);
                uint32_t t1 = h + S1 + ch + K[i] + w[i];
                uint32_t S0 = ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22);
                uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
                uint32_t t2 = S0 + maj;

                h = g;
                g = f;
                f = e;
                e = d + t1;
                d = c;
                c = b;
                b = a;
                a = t1 + t2;
        }

        s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d;
        s->h[4] += e, s->h[5] += f, s->h[6] += g, s->h[7] += h;
}

static bool portable_only;

void sha256_set_portable(bool portable) {
        portable_only = portable;
}

/* n blocks: on the CPU's SHA instructions where it has them (some five times
 * faster: the export hashes gigabytes), else in C above. */
static void sha256_blocks(Sha256 *s, const uint8_t *p, size_t n) {
        if (!portable_only && sha256_x86_usable()) {
                sha256_x86_blocks(s->h, p, n, K);
                return;
        }
        for (; n > 0; n--, p += 64)
                sha256_block(s, p);
}

void sha256_init(Sha256 *s) {
        /* First 32 bits of the fractional parts of the square roots of the
         * first 8 primes (FIPS 180-4, 5.3.3). */
        static const uint32_t H0[8] = {
                0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
        };

        memcpy(s->h, H0, sizeof(H0));
        s->length = 0;
        s->buf_used = 0;
}

void sha256_update(Sha256 *s, const void *p, size_t n) {
        const uint8_t *d = p;

        s->length += n;

        if (s->buf_used > 0) {
                size_t k = 64 - s->buf_used;

                if (k > n)
                        k = n;
                memcpy(s->buf + s->buf_used, d, k);
                s->buf_used += k;
                d += k;
                n -= k;
                if (s->buf_used < 64)
                        return;
                sha256_blocks(s, s->buf, 1);
                s->buf_used = 0;
        }

        sha256_blocks(s, d, n / 64);
        d += n / 64 * 64;
        n %= 64;

        if (n > 0) {
                memcpy(s->buf, d, n);
                s->buf_used = n;
        }
}

void sha256_final(Sha256 *s, uint8_t out[SHA256_DIGEST_SIZE]) {
        uint64_t bits = s->length * 8;

        /* Padding: a 1 bit, zeros up to 56 mod 64, then the length in bits
         * as a 64-bit big-endian number. */
        s->buf[s->buf_used++] = 0x80;
        if (s->buf_used > 56) {
                memset(s->buf + s->buf_used, 0, 64 - s->buf_used);
                sha256_blocks(s, s->buf, 1);
                s->buf_used = 0;
        }
        memset(s->buf + s->buf_used, 0, 56 - s->buf_used);
        store_be32(s->buf + 56, (uint32_t) (bits >> 32));
        store_be32(s->buf + 60, (uint32_t) bits);
        sha256_blocks(s, s->buf, 1);

        for (unsigned i = 0; i < 8; i++)
                store_be32(out + 4 * i, s->h[i]);

        /* Do not leave the state of what was hashed lying around. */
        memset(s, 0, sizeof(*s));
}

char *sha256_hex(const void *p, size_t n) {
        uint8_t digest[SHA256_DIGEST_SIZE];
        Sha256 s;

        sha256_init(&s);
        sha256_update(&s, p, n);
        sha256_final(&s, digest);
        return hexmem(digest, sizeof(digest));
}

int sha256_file(const char *path, char **ret_hex) {
        _cleanup_close_ int fd = -EBADF;
        uint8_t digest[SHA256_DIGEST_SIZE];
        uint8_t buf[64 * 1024];
        Sha256 s;
        char *hex;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;

        sha256_init(&s);
        for (;;) {
                ssize_t k = read(fd, buf, sizeof(buf));

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                sha256_update(&s, buf, (size_t) k);
        }
        sha256_final(&s, digest);

        hex = hexmem(digest, sizeof(digest));
        if (!hex)
                return -ENOMEM;
        *ret_hex = hex;
        return 0;
}

bool sha256_hex_valid(const char *s) {
        return s && strlen(s) == SHA256_HEX_SIZE - 1 && strspn(s, "0123456789abcdef") == SHA256_HEX_SIZE - 1;
}
