// GroupNorm (+ SiLU) and row softmax for the UNet (unet_norm.h): one pass structure, two widths.
// The bodies live in unet_norm_body.h, included once for AVX-512 and once for AVX2 + FMA.
#include "unet_norm.h"
#include "vector_width.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

int tv_unet_norm_available(void) { return tv_cpu_has_avx2_fma(); }

#define SFX(name) name##512
#define TARGET __attribute__((target("avx512f")))
#define VL 16
#define VEC __m512
#define IVEC __m512i
#define P(op) _mm512_##op##_ps
#define I(op) _mm512_##op##_epi32
#define CASTI _mm512_castps_si512
#define CASTF _mm512_castsi512_ps
#define HSUM(v) _mm512_reduce_add_ps(v)
#define HMAX(v) _mm512_reduce_max_ps(v)
#define FIRST(v) _mm512_cvtss_f32(v)
#include "unet_norm_body.h"
#undef SFX
#undef TARGET
#undef VL
#undef VEC
#undef IVEC
#undef P
#undef I
#undef CASTI
#undef CASTF
#undef HSUM
#undef HMAX
#undef FIRST

__attribute__((target("avx2,fma"))) static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

__attribute__((target("avx2,fma"))) static inline float hmax256(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)));
}

#define SFX(name) name##256
#define TARGET __attribute__((target("avx2,fma")))
#define VL 8
#define VEC __m256
#define IVEC __m256i
#define P(op) _mm256_##op##_ps
#define I(op) _mm256_##op##_epi32
#define CASTI _mm256_castps_si256
#define CASTF _mm256_castsi256_ps
#define HSUM(v) hsum256(v)
#define HMAX(v) hmax256(v)
#define FIRST(v) _mm256_cvtss_f32(v)
#include "unet_norm_body.h"

void tv_unet_groupnorm_forward(const float *x, float *xhat, float *rstd, const float *gamma, const float *beta,
                               float *y, float *sigmoid, int channels, int groups, int batch, int pixels, float eps) {
    const int silu = sigmoid != 0;
    if (tv_use_avx512()) gn_forward512(x, xhat, rstd, gamma, beta, y, sigmoid, silu, channels, groups, batch, pixels, eps);
    else gn_forward256(x, xhat, rstd, gamma, beta, y, sigmoid, silu, channels, groups, batch, pixels, eps);
}

void tv_unet_groupnorm_infer(const float *x, const float *gamma, const float *beta, float *y, int silu,
                             int channels, int groups, int batch, int pixels, float eps) {
    if (tv_use_avx512()) gn_forward512(x, 0, 0, gamma, beta, y, 0, silu, channels, groups, batch, pixels, eps);
    else gn_forward256(x, 0, 0, gamma, beta, y, 0, silu, channels, groups, batch, pixels, eps);
}

void tv_unet_groupnorm_backward(const float *dy, const float *xhat, const float *rstd, const float *gamma,
                                const float *beta, const float *sigmoid, float *dgamma, float *dbeta, float *dx,
                                int channels, int groups, int batch, int pixels, int accumulate) {
    if (tv_use_avx512())
        gn_backward512(dy, xhat, rstd, gamma, beta, sigmoid, dgamma, dbeta, dx, channels, groups, batch, pixels, accumulate);
    else
        gn_backward256(dy, xhat, rstd, gamma, beta, sigmoid, dgamma, dbeta, dx, channels, groups, batch, pixels, accumulate);
}

void tv_unet_softmax_rows(float *p, int rows, int n) {
    if (tv_use_avx512()) softmax_rows512(p, rows, n); else softmax_rows256(p, rows, n);
}

void tv_unet_softmax_backward_rows(const float *p, float *g, int rows, int n) {
    if (tv_use_avx512()) softmax_backward_rows512(p, g, rows, n); else softmax_backward_rows256(p, g, rows, n);
}

#else
int tv_unet_norm_available(void) { return 0; }
void tv_unet_groupnorm_forward(const float *x, float *xhat, float *rstd, const float *gamma, const float *beta,
                               float *y, float *sigmoid, int channels, int groups, int batch, int pixels, float eps) {
    (void)x; (void)xhat; (void)rstd; (void)gamma; (void)beta; (void)y; (void)sigmoid;
    (void)channels; (void)groups; (void)batch; (void)pixels; (void)eps;
}
void tv_unet_groupnorm_infer(const float *x, const float *gamma, const float *beta, float *y, int silu,
                             int channels, int groups, int batch, int pixels, float eps) {
    (void)x; (void)gamma; (void)beta; (void)y; (void)silu; (void)channels; (void)groups; (void)batch; (void)pixels; (void)eps;
}
void tv_unet_groupnorm_backward(const float *dy, const float *xhat, const float *rstd, const float *gamma,
                                const float *beta, const float *sigmoid, float *dgamma, float *dbeta, float *dx,
                                int channels, int groups, int batch, int pixels, int accumulate) {
    (void)dy; (void)xhat; (void)rstd; (void)gamma; (void)beta; (void)sigmoid; (void)dgamma; (void)dbeta; (void)dx;
    (void)channels; (void)groups; (void)batch; (void)pixels; (void)accumulate;
}
void tv_unet_softmax_rows(float *p, int rows, int n) { (void)p; (void)rows; (void)n; }
void tv_unet_softmax_backward_rows(const float *p, float *g, int rows, int n) { (void)p; (void)g; (void)rows; (void)n; }
#endif
