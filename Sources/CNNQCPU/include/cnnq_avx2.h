#ifndef CNNQ_AVX2_H
#define CNNQ_AVX2_H

/* vpshufb and vpblendvb on ymm for Swift, which has no intrinsics: inlined into the kernels of the module
   built with -mavx2. Declared for every x86_64 module, with the target attribute, because Embedded
   Swift's clients of that module read its declarations too. */
#if defined(__x86_64__)
#include <immintrin.h>

typedef int cnnq_i32x8 __attribute__((vector_size(32)));

/* table[x[i] + 128] for the 32 bytes x: each of the table's 16 rows of 16 bytes looked up by the index's
   low nibble (vpshufb, the row in both 128-bit lanes), then the index's high nibble picks one of the 16
   results a bit at a time, from bit 4 up (vpblendvb reads bit 7 of each byte: the index shifted left). */
static inline __attribute__((always_inline, target("avx2"))) cnnq_i32x8 cnnq_lookup_ymm(
    cnnq_i32x8 x, const signed char *table) {
    __m256i index = _mm256_xor_si256((__m256i)x, _mm256_set1_epi8((char)0x80));
    __m256i low = _mm256_and_si256(index, _mm256_set1_epi8(0x0F));
    __m256i r[16];
    for (int k = 0; k < 16; k++) {
        __m128i row = _mm_loadu_si128((const __m128i *)(table + 16 * k));
        r[k] = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(row), low);
    }
    for (int bit = 4, n = 8; bit < 8; bit++, n /= 2) {
        __m256i select = _mm256_slli_epi16(index, 7 - bit);
        for (int k = 0; k < n; k++) r[k] = _mm256_blendv_epi8(r[2 * k], r[2 * k + 1], select);
    }
    return (cnnq_i32x8)r[0];
}

#endif
#endif
