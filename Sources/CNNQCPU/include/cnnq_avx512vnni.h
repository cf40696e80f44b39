#ifndef CNNQ_AVX512VNNI_H
#define CNNQ_AVX512VNNI_H

/* vpdpbusd, vpermb and vpermi2b on zmm for Swift, which has no intrinsics: inlined into the kernels of the
   module built with -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mavx512vbmi. Declared for every x86_64 module, with the
   target attribute, because Embedded Swift's clients of that module read its declarations too. */
#if defined(__x86_64__)
#include <immintrin.h>

typedef int cnnq_i32x16 __attribute__((vector_size(64)));

typedef int cnnq_i32x8_vl __attribute__((vector_size(32)));

/* acc + Σ_{j<4} a[4i+j] · b[4i+j] per int32 lane i: a unsigned bytes, b signed bytes, exact. */
static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512vnni"))) cnnq_i32x16 cnnq_dpbusd_zmm(cnnq_i32x16 acc, cnnq_i32x16 a, cnnq_i32x16 b) {
    return (cnnq_i32x16)_mm512_dpbusd_epi32((__m512i)acc, (__m512i)a, (__m512i)b);
}

/* cnnq_dpbusd_zmm on 8 lanes (EVEX, AVX512VL: Zen 4 has no AVX-VNNI), for a last block of at most 8
   channels (half the zmm form's cost on a Zen 4). */
static inline __attribute__((always_inline, target("avx512f,avx512vl,avx512vnni"))) cnnq_i32x8_vl cnnq_dpbusd_ymm_vl(cnnq_i32x8_vl acc, cnnq_i32x8_vl a, cnnq_i32x8_vl b) {
    return (cnnq_i32x8_vl)_mm256_dpbusd_epi32((__m256i)acc, (__m256i)a, (__m256i)b);
}

/* Lane i of 16 holds byte i of each of the four 16-byte rows in `rows`' 128-bit lanes: vpermb moves
   byte 16j + i to byte 4i + j. AVX-512 VBMI. */
static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512vbmi"))) cnnq_i32x16 cnnq_transpose4_zmm(__m512i rows) {
    __m512i index = _mm512_add_epi32(
        _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi32(0x01010101)),
        _mm512_set1_epi32(0x30201000));
    return (cnnq_i32x16)_mm512_permutexvar_epi8(index, rows);
}

/* Lane i of 16 holds the bytes (a[i], b[i], c[i], 0): three kernel rows of channel i, for one vpdpbusd
   per kernel column of a 3×3 depthwise convolution. */
static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512vbmi"))) cnnq_i32x16 cnnq_interleave3_zmm(
    const signed char *a, const signed char *b, const signed char *c) {
    __m512i rows = _mm512_zextsi128_si512(_mm_loadu_si128((const __m128i *)a));
    rows = _mm512_inserti32x4(rows, _mm_loadu_si128((const __m128i *)b), 1);
    rows = _mm512_inserti32x4(rows, _mm_loadu_si128((const __m128i *)c), 2);
    return cnnq_transpose4_zmm(rows);
}

/* Lane i of 16 holds the bytes (a[i], b[i], c[i], d[i]): four kernel rows of channel i (5×5's rows 0-3). */
static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512vbmi"))) cnnq_i32x16 cnnq_interleave4_zmm(
    const signed char *a, const signed char *b, const signed char *c, const signed char *d) {
    __m512i rows = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)a));
    rows = _mm512_inserti32x4(rows, _mm_loadu_si128((const __m128i *)b), 1);
    rows = _mm512_inserti32x4(rows, _mm_loadu_si128((const __m128i *)c), 2);
    rows = _mm512_inserti32x4(rows, _mm_loadu_si128((const __m128i *)d), 3);
    return cnnq_transpose4_zmm(rows);
}

/* Lane i of 16 holds the bytes (a[i], 0, 0, 0): 5×5's last kernel row alone. */
static inline __attribute__((always_inline, target("avx512f"))) cnnq_i32x16 cnnq_zero_extend_bytes_zmm(const signed char *a) {
    return (cnnq_i32x16)_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)a));
}

/* x XOR 0x80 in every byte: int8 as uint8 offset by 128. */
static inline __attribute__((always_inline, target("avx512f"))) cnnq_i32x16 cnnq_flip_bytes_zmm(cnnq_i32x16 x) {
    return (cnnq_i32x16)_mm512_xor_si512((__m512i)x, _mm512_set1_epi32((int)0x80808080));
}

/* table[x[i] + 128] for the 64 bytes x, the 256-entry table in four zmm t0..t3: vpermi2b looks up the
   low 7 bits of the index (x + 128) in t0:t1 and in t2:t3, and its top bit picks one. AVX-512 VBMI. */
static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512vbmi"))) cnnq_i32x16 cnnq_lookup_zmm(
    cnnq_i32x16 x, cnnq_i32x16 t0, cnnq_i32x16 t1, cnnq_i32x16 t2, cnnq_i32x16 t3) {
    __m512i index = (__m512i)cnnq_flip_bytes_zmm(x);
    __m512i low = _mm512_permutex2var_epi8((__m512i)t0, index, (__m512i)t1);
    __m512i high = _mm512_permutex2var_epi8((__m512i)t2, index, (__m512i)t3);
    return (cnnq_i32x16)_mm512_mask_blend_epi8(_mm512_movepi8_mask(index), low, high);
}

/* The output stage of Requantization.swift on 16 lanes, step for step and so bit for bit: float(acc)
   times the scale, clamped to [lowest, highest], plus 1.5·2^23, whose bits minus bias_bits
   (0x4B400000 − zero point) are the outputs, stored as 16 bytes. Separate intrinsics: no contraction. */
static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512vnni"))) void cnnq_requantize_zmm(
    cnnq_i32x16 acc, const float *scales, float lowest, float highest, int bias_bits, signed char *out) {
    __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps((__m512i)acc), _mm512_loadu_ps(scales));
    v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(lowest)), _mm512_set1_ps(highest));
    __m512i q = _mm512_sub_epi32(_mm512_castps_si512(_mm512_add_ps(v, _mm512_set1_ps(12582912.0f))),
                                 _mm512_set1_epi32(bias_bits));
    _mm_storeu_si128((__m128i *)out, _mm512_cvtepi32_epi8(q));
}
#endif

#endif
