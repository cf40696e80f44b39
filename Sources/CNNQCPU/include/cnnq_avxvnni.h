#ifndef CNNQ_AVXVNNI_H
#define CNNQ_AVXVNNI_H

/* vpdpbusd on ymm (the VEX form of AVX-VNNI) for Swift: inlined into the kernels of the module built
   with -mavx2 -mavxvnni. Declared for every x86_64 module, with the target attribute, because
   Embedded Swift's clients of that module read its declarations too. */
#if defined(__x86_64__)
#include <immintrin.h>

typedef int cnnq_i32x8 __attribute__((vector_size(32)));

/* acc + Σ_{j<4} a[4i+j] · b[4i+j] per int32 lane i: a unsigned bytes, b signed bytes, exact. */
static inline __attribute__((always_inline, target("avx2,avxvnni"))) cnnq_i32x8 cnnq_dpbusd_ymm(cnnq_i32x8 acc, cnnq_i32x8 a, cnnq_i32x8 b) {
    return (cnnq_i32x8)_mm256_dpbusd_avx_epi32((__m256i)acc, (__m256i)a, (__m256i)b);
}
#endif

#endif
