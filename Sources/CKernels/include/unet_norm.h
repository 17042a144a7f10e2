#ifndef TV_UNET_NORM_H
#define TV_UNET_NORM_H
#include <stddef.h>

// The UNet's GroupNorm (optionally followed by SiLU) and attention's row softmax, forward and
// backward, on channel-major ("CBHW", [C, B, H, W]) tensors: channel ch of sample b is the run
// of `pixels` floats at (ch·batch + b)·pixels. AVX-512 or AVX2 + FMA (tv_use_avx512()); callers
// check tv_unet_norm_available() first. The exponential is FastMath.exp's polynomial evaluated
// with FMA (relative error ~2e-7), so results match the Swift loops to float rounding, not bits.

/// 1 when the CPU has AVX2 and FMA.
int tv_unet_norm_available(void);

/// GroupNorm over (sample, group): xhat = (x − mean)·rstd (kept), rstd[b·groups + g] (kept),
/// v = xhat·gamma[ch] + beta[ch]. With sigmoid == NULL: y = v. Otherwise also SiLU:
/// sigmoid = 1/(1 + exp(−v)) (kept) and y = v·sigmoid. Two passes for the statistics (sums in
/// double across channels), biased variance, rstd = 1/sqrt(var + eps).
void tv_unet_groupnorm_forward(const float *x, float *xhat, float *rstd, const float *gamma, const float *beta,
                               float *y, float *sigmoid, int channels, int groups, int batch, int pixels, float eps);

/// The same y (same operations, same bits) without keeping anything for a backward pass: no
/// xhat, rstd or sigmoid written (evaluation). silu != 0 applies SiLU as above.
void tv_unet_groupnorm_infer(const float *x, const float *gamma, const float *beta, float *y, int silu,
                             int channels, int groups, int batch, int pixels, float eps);

/// The backward pass of tv_unet_groupnorm_forward. dy is the gradient at y; with sigmoid != NULL it first goes
/// through SiLU's derivative at v = xhat·gamma + beta. dgamma/dbeta are overwritten; dx is
/// overwritten, or accumulated into when accumulate is non-zero.
void tv_unet_groupnorm_backward(const float *dy, const float *xhat, const float *rstd, const float *gamma,
                                const float *beta, const float *sigmoid, float *dgamma, float *dbeta, float *dx,
                                int channels, int groups, int batch, int pixels, int accumulate);

/// In place, every row of p [rows, n]: p = softmax(p) (max-subtracted, as torch).
void tv_unet_softmax_rows(float *p, int rows, int n);

/// In place, every row: g = p ⊙ (g − Σ_j g_j p_j), the softmax's backward pass.
void tv_unet_softmax_backward_rows(const float *p, float *g, int rows, int n);

#endif
