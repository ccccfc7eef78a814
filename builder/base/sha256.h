/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * SHA-256 (FIPS 180-4), streaming and one-shot.
 *
 *     Sha256 s;
 *     uint8_t digest[SHA256_DIGEST_SIZE];
 *
 *     sha256_init(&s);
 *     sha256_update(&s, data, size);      (as often as needed)
 *     sha256_final(&s, digest);
 *
 * sha256_hex() hashes a buffer and sha256_file() a file, both returning the
 * digest as lowercase hex (64 characters plus NUL), the form used in Debian
 * Release files, SHA256SUMS and OVA manifests.
 *
 * After sha256_final() the state is wiped; call sha256_init() to reuse it.
 *
 * On x86-64 CPUs with the SHA extensions the blocks are hashed by those
 * (sha256-x86.h); sha256_set_portable(true) makes every later call use the
 * portable code instead, so that tests can compare the two.
 */

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32
#define SHA256_HEX_SIZE (SHA256_DIGEST_SIZE * 2 + 1)

typedef struct Sha256 {
        uint32_t h[8];
        uint64_t length;   /* bytes hashed so far */
        uint8_t buf[64];   /* partial block */
        size_t buf_used;
} Sha256;

void sha256_init(Sha256 *s);
void sha256_set_portable(bool portable);
void sha256_update(Sha256 *s, const void *p, size_t n);
void sha256_final(Sha256 *s, uint8_t out[SHA256_DIGEST_SIZE]);

/* Lowercase hex digest of n bytes at p; NULL on allocation failure. */
char *sha256_hex(const void *p, size_t n);
/* Whether s is a SHA-256 digest as sha256_hex() writes it: 64 lowercase
 * hex digits. */
bool sha256_hex_valid(const char *s);

/* Lowercase hex digest of the file at path, read in chunks (any size). */
int sha256_file(const char *path, char **ret_hex);
