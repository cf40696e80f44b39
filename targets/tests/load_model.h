/* Test helper: reads a .cnnq file into a 64-byte aligned buffer (kept for the program's lifetime). */
#ifndef LOAD_MODEL_H
#define LOAD_MODEL_H

#include <cnnq.h>

#include <stdio.h>
#include <stdlib.h>

static void *read_model(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    void *bytes = aligned_alloc(64, (*size + 63) / 64 * 64);
    if (bytes && fread(bytes, 1, *size, f) != *size) { free(bytes); bytes = NULL; }
    fclose(f);
    return bytes;
}

#endif
