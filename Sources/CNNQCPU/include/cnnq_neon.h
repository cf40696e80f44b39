#ifndef CNNQ_NEON_H
#define CNNQ_NEON_H

/* The NEON steps of the Arm baseline GEMM kernel, for Swift, which has no intrinsics. Every aarch64
   core and every armv7 board this library supports has them. */
#if defined(__ARM_NEON)
#include <arm_neon.h>

#if defined(__aarch64__)
/* smull2 and smlal2 of w's high half by x's: as intrinsics, LLVM sees that x holds the same bytes in
   both halves and multiplies an `ext` copy of w's high half by x's low one instead, an extra
   instruction per multiply. */
static inline __attribute__((always_inline)) int16x8_t cnnq_smull2(int8x16_t w, int8x16_t x) {
    int16x8_t r;
    __asm__("smull2 %0.8h, %1.16b, %2.16b" : "=w"(r) : "w"(w), "w"(x));
    return r;
}
static inline __attribute__((always_inline)) int16x8_t cnnq_smlal2(int16x8_t acc, int8x16_t w, int8x16_t x) {
    __asm__("smlal2 %0.8h, %1.16b, %2.16b" : "+w"(acc) : "w"(w), "w"(x));
    return acc;
}
#endif

/* acc + the pairwise sums of w[0..7] · x[0..7] (low) or w[8..15] · x[8..15] (high): 8 int8 products,
   each exact in int16, summed in pairs into the 4 int32 lanes (smull + sadalp). x holds the same 8
   bytes in both halves. */
static inline __attribute__((always_inline)) int32x4_t cnnq_mull_pairs_low(int32x4_t acc, int8x16_t w, int8x16_t x) {
    return vpadalq_s16(acc, vmull_s8(vget_low_s8(w), vget_low_s8(x)));
}
static inline __attribute__((always_inline)) int32x4_t cnnq_mull_pairs_high(int32x4_t acc, int8x16_t w, int8x16_t x) {
#if defined(__aarch64__)
    return vpadalq_s16(acc, cnnq_smull2(w, x));
#else
    return vpadalq_s16(acc, vmull_s8(vget_high_s8(w), vget_high_s8(x)));
#endif
}

/* The same for two groups at once: w · x + v · y added in int16 before the pairwise sum (smull,
   smlal, sadalp: one sadalp per 16 products instead of 8). Exact because weights lie in −127 … 127
   (checked at load): |w·x + v·y| ≤ 2 · 127 · 128 = 32512. */
static inline __attribute__((always_inline)) int32x4_t cnnq_mull2_pairs_low(
    int32x4_t acc, int8x16_t w, int8x16_t x, int8x16_t v, int8x16_t y) {
    return vpadalq_s16(acc, vmlal_s8(vmull_s8(vget_low_s8(w), vget_low_s8(x)), vget_low_s8(v), vget_low_s8(y)));
}
static inline __attribute__((always_inline)) int32x4_t cnnq_mull2_pairs_high(
    int32x4_t acc, int8x16_t w, int8x16_t x, int8x16_t v, int8x16_t y) {
#if defined(__aarch64__)
    return vpadalq_s16(acc, cnnq_smlal2(cnnq_smull2(w, x), v, y));
#else
    return vpadalq_s16(acc, vmlal_s8(vmull_s8(vget_high_s8(w), vget_high_s8(x)), vget_high_s8(v), vget_high_s8(y)));
#endif
}

#if defined(__aarch64__)
/* table[x + 128] for 16 bytes x, the 256-entry table in t0 … t15 (16 entries each): tbl over entries
   0-63, then tbx over each next 64, which leaves lanes whose index is outside its 64 as they were. */
static inline __attribute__((always_inline)) int8x16_t cnnq_lookup16(
    int8x16_t x, int8x16_t t0, int8x16_t t1, int8x16_t t2, int8x16_t t3, int8x16_t t4, int8x16_t t5, int8x16_t t6,
    int8x16_t t7, int8x16_t t8, int8x16_t t9, int8x16_t t10, int8x16_t t11, int8x16_t t12, int8x16_t t13,
    int8x16_t t14, int8x16_t t15) {
    uint8x16_t i = vreinterpretq_u8_s8(veorq_s8(x, vdupq_n_s8(-128)));
    int8x16x4_t a = {{t0, t1, t2, t3}}, b = {{t4, t5, t6, t7}}, c = {{t8, t9, t10, t11}}, d = {{t12, t13, t14, t15}};
    int8x16_t r = vqtbl4q_s8(a, i);
    r = vqtbx4q_s8(r, b, vsubq_u8(i, vdupq_n_u8(64)));
    r = vqtbx4q_s8(r, c, vsubq_u8(i, vdupq_n_u8(128)));
    return vqtbx4q_s8(r, d, vsubq_u8(i, vdupq_n_u8(192)));
}
#endif

/* The output stage of Requantization.swift on 4 lanes: float(acc) times the scale, clamped to
   [lowest, highest], plus 1.5·2^23, whose bits minus bias_bits are the outputs. From Swift, LLVM
   clamps with a compare and a select per bound (Swift's min and max order NaN as fmin and fmax do
   not), and on armv7, whose NEON flushes subnormals to zero, keeps every float lane in VFP, one at
   a time. These steps give the same bytes: scales are positive and finite (checked at load), so no
   lane is NaN; a product armv7 flushes is below 2^-126 in IEEE too, and clamps and rounds as zero
   does; every other step sees normal values and rounds to nearest as IEEE does. */
static inline __attribute__((always_inline)) int32x4_t cnnq_requantize4(
    int32x4_t acc, float32x4_t scales, float lowest, float highest, int32_t bias_bits) {
    float32x4_t v = vmulq_f32(vcvtq_f32_s32(acc), scales);
    v = vminq_f32(vmaxq_f32(v, vdupq_n_f32(lowest)), vdupq_n_f32(highest));
    return vsubq_s32(vreinterpretq_s32_f32(vaddq_f32(v, vdupq_n_f32(12582912.0f))), vdupq_n_s32(bias_bits));
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
