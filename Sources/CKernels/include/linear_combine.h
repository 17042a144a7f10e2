#ifndef TV_LINEAR_COMBINE_H
#define TV_LINEAR_COMBINE_H
#include <stddef.h>
#include <stdint.h>

/// Element types the fused linear kernel reads and writes. TV_ZERO marks a missing model (skipped).
enum { TV_F32 = 0, TV_F16 = 1, TV_BF16 = 2, TV_ZERO = 3 };

/// 1 when the fused kernel can run (x86-64 with AVX2 + F16C), checked once at run time.
int tv_linear_available(void);

/// out[j] = base_scale * base[j] + sum_i c_i * d_i[j] for j < n, where d_i = model_i when
/// is_task_vector[i], else model_i - base, in DeMe's (torch's) order: each d_i in float, scaled by
/// c_i, summed in model order starting from the first contributing model, then the base term added
/// (base[j] + acc for base_scale 1, no base term for 0), rounded once to out_dtype (nearest even).
/// Models with c_i == 0 or dtype TV_ZERO (missing; the pointer may be NULL) contribute nothing.
/// The operations and their order match TVEngine's LinearCombiner (no fused multiply-add), so
/// results are bit-identical to it. Preconditions: tv_linear_available(); base_dtype is not
/// TV_ZERO; out_dtype is TV_F32, TV_F16 or TV_BF16.
void tv_linear_combine(const void *base, int base_dtype, float base_scale,
                       const void *const *models, const int *model_dtypes, const float *coefficients,
                       const uint8_t *is_task_vector, int model_count,
                       void *out, int out_dtype, size_t n);

#endif
