/* A fuzz run on the board itself, for armv7 under qemu-arm, where `Int` is 32 bits and libFuzzer
 * does not run: every file given is replayed, then random files among them are mutated (1 to 6
 * stacked edits: bit flips, random bytes, hostile 32-bit words, a copied or spliced chunk, a
 * truncation), given a valid CRC (most of the time), loaded and, if they load, run, until SECONDS
 * pass. No coverage feedback: its inputs are the corpus libFuzzer grew on x86_64 (fuzz/corpus.tar.xz),
 * which already reaches deep. A trap or a fault fails the run. Usage: mutate SECONDS FILE... */
#include "hostile.h"
#include "load_model.h"

#include <time.h>

enum { MAX_SIZE = 1 << 20 };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* Edits `bytes` (`*size` long, room for MAX_SIZE) in place; `other` is a second file to splice from. */
static void mutate(uint8_t *bytes, size_t *size, const uint8_t *other, size_t other_size) {
    size_t n = *size;
    if (n < 16) return;
    switch (next_random() % 13) {
    case 0: case 1: bytes[next_random() % n] ^= (uint8_t)(1u << (next_random() % 8)); break;
    case 2: case 3: bytes[next_random() % n] = (uint8_t)next_random(); break;
    case 4: case 5: case 6: case 7: case 8: { /* a word of the structure, mostly: the first 4 KiB hold the header and tables */
        size_t limit = n < 4096 || next_random() % 4 == 0 ? n : 4096;
        uint32_t value = next_random() % 3 == 0 ? next_random() : hostile_values[next_random() % HOSTILE_VALUES];
        memcpy(bytes + 12 + (next_random() % ((limit - 12) / 4)) * 4, &value, 4);
        break;
    }
    case 9: case 10: { /* a chunk of the file copied over another place */
        size_t length = 1 + next_random() % 64, from = next_random() % n, to = next_random() % n;
        if (from + length <= n && to + length <= n) memmove(bytes + to, bytes + from, length);
        break;
    }
    case 11: { /* a chunk of another file, at the same offset */
        size_t length = 4 + next_random() % 256, at = next_random() % n;
        if (at + length <= n && at + length <= other_size) memcpy(bytes + at, other + at, length);
        break;
    }
    default: *size = 12 + next_random() % (n - 12); /* truncated */
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s SECONDS FILE...\n", argv[0]);
        return 2;
    }
    double seconds = atof(argv[1]);
    int count = argc - 2;
    uint8_t **files = malloc(sizeof(uint8_t *) * (size_t)count);
    size_t *sizes = malloc(sizeof(size_t) * (size_t)count);
    uint8_t *bytes = aligned_alloc(64, MAX_SIZE);
    size_t capacity = (size_t)64 << 20;
    void *arena = aligned_alloc(64, capacity);
    if (!files || !sizes || !bytes || !arena) return 1;
    int outcomes[16] = {0}, runs = 0;
    for (int i = 0; i < count; i++) {
        files[i] = read_model(argv[i + 2], &sizes[i]);
        if (!files[i] || sizes[i] > MAX_SIZE) {
            fprintf(stderr, "error: cannot read %s, or it is over 1 MiB\n", argv[i + 2]);
            return 2;
        }
        /* libFuzzer's build skips the CRC check, so its corpus gets a valid one here. */
        memcpy(bytes, files[i], sizes[i]);
        fix_crc(bytes, sizes[i]);
        outcomes[(unsigned)load_and_run(bytes, sizes[i], arena, capacity) & 15]++, runs++;
    }
    int replayed = runs;
    double start = now();
    while (now() - start < seconds) {
        for (int batch = 0; batch < 64; batch++) {
            int f = (int)(next_random() % (unsigned)count), g = (int)(next_random() % (unsigned)count);
            size_t size = sizes[f];
            memcpy(bytes, files[f], size);
            for (int edits = 1 + (int)(next_random() % 6); edits > 0; edits--) mutate(bytes, &size, files[g], sizes[g]);
            if (next_random() % 8 != 0) fix_crc(bytes, size); /* else the CRC check itself is the target */
            outcomes[(unsigned)load_and_run(bytes, size, arena, capacity) & 15]++, runs++;
        }
    }
    printf("mutate: %d inputs in %.0f s (%d files replayed), %d ran, %d malformed, %d checksum, %d truncated, "
           "%d other refusals, no crash\n",
           runs, now() - start, replayed, outcomes[CNNQ_OK], outcomes[CNNQ_MALFORMED], outcomes[CNNQ_CHECKSUM_MISMATCH],
           outcomes[CNNQ_TRUNCATED],
           runs - outcomes[CNNQ_OK] - outcomes[CNNQ_MALFORMED] - outcomes[CNNQ_CHECKSUM_MISMATCH] -
               outcomes[CNNQ_TRUNCATED]);
    return 0;
}
