/* cnnq.h — run int8 convolutional networks made by cnn-quantize (.cnnq files). C99.
 *
 * The library allocates nothing, keeps no global mutable state and does no I/O: the caller owns the
 * model bytes, the model and context structs and the arena. Typical use:
 *
 *     cnnq_model model;
 *     if (cnnq_model_load(&model, bytes, size) != CNNQ_OK) ...      // validates the whole file
 *     size_t need = cnnq_model_arena_size(&model);
 *     void *arena = aligned_alloc(64, (need + 63) / 64 * 64);         // or a static buffer
 *     cnnq_context ctx;
 *     cnnq_context_init(&ctx, &model, arena, need);
 *     cnnq_prepare_image(&ctx, 0, rgb, width, height);  // as calibration did; or fill cnnq_input_data()
 *     cnnq_invoke(&ctx);
 *     const int8_t *logits = cnnq_output_data(&ctx, 0);
 *
 * The model bytes and the arena must stay valid and be aligned to 16 bytes.
 *
 * Threads: one context per thread. A context (and its arena) must not be used by two threads at
 * once: cnnq_invoke writes the arena, so two concurrent calls on one context give wrong outputs; no
 * function here locks. A loaded model is read-only and may be shared: several contexts, each with its
 * own arena, may run one model on different threads at once. cnnq_invoke itself may use the OpenMP
 * threads of a host build; each output is computed once, so results do not depend on their number.
 *
 * What each board's library needs of its CPU: any x86_64 (SSE2; the AVX2, AVX-VNNI and AVX-512 VNNI
 * kernels run where the CPU has them), aarch64 Armv8.0 Advanced SIMD
 * (dotprod and i8mm kernels where present), armv7 NEON with the hard-float ABI (-mfpu=neon
 * -mfloat-abi=hard). Every level gives the same output bytes.
 */
#ifndef CNNQ_H
#define CNNQ_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CNNQ_VERSION_MAJOR 0
#define CNNQ_VERSION_MINOR 11
#define CNNQ_VERSION_PATCH 0
/* Changes whenever a struct layout or a function signature below changes. */
#define CNNQ_ABI_VERSION 2

typedef enum cnnq_status {
    CNNQ_OK = 0,
    CNNQ_INVALID_ARGUMENT = 1,     /* null pointer, index out of range, size mismatch */
    CNNQ_BAD_MAGIC = 2,            /* not a .cnnq file */
    CNNQ_UNSUPPORTED_VERSION = 3,  /* a .cnnq major version this library does not read: re-quantize */
    CNNQ_TRUNCATED = 4,            /* the buffer is shorter than the file says */
    CNNQ_CHECKSUM_MISMATCH = 5,    /* CRC32 differs: the file is damaged */
    CNNQ_MALFORMED = 6,            /* an offset, size, count or parameter is out of range */
    CNNQ_MISALIGNED = 7,           /* model buffer or arena not aligned to 16 bytes */
    CNNQ_ARENA_TOO_SMALL = 8,      /* smaller than cnnq_model_arena_size() */
    CNNQ_UNSUPPORTED_OP = 9        /* an op kind this library was built without (make -C targets OPS=...) */
} cnnq_status;

/* Opaque, caller-allocated. Contents are private to the library. Only a successful load or init
 * makes one usable: every function given a model or context that is zeroed, uninitialised, or left
 * by a failed load or init (or whose model was since reloaded with a bad file) returns
 * CNNQ_INVALID_ARGUMENT, NULL, 0 or -1 rather than reading it. */
typedef struct cnnq_model { uint64_t opaque[24]; } cnnq_model;
typedef struct cnnq_context { uint64_t opaque[4]; } cnnq_context;

/* A model input or output. Data is int8, NHWC (channels innermost); real = scale · (q − zero_point). */
typedef struct cnnq_tensor_info {
    int32_t batch, height, width, channels;
    int32_t rank;          /* 4: the source model's NCHW tensor; 3: [batch, height, channels]
                              (width 1); 2: [batch, channels] */
    int32_t zero_point;
    float scale;
    uint32_t bytes;        /* batch · height · width · channels */
    const char *name;      /* NUL-terminated, inside the model bytes */
} cnnq_tensor_info;

/* Library version as MAJOR·10000 + MINOR·100 + PATCH, and the ABI version: compare it with
 * CNNQ_ABI_VERSION to detect a header/library mismatch. */
int32_t cnnq_version(void);
int32_t cnnq_abi_version(void);
/* A static English description of a status code. */
const char *cnnq_status_string(cnnq_status status);

/* Validates a .cnnq file in place (magic, version, size, CRC32, every offset and parameter) and
 * describes it in `model`. Nothing is copied: `data` must outlive the model. */
cnnq_status cnnq_model_load(cnnq_model *model, const void *data, size_t size);
/* Bytes of arena one context needs. */
size_t cnnq_model_arena_size(const cnnq_model *model);
int32_t cnnq_model_input_count(const cnnq_model *model);
int32_t cnnq_model_output_count(const cnnq_model *model);
cnnq_status cnnq_model_input(const cnnq_model *model, int32_t index, cnnq_tensor_info *info);
cnnq_status cnnq_model_output(const cnnq_model *model, int32_t index, cnnq_tensor_info *info);
/* 1 if the model records how calibration turned images into its input (format 3.2: quantize with
 * images rather than .npy arrays), so that cnnq_prepare_image can repeat it; else 0. */
int32_t cnnq_model_has_input_pipeline(const cnnq_model *model);

/* Binds a model to an arena of at least cnnq_model_arena_size() bytes, aligned to 16, and picks the
 * fastest kernels this CPU runs (cpuid on x86_64, getauxval on Linux Arm). A context is used by one
 * thread at a time. */
cnnq_status cnnq_context_init(cnnq_context *context, const cnnq_model *model, void *arena, size_t arena_size);

/* Instruction-set levels with their own kernels. Every level gives the same output bytes. */
enum {
    CNNQ_ISA_BASELINE = 0,     /* x86_64: SSE2 (the library's minimum); aarch64: Advanced SIMD; armv7: NEON */
    CNNQ_ISA_AVX_VNNI = 1,     /* x86_64: 256-bit vpdpbusd */
    CNNQ_ISA_AVX512_VNNI = 2,  /* x86_64: AVX-512 F/BW/VL + VNNI + VBMI (Ice Lake, Zen 4 and later) */
    CNNQ_ISA_DOTPROD = 3,      /* aarch64: Armv8.2 sdot */
    CNNQ_ISA_I8MM = 4,         /* aarch64: Armv8.6 smmla */
    CNNQ_ISA_AVX2 = 5          /* x86_64: 256-bit vpmaddwd */
};
/* Runs `context` with level `isa` instead of the one init picked (A/B tests, a board whose kernel
 * misreports its CPU): CNNQ_INVALID_ARGUMENT if this library or CPU lacks it. */
cnnq_status cnnq_context_set_isa(cnnq_context *context, int32_t isa);
/* The level `context` runs, and a level's name ("sse2", "avx2", "avx-vnni", "avx512-vnni", "neon", "dotprod", "i8mm";
 * NULL for an unknown value). */
int32_t cnnq_context_isa(const cnnq_context *context);
const char *cnnq_isa_name(int32_t isa);
/* Where input `index` is read from and output `index` is written to, inside the arena (NULL if the
 * index is out of range). Outputs are valid until the next cnnq_invoke on this context. */
int8_t *cnnq_input_data(cnnq_context *context, int32_t index);
const int8_t *cnnq_output_data(const cnnq_context *context, int32_t index);
/* Runs the model: no allocation, no I/O. */
cnnq_status cnnq_invoke(cnnq_context *context);

/* Helpers at the edges (the only float arithmetic in the library).
 * cnnq_prepare_image: an 8-bit RGB image of any size, row-major (3 bytes per pixel), made into input
 * `index` exactly as cnn-quantize made its calibration images: the resize (antialiased bilinear, as
 * PIL and torchvision), centre crop or right padding, channel order and normalisation the model file
 * records (quantize --preset, --mean, --std), with the same float steps as the host, so the input
 * bytes are those calibration, `cnn-quantize run` and `eval` see, on every board. A 1-channel input
 * takes the mean of R, G, B. CNNQ_INVALID_ARGUMENT if the model records no pipeline (see
 * cnnq_model_has_input_pipeline), the input is not 1 or 3 channels of batch 1, or the image is more
 * than about 63 times the input's size in a direction (shrink it first). It allocates nothing; its
 * time grows with the image's size over the input's.
 * cnnq_quantize_image: a quick form that is NOT what calibration did: resized by nearest neighbour,
 * normalised per channel as (pixel / 255 − mean[c]) / std[c], then quantized into input `index`.
 * cnnq_quantize_input: `count` floats in NHWC order into input `index`.
 * cnnq_dequantize_output: output `index` as `count` floats (NHWC order). */
cnnq_status cnnq_prepare_image(cnnq_context *context, int32_t index, const uint8_t *rgb, int32_t width, int32_t height);
cnnq_status cnnq_quantize_image(cnnq_context *context, int32_t index, const uint8_t *rgb, int32_t width, int32_t height,
                                const float mean[3], const float std[3]);
cnnq_status cnnq_quantize_input(cnnq_context *context, int32_t index, const float *values, size_t count);
cnnq_status cnnq_dequantize_output(const cnnq_context *context, int32_t index, float *values, size_t count);

#ifdef __cplusplus
}
#endif
#endif /* CNNQ_H */
