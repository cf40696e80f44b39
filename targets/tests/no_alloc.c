/* Runs a model with the allocator wrapped (-Wl,--wrap=...) and fails if cnnq_invoke allocates:
 * inference must use the caller's arena only. Usage: no_alloc MODEL.cnnq */
#include <cnnq.h>

#include <stdio.h>
#include <stdlib.h>

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
    FILE *f = fopen(argv[1], "rb");
    if (!f) return 1;
    fseek(f, 0, SEEK_END);
    size_t size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    void *bytes = aligned_alloc(64, (size + 63) / 64 * 64);
    if (!bytes || fread(bytes, 1, size, f) != size) return 1;
    fclose(f);
    cnnq_model model;
    if (cnnq_model_load(&model, bytes, size) != CNNQ_OK) return 1;
    size_t need = cnnq_model_arena_size(&model);
    void *arena = aligned_alloc(64, (need + 63) / 64 * 64);
    cnnq_context context;
    if (!arena || cnnq_context_init(&context, &model, arena, need) != CNNQ_OK) return 1;
    counting = 1;
    cnnq_status status = cnnq_invoke(&context);
    status = status == CNNQ_OK ? cnnq_invoke(&context) : status;
    counting = 0;
    printf("no_alloc: %d allocator calls during 2 invokes (%s)\n", calls, cnnq_status_string(status));
    return status == CNNQ_OK && calls == 0 ? 0 : 1;
}
