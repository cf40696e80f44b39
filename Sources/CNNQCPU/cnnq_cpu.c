#include "cnnq_cpu.h"

#if defined(__x86_64__)
#include <cpuid.h>

static unsigned long long xgetbv0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

int cnnq_cpu_features(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) || !(c & bit_AVX) || !(c & bit_FMA)) return 0;
    unsigned long long xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return 0; /* the OS saves xmm and ymm */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & bit_AVX2)) return 0;
    int features = CNNQ_CPU_AVX2;
    unsigned int avx512 = bit_AVX512F | bit_AVX512BW | bit_AVX512VL;
    /* VBMI (vpermi2b, the table lookup) with VNNI: Ice Lake, Zen 4 and later; Cascade Lake runs AVX2. */
    if ((b & avx512) == avx512 && (c & bit_AVX512VNNI) && (c & bit_AVX512VBMI) && (xcr0 & 0xE0) == 0xE0)
        features |= CNNQ_CPU_AVX512_VNNI;
    unsigned int max_subleaf = a;
    if (max_subleaf >= 1 && __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 4))) features |= CNNQ_CPU_AVX_VNNI;
    return features;
}

#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>

int cnnq_cpu_features(void) {
    unsigned long hwcap = getauxval(AT_HWCAP), hwcap2 = getauxval(AT_HWCAP2);
    int features = CNNQ_CPU_NEON;
    if (hwcap & (1ul << 20)) features |= CNNQ_CPU_DOTPROD; /* HWCAP_ASIMDDP */
    if (hwcap2 & (1ul << 13)) features |= CNNQ_CPU_I8MM;   /* HWCAP2_I8MM */
    return features;
}

#elif defined(__aarch64__) || defined(__ARM_NEON)
/* Without Linux's auxiliary vector, only what the compiler was told the target has. */
int cnnq_cpu_features(void) {
    int features = CNNQ_CPU_NEON;
#if defined(__ARM_FEATURE_DOTPROD)
    features |= CNNQ_CPU_DOTPROD;
#endif
#if defined(__ARM_FEATURE_MATMUL_INT8)
    features |= CNNQ_CPU_I8MM;
#endif
    return features;
}

#else
int cnnq_cpu_features(void) { return 0; }
#endif
