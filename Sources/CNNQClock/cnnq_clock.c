#include "cnnq_clock.h"

#include <time.h>

#define ADDS 100000000L /* about 25 ms at 4 GHz */

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
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
