#ifndef CNNQ_I8MM_H
#define CNNQ_I8MM_H

/* smmla for Swift, which has no intrinsics: inlined into the kernels of the module built with
   -march=armv8.6-a+i8mm. Declared for every aarch64 module, with the target attribute, because
   Embedded Swift's clients of that module read its declarations too. */
#if defined(__aarch64__)
#include <arm_neon.h>

/* acc + a·bᵀ for a, b two rows of 8 signed bytes each: the 2×2 int32 products, row-major, exact. */
static inline __attribute__((always_inline, target("i8mm"))) int32x4_t cnnq_smmla(int32x4_t acc, int8x16_t a,
                                                                                  int8x16_t b) {
    return vmmlaq_s32(acc, a, b);
}
#endif

#endif
