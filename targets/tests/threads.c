/* Several contexts on one model, invoked from several threads at once, each at another
 * instruction-set level where the CPU has several, give the same bytes as one context alone at the
 * baseline: the library keeps no mutable state outside the caller's context and arena.
 * Usage: threads MODEL.cnnq */
#include "load_model.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 6 /* one per level value, CNNQ_ISA_BASELINE to CNNQ_ISA_AVX2 */
#define RUNS 8

static cnnq_model model;
static size_t need;
static int8_t *expected;
static uint32_t output_bytes;

static void *worker(void *seed) {
    void *arena = aligned_alloc(64, (need + 63) / 64 * 64);
    cnnq_context context;
    long mismatches = 0;
    if (!arena || cnnq_context_init(&context, &model, arena, need) != CNNQ_OK) return (void *)1L;
    /* Levels 0, 1, 2, 3, ...: one this CPU lacks is refused and the context keeps the best. */
    cnnq_context_set_isa(&context, (int32_t)((uintptr_t)seed - 1));
    cnnq_tensor_info input;
    cnnq_model_input(&model, 0, &input);
    for (int run = 0; run < RUNS; run++) {
        /* Inputs differ per run; the reference is recomputed for the pattern of run 0 only. */
        int8_t *x = cnnq_input_data(&context, 0);
        for (uint32_t i = 0; i < input.bytes; i++) x[i] = (int8_t)((i * 7 + (uintptr_t)seed * run) % 251 - 125);
        if (cnnq_invoke(&context) != CNNQ_OK) return (void *)1L;
        if (run == 0) mismatches += memcmp(cnnq_output_data(&context, 0), expected, output_bytes) != 0;
    }
    free(arena);
    return (void *)mismatches;
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    size_t size;
    void *bytes = read_model(argv[1], &size);
    if (!bytes || cnnq_model_load(&model, bytes, size) != CNNQ_OK) return 1;
    need = cnnq_model_arena_size(&model);
    cnnq_tensor_info output;
    cnnq_model_output(&model, 0, &output);
    output_bytes = output.bytes;
    expected = malloc(output_bytes);
    /* The reference: run 0's input on one context, alone. */
    void *result;
    void *arena = aligned_alloc(64, (need + 63) / 64 * 64);
    cnnq_context context;
    cnnq_tensor_info input;
    cnnq_model_input(&model, 0, &input);
    if (!arena || cnnq_context_init(&context, &model, arena, need) != CNNQ_OK ||
        cnnq_context_set_isa(&context, CNNQ_ISA_BASELINE) != CNNQ_OK)
        return 1;
    int8_t *x = cnnq_input_data(&context, 0);
    for (uint32_t i = 0; i < input.bytes; i++) x[i] = (int8_t)((i * 7) % 251 - 125);
    if (cnnq_invoke(&context) != CNNQ_OK) return 1;
    memcpy(expected, cnnq_output_data(&context, 0), output_bytes);
    pthread_t threads[THREADS];
    for (long t = 0; t < THREADS; t++) pthread_create(&threads[t], NULL, worker, (void *)(t + 1));
    long failures = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], &result);
        failures += (long)result;
    }
    printf("threads: %d contexts × %d invokes concurrently at levels 0-%d where available, %ld mismatches with "
           "the baseline\n", THREADS, RUNS, THREADS - 1, failures);
    return failures != 0;
}
