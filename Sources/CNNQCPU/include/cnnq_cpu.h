#ifndef CNNQ_CPU_H
#define CNNQ_CPU_H

/* What the CPU under us can run, read once when a context is set up: cpuid and xgetbv on x86_64
   (the instruction and the operating system's saving of its registers), getauxval on Linux Arm. */

enum {
    CNNQ_CPU_AVX2 = 1 << 0,        /* with FMA, which the kernels never emit */
    CNNQ_CPU_AVX_VNNI = 1 << 1,    /* vpdpbusd on ymm (VEX) */
    CNNQ_CPU_AVX512_VNNI = 1 << 2, /* AVX-512 F, BW, VL, VNNI and VBMI, zmm state enabled */
    CNNQ_CPU_NEON = 1 << 3,        /* aarch64 Advanced SIMD; armv7 NEON */
    CNNQ_CPU_DOTPROD = 1 << 4,     /* aarch64 sdot/udot (Armv8.2 FEAT_DotProd) */
    CNNQ_CPU_I8MM = 1 << 5,        /* aarch64 smmla (Armv8.6 FEAT_I8MM) */
};

/* The CNNQ_CPU_* bits of this CPU. */
int cnnq_cpu_features(void);

/* The kernels of the levels above the baseline, and Arm's baseline GEMM, each exported by the module
   built with its instructions (Sources/CNNQKernels<level>); `tile` points at a GEMM.Tile. Reached
   through C so that no other module compiles their bodies: Embedded Swift compiles the bodies of
   what a module calls. */
#if defined(__x86_64__)
void cnnq_gemm_4x8_avx2(const void *tile);
void cnnq_gemm_4x16_avxvnni(const void *tile);
void cnnq_gemm_8x16_avx512vnni(const void *tile);
/* Output row `row` of the 3×3 or 5×5 depthwise layer whose Depthwise.Rows `rows` points at. */
void cnnq_depthwise_avx2(const void *rows, long row);
/* The residual add of `count` lanes with the AddParameters `parameters` points at. */
void cnnq_add_avx2(const signed char *a, const signed char *b, long count, const void *parameters, signed char *output);
/* Pixels first ..< first + count of x times the per-channel gate, with the MultiplyParameters `parameters`. */
void cnnq_multiply_avx2(const signed char *x, const signed char *gate, long first, long count, long channels,
                        const void *parameters, signed char *output);
/* The mean over `pixels` pixels of each of `channels` channels, with the AverageParameters `parameters`. */
void cnnq_global_average_avx2(const signed char *input, long pixels, long channels, const void *parameters,
                              signed char *output);
/* output[i] = table[input[i] + 128] for i < count. */
void cnnq_lookup_avx2(const signed char *table, const signed char *input, signed char *output, long count);
void cnnq_depthwise_avx512vnni(const void *rows, long row);
/* As cnnq_lookup_avx2. */
void cnnq_lookup_avx512vnni(const signed char *table, const signed char *input, signed char *output, long count);
#elif defined(__aarch64__) || defined(__ARM_NEON)
void cnnq_gemm_2x16_neon(const void *tile);
#if defined(__aarch64__)
void cnnq_gemm_4x16_dotprod(const void *tile);
void cnnq_gemm_4x16_i8mm(const void *tile);
#endif
#endif

#endif
