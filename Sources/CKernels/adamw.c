// The optimiser pass of the trainer: sqrt and divide per parameter make it compute-bound at SSE
// width, so it runs as wide as the CPU allows, chosen at run time.
#include "adamw.h"
#include "vector_width.h"

// Separate roundings everywhere (the portable Swift loop has no FMA): keep clang from contracting.
#pragma clang fp contract(off)

#include <math.h>

// One element, exactly as the vector lanes compute it (tails and the portable reference).
static inline void adamw_one(float *p, const float *g, float *m, float *v, float *shadow,
                             const tv_adamw_constants *k, size_t i) {
    float gi = k->gradient_scale * g[i];
    float mi = k->beta1 * m[i] + (1 - k->beta1) * gi;
    float vi = k->beta2 * v[i] + (1 - k->beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    float up = p[i] * k->decay - k->step_size * mi / (sqrtf(vi) * k->inv_sqrt_c2 + k->eps);
    p[i] = up;
    if (shadow) shadow[i] = k->ema_decay * shadow[i] + (1 - k->ema_decay) * up;
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

int tv_adamw_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx");
}

// The same body at two widths: VEC, SET1, LOAD, STORE, ADD, MUL, SUB, DIV, SQRT name the ops.
#define ADAMW_BODY(WIDTH)                                                                         \
    VEC gs = SET1(k->gradient_scale), b1 = SET1(k->beta1), ob1 = SET1(1 - k->beta1);              \
    VEC b2 = SET1(k->beta2), ob2 = SET1(1 - k->beta2), dec = SET1(k->decay);                      \
    VEC ss = SET1(k->step_size), ic = SET1(k->inv_sqrt_c2), eps = SET1(k->eps);                   \
    VEC ed = SET1(k->ema_decay), oed = SET1(1 - k->ema_decay);                                     \
    size_t i = 0;                                                                                 \
    for (; i + WIDTH <= n; i += WIDTH) {                                                          \
        VEC gi = MUL(gs, LOAD(g + i));                                                            \
        VEC mi = ADD(MUL(b1, LOAD(m + i)), MUL(ob1, gi));                                         \
        VEC vi = ADD(MUL(b2, LOAD(v + i)), MUL(MUL(ob2, gi), gi));                                \
        STORE(m + i, mi);                                                                         \
        STORE(v + i, vi);                                                                         \
        VEC up = SUB(MUL(LOAD(p + i), dec), DIV(MUL(ss, mi), ADD(MUL(SQRT(vi), ic), eps)));       \
        STORE(p + i, up);                                                                         \
        if (shadow) STORE(shadow + i, ADD(MUL(ed, LOAD(shadow + i)), MUL(oed, up)));              \
    }                                                                                             \
    for (; i < n; i++) adamw_one(p, g, m, v, shadow, k, i);

__attribute__((target("avx512f")))
static void adamw_avx512(float *p, const float *g, float *m, float *v, float *shadow, const tv_adamw_constants *k, size_t n) {
#define VEC __m512
#define SET1 _mm512_set1_ps
#define LOAD _mm512_loadu_ps
#define STORE _mm512_storeu_ps
#define ADD _mm512_add_ps
#define MUL _mm512_mul_ps
#define SUB _mm512_sub_ps
#define DIV _mm512_div_ps
#define SQRT _mm512_sqrt_ps
    ADAMW_BODY(16)
#undef VEC
#undef SET1
#undef LOAD
#undef STORE
#undef ADD
#undef MUL
#undef SUB
#undef DIV
#undef SQRT
}

__attribute__((target("avx")))
static void adamw_avx(float *p, const float *g, float *m, float *v, float *shadow, const tv_adamw_constants *k, size_t n) {
#define VEC __m256
#define SET1 _mm256_set1_ps
#define LOAD _mm256_loadu_ps
#define STORE _mm256_storeu_ps
#define ADD _mm256_add_ps
#define MUL _mm256_mul_ps
#define SUB _mm256_sub_ps
#define DIV _mm256_div_ps
#define SQRT _mm256_sqrt_ps
    ADAMW_BODY(8)
#undef VEC
#undef SET1
#undef LOAD
#undef STORE
#undef ADD
#undef MUL
#undef SUB
#undef DIV
#undef SQRT
}

void tv_adamw_update(float *p, const float *g, float *m, float *v, float *shadow, const tv_adamw_constants *k, size_t n) {
    if (tv_use_avx512()) adamw_avx512(p, g, m, v, shadow, k, n);
    else adamw_avx(p, g, m, v, shadow, k, n);
}

#else
int tv_adamw_available(void) { return 0; }
void tv_adamw_update(float *p, const float *g, float *m, float *v, float *shadow, const tv_adamw_constants *k, size_t n) {
    for (size_t i = 0; i < n; i++) adamw_one(p, g, m, v, shadow, k, i);
}
#endif
