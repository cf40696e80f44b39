/* The loader on the board itself, against hostile files: words of the header, tables and parameters
 * replaced by values an attacker would pick (0, 2^31, 2^32 − 1, the file size, ...), the CRC made
 * valid again, each file loaded and, if it loads, run. A file must be refused with a status or run;
 * a trap or a fault fails the test. Run on armv7 too, where `Int` is 32 bits, as the host's
 * ModelFileTests cannot. Usage: hostile_words MODEL.cnnq [TRIALS] */
#include "hostile.h"
#include "load_model.h"

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
    /* The file's own size and sections are hostile too: offsets that point just inside or past. */
    const uint32_t own[] = {(uint32_t)size, (uint32_t)size - 4, constants};
    int outcomes[16] = {0};
    for (int trial = 0; trial < trials; trial++) {
        memcpy(bytes, original, size);
        /* Most mutations hit the structure before the constants; some hit parameter words. */
        size_t region = trial % 4 == 0 || constants + 4096 > size ? size : constants + 4096;
        size_t word = 3 + next_random() % (region / 4 - 3);
        uint32_t pick = next_random() % (HOSTILE_VALUES + 3);
        uint32_t value = trial % 3 == 0     ? next_random()
                         : pick < HOSTILE_VALUES ? hostile_values[pick]
                                                 : own[pick - HOSTILE_VALUES];
        memcpy(bytes + word * 4, &value, 4);
        fix_crc(bytes, size);
        outcomes[(unsigned)load_and_run(bytes, size, arena, arena_capacity) & 15]++;
    }
    printf("hostile_words: %d files, %d ran, %d malformed, %d other refusals, no crash\n", trials, outcomes[CNNQ_OK],
           outcomes[CNNQ_MALFORMED], trials - outcomes[CNNQ_OK] - outcomes[CNNQ_MALFORMED]);
    return outcomes[CNNQ_MALFORMED] > trials / 5 ? 0 : 1;
}
