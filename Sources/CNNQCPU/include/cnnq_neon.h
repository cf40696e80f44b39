#ifndef CNNQ_NEON_H
#define CNNQ_NEON_H

/* The NEON steps of the Arm baseline GEMM kernel, for Swift, which has no intrinsics. Every aarch64
   core and every armv7 board this library supports has them. */
#if defined(__ARM_NEON)
#include <arm_neon.h>

/* acc + the pairwise sums of w[0..7] · x[0..7] (low) or w[8..15] · x[0..7] (high): 8 int8 products,
   each exact in int16 (|w| ≤ 127), summed in pairs into the 4 int32 lanes (smull + sadalp). */
static inline __attribute__((always_inline)) int32x4_t cnnq_mull_pairs_low(int32x4_t acc, int8x16_t w, int8x8_t x) {
    return vpadalq_s16(acc, vmull_s8(vget_low_s8(w), x));
}
static inline __attribute__((always_inline)) int32x4_t cnnq_mull_pairs_high(int32x4_t acc, int8x16_t w, int8x8_t x) {
#if defined(__aarch64__)
    return vpadalq_s16(acc, vmull_high_s8(w, vcombine_s8(x, x)));
#else
    return vpadalq_s16(acc, vmull_s8(vget_high_s8(w), x));
#endif
}

/* (a0 + a1, a2 + a3, b0 + b1, b2 + b3) (addp). */
static inline __attribute__((always_inline)) int32x4_t cnnq_add_pairs(int32x4_t a, int32x4_t b) {
#if defined(__aarch64__)
    return vpaddq_s32(a, b);
#else
    return vcombine_s32(vpadd_s32(vget_low_s32(a), vget_high_s32(a)), vpadd_s32(vget_low_s32(b), vget_high_s32(b)));
#endif
}
#endif

#endif
