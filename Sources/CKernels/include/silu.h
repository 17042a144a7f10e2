#ifndef TV_SILU_H
#define TV_SILU_H
#include <stddef.h>

/// 1 when the CPU has AVX2 (the SiLU passes then run 8 or, with AVX-512, 16 lanes wide).
int tv_silu_available(void);

/// s[i] = 1 / (1 + exp(-x[i])), y[i] = x[i] s[i], with TVTrainer's FastMath.exp (Cephes
/// polynomial, inputs clamped to [-87, 88]); each operation rounds separately, so the bits match
/// the portable Swift loop. Precondition: tv_silu_available().
void tv_silu_forward(const float *x, float *y, float *s, size_t n);

/// dx[i] = (dy[i] s[i]) (1 + x[i] (1 - s[i])), or dx[i] += that when accumulate is non-zero.
void tv_silu_backward(const float *x, const float *s, const float *dy, float *dx, size_t n, int accumulate);

#endif
