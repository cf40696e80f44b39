/* What the hostile-input tests share (hostile_words.c, mutate.c): the file's CRC, a seeded random
 * stream (the same inputs on every board), the word values an attacker would pick, and one file
 * loaded and, if it loads, run. */
#ifndef HOSTILE_H
#define HOSTILE_H

#include <cnnq.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t crc32(const uint8_t *p, size_t n) {
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/* The CRC the header's word 2 holds: of the bytes after the first 12, up to the file size word 3
 * declares (or the buffer's end, if that is past it). */
static inline void fix_crc(uint8_t *bytes, size_t size) {
    if (size < 16) return;
    uint32_t declared;
    memcpy(&declared, bytes + 12, 4);
    uint32_t crc = crc32(bytes + 12, (declared >= 16 && declared <= size ? declared : size) - 12);
    memcpy(bytes + 8, &crc, 4);
}

static uint64_t random_state = 0x9E3779B97F4A7C15u;
static inline uint32_t next_random(void) { /* xorshift64* */
    random_state ^= random_state >> 12, random_state ^= random_state << 25, random_state ^= random_state >> 27;
    return (uint32_t)((random_state * 0x2545F4914F6CDD1Du) >> 32);
}

static const uint32_t hostile_values[] = {0, 1, 2, 3, 15, 16, 17, 31, 64, 255, 256, 65535, 65536,
                                          0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFFu, 0xFFFFFFF0u, 0x40000000u};
enum { HOSTILE_VALUES = sizeof hostile_values / sizeof hostile_values[0] };

/* Loads `bytes` (16-byte aligned) and, if it loads and its arena fits `capacity`, runs it once.
 * A trap or a fault ends the program: that is the failure these tests look for. */
static inline cnnq_status load_and_run(const uint8_t *bytes, size_t size, void *arena, size_t capacity) {
    cnnq_model model;
    cnnq_context context;
    cnnq_status status = cnnq_model_load(&model, bytes, size);
    if (status != CNNQ_OK) return status;
    size_t need = cnnq_model_arena_size(&model);
    status = need > capacity ? CNNQ_ARENA_TOO_SMALL : cnnq_context_init(&context, &model, arena, need);
    return status == CNNQ_OK ? cnnq_invoke(&context) : status;
}

#endif
