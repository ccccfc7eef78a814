/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * SHA-256's compression function on the x86 SHA extensions (SHA-NI:
 * sha256rnds2, sha256msg1, sha256msg2), for sha256.c.  Whether the CPU has
 * them is asked once (cpuid); where it does not, or off x86-64,
 * sha256_x86_usable() is false and sha256.c keeps its portable code.  The
 * same digests either way (tests/unit/test-sha256.c compares the two on
 * every length up to a few blocks and on a large buffer).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool sha256_x86_usable(void);

/* Compress n 64-byte blocks at p into the state h[8] (A..H). */
void sha256_x86_blocks(uint32_t h[8], const uint8_t *p, size_t n, const uint32_t k[64]);
