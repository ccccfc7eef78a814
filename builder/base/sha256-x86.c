/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sha256-x86.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <cpuid.h>
#include <immintrin.h>

bool sha256_x86_usable(void) {
        static int usable = -1;
        unsigned a, b, c, d;

        if (usable >= 0)
                return usable;
        /* Leaf 1: SSSE3 (ecx bit 9), SSE4.1 (ecx bit 19).  Leaf 7: SHA (ebx
         * bit 29).  A benign race: every thread computes the same answer. */
        usable = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 9)) && (c & (1u << 19)) &&
                 __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29));
        return usable;
}

/* The instructions keep the eight working variables in two registers, in
 * this order from the highest lane down: A B E F and C D G H.  Two rounds
 * (sha256rnds2) take the round constants plus message words of those rounds
 * in the low two lanes and return the new A B E F; after them the old A B E F
 * is the new C D G H, so the two registers swap roles every two rounds and
 * are back in place after four. */
__attribute__((target("sha,sse4.1,ssse3")))
void sha256_x86_blocks(uint32_t h[8], const uint8_t *p, size_t n, const uint32_t k[64]) {
        /* Big-endian words: reverse the bytes of each 32-bit lane. */
        const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
        __m128i abcd = _mm_loadu_si128((const __m128i *) &h[0]);  /* lanes, low first: A B C D */
        __m128i efgh = _mm_loadu_si128((const __m128i *) &h[4]);  /* E F G H */
        __m128i badc = _mm_shuffle_epi32(abcd, 0xb1);             /* B A D C */
        __m128i hgfe = _mm_shuffle_epi32(efgh, 0x1b);             /* H G F E */
        __m128i abef = _mm_alignr_epi8(badc, hgfe, 8);            /* F E B A */
        __m128i cdgh = _mm_blend_epi16(hgfe, badc, 0xf0);         /* H G D C */

        for (; n > 0; n--, p += 64) {
                const __m128i abef_in = abef, cdgh_in = cdgh;
                __m128i w[4]; /* the last sixteen message words, four to a register */

                for (unsigned i = 0; i < 4; i++)
                        w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *) (p + 16 * i)), bswap);
                for (unsigned g = 0; g < 16; g++) {
                        __m128i wk;

                        if (g >= 4) {
                                /* Words 4g..4g+3 from those 16, 15, 7 and 2
                                 * places back: w[g%4] holds group g-4, then
                                 * g-3, g-2, g-1 follow around the ring. */
                                __m128i x = _mm_sha256msg1_epu32(w[g % 4], w[(g + 1) % 4]);
                                x = _mm_add_epi32(x, _mm_alignr_epi8(w[(g + 3) % 4], w[(g + 2) % 4], 4));
                                w[g % 4] = _mm_sha256msg2_epu32(x, w[(g + 3) % 4]);
                        }
                        wk = _mm_add_epi32(w[g % 4], _mm_loadu_si128((const __m128i *) &k[4 * g]));
                        cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
                        abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0e));
                }
                abef = _mm_add_epi32(abef, abef_in);
                cdgh = _mm_add_epi32(cdgh, cdgh_in);
        }

        /* Back to A..H. */
        __m128i abef_r = _mm_shuffle_epi32(abef, 0x1b);           /* A B E F */
        __m128i ghcd = _mm_shuffle_epi32(cdgh, 0xb1);             /* G H C D */
        _mm_storeu_si128((__m128i *) &h[0], _mm_blend_epi16(abef_r, ghcd, 0xf0));
        _mm_storeu_si128((__m128i *) &h[4], _mm_alignr_epi8(ghcd, abef_r, 8));
}

#else

bool sha256_x86_usable(void) {
        return false;
}

void sha256_x86_blocks(uint32_t h[8], const uint8_t *p, size_t n, const uint32_t k[64]) {
        __builtin_trap(); /* never called: sha256_x86_usable() is false */
}

#endif
