#include "cnnq_clock.h"

#include <time.h>

#define ADDS 100000000L /* about 25 ms at 4 GHz */
#define DOTS 60000000L  /* 15–30 ms */

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

double cnnq_zmm_dpbusd_per_second(void) {
#if defined(__x86_64__)
    double best = 0;
    for (int run = 0; run < 4; run++) {
        double start = seconds();
        /* Twelve accumulators, more than latency × throughput on any core, so throughput bounds. */
        __asm__ volatile("vpxord %%zmm0, %%zmm0, %%zmm0\n vmovdqa64 %%zmm0, %%zmm1\n vmovdqa64 %%zmm0, %%zmm2\n"
                         "vmovdqa64 %%zmm0, %%zmm3\n vmovdqa64 %%zmm0, %%zmm4\n vmovdqa64 %%zmm0, %%zmm5\n"
                         "vmovdqa64 %%zmm0, %%zmm6\n vmovdqa64 %%zmm0, %%zmm7\n vmovdqa64 %%zmm0, %%zmm8\n"
                         "vmovdqa64 %%zmm0, %%zmm9\n vmovdqa64 %%zmm0, %%zmm10\n vmovdqa64 %%zmm0, %%zmm11\n"
                         "vmovdqa64 %%zmm0, %%zmm12\n vmovdqa64 %%zmm0, %%zmm13\n"
                         "mov %0, %%rcx\n"
                         "1:\n"
                         "vpdpbusd %%zmm12, %%zmm13, %%zmm0\n vpdpbusd %%zmm12, %%zmm13, %%zmm1\n"
                         "vpdpbusd %%zmm12, %%zmm13, %%zmm2\n vpdpbusd %%zmm12, %%zmm13, %%zmm3\n"
                         "vpdpbusd %%zmm12, %%zmm13, %%zmm4\n vpdpbusd %%zmm12, %%zmm13, %%zmm5\n"
                         "vpdpbusd %%zmm12, %%zmm13, %%zmm6\n vpdpbusd %%zmm12, %%zmm13, %%zmm7\n"
                         "vpdpbusd %%zmm12, %%zmm13, %%zmm8\n vpdpbusd %%zmm12, %%zmm13, %%zmm9\n"
                         "vpdpbusd %%zmm12, %%zmm13, %%zmm10\n vpdpbusd %%zmm12, %%zmm13, %%zmm11\n"
                         "sub $1, %%rcx\n"
                         "jnz 1b\n"
                         "vzeroupper\n"
                         :
                         : "r"(DOTS / 12)
                         : "rcx", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                           "xmm9", "xmm10", "xmm11", "xmm12", "xmm13");
        double rate = (double)(DOTS / 12 * 12) / (seconds() - start);
        if (rate > best) best = rate;
    }
    return best;
#else
    return 0;
#endif
}

double cnnq_clock_ghz(void) {
#if defined(__x86_64__) || defined(__aarch64__)
    double best = 0;
    for (int run = 0; run < 8; run++) {
        long x = 0;
        double start = seconds();
        /* Eight dependent adds per iteration; the loop counter is a second, independent chain. */
#if defined(__x86_64__)
        __asm__ volatile("mov %1, %%rcx\n"
                         "1:\n"
                         "add $1, %0\n add $1, %0\n add $1, %0\n add $1, %0\n"
                         "add $1, %0\n add $1, %0\n add $1, %0\n add $1, %0\n"
                         "sub $8, %%rcx\n"
                         "jnz 1b\n"
                         : "+r"(x) : "r"(ADDS) : "rcx", "cc");
#else
        __asm__ volatile("mov x9, %1\n"
                         "1:\n"
                         "add %0, %0, #1\n add %0, %0, #1\n add %0, %0, #1\n add %0, %0, #1\n"
                         "add %0, %0, #1\n add %0, %0, #1\n add %0, %0, #1\n add %0, %0, #1\n"
                         "subs x9, x9, #8\n"
                         "b.ne 1b\n"
                         : "+r"(x) : "r"(ADDS) : "x9", "cc");
#endif
        double ghz = (double)ADDS / (seconds() - start) * 1e-9;
        if (ghz > best) best = ghz;
    }
    return best;
#else
    return 0;
#endif
}
