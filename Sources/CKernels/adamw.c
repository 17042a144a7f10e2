// The optimiser pass of the trainer: sqrt and divide per parameter make it compute-bound at SSE
// width, so it runs as wide as the CPU allows, chosen at run time.
#include "adamw.h"
#include "lent_threads_internal.h"
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

// The same body at two widths: VEC is the vector type and P(op) names its float operation
// (_mm512_add_ps, _mm256_add_ps, ...).
#define ADAMW_BODY(WIDTH)                                                                           \
    VEC gs = P(set1)(k->gradient_scale), b1 = P(set1)(k->beta1), ob1 = P(set1)(1 - k->beta1);       \
    VEC b2 = P(set1)(k->beta2), ob2 = P(set1)(1 - k->beta2), dec = P(set1)(k->decay);               \
    VEC ss = P(set1)(k->step_size), ic = P(set1)(k->inv_sqrt_c2), eps = P(set1)(k->eps);            \
    VEC ed = P(set1)(k->ema_decay), oed = P(set1)(1 - k->ema_decay);                                \
    size_t i = 0;                                                                                   \
    for (; i + WIDTH <= n; i += WIDTH) {                                                            \
        VEC gi = P(mul)(gs, P(loadu)(g + i));                                                       \
        VEC mi = P(add)(P(mul)(b1, P(loadu)(m + i)), P(mul)(ob1, gi));                              \
        VEC vi = P(add)(P(mul)(b2, P(loadu)(v + i)), P(mul)(P(mul)(ob2, gi), gi));                  \
        P(storeu)(m + i, mi);                                                                       \
        P(storeu)(v + i, vi);                                                                       \
        VEC up = P(sub)(P(mul)(P(loadu)(p + i), dec),                                               \
                        P(div)(P(mul)(ss, mi), P(add)(P(mul)(P(sqrt)(vi), ic), eps)));              \
        P(storeu)(p + i, up);                                                                       \
        if (shadow) P(storeu)(shadow + i, P(add)(P(mul)(ed, P(loadu)(shadow + i)), P(mul)(oed, up))); \
    }                                                                                               \
    for (; i < n; i++) adamw_one(p, g, m, v, shadow, k, i);

// One function per width (P, as defined where the macro is used, picks the intrinsics).
#define DEFINE_ADAMW(NAME, ISA, VECTYPE, WIDTH)                                                     \
    __attribute__((target(ISA))) static void NAME(float *p, const float *g, float *m, float *v,     \
                                                  float *shadow, const tv_adamw_constants *k,       \
                                                  size_t n) {                                       \
        typedef VECTYPE VEC;                                                                        \
        ADAMW_BODY(WIDTH)                                                                           \
    }

#define P(op) _mm512_##op##_ps
DEFINE_ADAMW(adamw_avx512, "avx512f", __m512, 16)
#undef P
#define P(op) _mm256_##op##_ps
DEFINE_ADAMW(adamw_avx, "avx", __m256, 8)
#undef P

static void adamw_here(float *p, const float *g, float *m, float *v, float *shadow, const tv_adamw_constants *k, size_t n) {
    if (tv_use_avx512()) adamw_avx512(p, g, m, v, shadow, k, n);
    else adamw_avx(p, g, m, v, shadow, k, n);
}

// Elements [i0, n), run by a lent thread.
typedef struct {
    float *p, *m, *v, *shadow;
    const float *g;
    const tv_adamw_constants *k;
    size_t i0, n;
} adamw_part;

static void adamw_part_run(void *ctx) {
    adamw_part *a = ctx;
    size_t i = a->i0;
    adamw_here(a->p + i, a->g + i, a->m + i, a->v + i, a->shadow ? a->shadow + i : NULL, a->k, a->n - i);
}

void tv_adamw_update(float *p, const float *g, float *m, float *v, float *shadow, const tv_adamw_constants *k, size_t n) {
    // With a lent thread waiting (lent_threads.h) it updates the second half: elementwise, so
    // the same bits.
    if (n >= 65536) {
        size_t i0 = n / 2 / 16 * 16;
        adamw_part part = {p, m, v, shadow, g, k, i0, n};
        tv_lent_slot *slot = tv_lent_post(adamw_part_run, &part);
        if (slot) {
            adamw_here(p, g, m, v, shadow, k, i0);
            tv_lent_join(slot);
            return;
        }
    }
    adamw_here(p, g, m, v, shadow, k, n);
}

#else
int tv_adamw_available(void) { return 0; }
void tv_adamw_update(float *p, const float *g, float *m, float *v, float *shadow, const tv_adamw_constants *k, size_t n) {
    for (size_t i = 0; i < n; i++) adamw_one(p, g, m, v, shadow, k, i);
}
#endif
