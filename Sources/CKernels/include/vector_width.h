#ifndef TV_VECTOR_WIDTH_H
#define TV_VECTOR_WIDTH_H

/// 1 when the kernels that have an AVX-512 variant may use it: the CPU supports AVX-512F and it
/// has not been turned off with tv_allow_avx512(0) (tests use that to run the AVX2 variants too) or
/// TVTOOL_NO_AVX512=1 in the environment.
int tv_use_avx512(void);
/// tv_use_avx512() on a CPU that also has AVX-512DQ (64-bit multiplies; not every AVX-512 CPU has it).
int tv_use_avx512dq(void);
void tv_allow_avx512(int allowed);

/// 1 when the CPU has AVX2 and FMA (what OpenBLAS's Haswell kernels need).
int tv_cpu_has_avx2_fma(void);

#endif
