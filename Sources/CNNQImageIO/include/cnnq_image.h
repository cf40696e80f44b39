#ifndef CNNQ_IMAGE_H
#define CNNQ_IMAGE_H

#include <stddef.h>

/* Decodes a JPEG (libjpeg-turbo) or PNG (libpng) image held in memory into 8-bit RGB, row-major,
 * 3 bytes per pixel. Grey, palette, 16-bit and alpha images are converted (alpha composited on
 * black). Returns 0 and a buffer to release with cnnq_image_free, or -1 with a message in `error`:
 * for an image that declares more than `max_pixels` pixels (checked before any pixel memory), and
 * for a truncated or corrupt JPEG that libjpeg would otherwise fill in with grey.
 * Host tooling only: the device never decodes images. */
int cnnq_image_decode(const unsigned char *data, size_t size, size_t max_pixels, unsigned char **rgb, int *width,
                      int *height, char *error, size_t error_size);

void cnnq_image_free(unsigned char *rgb);

/* Reads a whole file, gunzipping it when it is gzip-compressed (zlib). Returns 0 and a buffer to
 * release with cnnq_image_free, or -1 with a message in `error`. */
int cnnq_read_maybe_gzip(const char *path, unsigned char **data, size_t *size, char *error, size_t error_size);

#endif
