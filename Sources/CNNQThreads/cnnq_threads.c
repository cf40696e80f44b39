#include "cnnq_threads.h"

/* Waking the other threads and joining them costs more than layers below this save: two threads
 * took 300 µs where one took 240 on a DenseNet-121 ×0.25 at 32×32 without it (229 µs with it); at
 * 224×224 every MobileNet layer over a map is above it. */
static long serial_macs = 1L << 18;

long cnnq_serial_macs(void) { return serial_macs; }

void cnnq_set_serial_macs(long macs) { serial_macs = macs < 0 ? 0 : macs; }

#ifdef _OPENMP
/* Declared here rather than through omp.h: the Swift toolchain's clang ships no omp.h. */
int omp_get_max_threads(void);
void omp_set_num_threads(int n);

void cnnq_parallel_for(long count, void *context, cnnq_task_fn task) {
    if (count <= 1 || omp_get_max_threads() == 1) {
        for (long i = 0; i < count; i++) task(context, i);
        return;
    }
#pragma omp parallel for schedule(static)
    for (long i = 0; i < count; i++) task(context, i);
}

int cnnq_thread_count(void) { return omp_get_max_threads(); }

void cnnq_set_thread_count(int n) { if (n >= 1) omp_set_num_threads(n); }
#else
void cnnq_parallel_for(long count, void *context, cnnq_task_fn task) {
    for (long i = 0; i < count; i++) task(context, i);
}

int cnnq_thread_count(void) { return 1; }

void cnnq_set_thread_count(int n) { (void)n; }
#endif
