// SiLU's forward (one exponential per activation) and backward passes at the CPU's full vector
// width, chosen at run time. The operations mirror TVTrainer's SiLU and FastMath.exp exactly.
#include "silu.h"
#include "vector_width.h"

#pragma clang fp contract(off)

#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

int tv_silu_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}

// exp as FastMath.exp: clamp (NaN passes through: max/min return their second operand on NaN),
// n = round(x / ln 2) via the 1.5·2^23 trick, r = x - n ln2_hi + n ln2_lo, degree-6 polynomial,
// times 2^n built from the bits of the shifted value.
#define EXP_BODY(x0)                                                                                \
    VEC x = P(min)(P(set1)(88.0f), P(max)(P(set1)(-87.0f), x0));                                    \
    VEC shifted = P(add)(P(mul)(x, P(set1)(1.442695041f)), P(set1)(12582912.0f));                   \
    VEC nn = P(sub)(shifted, P(set1)(12582912.0f));                                                 \
    VEC r = P(add)(P(sub)(x, P(mul)(nn, P(set1)(0.693359375f))), P(mul)(nn, P(set1)(2.12194440e-4f))); \
    VEC p = P(set1)(1.9875691500e-4f);                                                              \
    p = P(add)(P(mul)(p, r), P(set1)(1.3981999507e-3f));                                            \
    p = P(add)(P(mul)(p, r), P(set1)(8.3334519073e-3f));                                            \
    p = P(add)(P(mul)(p, r), P(set1)(4.1665795894e-2f));                                            \
    p = P(add)(P(mul)(p, r), P(set1)(1.6666665459e-1f));                                            \
    p = P(add)(P(mul)(p, r), P(set1)(5.0000001201e-1f));                                            \
    p = P(add)(P(add)(P(mul)(P(mul)(p, r), r), r), P(set1)(1.0f));                                  \
    IVEC bits = I(add)(I(sub)(CASTI(shifted), I(set1)(0x4B400000)), I(set1)(127));                  \
    VEC e = P(mul)(p, CASTF(I(slli)(bits, 23)));

#define SILU_FORWARD(WIDTH)                                                                         \
    size_t i = 0;                                                                                   \
    for (; i + WIDTH <= n; i += WIDTH) {                                                            \
        VEC v = P(loadu)(x + i);                                                                    \
        EXP_BODY(NEG(v))                                                                            \
        VEC si = P(div)(P(set1)(1.0f), P(add)(P(set1)(1.0f), e));                                   \
        P(storeu)(s + i, si);                                                                       \
        P(storeu)(y + i, P(mul)(v, si));                                                            \
    }                                                                                               \
    if (i < n) { /* the tail through a zero-padded vector: same operations */                       \
        float tx[WIDTH] = {0}, ty[WIDTH], ts[WIDTH];                                                \
        memcpy(tx, x + i, (n - i) * sizeof(float));                                                 \
        VEC v = P(loadu)(tx);                                                                       \
        EXP_BODY(NEG(v))                                                                            \
        VEC si = P(div)(P(set1)(1.0f), P(add)(P(set1)(1.0f), e));                                   \
        P(storeu)(ts, si);                                                                          \
        P(storeu)(ty, P(mul)(v, si));                                                               \
        memcpy(s + i, ts, (n - i) * sizeof(float));                                                 \
        memcpy(y + i, ty, (n - i) * sizeof(float));                                                 \
    }

#define SILU_BACKWARD(WIDTH)                                                                        \
    size_t i = 0;                                                                                   \
    for (; i + WIDTH <= n; i += WIDTH) {                                                            \
        VEC si = P(loadu)(s + i);                                                                   \
        VEC d = P(mul)(P(mul)(P(loadu)(dy + i), si), P(add)(P(set1)(1.0f), P(mul)(P(loadu)(x + i), P(sub)(P(set1)(1.0f), si)))); \
        P(storeu)(dx + i, accumulate ? P(add)(P(loadu)(dx + i), d) : d);                            \
    }                                                                                               \
    for (; i < n; i++) {                                                                            \
        float d = dy[i] * s[i] * (1 + x[i] * (1 - s[i]));                                           \
        dx[i] = accumulate ? dx[i] + d : d;                                                         \
    }

// Per width: VEC/IVEC are the vector types, P(op) and I(op) name the float and int32 operations
// (_mm512_add_ps, _mm512_add_epi32, ...), CASTI/CASTF reinterpret, NEG flips sign bits (as Swift's
// unary minus does, NaN included; 0 - v would not).
// Both passes for one width (P, I, CASTI, CASTF and NEG, as defined where it is used, pick the
// intrinsics).
#define DEFINE_SILU(SUFFIX, ISA, VECTYPE, IVECTYPE, WIDTH)                                          \
    __attribute__((target(ISA))) static void forward##SUFFIX(const float *x, float *y, float *s,    \
                                                             size_t n) {                            \
        typedef VECTYPE VEC;                                                                        \
        typedef IVECTYPE IVEC;                                                                      \
        SILU_FORWARD(WIDTH)                                                                         \
    }                                                                                               \
    __attribute__((target(ISA))) static void backward##SUFFIX(const float *x, const float *s,      \
                                                              const float *dy, float *dx, size_t n, \
                                                              int accumulate) {                     \
        typedef VECTYPE VEC;                                                                        \
        SILU_BACKWARD(WIDTH)                                                                        \
    }

#define P(op) _mm512_##op##_ps
#define I(op) _mm512_##op##_epi32
#define CASTI _mm512_castps_si512
#define CASTF _mm512_castsi512_ps
#define NEG(v) CASTF(_mm512_xor_si512(CASTI(v), I(set1)((int)0x80000000)))
DEFINE_SILU(512, "avx512f", __m512, __m512i, 16)
#undef P
#undef I
#undef CASTI
#undef CASTF
#undef NEG

#define P(op) _mm256_##op##_ps
#define I(op) _mm256_##op##_epi32
#define CASTI _mm256_castps_si256
#define CASTF _mm256_castsi256_ps
#define NEG(v) _mm256_xor_ps(v, P(set1)(-0.0f))
DEFINE_SILU(256, "avx2", __m256, __m256i, 8)

void tv_silu_forward(const float *x, float *y, float *s, size_t n) {
    if (tv_use_avx512()) forward512(x, y, s, n); else forward256(x, y, s, n);
}

void tv_silu_backward(const float *x, const float *s, const float *dy, float *dx, size_t n, int accumulate) {
    if (tv_use_avx512()) backward512(x, s, dy, dx, n, accumulate); else backward256(x, s, dy, dx, n, accumulate);
}

#else
int tv_silu_available(void) { return 0; }
void tv_silu_forward(const float *x, float *y, float *s, size_t n) { (void)x; (void)y; (void)s; (void)n; }
void tv_silu_backward(const float *x, const float *s, const float *dy, float *dx, size_t n, int accumulate) {
    (void)x; (void)s; (void)dy; (void)dx; (void)n; (void)accumulate;
}
#endif
