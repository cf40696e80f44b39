/* Runs a model with the allocator wrapped (-Wl,--wrap=...) and fails if the library allocates while
 * loading, binding or invoking: it must use the caller's buffers only. Usage: no_alloc MODEL.cnnq */
#include "load_model.h"

static int counting, calls;
void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *p, size_t size);
int __real_posix_memalign(void **p, size_t alignment, size_t size);
void *__real_aligned_alloc(size_t alignment, size_t size);
void __real_free(void *p);
void *__wrap_malloc(size_t size) { calls += counting; return __real_malloc(size); }
void *__wrap_calloc(size_t count, size_t size) { calls += counting; return __real_calloc(count, size); }
void *__wrap_realloc(void *p, size_t size) { calls += counting; return __real_realloc(p, size); }
int __wrap_posix_memalign(void **p, size_t alignment, size_t size) { calls += counting; return __real_posix_memalign(p, alignment, size); }
void *__wrap_aligned_alloc(size_t alignment, size_t size) { calls += counting; return __real_aligned_alloc(alignment, size); }
void __wrap_free(void *p) { calls += counting; __real_free(p); }

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    size_t size;
    void *bytes = read_model(argv[1], &size);
    void *arena = aligned_alloc(64, 64 << 20);
    if (!bytes || !arena) return 1;
    cnnq_model model;
    cnnq_context context;
    counting = 1;
    cnnq_status status = cnnq_model_load(&model, bytes, size);
    size_t need = status == CNNQ_OK ? cnnq_model_arena_size(&model) : 0;
    if (status == CNNQ_OK && need > (size_t)64 << 20) status = CNNQ_ARENA_TOO_SMALL;
    status = status == CNNQ_OK ? cnnq_context_init(&context, &model, arena, need) : status;
    /* A 97×61 image through the model's own preprocessing, when it records one. */
    static unsigned char rgb[97 * 61 * 3];
    for (size_t i = 0; i < sizeof rgb; i++) rgb[i] = (unsigned char)(i * 31);
    if (status == CNNQ_OK && cnnq_model_has_input_pipeline(&model)) status = cnnq_prepare_image(&context, 0, rgb, 97, 61);
    status = status == CNNQ_OK ? cnnq_invoke(&context) : status;
    status = status == CNNQ_OK ? cnnq_invoke(&context) : status;
    counting = 0;
    printf("no_alloc: %d allocator calls in load, context init, image preparation and 2 invokes (%s)\n", calls,
           cnnq_status_string(status));
    return status == CNNQ_OK && calls == 0 ? 0 : 1;
}
