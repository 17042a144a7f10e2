#ifndef TV_CONV3X3_H
#define TV_CONV3X3_H
#include <stddef.h>

// Direct 3×3, stride 1, padding 1 convolutions on channel-major ("CBHW", [C, B, H, W]) tensors,
// without im2col columns: the input is copied once into a zero-bordered [C, B, H+2, W+2] buffer,
// where every tap (ky, kx) of an output pixel is the same flat offset ky·(W+2) + kx away, so the
// kernels read shifted contiguous vectors straight from it. AVX-512 or AVX2 (tv_use_avx512()).

/// 1 when the CPU has AVX2 and FMA (the kernels' minimum).
int tv_conv3x3_available(void);

/// Output channels per packed weight block (8 with AVX-512, 6 with AVX2): tv_conv3x3_pack needs
/// ceil(out_channels / rows) · rows · in_channels · 9 floats.
int tv_conv3x3_block_rows(void);

/// xp [C, B, H+2, W+2] = x [C, B, H, W] with a zero border (every element of xp is written).
void tv_conv3x3_pad(const float *x, float *xp, int channels, int batch, int h, int w);

/// Packs the weights of the convolution computed by tv_conv3x3_forward. weight is PyTorch's
/// [out, in, 3, 3]. With transposed = 0 the packed conv is that one (cin in, cout out); with
/// transposed = 1 it is its input-gradient conv: cout in, cin out, kernel flipped.
void tv_conv3x3_pack(const float *weight, float *packed, int cin, int cout, int transposed);

/// y [cout, B, H, W] = conv(xp) (+ bias[co] when bias is not NULL), or y += conv(xp) when
/// accumulate is non-zero (bias then ignored). xp from tv_conv3x3_pad, packed from tv_conv3x3_pack.
void tv_conv3x3_forward(const float *xp, const float *packed, const float *bias, float *y,
                        int cin, int cout, int batch, int h, int w, int accumulate);

/// dw [cout, cin, 3, 3] = Σ over batch and pixels of dy[co, b, y, x] · x[ci, b, y+ky−1, x+kx−1]
/// (overwritten; zero outside x). x is the unpadded input [cin, B, H, W]; scratch holds
/// tv_conv3x3_weight_grad_scratch floats (a pixel-major padded copy of a few images of x, so the
/// kernel broadcasts dy and reads input channels as vectors: no horizontal sums).
void tv_conv3x3_weight_grad(const float *dy, const float *x, float *dw, int cin, int cout,
                            int batch, int h, int w, float *scratch);
size_t tv_conv3x3_weight_grad_scratch(int cin, int cout, int batch, int h, int w);

#endif
