/* The loader on the board itself, against hostile files: words of the header, tables and parameters
 * replaced by values an attacker would pick (0, 2^31, 2^32 − 1, the file size, ...), the CRC made
 * valid again, each file loaded and, if it loads, run. A file must be refused with a status or run;
 * a trap or a fault fails the test. Run on armv7 too, where `Int` is 32 bits, as the host's
 * ModelFileTests cannot. Usage: hostile_words MODEL.cnnq [TRIALS] */
#include "load_model.h"

#include <stdint.h>
#include <string.h>

static uint32_t crc32(const uint8_t *p, size_t n) {
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static uint64_t state = 0x9E3779B97F4A7C15u;
static uint32_t next(void) { /* xorshift64*: the same trials on every board */
    state ^= state >> 12, state ^= state << 25, state ^= state >> 27;
    return (uint32_t)((state * 0x2545F4914F6CDD1Du) >> 32);
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    size_t size;
    uint8_t *original = read_model(argv[1], &size);
    int trials = argc > 2 ? atoi(argv[2]) : 2000;
    if (!original || size < 128 || trials <= 0) return 2;
    uint8_t *bytes = aligned_alloc(64, (size + 63) / 64 * 64);
    size_t arena_capacity = (size_t)64 << 20;
    void *arena = aligned_alloc(64, arena_capacity);
    if (!bytes || !arena) return 1;
    uint32_t constants;
    memcpy(&constants, original + 16 * 4, 4); /* header word 16: constantsOffset */
    const uint32_t hostile[] = {0, 1, 2, 3, 15, 16, 17, 31, 64, 255, 256, 65535, 65536, 0x7FFFFFFFu, 0x80000000u,
                                0xFFFFFFFFu, (uint32_t)size, (uint32_t)size - 4, constants};
    int outcomes[16] = {0};
    for (int trial = 0; trial < trials; trial++) {
        memcpy(bytes, original, size);
        /* Most mutations hit the structure before the constants; some hit parameter words. */
        size_t region = trial % 4 == 0 || constants + 4096 > size ? size : constants + 4096;
        size_t word = 3 + next() % (region / 4 - 3);
        uint32_t value = trial % 3 == 0 ? next() : hostile[next() % (sizeof hostile / sizeof hostile[0])];
        memcpy(bytes + word * 4, &value, 4);
        uint32_t crc = crc32(bytes + 12, size - 12);
        memcpy(bytes + 8, &crc, 4);
        cnnq_model model;
        cnnq_context context;
        cnnq_status status = cnnq_model_load(&model, bytes, size);
        if (status == CNNQ_OK) {
            size_t need = cnnq_model_arena_size(&model);
            status = need > arena_capacity ? CNNQ_ARENA_TOO_SMALL : cnnq_context_init(&context, &model, arena, need);
            if (status == CNNQ_OK) status = cnnq_invoke(&context);
        }
        outcomes[(unsigned)status & 15]++;
    }
    printf("hostile_words: %d files, %d ran, %d malformed, %d other refusals, no crash\n", trials, outcomes[CNNQ_OK],
           outcomes[CNNQ_MALFORMED], trials - outcomes[CNNQ_OK] - outcomes[CNNQ_MALFORMED]);
    return outcomes[CNNQ_MALFORMED] > trials / 5 ? 0 : 1;
}
