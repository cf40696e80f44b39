#ifndef CNNQ_AVX512VNNI_H
#define CNNQ_AVX512VNNI_H

/* vpdpbusd on zmm for Swift, which has no intrinsics: inlined into the kernels of the module built
   with -mavx512f -mavx512bw -mavx512vl -mavx512vnni. Declared for every x86_64 module, with the
   target attribute, because Embedded Swift's clients of that module read its declarations too. */
#if defined(__x86_64__)
#include <immintrin.h>

typedef int cnnq_i32x16 __attribute__((vector_size(64)));

/* acc + Σ_{j<4} a[4i+j] · b[4i+j] per int32 lane i: a unsigned bytes, b signed bytes, exact. */
static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512vnni"))) cnnq_i32x16 cnnq_dpbusd_zmm(cnnq_i32x16 acc, cnnq_i32x16 a, cnnq_i32x16 b) {
    return (cnnq_i32x16)_mm512_dpbusd_epi32((__m512i)acc, (__m512i)a, (__m512i)b);
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
