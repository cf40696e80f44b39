/* Links the Embedded Swift library into a plain C99 program: versions, status strings, the
 * loader's answers to bad buffers, and instruction-set level names and misuse. */
#include <cnnq.h>

#include <stdio.h>
#include <string.h>

int main(void) {
    int version = cnnq_version(), abi = cnnq_abi_version(), failures = 0;
    printf("libcnnq %d.%d.%d, ABI %d\n", version / 10000, version / 100 % 100, version % 100, abi);
    failures += version != CNNQ_VERSION_MAJOR * 10000 + CNNQ_VERSION_MINOR * 100 + CNNQ_VERSION_PATCH || abi != CNNQ_ABI_VERSION;
    failures += strcmp(cnnq_status_string(CNNQ_OK), "ok") != 0;
    static _Alignas(16) unsigned char junk[256] = "not a model";
    cnnq_model model;
    failures += cnnq_model_load(&model, junk, sizeof junk) != CNNQ_BAD_MAGIC;
    failures += cnnq_model_load(&model, junk, 8) != CNNQ_TRUNCATED;
    failures += cnnq_model_load(&model, junk + 1, 200) != CNNQ_MISALIGNED;
    failures += cnnq_model_load(NULL, junk, sizeof junk) != CNNQ_INVALID_ARGUMENT;
    failures += strcmp(cnnq_isa_name(CNNQ_ISA_BASELINE), "sse2") != 0 || cnnq_isa_name(99) != NULL;
    failures += strcmp(cnnq_isa_name(CNNQ_ISA_AVX2), "avx2") != 0;
    failures += strcmp(cnnq_isa_name(CNNQ_ISA_AVX512_VNNI), "avx512-vnni") != 0;
    failures += cnnq_context_set_isa(NULL, CNNQ_ISA_BASELINE) != CNNQ_INVALID_ARGUMENT;
    failures += cnnq_context_isa(NULL) != -1;
    printf("abi_smoke: %s\n", failures ? "FAILED" : "ok");
    return failures != 0;
}
