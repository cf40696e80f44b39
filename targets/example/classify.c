/* Example firmware: load a .cnnq model and a PPM (P6) image, run the model, print the top-5 classes.
 *
 *   classify MODEL.cnnq IMAGE.ppm [--mean R,G,B] [--std R,G,B] [--raw OUT] [--isa LEVEL]
 *
 * The image becomes the model's input as calibration made it (cnnq_prepare_image: the resize, crop,
 * channel order and normalisation the model file records); with --mean/--std, or for a model made
 * before format 3.2, it is resized by nearest neighbour and normalised with them on the 0–1 scale
 * (ImageNet's by default; cnnq_quantize_image). --raw writes the int8 bytes of every output in turn
 * to OUT, which the cross tests compare between boards and instruction-set levels. --isa runs a lower
 * level than the CPU's best (a CNNQ_ISA_* number). Memory: the model file, one arena, one image; the
 * library itself allocates nothing. */
#include <cnnq.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long length = ftell(f);
    fseek(f, 0, SEEK_SET);
    /* The model is used in place: 64-byte alignment suits the library's 16-byte requirement. */
    void *data = length > 0 ? aligned_alloc(64, ((size_t)length + 63) / 64 * 64) : NULL;
    if (data && fread(data, 1, (size_t)length, f) != (size_t)length) { free(data); data = NULL; }
    fclose(f);
    *size = (size_t)length;
    return data;
}

/* Binary PPM (P6) with maxval 255. */
static unsigned char *read_ppm(const char *path, int *width, int *height) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    int maxval = 0;
    unsigned char *rgb = NULL;
    /* The size is checked before it is multiplied: w·h·3 must not wrap a 32-bit board's size_t. */
    if (fscanf(f, "P6 %d %d %d", width, height, &maxval) == 3 && maxval == 255 && *width > 0 && *height > 0 &&
        (size_t)*width <= SIZE_MAX / 3 / (size_t)*height && fgetc(f) != EOF) {
        size_t bytes = (size_t)*width * (size_t)*height * 3;
        rgb = malloc(bytes);
        if (rgb && fread(rgb, 1, bytes, f) != bytes) { free(rgb); rgb = NULL; }
    }
    fclose(f);
    return rgb;
}

static int parse3(const char *text, float out[3]) { return sscanf(text, "%f,%f,%f", &out[0], &out[1], &out[2]) == 3; }

int main(int argc, char **argv) {
    float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    const char *raw = NULL;
    int isa = -1, explicit_normalisation = 0;
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL.cnnq IMAGE.ppm [--mean R,G,B] [--std R,G,B] [--raw OUT] [--isa LEVEL]\n",
                argv[0]);
        return 2;
    }
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--mean") && parse3(argv[i + 1], mean)) { explicit_normalisation = 1; continue; }
        if (!strcmp(argv[i], "--std") && parse3(argv[i + 1], std)) { explicit_normalisation = 1; continue; }
        if (!strcmp(argv[i], "--raw")) { raw = argv[i + 1]; continue; }
        if (!strcmp(argv[i], "--isa") && sscanf(argv[i + 1], "%d", &isa) == 1) continue;
        fprintf(stderr, "error: bad option %s\n", argv[i]);
        return 2;
    }
    if (cnnq_abi_version() != CNNQ_ABI_VERSION) {
        fprintf(stderr, "error: cnnq.h is ABI %d, the library %d\n", CNNQ_ABI_VERSION, (int)cnnq_abi_version());
        return 1;
    }
    size_t size = 0;
    void *bytes = read_file(argv[1], &size);
    int width = 0, height = 0;
    unsigned char *rgb = read_ppm(argv[2], &width, &height);
    if (!bytes || !rgb) {
        fprintf(stderr, "error: cannot read %s\n", !bytes ? argv[1] : argv[2]);
        return 1;
    }

    cnnq_model model;
    cnnq_status status = cnnq_model_load(&model, bytes, size);
    if (status != CNNQ_OK) {
        fprintf(stderr, "error: %s: %s\n", argv[1], cnnq_status_string(status));
        return 1;
    }
    /* The model's own image pipeline, unless the caller chose a normalisation or the model has none. */
    int prepared = !explicit_normalisation && cnnq_model_has_input_pipeline(&model);
    size_t need = cnnq_model_arena_size(&model);
    void *arena = aligned_alloc(64, (need + 63) / 64 * 64);
    cnnq_context context;
    cnnq_tensor_info output;
    if (arena && cnnq_context_init(&context, &model, arena, need) == CNNQ_OK && isa >= 0 &&
        cnnq_context_set_isa(&context, isa) != CNNQ_OK) {
        fprintf(stderr, "error: this library or CPU has no kernels of level %d (%s)\n", isa,
                cnnq_isa_name(isa) ? cnnq_isa_name(isa) : "unknown");
        return 3;
    }
    if (!arena || (status = cnnq_context_init(&context, &model, arena, need)) != CNNQ_OK ||
        (isa >= 0 && (status = cnnq_context_set_isa(&context, isa)) != CNNQ_OK) ||
        (status = prepared ? cnnq_prepare_image(&context, 0, rgb, width, height)
                           : cnnq_quantize_image(&context, 0, rgb, width, height, mean, std)) != CNNQ_OK ||
        (status = cnnq_invoke(&context)) != CNNQ_OK || (status = cnnq_model_output(&model, 0, &output)) != CNNQ_OK) {
        fprintf(stderr, "error: %s\n", arena ? cnnq_status_string(status) : "out of memory");
        return 1;
    }

    printf("%s: %u bytes, arena %zu bytes, kernels %s\n", argv[1], (unsigned)size, need,
           cnnq_isa_name(cnnq_context_isa(&context)));
    /* Every output in turn (an SSD head has two: box offsets and class logits per anchor). */
    FILE *f = raw ? fopen(raw, "wb") : NULL;
    for (int32_t i = 0; i < cnnq_model_output_count(&model); i++) {
        cnnq_tensor_info info;
        cnnq_model_output(&model, i, &info);
        printf("output '%s': %d values\n", info.name, (int)info.bytes);
        if (raw && (!f || fwrite(cnnq_output_data(&context, i), 1, info.bytes, f) != info.bytes)) {
            fprintf(stderr, "error: cannot write %s\n", raw);
            return 1;
        }
    }
    if (f && fclose(f) != 0) {
        fprintf(stderr, "error: cannot write %s\n", raw);
        return 1;
    }
    const int8_t *q = cnnq_output_data(&context, 0);
    /* Top 5 of the first image's outputs, by int8 value (ties: lower class first). */
    int classes = output.channels, best[5];
    for (int k = 0; k < 5 && k < classes; k++) {
        best[k] = -1;
        for (int c = 0; c < classes; c++) {
            int taken = 0;
            for (int j = 0; j < k; j++) taken |= best[j] == c;
            if (!taken && (best[k] < 0 || q[c] > q[best[k]])) best[k] = c;
        }
        printf("  %d. class %4d  %8.4f\n", k + 1, best[k], output.scale * (float)(q[best[k]] - output.zero_point));
    }
    free(arena);
    free(rgb);
    free(bytes);
    return 0;
}
