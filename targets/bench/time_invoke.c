/* Times cnnq_invoke on one model with the library it is linked with: the figure that compares the
 * build profiles (make -C targets bench MODEL=m.cnnq). The input is left as the arena holds it: the
 * kernels' time does not depend on the values. Usage: time_invoke MODEL.cnnq [RUNS] [ISA] */
#include "../tests/load_model.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.cnnq [RUNS] [ISA]\n", argv[0]);
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 50, isa = argc > 3 ? atoi(argv[3]) : -1;
    size_t size = 0;
    void *bytes = read_model(argv[1], &size);
    double *times = malloc(sizeof(double) * (size_t)(runs > 0 ? runs : 1));
    if (!bytes || !times || runs <= 0) {
        fprintf(stderr, "error: cannot read %s, or RUNS is not positive\n", argv[1]);
        return 1;
    }
    cnnq_model model;
    cnnq_context context;
    cnnq_status status = cnnq_model_load(&model, bytes, size);
    size_t need = status == CNNQ_OK ? cnnq_model_arena_size(&model) : 0;
    void *arena = status == CNNQ_OK ? aligned_alloc(64, (need + 63) / 64 * 64) : NULL;
    if (status == CNNQ_OK) status = arena ? cnnq_context_init(&context, &model, arena, need) : CNNQ_INVALID_ARGUMENT;
    if (status == CNNQ_OK && isa >= 0) status = cnnq_context_set_isa(&context, isa);
    if (status != CNNQ_OK) {
        fprintf(stderr, "error: %s: %s\n", argv[1], cnnq_status_string(status));
        return status == CNNQ_INVALID_ARGUMENT && isa >= 0 ? 3 : 1;
    }
    memset(arena, 0, need);
    cnnq_invoke(&context); /* warm-up: caches, pages */
    for (int r = 0; r < runs; r++) {
        double start = now_ms();
        cnnq_invoke(&context);
        times[r] = now_ms() - start;
    }
    qsort(times, (size_t)runs, sizeof(double), by_value);
    printf("%s, %s: %d invokes, median %.3f ms, min %.3f ms, arena %zu bytes\n", argv[1],
           cnnq_isa_name(cnnq_context_isa(&context)), runs, times[runs / 2], times[0], need);
    return 0;
}
