#ifndef CNNQ_DOTPROD_H
#define CNNQ_DOTPROD_H

/* sdot by lane for Swift, which has no intrinsics: inlined into the kernels of the module built with
   -march=armv8.2-a+dotprod. Declared for every aarch64 module, with the target attribute, because
   Embedded Swift's clients of that module read its declarations too. The lane must be a constant,
   hence one function per lane. */
#if defined(__aarch64__)
#include <arm_neon.h>

/* acc[i] + Σ_{j<4} w[4i+j] · x[4·lane+j], signed bytes, exact. */
#define CNNQ_SDOT_LANE(lane)                                                                              \
    static inline __attribute__((always_inline, target("dotprod"))) int32x4_t cnnq_sdot_lane##lane(int32x4_t acc, int8x16_t w, \
                                                                                int8x16_t x) {            \
        return vdotq_laneq_s32(acc, w, x, lane);                                                          \
    }
CNNQ_SDOT_LANE(0)
CNNQ_SDOT_LANE(1)
CNNQ_SDOT_LANE(2)
CNNQ_SDOT_LANE(3)
#undef CNNQ_SDOT_LANE
#endif

#endif
