// The MLP trainer's matrix products (forward x W^T, backward dy^T x and dy W) as register-tiled
// FMA kernels, so their speed does not depend on which OpenBLAS kernel set a CPU gets (on an AVX2
// AMD EPYC, OpenBLAS 0.3.21's Zen sgemm ran the trainer below PyTorch's speed). BLIS's scheme:
// op(B) packed in k-major panels NR wide, op(A) in panels MR tall, and a tile of MR×NR
// accumulators in registers (6×16 with AVX2, 8×32 with AVX-512). Sizes here are small (M, N, K up
// to a few hundred), so one level of cache blocking (KC, MC, NC) is enough.
#include "mlp_gemm.h"
#include "lent_threads_internal.h"
#include "vector_width.h"

#pragma clang fp contract(off)

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { KC = TV_MLP_GEMM_KC, MC = 192, NC = 1024 };  // MC: a multiple of both MRs; NC: of both NRs

// The epilogue of one element: (C + bias) + acc, in that order (Linear.forward's order with
// OpenBLAS: C, plus bias, then beta 1 adds the product).
static inline float finish(float c, int add_c, const float *bias, size_t j, float acc) {
    float pre = add_c ? (bias ? c + bias[j] : c) : (bias ? bias[j] : 0.0f);
    return (add_c || bias) ? pre + acc : acc;
}

void tv_mlp_gemm_reference(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                           const float *A, size_t lda, const float *B, size_t ldb,
                           const float *bias, int accumulate, float *C, size_t ldc) {
    for (size_t i = 0; i < M; i++) {
        for (size_t j = 0; j < N; j++) {
            float *c = C + i * ldc + j;
            int add_c = accumulate, first = 1;
            for (size_t p0 = 0; p0 < K || first; p0 += KC) {
                float acc = 0;
                for (size_t k = p0; k < K && k < p0 + KC; k++) {
                    float a = trans_a ? A[k * lda + i] : A[i * lda + k];
                    float b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
                    acc = fmaf(a, b, acc);
                }
                *c = finish(*c, add_c, first ? bias : NULL, j, acc);
                add_c = 1;
                first = 0;
            }
        }
    }
}

// MARK: per-thread packing buffers (kept between calls: the trainer calls this thousands of
// times a second; freed when the thread exits)

typedef struct {
    float *a, *b;
    size_t a_cap, b_cap;
} scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p) {
    scratch *s = p;
    free(s->a);
    free(s->b);
    free(s);
}

static void scratch_init(void) { pthread_key_create(&scratch_key, scratch_free); }

static scratch *thread_scratch(void) {
    pthread_once(&scratch_once, scratch_init);
    scratch *s = pthread_getspecific(scratch_key);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) abort();
        pthread_setspecific(scratch_key, s);
    }
    return s;
}

static float *reserve(float **p, size_t *cap, size_t n) {
    if (n > *cap) {
        free(*p);
        size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
        *p = aligned_alloc(64, bytes);
        if (!*p) abort();
        *cap = n;
    }
    return *p;
}

// MARK: packing

// A partial tile (rows < MR or cols < NR) was computed into t[MR·NR]: finish its valid part.
static void finish_partial(const float *t, size_t nr, float *c, size_t ldc, int add_c, const float *bias,
                           size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < cols; j++) c[r * ldc + j] = finish(c[r * ldc + j], add_c, bias, j, t[r * nr + j]);
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

int tv_mlp_gemm_available(void) { return tv_cpu_has_avx2_fma(); }

// dst[k·ldd + r] = src[r·lds + k] for r < 8, k < kc: 8×8 blocks transposed in registers.
__attribute__((target("avx2"))) static void transpose8(const float *src, size_t lds, size_t kc, float *dst, size_t ldd) {
    size_t k = 0;
    for (; k + 8 <= kc; k += 8) {
        __m256 r0 = _mm256_loadu_ps(src + 0 * lds + k), r1 = _mm256_loadu_ps(src + 1 * lds + k);
        __m256 r2 = _mm256_loadu_ps(src + 2 * lds + k), r3 = _mm256_loadu_ps(src + 3 * lds + k);
        __m256 r4 = _mm256_loadu_ps(src + 4 * lds + k), r5 = _mm256_loadu_ps(src + 5 * lds + k);
        __m256 r6 = _mm256_loadu_ps(src + 6 * lds + k), r7 = _mm256_loadu_ps(src + 7 * lds + k);
        __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
        __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
        __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
        __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
        __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
        __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
        __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
        __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
        float *d = dst + k * ldd;
        _mm256_storeu_ps(d + 0 * ldd, _mm256_permute2f128_ps(u0, u4, 0x20));
        _mm256_storeu_ps(d + 1 * ldd, _mm256_permute2f128_ps(u1, u5, 0x20));
        _mm256_storeu_ps(d + 2 * ldd, _mm256_permute2f128_ps(u2, u6, 0x20));
        _mm256_storeu_ps(d + 3 * ldd, _mm256_permute2f128_ps(u3, u7, 0x20));
        _mm256_storeu_ps(d + 4 * ldd, _mm256_permute2f128_ps(u0, u4, 0x31));
        _mm256_storeu_ps(d + 5 * ldd, _mm256_permute2f128_ps(u1, u5, 0x31));
        _mm256_storeu_ps(d + 6 * ldd, _mm256_permute2f128_ps(u2, u6, 0x31));
        _mm256_storeu_ps(d + 7 * ldd, _mm256_permute2f128_ps(u3, u7, 0x31));
    }
    for (; k < kc; k++)
        for (size_t r = 0; r < 8; r++) dst[k * ldd + r] = src[r * lds + k];
}

// dst[k·mr + r] = op(A)[i0 + r, p0 + k] for r < rows, 0 for rows ≤ r < mr.
static void pack_a(int trans, const float *A, size_t lda, size_t i0, size_t rows, size_t p0, size_t kc,
                   size_t mr, float *dst) {
    if (trans) {
        for (size_t k = 0; k < kc; k++) {
            const float *src = A + (p0 + k) * lda + i0;
            float *d = dst + k * mr;
            for (size_t r = 0; r < rows; r++) d[r] = src[r];
            for (size_t r = rows; r < mr; r++) d[r] = 0;
        }
    } else if (rows == 8 && mr == 8) {
        transpose8(A + i0 * lda + p0, lda, kc, dst, 8);
    } else {
        for (size_t r = 0; r < rows; r++) {
            const float *src = A + (i0 + r) * lda + p0;
            for (size_t k = 0; k < kc; k++) dst[k * mr + r] = src[k];
        }
        for (size_t r = rows; r < mr; r++)
            for (size_t k = 0; k < kc; k++) dst[k * mr + r] = 0;
    }
}

// dst[k·nr + j] = op(B)[p0 + k, j0 + j] for j < cols, 0 for cols ≤ j < nr.
static void pack_b(int trans, const float *B, size_t ldb, size_t j0, size_t cols, size_t p0, size_t kc,
                   size_t nr, float *dst) {
    if (trans) {
        size_t j = 0;
        for (; j + 8 <= cols; j += 8) transpose8(B + (j0 + j) * ldb + p0, ldb, kc, dst + j, nr);
        for (; j < cols; j++) {
            const float *src = B + (j0 + j) * ldb + p0;
            for (size_t k = 0; k < kc; k++) dst[k * nr + j] = src[k];
        }
        for (; j < nr; j++)
            for (size_t k = 0; k < kc; k++) dst[k * nr + j] = 0;
    } else if (cols == nr && nr == 16) {
        for (size_t k = 0; k < kc; k++) memcpy(dst + k * 16, B + (p0 + k) * ldb + j0, 16 * sizeof(float));
    } else if (cols == nr && nr == 32) {
        for (size_t k = 0; k < kc; k++) memcpy(dst + k * 32, B + (p0 + k) * ldb + j0, 32 * sizeof(float));
    } else {
        for (size_t k = 0; k < kc; k++) {
            float *d = dst + k * nr;
            const float *src = B + (p0 + k) * ldb + j0;
            for (size_t j = 0; j < cols; j++) d[j] = src[j];
            for (size_t j = cols; j < nr; j++) d[j] = 0;
        }
    }
}

// The vector epilogue of one row segment: the same operations as `finish`, lane by lane.
#define FINISH_VEC(P, ptr, bptr, acc)                                                              \
    do {                                                                                           \
        if (add_c && bias) P(storeu)(ptr, P(add)(P(add)(P(loadu)(ptr), P(loadu)(bptr)), acc));     \
        else if (add_c) P(storeu)(ptr, P(add)(P(loadu)(ptr), acc));                                \
        else if (bias) P(storeu)(ptr, P(add)(P(loadu)(bptr), acc));                                \
        else P(storeu)(ptr, acc);                                                                  \
    } while (0)

// One tile: A's MR values of step k come from A_AT(r, k) (packed: a[k·MR + r]; rows read in
// place: a[r·lda + k]), B's from the packed panel b[k·NR ...].
#define P256(op) _mm256_##op##_ps
#define TILE_AVX2(A_AT)                                                                            \
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;       \
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;                       \
    for (size_t k = 0; k < kc; k++) {                                                              \
        __m256 b0 = _mm256_loadu_ps(b + k * 16), b1 = _mm256_loadu_ps(b + k * 16 + 8);             \
        __m256 x;                                                                                  \
        x = _mm256_broadcast_ss(A_AT(0, k)); c00 = _mm256_fmadd_ps(x, b0, c00); c01 = _mm256_fmadd_ps(x, b1, c01); \
        x = _mm256_broadcast_ss(A_AT(1, k)); c10 = _mm256_fmadd_ps(x, b0, c10); c11 = _mm256_fmadd_ps(x, b1, c11); \
        x = _mm256_broadcast_ss(A_AT(2, k)); c20 = _mm256_fmadd_ps(x, b0, c20); c21 = _mm256_fmadd_ps(x, b1, c21); \
        x = _mm256_broadcast_ss(A_AT(3, k)); c30 = _mm256_fmadd_ps(x, b0, c30); c31 = _mm256_fmadd_ps(x, b1, c31); \
        x = _mm256_broadcast_ss(A_AT(4, k)); c40 = _mm256_fmadd_ps(x, b0, c40); c41 = _mm256_fmadd_ps(x, b1, c41); \
        x = _mm256_broadcast_ss(A_AT(5, k)); c50 = _mm256_fmadd_ps(x, b0, c50); c51 = _mm256_fmadd_ps(x, b1, c51); \
    }                                                                                              \
    __m256 acc[6][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};   \
    if (rows == 6 && cols == 16) {                                                                 \
        for (int r = 0; r < 6; r++) {                                                              \
            FINISH_VEC(P256, c + r * ldc, bias, acc[r][0]);                                        \
            FINISH_VEC(P256, c + r * ldc + 8, bias + 8, acc[r][1]);                                \
        }                                                                                          \
    } else {                                                                                       \
        float t[6 * 16];                                                                           \
        for (int r = 0; r < 6; r++) {                                                              \
            _mm256_storeu_ps(t + r * 16, acc[r][0]);                                               \
            _mm256_storeu_ps(t + r * 16 + 8, acc[r][1]);                                           \
        }                                                                                          \
        finish_partial(t, 16, c, ldc, add_c, bias, rows, cols);                                    \
    }

#define P512(op) _mm512_##op##_ps
#define FMA2(A_AT, r)                                                                                  \
    x = _mm512_set1_ps(*A_AT(r, k)); c##r##0 = _mm512_fmadd_ps(x, b0, c##r##0); c##r##1 = _mm512_fmadd_ps(x, b1, c##r##1);
#define TILE_AVX512(A_AT)                                                                          \
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00; \
    __m512 c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00; \
    for (size_t k = 0; k < kc; k++) {                                                              \
        __m512 b0 = _mm512_loadu_ps(b + k * 32), b1 = _mm512_loadu_ps(b + k * 32 + 16);            \
        __m512 x;                                                                                  \
        FMA2(A_AT, 0) FMA2(A_AT, 1) FMA2(A_AT, 2) FMA2(A_AT, 3) FMA2(A_AT, 4) FMA2(A_AT, 5) FMA2(A_AT, 6) FMA2(A_AT, 7)\
    }                                                                                              \
    __m512 acc[8][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31},                            \
                        {c40, c41}, {c50, c51}, {c60, c61}, {c70, c71}};                           \
    if (rows == 8 && cols == 32) {                                                                 \
        for (int r = 0; r < 8; r++) {                                                              \
            FINISH_VEC(P512, c + r * ldc, bias, acc[r][0]);                                        \
            FINISH_VEC(P512, c + r * ldc + 16, bias + 16, acc[r][1]);                              \
        }                                                                                          \
    } else {                                                                                       \
        float t[8 * 32];                                                                           \
        for (int r = 0; r < 8; r++) {                                                              \
            _mm512_storeu_ps(t + r * 32, acc[r][0]);                                               \
            _mm512_storeu_ps(t + r * 32 + 16, acc[r][1]);                                          \
        }                                                                                          \
        finish_partial(t, 32, c, ldc, add_c, bias, rows, cols);                                    \
    }

#define PACKED6(r, k) (a + (k) * 6 + (r))
#define PACKED8(r, k) (a + (k) * 8 + (r))
#define IN_PLACE(r, k) (a + (r) * lda + (k))
#define IN_PLACE_T(r, k) (a + (k) * lda + (r))

typedef void (*tile_fn)(size_t kc, const float *a, size_t lda, const float *b, float *c, size_t ldc, int add_c,
                        const float *bias, size_t rows, size_t cols);

#define DEFINE_TILE(NAME, ISA, BODY, A_AT)                                                         \
    __attribute__((target(ISA))) static void NAME(size_t kc, const float *a, size_t lda, const float *b, \
                                                  float *c, size_t ldc, int add_c, const float *bias, \
                                                  size_t rows, size_t cols) {                      \
        (void)lda;                                                                                 \
        BODY(A_AT)                                                                                 \
    }
DEFINE_TILE(tile_avx2_packed, "avx2,fma", TILE_AVX2, PACKED6)
DEFINE_TILE(tile_avx2_rows, "avx2,fma", TILE_AVX2, IN_PLACE)
DEFINE_TILE(tile_avx2_columns, "avx2,fma", TILE_AVX2, IN_PLACE_T)
DEFINE_TILE(tile_avx512_packed, "avx512f", TILE_AVX512, PACKED8)
DEFINE_TILE(tile_avx512_rows, "avx512f", TILE_AVX512, IN_PLACE)
DEFINE_TILE(tile_avx512_columns, "avx512f", TILE_AVX512, IN_PLACE_T)

// The product on the calling thread (tv_mlp_gemm's body).
static void gemm_here(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                      const float *A, size_t lda, const float *B, size_t ldb,
                      const float *bias, int accumulate, float *C, size_t ldc) {
    int wide = tv_use_avx512();
    size_t mr = wide ? 8 : 6, nr = wide ? 32 : 16;
    tile_fn packed = wide ? tile_avx512_packed : tile_avx2_packed;
    // Full panels read A in place (row i of op(A) is a row of A, or a column with trans_a);
    // only a last, partial panel is packed (zero rows instead of reads past the end).
    tile_fn in_place = trans_a ? (wide ? tile_avx512_columns : tile_avx2_columns) : (wide ? tile_avx512_rows : tile_avx2_rows);
    scratch *s = thread_scratch();
    for (size_t pc = 0; pc < K; pc += KC) {
        size_t kc = K - pc < KC ? K - pc : KC;
        int first = pc == 0;
        for (size_t jc = 0; jc < N; jc += NC) {
            size_t nc = N - jc < NC ? N - jc : NC, npanels = (nc + nr - 1) / nr;
            float *bp = reserve(&s->b, &s->b_cap, npanels * nr * kc);
            size_t q0 = 0;
            if (!trans_b) {
                // Full panels row by row: B is read in its memory order (the prefetcher follows
                // one stream; panel by panel it was kc short strided runs, mostly cache misses).
                size_t full = nc / nr;
                for (size_t k = 0; k < kc; k++) {
                    const float *src = B + (pc + k) * ldb + jc;
                    for (size_t q = 0; q < full; q++) memcpy(bp + q * nr * kc + k * nr, src + q * nr, nr * sizeof(float));
                }
                q0 = full;
            }
            for (size_t q = q0; q < npanels; q++) {
                size_t cols = nc - q * nr < nr ? nc - q * nr : nr;
                pack_b(trans_b, B, ldb, jc + q * nr, cols, pc, kc, nr, bp + q * nr * kc);
            }
            for (size_t ic = 0; ic < M; ic += MC) {
                size_t mc = M - ic < MC ? M - ic : MC, mpanels = (mc + mr - 1) / mr;
                float *ap = reserve(&s->a, &s->a_cap, mr * kc);
                size_t partial = mc % mr;
                if (partial) pack_a(trans_a, A, lda, ic + mc - partial, partial, pc, kc, mr, ap);
                // B's panel stays in L1 while A's panels stream past it.
                for (size_t q = 0; q < npanels; q++) {
                    size_t j = jc + q * nr, cols = nc - q * nr < nr ? nc - q * nr : nr;
                    const float *tile_bias = first && bias ? bias + j : NULL;
                    for (size_t u = 0; u < mpanels; u++) {
                        size_t i = ic + u * mr, rows = mc - u * mr < mr ? mc - u * mr : mr;
                        if (rows < mr)
                            packed(kc, ap, 0, bp + q * nr * kc, C + i * ldc + j, ldc, first ? accumulate : 1,
                                   tile_bias, rows, cols);
                        else
                            in_place(kc, trans_a ? A + pc * lda + i : A + i * lda + pc, lda, bp + q * nr * kc,
                                     C + i * ldc + j, ldc, first ? accumulate : 1, tile_bias, rows, cols);
                    }
                }
            }
        }
    }
}

// Columns [j0, N) of a product, run by a lent thread.
typedef struct {
    int trans_a, trans_b;
    size_t M, N, K, lda, ldb, ldc, j0;
    const float *A, *B, *bias;
    int accumulate;
    float *C;
} gemm_part;

static void gemm_part_run(void *ctx) {
    gemm_part *g = ctx;
    size_t j0 = g->j0;
    gemm_here(g->trans_a, g->trans_b, g->M, g->N - j0, g->K, g->A, g->lda, g->trans_b ? g->B + j0 * g->ldb : g->B + j0,
              g->ldb, g->bias ? g->bias + j0 : NULL, g->accumulate, g->C + j0, g->ldc);
}

void tv_mlp_gemm(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                 const float *A, size_t lda, const float *B, size_t ldb,
                 const float *bias, int accumulate, float *C, size_t ldc) {
    if (M == 0 || N == 0) return;
    if (K == 0) {  // no product: only the epilogue
        tv_mlp_gemm_reference(trans_a, trans_b, M, N, 0, A, lda, B, ldb, bias, accumulate, C, ldc);
        return;
    }
    // With a lent thread waiting, it computes the right half of the columns (split on a panel
    // boundary of both tile widths): every element is still the same chain, so the same bits.
    size_t j0 = (N / 2 + 31) / 32 * 32;
    if (j0 < N && M * N * K >= (1u << 18)) {
        gemm_part part = {trans_a, trans_b, M, N, K, lda, ldb, ldc, j0, A, B, bias, accumulate, C};
        tv_lent_slot *slot = tv_lent_post(gemm_part_run, &part);
        if (slot) {
            gemm_here(trans_a, trans_b, M, j0, K, A, lda, B, ldb, bias, accumulate, C, ldc);
            tv_lent_join(slot);
            return;
        }
    }
    gemm_here(trans_a, trans_b, M, N, K, A, lda, B, ldb, bias, accumulate, C, ldc);
}

#else
int tv_mlp_gemm_available(void) { return 0; }
void tv_mlp_gemm(int trans_a, int trans_b, size_t M, size_t N, size_t K, const float *A, size_t lda,
                 const float *B, size_t ldb, const float *bias, int accumulate, float *C, size_t ldc) {
    tv_mlp_gemm_reference(trans_a, trans_b, M, N, K, A, lda, B, ldb, bias, accumulate, C, ldc);
}
#endif
