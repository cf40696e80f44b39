#ifndef CNNQ_CLOCK_H
#define CNNQ_CLOCK_H

/* The core's effective clock in GHz, measured: a chain of dependent register adds retires one add
 * per cycle on every x86_64 and AArch64 core, so adds per second are cycles per second, whatever
 * the boost state and whatever /proc/cpuinfo (often blank in a VM) says. The best of a few short
 * runs, about 0.2 s in all. 0 on other architectures. (Host tools only: bench-kernels' floor.) */
double cnnq_clock_ghz(void);

/* 512-bit vpdpbusd per second, measured on 12 independent accumulators: a core that runs 512-bit
 * operations in two passes (Zen 4) retires one per cycle, Zen 5 and Intel's two. Call only where
 * the CPU has AVX-512 VNNI; 0 on other architectures. (bench-kernels' floor.) */
double cnnq_zmm_dpbusd_per_second(void);

#endif
