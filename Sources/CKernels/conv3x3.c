// Direct 3×3 convolutions (see conv3x3.h). Output pixels are walked as vectors of VL consecutive
// columns of one output row ("row vectors", the last of a row masked when W is not a multiple of
// VL). In the padded input, output (b, oy, ox) reads tap (ky, kx) at
//     b·(H+2)(W+2) + oy·(W+2) + ox + ky·(W+2) + kx,
// so every tap of a row vector is one contiguous (masked) load.
//   forward:     a tile of MR output channels × NV row vectors kept in registers over all
//                cin·9 taps; weights pre-packed as [channel block][cin·9][MR] (broadcasts).
//   weight grad: per chunk of whole images, x is transposed to pixel-major [pixel, cin] with a
//                zero border; then for each tap a tile of MR output channels × NV vectors of input
//                channels accumulates dy[co, pixel] (broadcast) × xt[pixel + tap offset, ci..]
//                over the chunk's pixels, added into a [cout, 9, cin] sum, reordered at the end.
// Blocks of ~CHUNK pixels keep what a tile reads in L2 while every channel block runs.
#include "conv3x3.h"
#include "vector_width.h"

#include <string.h>

#ifndef AVX2_MR
#define AVX2_MR 6
#endif
#ifndef AVX2_WMR
#define AVX2_WMR 6
#endif
#ifndef AVX2_WNV
#define AVX2_WNV 2
#endif
#ifndef AVX2_NV
#define AVX2_NV 2
#endif

#ifndef AVX512_MR
#define AVX512_MR 8
#endif
#ifndef AVX512_NV
#define AVX512_NV 3
#endif
#ifndef AVX512_WMR
#define AVX512_WMR 8
#endif
#ifndef AVX512_WNV
#define AVX512_WNV 3
#endif

int tv_conv3x3_block_rows(void) { return tv_use_avx512() ? AVX512_MR : AVX2_MR; }

static inline int min_i(int a, int b) { return a < b ? a : b; }

void tv_conv3x3_pad(const float *x, float *xp, int channels, int batch, int h, int w) {
    const int wp = w + 2, hp = h + 2;
    for (int p = 0; p < channels * batch; p++) {
        const float *src = x + (size_t)p * h * w;
        float *dst = xp + (size_t)p * hp * wp;
        memset(dst, 0, sizeof(float) * wp);
        for (int y = 0; y < h; y++) {
            float *row = dst + (size_t)(y + 1) * wp;
            row[0] = 0;
            memcpy(row + 1, src + (size_t)y * w, sizeof(float) * w);
            row[w + 1] = 0;
        }
        memset(dst + (size_t)(h + 1) * wp, 0, sizeof(float) * wp);
    }
}

void tv_conv3x3_pack(const float *weight, float *packed, int cin, int cout, int transposed) {
    const int mr = tv_conv3x3_block_rows();
    // The packed conv's geometry: in -> out.
    const int in = transposed ? cout : cin, out = transposed ? cin : cout, k = in * 9;
    const int blocks = (out + mr - 1) / mr;
    for (int cb = 0; cb < blocks; cb++) {
        for (int kk = 0; kk < k; kk++) {
            const int i = kk / 9, t = kk % 9;
            for (int r = 0; r < mr; r++) {
                const int o = cb * mr + r;
                float v = 0;
                if (o < out) {
                    // transposed: W'[o=ci][i=co][t] = W[co][ci][8 - t]
                    v = transposed ? weight[((size_t)i * cin + o) * 9 + (8 - t)] : weight[((size_t)o * cin + i) * 9 + t];
                }
                packed[((size_t)cb * k + kk) * mr + r] = v;
            }
        }
    }
}

/// Pixels per cache block.
#ifndef CHUNK
#define CHUNK 2048
#endif

/// Pixels per weight-gradient block (whole rows): what one tile pass reads stays in L1.
#ifndef WGRAD_PIXELS_PER_BLOCK
#define WGRAD_PIXELS_PER_BLOCK 256
#endif

/// Whole images per weight-gradient chunk: about CHUNK pixels, at least one image.
static int images_per_chunk(int h, int w, int batch) {
    const int per = CHUNK / (h * w);
    return per < 1 ? 1 : (per > batch ? batch : per);
}

size_t tv_conv3x3_weight_grad_scratch(int cin, int cout, int batch, int h, int w) {
    return (size_t)images_per_chunk(h, w, batch) * (h + 2) * (w + 2) * cin + (size_t)cout * 9 * cin;
}

/// xt [nb, H+2, W+2, cin] (pixel-major, zero border) = images b0 ..< b0+nb of x [cin, B, H, W].
static void transpose_padded(const float *x, float *xt, int cin, int batch, int h, int w, int b0, int nb) {
    const int wp = w + 2, plane = (h + 2) * wp;
    memset(xt, 0, sizeof(float) * (size_t)nb * plane * cin);
    for (int bi = 0; bi < nb; bi++) {
        for (int y = 0; y < h; y++) {
            float *dst = xt + ((size_t)bi * plane + (size_t)(y + 1) * wp + 1) * cin;
            for (int ci = 0; ci < cin; ci++) {
                const float *src = x + (((size_t)ci * batch + b0 + bi) * h + y) * w;
                for (int xx = 0; xx < w; xx++) dst[(size_t)xx * cin + ci] = src[xx];
            }
        }
    }
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

int tv_conv3x3_available(void) { return tv_cpu_has_avx2_fma(); }

/// The position of one row vector: padded-input offset, output offset, valid lanes.
typedef struct { int in, out, count; } rowvec;

/// Walks the row vectors of a [B, H, W] output in order.
typedef struct { int b, oy, j, h, w, vl, vpr, plane; } rowwalk;

static inline rowvec walk_get(const rowwalk *it) {
    rowvec v;
    const int ox = it->j * it->vl;
    v.in = it->b * it->plane + it->oy * (it->w + 2) + ox;
    v.out = (it->b * it->h + it->oy) * it->w + ox;
    v.count = min_i(it->vl, it->w - ox);
    return v;
}

static inline void walk_next(rowwalk *it) {
    if (++it->j == it->vpr) {
        it->j = 0;
        if (++it->oy == it->h) { it->oy = 0; it->b++; }
    }
}

static inline rowwalk walk_at(int v, int h, int w, int vl, int plane) {
    rowwalk it;
    it.h = h; it.w = w; it.vl = vl; it.vpr = (w + vl - 1) / vl; it.plane = plane;
    const int row = v / it.vpr;
    it.j = v % it.vpr; it.b = row / h; it.oy = row % h;
    return it;
}

// The forward tile's accumulation over all input channels and taps; LOADX loads row vector j of
// tap t from channel plane xc (masked loads for tiles with row ends; full tiles run FULL_TILE).
#define FORWARD_TAPS(LOADX)                                                                         \
    for (int ci = 0; ci < cin; ci++) {                                                              \
        const float *xc = xp + ci * cplane;                                                         \
        const float *wk = wb + (size_t)ci * 9 * MR;                                                 \
        for (int t = 0; t < 9; t++) {                                                               \
            VEC xv[NV];                                                                             \
            for (int j = 0; j < NV; j++) xv[j] = LOADX;                                             \
            for (int r = 0; r < MR; r++) {                                                          \
                const VEC wv = BCAST(wk + t * MR + r);                                              \
                for (int j = 0; j < NV; j++) acc[r][j] = FMA(wv, xv[j], acc[r][j]);                 \
            }                                                                                       \
        }                                                                                           \
    }

// The weight-gradient tile's accumulation over image rows g0 ..< g1 of the chunk (LOADX: vector
// j of pixel ox).
#define WGRAD_PIXELS(LOADX)                                                                         \
    for (int gr = g0; gr < g1; gr++) {                                                              \
        const int bi = gr / h, oy = gr % h;                                                         \
        const float *xr = xb + ((size_t)bi * plane + oy * wp) * cin;                                \
        int q = gr * w;                                                                             \
        for (int ox = 0; ox < w; ox++, q++) {                                                       \
            VEC xv[NV];                                                                             \
            for (int j = 0; j < NV; j++) xv[j] = LOADX;                                             \
            for (int r = 0; r < MR; r++) {                                                          \
                const VEC d = BCAST(dyr[r] + q);                                                    \
                for (int j = 0; j < NV; j++) acc[r][j] = FMA(d, xv[j], acc[r][j]);                  \
            }                                                                                       \
        }                                                                                           \
    }

// Adds the weight-gradient tile into dwt (vl: lanes; STORED: vector j at dr + j·vl).
#define WGRAD_STORE(STORED)                                                                  \
    for (int r = 0; r < MR; r++) {                                                                  \
        float *dr = dwt + ((size_t)(cb * MR + r) * 9 + t) * cin + c0 * vl;                          \
        if (cb * MR + r >= cout) break;                                                             \
        for (int j = 0; j < NV; j++) STORED;                                                        \
    }

// The forward tile's epilogue: y = acc (+ bias), or y += acc; LOADY / STOREY read and write
// row vector j of output channel co (val: the value to store).
#define FORWARD_STORE(LOADY, STOREY)                                                                \
    for (int r = 0; r < MR; r++) {                                                                  \
        const int co = cb * MR + r;                                                                 \
        if (co >= cout) break;                                                                      \
        float *yr = y + (size_t)co * n;                                                             \
        for (int j = 0; j < NV; j++) {                                                              \
            if (rv[j].count == 0) continue;                                                         \
            VEC val = acc[r][j];                                                                    \
            if (accumulate) val = ADD(LOADY, val);                                                  \
            else if (bias) val = ADD(BCAST(bias + co), val);                                        \
            STOREY;                                                                                 \
        }                                                                                           \
    }

// Per ISA: VEC, MASK, ZERO(), BCAST(p), FMA(a, b, c) = a·b + c, ADD, MASKOF(count),
// LOADM(p, m), STOREM(p, m, v), LOADU(p), STOREU(p, v), and FULL_TILE: acc of a tile whose row
// vectors are all full (no masks).
#define DEFINE_CONV(SUFFIX, ISA, VL, MR_, NV_, WMR_, WNV_)                                         \
    __attribute__((target(ISA))) static void forward##SUFFIX(                                       \
        const float *xp, const float *packed, const float *bias, float *y, int cin, int cout,       \
        int batch, int h, int w, int accumulate) {                                                  \
        enum { MR = MR_, NV = NV_ };                                                                \
        const int wp = w + 2, plane = (h + 2) * wp, k = cin * 9, n = batch * h * w;                 \
        const int vpr = (w + VL - 1) / VL, nvec = batch * h * vpr;                                  \
        const int blocks = (cout + MR - 1) / MR;                                                    \
        const int vblock = (CHUNK + VL - 1) / VL / NV * NV > 0 ? (CHUNK + VL - 1) / VL / NV * NV : NV; \
        const size_t cplane = (size_t)batch * plane;                                                \
        int offs[9];                                                                                \
        for (int t = 0; t < 9; t++) offs[t] = (t / 3) * wp + t % 3;                                 \
        for (int vb = 0; vb < nvec; vb += vblock) {                                                 \
            const int ve = min_i(nvec, vb + vblock);                                                \
            for (int cb = 0; cb < blocks; cb++) {                                                   \
                const float *wb = packed + (size_t)cb * k * MR;                                     \
                rowwalk it = walk_at(vb, h, w, VL, plane);                                          \
                for (int v = vb; v < ve; v += NV) {                                                 \
                    rowvec rv[NV];                                                                  \
                    int full = 1;                                                                   \
                    for (int j = 0; j < NV; j++) {                                                  \
                        if (v + j < ve) { rv[j] = walk_get(&it); walk_next(&it); }                  \
                        else { rv[j] = rv[0]; rv[j].count = 0; }                                    \
                        full &= rv[j].count == VL;                                                  \
                    }                                                                               \
                    VEC acc[MR][NV];                                                                \
                    if (full) {                                                                     \
                        FULL_TILE                                                                   \
                        FORWARD_STORE(LOADU(yr + rv[j].out), STOREU(yr + rv[j].out, val))           \
                    } else {                                                                        \
                        /* Masks only here: live across the full tile they would take registers. */ \
                        MASK m[NV];                                                                 \
                        for (int j = 0; j < NV; j++) m[j] = MASKOF(rv[j].count);                    \
                        for (int r = 0; r < MR; r++)                                                \
                            for (int j = 0; j < NV; j++) acc[r][j] = ZERO();                        \
                        FORWARD_TAPS(LOADM(xc + rv[j].in + offs[t], m[j]))                          \
                        FORWARD_STORE(LOADM(yr + rv[j].out, m[j]), STOREM(yr + rv[j].out, m[j], val)) \
                    }                                                                               \
                }                                                                                   \
            }                                                                                       \
        }                                                                                           \
    }                                                                                               \
    __attribute__((target(ISA))) static void weight_grad##SUFFIX(                                   \
        const float *dy, const float *x, float *dw, int cin, int cout, int batch, int h, int w,     \
        float *scratch) {                                                                           \
        enum { MR = WMR_, NV = WNV_, vl = VL };                                                     \
        const int wp = w + 2, plane = (h + 2) * wp, n = batch * h * w, hw = h * w;                  \
        const int per = images_per_chunk(h, w, batch);                                              \
        const int blocks = (cout + MR - 1) / MR, cvecs = (cin + VL - 1) / VL;                       \
        float *xt = scratch, *dwt = scratch + (size_t)per * plane * cin;                            \
        int offs[9];                                                                                \
        for (int t = 0; t < 9; t++) offs[t] = ((t / 3) * wp + t % 3) * cin;                         \
        memset(dwt, 0, sizeof(float) * (size_t)cout * 9 * cin);                                     \
        for (int b0 = 0; b0 < batch; b0 += per) {                                                   \
            const int nb = min_i(per, batch - b0);                                                  \
            transpose_padded(x, xt, cin, batch, h, w, b0, nb);                                      \
            /* A slice of input channels and a block of ~WGRAD_PIXELS_PER_BLOCK pixels at a time:  \
               their xt lines (one per pixel, rows above and below included) and dy stay in L1   \
               while every channel block and tap reads them. */                                    \
            const int rows = nb * h, rb = WGRAD_PIXELS_PER_BLOCK / w > 0 ? WGRAD_PIXELS_PER_BLOCK / w : 1; \
            for (int c0 = 0; c0 < cvecs; c0 += NV) {                                                \
                for (int g0 = 0; g0 < rows; g0 += rb) {                                             \
                    const int g1 = min_i(rows, g0 + rb);                                            \
                    for (int cb = 0; cb < blocks; cb++) {                                           \
                        const float *dyr[MR];                                                       \
                        for (int r = 0; r < MR; r++)                                                \
                            dyr[r] = dy + (size_t)min_i(cb * MR + r, cout - 1) * n + (size_t)b0 * hw; \
                        for (int t = 0; t < 9; t++) {                                               \
                            VEC acc[MR][NV];                                                        \
                            for (int r = 0; r < MR; r++)                                            \
                                for (int j = 0; j < NV; j++) acc[r][j] = ZERO();                    \
                            const float *xb = xt + offs[t] + c0 * VL;                               \
                            if (cin % VL == 0 && c0 + NV <= cvecs) {                                \
                                WGRAD_PIXELS(LOADU(xr + ox * cin + j * VL))                         \
                                WGRAD_STORE(STOREU(dr + j * VL, ADD(LOADU(dr + j * VL), acc[r][j])))   \
                            } else {                                                                \
                                MASK m[NV];                                                         \
                                for (int j = 0; j < NV; j++)                                        \
                                    m[j] = MASKOF(c0 + j < cvecs ? min_i(VL, cin - (c0 + j) * VL) : 0); \
                                WGRAD_PIXELS(LOADM(xr + ox * cin + j * VL, m[j]))                   \
                                WGRAD_STORE(STOREM(dr + j * VL, m[j], ADD(LOADM(dr + j * VL, m[j]), acc[r][j]))) \
                            }                                                                       \
                        }                                                                           \
                    }                                                                               \
                }                                                                               \
            }                                                                                       \
        }                                                                                           \
        for (int co = 0; co < cout; co++)                                                           \
            for (int ci = 0; ci < cin; ci++)                                                        \
                for (int t = 0; t < 9; t++)                                                         \
                    dw[((size_t)co * cin + ci) * 9 + t] = dwt[((size_t)co * 9 + t) * cin + ci];     \
    }

#define VEC __m512
#define MASK __mmask16
#define ZERO() _mm512_setzero_ps()
#define BCAST(p) _mm512_set1_ps(*(p))
#define FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define ADD(a, b) _mm512_add_ps(a, b)
#define MASKOF(c) ((__mmask16)((c) >= 16 ? 0xFFFF : ((1u << (c)) - 1)))
#define LOADM(p, m) _mm512_maskz_loadu_ps(m, p)
#define LOADU(p) _mm512_loadu_ps(p)
#define STOREM(p, m, v) _mm512_mask_storeu_ps(p, m, v)
#define STOREU(p, v) _mm512_storeu_ps(p, v)
#define FULL_TILE                                                                                   \
    for (int r = 0; r < MR; r++)                                                                    \
        for (int j = 0; j < NV; j++) acc[r][j] = ZERO();                                            \
    FORWARD_TAPS(LOADU(xc + rv[j].in + offs[t]))
DEFINE_CONV(512, "avx512f", 16, AVX512_MR, AVX512_NV, AVX512_WMR, AVX512_WNV)
#undef VEC
#undef MASK
#undef ZERO
#undef BCAST
#undef FMA
#undef ADD
#undef MASKOF
#undef LOADM
#undef LOADU
#undef STOREM
#undef STOREU
#undef FULL_TILE

// The AVX2 forward tile written out: 6 output channels × 2 full row vectors (a, b: their
// padded-input positions in channel 0), the 9 taps unrolled over three row pointers each. As the
// generic loop it sums over channels, then taps in order (same results), but keeps all 12
// accumulators, both input vectors and the broadcast in the 16 ymm registers: the compiler's
// version of the generic loop spilled and ran at about half the rate.
#define TAP_FMA(r)                                                                                  \
    { const __m256 w_ = _mm256_broadcast_ss(wk + tap * 6 + r);                                      \
      c##r##0 = _mm256_fmadd_ps(w_, va, c##r##0); c##r##1 = _mm256_fmadd_ps(w_, vb, c##r##1); }
#define TAP(ROW, KX, T)                                                                             \
    { const int tap = T;                                                                            \
      const __m256 va = _mm256_loadu_ps(a##ROW + KX), vb = _mm256_loadu_ps(b##ROW + KX);            \
      TAP_FMA(0) TAP_FMA(1) TAP_FMA(2) TAP_FMA(3) TAP_FMA(4) TAP_FMA(5) }
_Static_assert(AVX2_MR == 6 && AVX2_NV == 2, "tile256 is written for 6 × 2 tiles");
__attribute__((target("avx2,fma"))) static inline void tile256(const float *xa, const float *xb, size_t cplane, int wp,
                                                               const float *wk, int cin, __m256 acc[6][2]) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int ci = 0; ci < cin; ci++, wk += 9 * 6) {
        const float *a0 = xa + ci * cplane, *a1 = a0 + wp, *a2 = a1 + wp;
        const float *b0 = xb + ci * cplane, *b1 = b0 + wp, *b2 = b1 + wp;
        TAP(0, 0, 0) TAP(0, 1, 1) TAP(0, 2, 2) TAP(1, 0, 3) TAP(1, 1, 4) TAP(1, 2, 5) TAP(2, 0, 6) TAP(2, 1, 7) TAP(2, 2, 8)
    }
    acc[0][0] = c00; acc[0][1] = c01; acc[1][0] = c10; acc[1][1] = c11; acc[2][0] = c20; acc[2][1] = c21;
    acc[3][0] = c30; acc[3][1] = c31; acc[4][0] = c40; acc[4][1] = c41; acc[5][0] = c50; acc[5][1] = c51;
}
#undef TAP
#undef TAP_FMA

__attribute__((target("avx2,fma"))) static inline __m256i mask256(int c) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(c), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

#define VEC __m256
#define MASK __m256i
#define ZERO() _mm256_setzero_ps()
#define BCAST(p) _mm256_broadcast_ss(p)
#define FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define ADD(a, b) _mm256_add_ps(a, b)
#define MASKOF(c) mask256(c)
#define LOADM(p, m) _mm256_maskload_ps(p, m)
#define LOADU(p) _mm256_loadu_ps(p)
#define STOREM(p, m, v) _mm256_maskstore_ps(p, m, v)
#define STOREU(p, v) _mm256_storeu_ps(p, v)
#define FULL_TILE tile256(xp + rv[0].in, xp + rv[1].in, cplane, wp, wb, cin, acc);
DEFINE_CONV(256, "avx2,fma", 8, AVX2_MR, AVX2_NV, AVX2_WMR, AVX2_WNV)

void tv_conv3x3_forward(const float *xp, const float *packed, const float *bias, float *y,
                        int cin, int cout, int batch, int h, int w, int accumulate) {
    if (tv_use_avx512()) forward512(xp, packed, bias, y, cin, cout, batch, h, w, accumulate);
    else forward256(xp, packed, bias, y, cin, cout, batch, h, w, accumulate);
}

void tv_conv3x3_weight_grad(const float *dy, const float *x, float *dw, int cin, int cout,
                            int batch, int h, int w, float *scratch) {
    if (tv_use_avx512()) weight_grad512(dy, x, dw, cin, cout, batch, h, w, scratch);
    else weight_grad256(dy, x, dw, cin, cout, batch, h, w, scratch);
}

#else
int tv_conv3x3_available(void) { return 0; }
void tv_conv3x3_forward(const float *xp, const float *packed, const float *bias, float *y,
                        int cin, int cout, int batch, int h, int w, int accumulate) {
    (void)xp; (void)packed; (void)bias; (void)y; (void)cin; (void)cout; (void)batch; (void)h; (void)w; (void)accumulate;
}
void tv_conv3x3_weight_grad(const float *dy, const float *x, float *dw, int cin, int cout,
                            int batch, int h, int w, float *scratch) {
    (void)dy; (void)x; (void)dw; (void)cin; (void)cout; (void)batch; (void)h; (void)w; (void)scratch;
}
#endif
