#ifndef CNNQ_THREADS_H
#define CNNQ_THREADS_H

/* A parallel-for over [0, count): OpenMP where the build has it, a plain loop otherwise (devices
 * without an OpenMP runtime). Each index runs exactly once; the caller splits work so that the result
 * does not depend on how indices are spread over threads. */

typedef void (*cnnq_task_fn)(void *context, long index);

void cnnq_parallel_for(long count, void *context, cnnq_task_fn task);

/* Threads the next parallel-for may use; 1 when built without OpenMP. */
int cnnq_thread_count(void);

/* Sets the number of threads (n >= 1); ignored without OpenMP. */
void cnnq_set_thread_count(int n);

/* Multiply-accumulates below which a layer runs on the calling thread (CNNQKernels' `serialMACs`);
 * tests set 0 so that small shapes are split over threads too. */
long cnnq_serial_macs(void);
void cnnq_set_serial_macs(long macs);

#endif
