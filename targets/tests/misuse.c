/* The C API on storage it must refuse rather than follow: a context that is zeroed, full of garbage,
 * or left by a failed init; a model whose load failed (over one that had loaded, with a context still
 * bound to it). Every call returns an error status, NULL, 0 or -1; none crashes. Run on x86_64 and on
 * armv7 under qemu-arm by the cross test. Usage: misuse MODEL.cnnq */
#include "load_model.h"

#include <string.h>

static int failures;
static void expect(int condition, const char *what) {
    if (!condition) printf("misuse: FAILED: %s\n", what), failures++;
}

/* Every context call on `context`, which must be refused. */
static void refused(cnnq_context *context, const char *how) {
    char what[128];
    float values[4] = {0};
    const unsigned char rgb[3] = {1, 2, 3};
    const float mean[3] = {0, 0, 0}, std[3] = {1, 1, 1};
    snprintf(what, sizeof what, "invoke on a %s context", how);
    expect(cnnq_invoke(context) == CNNQ_INVALID_ARGUMENT, what);
    snprintf(what, sizeof what, "input and output data of a %s context", how);
    expect(cnnq_input_data(context, 0) == NULL && cnnq_output_data(context, 0) == NULL, what);
    snprintf(what, sizeof what, "isa of a %s context", how);
    expect(cnnq_context_isa(context) == -1 && cnnq_context_set_isa(context, CNNQ_ISA_BASELINE) == CNNQ_INVALID_ARGUMENT,
           what);
    snprintf(what, sizeof what, "quantize and dequantize on a %s context", how);
    expect(cnnq_quantize_input(context, 0, values, 4) == CNNQ_INVALID_ARGUMENT &&
               cnnq_dequantize_output(context, 0, values, 4) == CNNQ_INVALID_ARGUMENT &&
               cnnq_quantize_image(context, 0, rgb, 1, 1, mean, std) == CNNQ_INVALID_ARGUMENT,
           what);
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    size_t size;
    void *bytes = read_model(argv[1], &size);
    if (!bytes) return 2;
    cnnq_model model;
    cnnq_context context;
    if (cnnq_model_load(&model, bytes, size) != CNNQ_OK) return 2;
    size_t need = cnnq_model_arena_size(&model);
    void *arena = aligned_alloc(64, (need + 63) / 64 * 64);
    if (!arena) return 1;

    memset(&context, 0, sizeof context);
    refused(&context, "zeroed");
    memset(&context, 0xA5, sizeof context);
    refused(&context, "garbage");
    expect(cnnq_context_init(&context, &model, arena, need - 1) == CNNQ_ARENA_TOO_SMALL, "init with a small arena");
    refused(&context, "failed");
    expect(cnnq_context_init(&context, &model, arena, need) == CNNQ_OK, "init");
    expect(cnnq_invoke(&context) == CNNQ_OK, "invoke");

    /* The model storage reloaded with a bad file: the model and its context are refused. */
    static _Alignas(16) unsigned char junk[256] = "not a model";
    expect(cnnq_model_load(&model, junk, sizeof junk) == CNNQ_BAD_MAGIC, "load of a bad file");
    refused(&context, "model-unloaded");
    cnnq_tensor_info info;
    expect(cnnq_model_arena_size(&model) == 0 && cnnq_model_input_count(&model) == 0 &&
               cnnq_model_output_count(&model) == 0 && cnnq_model_input(&model, 0, &info) == CNNQ_INVALID_ARGUMENT,
           "a failed model's sizes and tensors");
    expect(cnnq_context_init(&context, &model, arena, need) == CNNQ_INVALID_ARGUMENT, "init on a failed model");
    memset(&model, 0, sizeof model);
    expect(cnnq_context_init(&context, &model, arena, need) == CNNQ_INVALID_ARGUMENT, "init on a zeroed model");
    printf("misuse: %s\n", failures ? "FAILED" : "ok: zeroed, garbage and failed contexts and models are refused");
    return failures != 0;
}
