#ifndef TV_MLP_GEMM_H
#define TV_MLP_GEMM_H
#include <stddef.h>

/// Depth of one K block: for K above it, each block's partial sums are added into C separately.
#define TV_MLP_GEMM_KC 256

/// 1 when the CPU has AVX2 and FMA (tv_mlp_gemm then runs 6×16 AVX2 tiles, or 8×32 AVX-512
/// tiles where tv_use_avx512()).
int tv_mlp_gemm_available(void);

/// Row-major single-precision product on the calling thread (no threads of its own; a lent
/// thread, lent_threads.h, computes the right half of the columns when one waits):
///   C[M,N] = (accumulate ? C : 0) + bias (broadcast over rows, when not NULL) + op(A) op(B)
/// op(A) is A [M,K] (row stride lda), or with trans_a the transpose of A stored [K,M];
/// op(B) is B [K,N] (ldb), or with trans_b the transpose of B stored [N,K].
/// Every element is one fused multiply-add chain over k in order from 0 (in blocks of 256 k,
/// each added to C in turn), and C + bias is added before that sum: the bits depend neither on
/// the vector width (AVX2 and AVX-512 agree) nor on M, the row's position, the thread, or a lent
/// thread's share. Packing buffers are per thread and kept between calls.
/// Precondition: tv_mlp_gemm_available().
void tv_mlp_gemm(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                 const float *A, size_t lda, const float *B, size_t ldb,
                 const float *bias, int accumulate, float *C, size_t ldc);

/// The same product by three plain loops in the same order (the tests' reference).
void tv_mlp_gemm_reference(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                           const float *A, size_t lda, const float *B, size_t ldb,
                           const float *bias, int accumulate, float *C, size_t ldc);

#endif
