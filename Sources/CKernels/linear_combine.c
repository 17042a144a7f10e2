// The fused inner loop of a linear merge (task arithmetic, DeMe's weighted merge, soups): reads
// every operand's bytes once, converts to float in registers, accumulates, and encodes the result,
// instead of decoding each operand into scratch and making one pass per model. Called per block of
// a few hundred KB that the engine has just read into cache.
#include "linear_combine.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF

int tv_linear_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
}

#define TARGET __attribute__((target("avx2,f16c")))

// Strips of STRIP values stay in L1: each operand is converted into a float strip by a loop with
// its dtype fixed, so the hot loops are branch-free (a per-vector switch on dtypes cost ~3x).
#define STRIP 512

#include "fused_codec_avx2.h"


static size_t width_of(int dtype) { return dtype == TV_F32 ? 4 : (dtype == TV_ZERO ? 0 : 2); }

// 8 values of `dtype` at element j of p, as floats (dtype is a constant after inlining).
TARGET static inline __attribute__((always_inline)) __m256 load8(const void *p, const int dtype, size_t j) {
    switch (dtype) {
    case TV_F16: return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)p + j)));
    case TV_BF16:
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)((const uint16_t *)p + j))), 16));
    default: return _mm256_loadu_ps((const float *)p + j);
    }
}

TARGET static inline __attribute__((always_inline)) float load1(const void *p, const int dtype, size_t j) {
    switch (dtype) {
    case TV_F16: return _cvtsh_ss(((const uint16_t *)p)[j]);
    case TV_BF16: return bf16_to_f32(((const uint16_t *)p)[j]);
    default: return ((const float *)p)[j];
    }
}

// dst[0..<cnt] = the cnt values of `dtype` at p, as floats (dtype a constant after inlining).
TARGET static inline __attribute__((always_inline)) void decode_as(const void *p, const int dtype, size_t cnt, float *dst) {
    size_t j = 0;
    for (; j + 8 <= cnt; j += 8) _mm256_storeu_ps(dst + j, load8(p, dtype, j));
    for (; j < cnt; j++) dst[j] = load1(p, dtype, j);
}

TARGET static void decode_strip(const void *p, int dtype, size_t cnt, float *dst) {
    switch (dtype) {
    case TV_F16: decode_as(p, TV_F16, cnt, dst); break;
    case TV_BF16: decode_as(p, TV_BF16, cnt, dst); break;
    default: decode_as(p, TV_F32, cnt, dst);
    }
}

// acc = c * d (the first contributing model, first = 1) or acc = acc + c * d, with d = x (a task
// vector) or x - b (a checkpoint), x read from the operand's own bytes: DeMe's torch order, each
// tau_i in float, scaled, summed in model order. Separate multiply and add (FP_CONTRACT off): the
// Swift loops this must match are not contracted to FMA.
TARGET static inline __attribute__((always_inline)) void accumulate_as(
    float *acc, const void *xp, const int dtype, const float *b, float c, const int is_tv, const int first, size_t cnt) {
    __m256 cv = _mm256_set1_ps(c);
    size_t j = 0;
    for (; j + 8 <= cnt; j += 8) {
        __m256 x = load8(xp, dtype, j);
        if (!is_tv) x = _mm256_sub_ps(x, _mm256_loadu_ps(b + j));
        __m256 t = _mm256_mul_ps(cv, x);
        _mm256_storeu_ps(acc + j, first ? t : _mm256_add_ps(_mm256_loadu_ps(acc + j), t));
    }
    for (; j < cnt; j++) {
        float x = load1(xp, dtype, j);
        float t = c * (is_tv ? x : x - b[j]);
        acc[j] = first ? t : acc[j] + t;
    }
}

TARGET static void accumulate(float *acc, const void *xp, int dtype, const float *b, float c, int is_tv, int first, size_t cnt) {
#define BODY(DT, TV) \
        if (first) accumulate_as(acc, xp, DT, b, c, TV, 1, cnt); else accumulate_as(acc, xp, DT, b, c, TV, 0, cnt);
#define CASE(DT) case DT: if (is_tv) { BODY(DT, 1) } else { BODY(DT, 0) } break;
    switch (dtype) {
    CASE(TV_F16)
    CASE(TV_BF16)
    default: CASE(TV_F32)
    }
#undef CASE
#undef BODY
}

// The base term, added last as torch's `theta + sum`: acc = b + acc (scale 1), acc stays (scale 0),
// acc = (s * b) + acc otherwise; with no contributing model (has_acc 0) the term alone.
TARGET static void add_base(float *acc, const float *b, float s, int has_acc, size_t cnt) {
    __m256 sv = _mm256_set1_ps(s);
    size_t j = 0;
    if (!has_acc) {
        if (s == 1.0f) memcpy(acc, b, cnt * sizeof(float));
        else if (s == 0.0f) memset(acc, 0, cnt * sizeof(float));
        else for (; j < cnt; j++) acc[j] = s * b[j];
        return;
    }
    if (s == 0.0f) return;
    if (s == 1.0f) {
        for (; j + 8 <= cnt; j += 8) _mm256_storeu_ps(acc + j, _mm256_add_ps(_mm256_loadu_ps(b + j), _mm256_loadu_ps(acc + j)));
        for (; j < cnt; j++) acc[j] = b[j] + acc[j];
    } else {
        for (; j + 8 <= cnt; j += 8)
            _mm256_storeu_ps(acc + j, _mm256_add_ps(_mm256_mul_ps(sv, _mm256_loadu_ps(b + j)), _mm256_loadu_ps(acc + j)));
        for (; j < cnt; j++) acc[j] = s * b[j] + acc[j];
    }
}

TARGET void tv_linear_combine(const void *base, int base_dtype, float base_scale,
                              const void *const *models, const int *model_dtypes, const float *coefficients,
                              const uint8_t *is_task_vector, int model_count,
                              void *out, int out_dtype, size_t n) {
    _Alignas(32) float b[STRIP], acc[STRIP];
    for (size_t i = 0; i < n; i += STRIP) {
        size_t cnt = n - i < STRIP ? n - i : STRIP;
        decode_strip((const uint8_t *)base + i * width_of(base_dtype), base_dtype, cnt, b);
        int first = 1;
        for (int k = 0; k < model_count; k++) {
            float c = coefficients[k];
            int dt = model_dtypes[k];
            if (c == 0.0f || dt == TV_ZERO) continue;  // a missing model has a zero task vector
            const void *xp = (const uint8_t *)models[k] + i * width_of(dt);
            accumulate(acc, xp, dt, b, c, is_task_vector[k], first, cnt);
            first = 0;
        }
        add_base(acc, b, base_scale, !first, cnt);
        encode_strip(acc, cnt, out_dtype, (uint8_t *)out + i * width_of(out_dtype));
    }
}

#else
int tv_linear_available(void) { return 0; }
void tv_linear_combine(const void *base, int base_dtype, float base_scale,
                       const void *const *models, const int *model_dtypes, const float *coefficients,
                       const uint8_t *is_task_vector, int model_count,
                       void *out, int out_dtype, size_t n) {
    (void)base; (void)base_dtype; (void)base_scale; (void)models; (void)model_dtypes; (void)coefficients;
    (void)is_task_vector; (void)model_count; (void)out; (void)out_dtype; (void)n;
}
#endif
