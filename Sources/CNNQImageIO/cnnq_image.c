#include "cnnq_image.h"

#include <stdio.h> /* before jpeglib.h, which uses FILE */
#include <jpeglib.h>
#include <png.h>
#include <setjmp.h>
#include <zlib.h>
#include <stdlib.h>
#include <string.h>

/* libjpeg reports errors through a callback that must not return: jump back to the decoder. */
struct jpeg_failure {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    int warnings; /* libjpeg's recoverable errors: truncated or corrupt data it papers over */
    char warning[JMSG_LENGTH_MAX];
};

static void jpeg_fail(j_common_ptr info) {
    struct jpeg_failure *failure = (struct jpeg_failure *)info->err;
    (*info->err->format_message)(info, failure->message);
    longjmp(failure->jump, 1);
}

/* Level −1 is a warning ("Premature end of JPEG file", "Corrupt JPEG data"): the first is kept and
 * the image refused. Other levels are trace messages. */
static void jpeg_warning(j_common_ptr info, int level) {
    struct jpeg_failure *failure = (struct jpeg_failure *)info->err;
    if (level == -1 && failure->warnings++ == 0) (*info->err->format_message)(info, failure->warning);
}

static int too_large(size_t width, size_t height, size_t max_pixels, char *error, size_t error_size) {
    if (width <= max_pixels / (height ? height : 1)) return 0;
    snprintf(error, error_size, "declares %zu×%zu pixels, more than the limit of %zu (--max-image-pixels raises it)",
             width, height, max_pixels);
    return 1;
}

static int decode_jpeg(const unsigned char *data, size_t size, size_t max_pixels, unsigned char **rgb, int *width,
                       int *height, char *error, size_t error_size) {
    struct jpeg_decompress_struct info;
    struct jpeg_failure failure;
    unsigned char *volatile pixels = NULL;
    info.err = jpeg_std_error(&failure.manager);
    failure.manager.error_exit = jpeg_fail;
    failure.manager.emit_message = jpeg_warning;
    failure.warnings = 0;
    if (setjmp(failure.jump)) {
        snprintf(error, error_size, "JPEG: %s", failure.message);
        jpeg_destroy_decompress(&info);
        free(pixels);
        return -1;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, data, (unsigned long)size);
    jpeg_read_header(&info, TRUE);
    /* Before any pixel memory: a 61 KB file can declare 20,000×20,000. */
    if (too_large(info.image_width, info.image_height, max_pixels, error, error_size)) {
        jpeg_destroy_decompress(&info);
        return -1;
    }
    if (info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK) {
        snprintf(error, error_size, "JPEG: CMYK images are not supported");
        jpeg_destroy_decompress(&info);
        return -1;
    }
    info.out_color_space = JCS_RGB;
    jpeg_start_decompress(&info);
    size_t stride = (size_t)info.output_width * 3;
    pixels = malloc(stride * info.output_height);
    if (!pixels) {
        snprintf(error, error_size, "out of memory");
        jpeg_destroy_decompress(&info);
        return -1;
    }
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = pixels + stride * info.output_scanline;
        jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
    if (failure.warnings) {
        snprintf(error, error_size, "JPEG: truncated or corrupt (%s)", failure.warning);
        jpeg_destroy_decompress(&info);
        free(pixels);
        return -1;
    }
    *width = (int)info.output_width;
    *height = (int)info.output_height;
    jpeg_destroy_decompress(&info);
    *rgb = pixels;
    return 0;
}

static int decode_png(const unsigned char *data, size_t size, size_t max_pixels, unsigned char **rgb, int *width,
                      int *height, char *error, size_t error_size) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&image, data, size)) {
        snprintf(error, error_size, "PNG: %s", image.message);
        return -1;
    }
    if (too_large(image.width, image.height, max_pixels, error, error_size)) {
        png_image_free(&image);
        return -1;
    }
    image.format = PNG_FORMAT_RGB;
    /* Zeroed: with an alpha channel and no background colour, libpng composites onto the buffer's
     * contents, so they must be defined (black). */
    unsigned char *pixels = calloc(1, PNG_IMAGE_SIZE(image));
    if (!pixels) {
        png_image_free(&image);
        snprintf(error, error_size, "out of memory");
        return -1;
    }
    if (!png_image_finish_read(&image, NULL, pixels, 0, NULL)) {
        snprintf(error, error_size, "PNG: %s", image.message);
        free(pixels);
        return -1;
    }
    *width = (int)image.width;
    *height = (int)image.height;
    *rgb = pixels;
    return 0;
}

int cnnq_image_decode(const unsigned char *data, size_t size, size_t max_pixels, unsigned char **rgb, int *width,
                      int *height, char *error, size_t error_size) {
    static const unsigned char png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
        return decode_jpeg(data, size, max_pixels, rgb, width, height, error, error_size);
    if (size >= 8 && memcmp(data, png_signature, 8) == 0)
        return decode_png(data, size, max_pixels, rgb, width, height, error, error_size);
    snprintf(error, error_size, "not a JPEG or PNG image");
    return -1;
}

void cnnq_image_free(unsigned char *rgb) { free(rgb); }

int cnnq_read_maybe_gzip(const char *path, unsigned char **data, size_t *size, char *error, size_t error_size) {
    gzFile file = gzopen(path, "rb"); /* reads plain files as they are */
    if (!file) {
        snprintf(error, error_size, "cannot open");
        return -1;
    }
    size_t capacity = 1 << 20, length = 0;
    unsigned char *buffer = malloc(capacity);
    int count;
    while (buffer && (count = gzread(file, buffer + length, (unsigned)(capacity - length))) > 0) {
        length += (size_t)count;
        if (length == capacity) {
            unsigned char *grown = realloc(buffer, capacity *= 2);
            if (!grown) { free(buffer); buffer = NULL; }
            buffer = grown;
        }
    }
    int failed = !buffer || count < 0;
    if (failed) {
        int code = 0;
        snprintf(error, error_size, "%s", buffer ? gzerror(file, &code) : "out of memory");
        free(buffer);
    }
    gzclose(file);
    if (failed) return -1;
    *data = buffer;
    *size = length;
    return 0;
}
