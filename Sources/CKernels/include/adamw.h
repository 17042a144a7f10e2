#ifndef TV_ADAMW_H
#define TV_ADAMW_H
#include <stddef.h>

/// The per-step constants of one fused AdamW (+ EMA) pass; see TVTrainer's AdamW.update.
typedef struct {
    float gradient_scale, beta1, beta2, step_size, inv_sqrt_c2, eps, decay, ema_decay;
} tv_adamw_constants;

/// 1 when the CPU has AVX (the fused AdamW pass then runs 8 or, with AVX-512, 16 lanes wide).
int tv_adamw_available(void);

/// For i < n, with gi = gradient_scale * g[i]:
///   m[i] = beta1 m[i] + (1 - beta1) gi;  v[i] = beta2 v[i] + ((1 - beta2) gi) gi
///   p[i] = p[i] decay - (step_size m[i]) / (sqrt(v[i]) inv_sqrt_c2 + eps)
///   shadow[i] = ema_decay shadow[i] + (1 - ema_decay) p[i]   (when shadow is not NULL)
/// Each operation rounds separately (no fused multiply-add), so every lane width gives the same
/// bits as TVTrainer's portable loop. Precondition: tv_adamw_available().
void tv_adamw_update(float *p, const float *g, float *m, float *v, float *shadow,
                     const tv_adamw_constants *k, size_t n);

#endif
