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
#define EXP_BODY(x0)                                                                              \
    VEC x = MIN(SET1(88.0f), MAX(SET1(-87.0f), x0));                                              \
    VEC shifted = ADD(MUL(x, SET1(1.442695041f)), SET1(12582912.0f));                             \
    VEC nn = SUB(shifted, SET1(12582912.0f));                                                     \
    VEC r = ADD(SUB(x, MUL(nn, SET1(0.693359375f))), MUL(nn, SET1(2.12194440e-4f)));               \
    VEC p = SET1(1.9875691500e-4f);                                                               \
    p = ADD(MUL(p, r), SET1(1.3981999507e-3f));                                                   \
    p = ADD(MUL(p, r), SET1(8.3334519073e-3f));                                                   \
    p = ADD(MUL(p, r), SET1(4.1665795894e-2f));                                                   \
    p = ADD(MUL(p, r), SET1(1.6666665459e-1f));                                                   \
    p = ADD(MUL(p, r), SET1(5.0000001201e-1f));                                                   \
    p = ADD(ADD(MUL(MUL(p, r), r), r), SET1(1.0f));                                               \
    IVEC bits = IADD(ISUB(CASTI(shifted), ISET1(0x4B400000)), ISET1(127));                        \
    VEC e = MUL(p, CASTF(ISHL(bits, 23)));

#define SILU_FORWARD(WIDTH)                                                                       \
    size_t i = 0;                                                                                 \
    for (; i + WIDTH <= n; i += WIDTH) {                                                          \
        VEC v = LOAD(x + i);                                                                      \
        EXP_BODY(NEG(v))                                                              \
        VEC si = DIV(SET1(1.0f), ADD(SET1(1.0f), e));                                             \
        STORE(s + i, si);                                                                         \
        STORE(y + i, MUL(v, si));                                                                 \
    }                                                                                             \
    if (i < n) { /* the tail through a zero-padded vector: same operations */                     \
        float tx[WIDTH] = {0}, ty[WIDTH], ts[WIDTH];                                              \
        memcpy(tx, x + i, (n - i) * sizeof(float));                                              \
        VEC v = LOAD(tx);                                                                         \
        EXP_BODY(NEG(v))                                                              \
        VEC si = DIV(SET1(1.0f), ADD(SET1(1.0f), e));                                             \
        STORE(ts, si);                                                                            \
        STORE(ty, MUL(v, si));                                                                    \
        memcpy(s + i, ts, (n - i) * sizeof(float));                                               \
        memcpy(y + i, ty, (n - i) * sizeof(float));                                               \
    }

#define SILU_BACKWARD(WIDTH)                                                                      \
    size_t i = 0;                                                                                 \
    for (; i + WIDTH <= n; i += WIDTH) {                                                          \
        VEC si = LOAD(s + i);                                                                     \
        VEC d = MUL(MUL(LOAD(dy + i), si), ADD(SET1(1.0f), MUL(LOAD(x + i), SUB(SET1(1.0f), si)))); \
        STORE(dx + i, accumulate ? ADD(LOAD(dx + i), d) : d);                                     \
    }                                                                                             \
    for (; i < n; i++) {                                                                          \
        float d = dy[i] * s[i] * (1 + x[i] * (1 - s[i]));                                         \
        dx[i] = accumulate ? dx[i] + d : d;                                                       \
    }

#define SET1 _mm512_set1_ps
#define ISET1 _mm512_set1_epi32
#define LOAD _mm512_loadu_ps
#define STORE _mm512_storeu_ps
#define ADD _mm512_add_ps
#define SUB _mm512_sub_ps
#define MUL _mm512_mul_ps
#define DIV _mm512_div_ps
#define MIN _mm512_min_ps
#define MAX _mm512_max_ps
#define IADD _mm512_add_epi32
#define ISUB _mm512_sub_epi32
#define ISHL _mm512_slli_epi32
#define CASTI _mm512_castps_si512
#define CASTF _mm512_castsi512_ps
// -v flips the sign bit (as Swift's unary minus does, NaN included; 0 - v would not).
#define NEG(v) CASTF(_mm512_xor_si512(CASTI(v), ISET1((int)0x80000000)))
__attribute__((target("avx512f")))
static void forward512(const float *x, float *y, float *s, size_t n) { typedef __m512 VEC; typedef __m512i IVEC; SILU_FORWARD(16) }
__attribute__((target("avx512f")))
static void backward512(const float *x, const float *s, const float *dy, float *dx, size_t n, int accumulate) { typedef __m512 VEC; SILU_BACKWARD(16) }
#undef SET1
#undef ISET1
#undef LOAD
#undef STORE
#undef ADD
#undef SUB
#undef MUL
#undef DIV
#undef MIN
#undef MAX
#undef IADD
#undef ISUB
#undef ISHL
#undef CASTI
#undef CASTF
#undef NEG

#define SET1 _mm256_set1_ps
#define ISET1 _mm256_set1_epi32
#define LOAD _mm256_loadu_ps
#define STORE _mm256_storeu_ps
#define ADD _mm256_add_ps
#define SUB _mm256_sub_ps
#define MUL _mm256_mul_ps
#define DIV _mm256_div_ps
#define MIN _mm256_min_ps
#define MAX _mm256_max_ps
#define IADD _mm256_add_epi32
#define ISUB _mm256_sub_epi32
#define ISHL _mm256_slli_epi32
#define CASTI _mm256_castps_si256
#define CASTF _mm256_castsi256_ps
#define NEG(v) _mm256_xor_ps(v, SET1(-0.0f))
__attribute__((target("avx2")))
static void forward256(const float *x, float *y, float *s, size_t n) { typedef __m256 VEC; typedef __m256i IVEC; SILU_FORWARD(8) }
__attribute__((target("avx2")))
static void backward256(const float *x, const float *s, const float *dy, float *dx, size_t n, int accumulate) { typedef __m256 VEC; SILU_BACKWARD(8) }

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
