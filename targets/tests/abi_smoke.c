/* Links the Embedded Swift library into a plain C program and calls its exports. */
#include <stdio.h>

int cnnq_version(void);
int cnnq_abi_version(void);

int main(void) {
    int version = cnnq_version(), abi = cnnq_abi_version();
    printf("libcnnq %d.%d.%d, ABI %d\n", version / 10000, version / 100 % 100, version % 100, abi);
    return version > 0 && abi == 1 ? 0 : 1;
}
