// The fused passes of TIES, DARE and breadcrumbs: the per-tensor magnitude histograms (exact top-k
// selection, see TVEngine's MagnitudeSelector) and the masked sign election / disjoint mean, each
// in one pass over the operands' stored bytes, converted in registers strip by strip (L1-sized),
// instead of the portable path's decode-to-scratch, mask, and scalar election loops.
#include "sparse_combine.h"
#include "linear_combine.h"
#include "vector_width.h"
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF

int tv_sparse_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
}

#define TARGET __attribute__((target("avx2,f16c")))
#define INLINE inline __attribute__((always_inline))

// Values per strip; a strip of the base, every model's tau and the result stay in L1/L2.
#define STRIP 512
// Floats of stack scratch: (models + 2) strips. TVEngine calls with at most 30 models.
#define SCRATCH (32 * STRIP)

// ---- conversions: fused_codec_avx2.h (shared with linear_combine.c, so outputs round identically) ----
#include "fused_codec_avx2.h"

// ---- tau strips: fused_tau_avx2.h (shared with magnitude_select.c) ----
#include "fused_tau_avx2.h"

// ---- masks ----

// Keeps d[j] when low <= bits(|d[j]|) < high (unsigned; bits <= 0x7FFFFFFF), else +0.
TARGET static void mask_magnitude(float *d, size_t cnt, uint32_t low, uint32_t high) {
    if (low > 0x7fffffffu) { memset(d, 0, cnt * sizeof(float)); return; }
    const int has_high = high <= 0x7fffffffu;
    const __m256i absmask = _mm256_set1_epi32(0x7fffffff);
    const __m256i lowm1 = _mm256_set1_epi32((int32_t)low - 1);  // low >= 1 here, or low == 0: every bits > -1
    const __m256i highv = _mm256_set1_epi32((int32_t)high);
    size_t j = 0;
    for (; j + 8 <= cnt; j += 8) {
        __m256 x = _mm256_loadu_ps(d + j);
        __m256i bits = _mm256_and_si256(_mm256_castps_si256(x), absmask);
        __m256i keep = _mm256_cmpgt_epi32(bits, lowm1);
        if (has_high) keep = _mm256_and_si256(keep, _mm256_cmpgt_epi32(highv, bits));
        _mm256_storeu_ps(d + j, _mm256_and_ps(x, _mm256_castsi256_ps(keep)));
    }
    for (; j < cnt; j++) {
        uint32_t bits;
        memcpy(&bits, d + j, 4);
        bits &= 0x7fffffffu;
        if (!(bits >= low && (!has_high || bits < high))) d[j] = 0.0f;
    }
}

// TVEngine's CounterRandom.mix (SplitMix64's finaliser).
static INLINE uint64_t mix(uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

#define MIX_C0 0x9E3779B97F4A7C15ull
#define MIX_C1 0xBF58476D1CE4E5B9ull
#define MIX_C2 0x94D049BB133111EBull
#define INDEX_C 0xD1B54A32D192ED03ull

// a * b mod 2^64 in each 64-bit lane (AVX2 has no 64-bit multiply: three 32 x 32 -> 64 products).
TARGET static INLINE __m256i mul64(__m256i a, uint64_t b) {
    const __m256i bl = _mm256_set1_epi64x((long long)(b & 0xffffffffu));
    const __m256i bh = _mm256_set1_epi64x((long long)(b >> 32));
    __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(a, bh), _mm256_mul_epu32(_mm256_srli_epi64(a, 32), bl));
    return _mm256_add_epi64(_mm256_mul_epu32(a, bl), _mm256_slli_epi64(cross, 32));
}

// The top 24 bits of mix() in four 64-bit lanes, as a 24-bit integer: mix's last step
// z ^ (z >> 31) leaves bits 40..63 unchanged (they would take bits 71.. of z), so it is skipped.
TARGET static INLINE __m256i draw4(__m256i z) {
    z = _mm256_add_epi64(z, _mm256_set1_epi64x((long long)MIX_C0));
    z = mul64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 30)), MIX_C1);
    z = mul64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 27)), MIX_C2);
    return _mm256_srli_epi64(z, 40);
}

// The integer form of the keep test u < p: u = m * 2^-24 exactly (m < 2^24), so u < p exactly when
// m < ceil(p * 2^24) (exact in double).
static uint64_t keep_below(float p) {
    double t = (double)p * 16777216.0;
    uint64_t c = (uint64_t)t;
    return (double)c < t ? c + 1 : c;
}

#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 7)
#define HAVE_AVX512_RANDOM 1
#define TARGET512 __attribute__((target("avx512f,avx512dq")))

// mask_random's draw with AVX-512DQ's 64-bit multiply, 16 values per step (same values).
TARGET512 static void mask_random512(float *d, size_t cnt, uint64_t key, uint64_t below, float rescale, size_t first) {
    const __m512i kv = _mm512_set1_epi64((long long)key), step = _mm512_set1_epi64((long long)(16 * INDEX_C));
    const __m512i c0 = _mm512_set1_epi64((long long)MIX_C0), c1 = _mm512_set1_epi64((long long)MIX_C1), c2 = _mm512_set1_epi64((long long)MIX_C2);
    const __m512i bv = _mm512_set1_epi32((int)below);  // below <= 2^24
    const __m512 rv = _mm512_set1_ps(rescale);
    const uint64_t f = first;
    __m512i even = _mm512_set_epi64((long long)((f + 14) * INDEX_C), (long long)((f + 12) * INDEX_C), (long long)((f + 10) * INDEX_C),
                                    (long long)((f + 8) * INDEX_C), (long long)((f + 6) * INDEX_C), (long long)((f + 4) * INDEX_C),
                                    (long long)((f + 2) * INDEX_C), (long long)(f * INDEX_C));
    __m512i odd = _mm512_add_epi64(even, _mm512_set1_epi64((long long)INDEX_C));
    size_t j = 0;
    for (; j + 16 <= cnt; j += 16) {
        __m512i ze = _mm512_add_epi64(_mm512_xor_si512(kv, even), c0), zo = _mm512_add_epi64(_mm512_xor_si512(kv, odd), c0);
        ze = _mm512_mullo_epi64(_mm512_xor_si512(ze, _mm512_srli_epi64(ze, 30)), c1);
        zo = _mm512_mullo_epi64(_mm512_xor_si512(zo, _mm512_srli_epi64(zo, 30)), c1);
        ze = _mm512_mullo_epi64(_mm512_xor_si512(ze, _mm512_srli_epi64(ze, 27)), c2);
        zo = _mm512_mullo_epi64(_mm512_xor_si512(zo, _mm512_srli_epi64(zo, 27)), c2);
        __m512i m = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(ze, 40), _mm512_slli_epi64(_mm512_srli_epi64(zo, 40), 32));
        __mmask16 keep = _mm512_cmplt_epu32_mask(m, bv);
        _mm512_storeu_ps(d + j, _mm512_maskz_mul_ps(keep, _mm512_loadu_ps(d + j), rv));
        even = _mm512_add_epi64(even, step);
        odd = _mm512_add_epi64(odd, step);
    }
    for (; j < cnt; j++) d[j] = (mix(key ^ ((uint64_t)(first + j) * INDEX_C)) >> 40) < below ? d[j] * rescale : 0.0f;
}
#endif

// d[j] = u_j < p ? d[j] * rescale : +0, u_j = CounterRandom.uniform(key, first + j) =
// float(mix(key ^ (first + j) * INDEX_C) >> 40) * 2^-24 (exact: a 24-bit integer). The vector body
// draws the even and the odd elements of each 8 in two 4-lane halves; index products advance by
// addition (mod 2^64, as the wrapping multiply).
TARGET static void mask_random(float *d, size_t cnt, uint64_t key, float p, float rescale, size_t first) {
    const uint64_t below = keep_below(p);
#ifdef HAVE_AVX512_RANDOM
    if (tv_use_avx512dq()) { mask_random512(d, cnt, key, below, rescale, first); return; }
#endif
    const __m256 rv = _mm256_set1_ps(rescale);
    const __m256i bv = _mm256_set1_epi64x((long long)below);
    const __m256i kv = _mm256_set1_epi64x((long long)key), step = _mm256_set1_epi64x((long long)(8 * INDEX_C));
    const uint64_t f = first;
    __m256i even = _mm256_set_epi64x((long long)((f + 6) * INDEX_C), (long long)((f + 4) * INDEX_C),
                                     (long long)((f + 2) * INDEX_C), (long long)(f * INDEX_C));
    __m256i odd = _mm256_set_epi64x((long long)((f + 7) * INDEX_C), (long long)((f + 5) * INDEX_C),
                                    (long long)((f + 3) * INDEX_C), (long long)((f + 1) * INDEX_C));
    size_t j = 0;
    for (; j + 8 <= cnt; j += 8) {
        // 64-bit lanes all ones where m < below (m, below <= 2^24: a signed compare is exact).
        __m256i ke = _mm256_cmpgt_epi64(bv, draw4(_mm256_xor_si256(kv, even)));
        __m256i ko = _mm256_cmpgt_epi64(bv, draw4(_mm256_xor_si256(kv, odd)));
        __m256 keep = _mm256_castsi256_ps(_mm256_blend_epi32(ke, ko, 0xAA));
        _mm256_storeu_ps(d + j, _mm256_and_ps(keep, _mm256_mul_ps(_mm256_loadu_ps(d + j), rv)));
        even = _mm256_add_epi64(even, step);
        odd = _mm256_add_epi64(odd, step);
    }
    for (; j < cnt; j++) d[j] = (mix(key ^ ((uint64_t)(first + j) * INDEX_C)) >> 40) < below ? d[j] * rescale : 0.0f;
}

TARGET static void apply_mask(const tv_sparse_mask *m, float *d, size_t cnt, size_t first) {
    switch (m->kind) {
    case TV_MASK_MAGNITUDE: mask_magnitude(d, cnt, m->low, m->high); break;
    case TV_MASK_RANDOM: mask_random(d, cnt, m->key, m->density, m->rescale, first); break;
    default: break;
    }
}

// ---- consensus ----

// acc = ((0 + w_0 d_0) + w_1 d_1) + ... (w_i == 0 skipped, as ElementwiseKernels.axpy); out = b + s acc.
TARGET static void combine_sum(float *const *d, const float *w, int m, const float *b, float s, size_t cnt, float *acc) {
    memset(acc, 0, cnt * sizeof(float));
    for (int i = 0; i < m; i++) {
        if (w[i] == 0.0f) continue;
        const __m256 wv = _mm256_set1_ps(w[i]);
        const float *x = d[i];
        size_t j = 0;
        for (; j + 8 <= cnt; j += 8)
            _mm256_storeu_ps(acc + j, _mm256_add_ps(_mm256_loadu_ps(acc + j), _mm256_mul_ps(wv, _mm256_loadu_ps(x + j))));
        for (; j < cnt; j++) acc[j] = acc[j] + w[i] * x[j];
    }
    const __m256 sv = _mm256_set1_ps(s);
    size_t j = 0;
    for (; j + 8 <= cnt; j += 8)
        _mm256_storeu_ps(acc + j, _mm256_add_ps(_mm256_loadu_ps(b + j), _mm256_mul_ps(sv, _mm256_loadu_ps(acc + j))));
    for (; j < cnt; j++) acc[j] = b[j] + s * acc[j];
}

// One element of the sign election, for the tail (the same operations as the vector body).
static INLINE float elect1(float *const *d, const float *w, int m, float b, float lambda, int normalize, size_t j) {
    float total = 0.0f;
    int votes = 0;
    for (int i = 0; i < m; i++) {
        float x = d[i][j];
        total = total + w[i] * x;
        votes += x > 0 ? 1 : (x < 0 ? -1 : 0);
    }
    float sign = total > 0 ? 1.0f : (total < 0 ? -1.0f : (votes > 0 ? 1.0f : (votes < 0 ? -1.0f : 0.0f)));
    float sum = 0.0f, weight = 0.0f;
    for (int i = 0; i < m; i++) {
        float x = d[i][j];
        if (x * sign > 0) { sum = sum + w[i] * x; weight = weight + w[i]; }
    }
    float merged = normalize ? (weight != 0 ? sum / weight : 0.0f) : sum;
    return b + lambda * merged;
}

// Sign election and (disjoint) mean. Adding +0 for a non-agreeing model equals skipping it: the
// running sums start at +0 and so are never -0.
TARGET static void combine_sign(float *const *d, const float *w, int m, const float *b, float lambda, int normalize,
                                size_t cnt, float *out) {
    const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f), minus = _mm256_set1_ps(-1.0f);
    const __m256 lv = _mm256_set1_ps(lambda);
    size_t j = 0;
    for (; j + 8 <= cnt; j += 8) {
        __m256 total = zero;
        __m256i votes = _mm256_setzero_si256();
        for (int i = 0; i < m; i++) {
            __m256 x = _mm256_loadu_ps(d[i] + j);
            total = _mm256_add_ps(total, _mm256_mul_ps(_mm256_set1_ps(w[i]), x));
            votes = _mm256_sub_epi32(votes, _mm256_castps_si256(_mm256_cmp_ps(x, zero, _CMP_GT_OQ)));
            votes = _mm256_add_epi32(votes, _mm256_castps_si256(_mm256_cmp_ps(x, zero, _CMP_LT_OQ)));
        }
        __m256 tpos = _mm256_cmp_ps(total, zero, _CMP_GT_OQ), tneg = _mm256_cmp_ps(total, zero, _CMP_LT_OQ);
        __m256 undecided = _mm256_andnot_ps(_mm256_or_ps(tpos, tneg), _mm256_castsi256_ps(_mm256_set1_epi32(-1)));
        __m256 vpos = _mm256_castsi256_ps(_mm256_cmpgt_epi32(votes, _mm256_setzero_si256()));
        __m256 vneg = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_setzero_si256(), votes));
        __m256 pos = _mm256_or_ps(tpos, _mm256_and_ps(undecided, vpos));
        __m256 neg = _mm256_or_ps(tneg, _mm256_and_ps(undecided, vneg));
        __m256 sign = _mm256_or_ps(_mm256_and_ps(pos, one), _mm256_and_ps(neg, minus));
        __m256 sum = zero, weight = zero;
        for (int i = 0; i < m; i++) {
            __m256 x = _mm256_loadu_ps(d[i] + j);
            __m256 wv = _mm256_set1_ps(w[i]);
            __m256 agree = _mm256_cmp_ps(_mm256_mul_ps(x, sign), zero, _CMP_GT_OQ);
            sum = _mm256_add_ps(sum, _mm256_and_ps(agree, _mm256_mul_ps(wv, x)));
            weight = _mm256_add_ps(weight, _mm256_and_ps(agree, wv));
        }
        __m256 merged = sum;
        if (normalize) {
            __m256 nz = _mm256_cmp_ps(weight, zero, _CMP_NEQ_UQ);
            merged = _mm256_and_ps(nz, _mm256_div_ps(sum, weight));
        }
        _mm256_storeu_ps(out + j, _mm256_add_ps(_mm256_loadu_ps(b + j), _mm256_mul_ps(lv, merged)));
    }
    for (; j < cnt; j++) out[j] = elect1(d, w, m, b[j], lambda, normalize, j);
}

TARGET void tv_sparse_combine(const void *base, int base_dtype,
                              const void *const *models, const int *model_dtypes, const uint8_t *is_task_vector,
                              const tv_sparse_mask *masks, const float *weights, int model_count,
                              int consensus, int normalize, float lambda, float sum_scale,
                              void *out, int out_dtype, size_t first_index, size_t n) {
    _Alignas(32) float scratch[SCRATCH];
    if (model_count > SCRATCH / STRIP - 3) return;  // TVEngine never calls with more models
    float *b = scratch, *acc = scratch + 2 * STRIP;
    float *d[SCRATCH / STRIP];
    for (int k = 0; k < model_count; k++) d[k] = scratch + (3 + k) * STRIP;
    for (size_t i = 0; i < n; i += STRIP) {
        size_t cnt = n - i < STRIP ? n - i : STRIP;
        base_strip(base, base_dtype, i, cnt, b);
        for (int k = 0; k < model_count; k++) {
            tau_strip(models[k], model_dtypes[k], is_task_vector[k], b, i, cnt, d[k]);
            apply_mask(&masks[k], d[k], cnt, first_index + i);
        }
        if (consensus == TV_CONSENSUS_SIGN) combine_sign(d, weights, model_count, b, lambda, normalize, cnt, acc);
        else combine_sum(d, weights, model_count, b, sum_scale, cnt, acc);
        encode_strip(acc, cnt, out_dtype, (uint8_t *)out + i * width_of(out_dtype));
    }
}

// ---- magnitude histograms ----

TARGET void tv_magnitude_histograms(const void *base, int base_dtype,
                                    const void *const *models, const int *model_dtypes, const uint8_t *is_task_vector,
                                    int model_count, size_t n,
                                    uint32_t *const *coarse, const int32_t *fine_bins, int ranks, uint32_t *const *fine) {
    _Alignas(32) float b[STRIP], d[STRIP];
    _Alignas(32) uint32_t bits[STRIP];
    const __m256i absmask = _mm256_set1_epi32(0x7fffffff);
    int need_base = 0;
    for (int k = 0; k < model_count; k++) need_base |= !is_task_vector[k] && model_dtypes[k] != TV_ZERO;
    for (size_t i = 0; i < n; i += STRIP) {
        size_t cnt = n - i < STRIP ? n - i : STRIP;
        if (need_base) base_strip(base, base_dtype, i, cnt, b);
        for (int k = 0; k < model_count; k++) {
            tau_strip(models[k], model_dtypes[k], is_task_vector[k], b, i, cnt, d);
            size_t j = 0;
            for (; j + 8 <= cnt; j += 8)
                _mm256_store_si256((__m256i *)(bits + j), _mm256_and_si256(_mm256_castps_si256(_mm256_load_ps(d + j)), absmask));
            for (; j < cnt; j++) { uint32_t x; memcpy(&x, d + j, 4); bits[j] = x & 0x7fffffffu; }
            if (coarse && coarse[k]) {
                uint32_t *h = coarse[k];
                for (j = 0; j < cnt; j++) h[bits[j] >> 16]++;
            }
            if (!fine) continue;
            for (int r = 0; r < ranks; r++) {
                int32_t bin = fine_bins[k * ranks + r];
                if (bin < 0) continue;
                uint32_t *h = fine[k * ranks + r];
                const __m256i want = _mm256_set1_epi32(bin);
                for (j = 0; j + 8 <= cnt; j += 8) {
                    __m256i hi = _mm256_srli_epi32(_mm256_load_si256((const __m256i *)(bits + j)), 16);
                    unsigned hit = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(hi, want)));
                    while (hit) {
                        int l = __builtin_ctz(hit);
                        h[bits[j + l] & 0xffffu]++;
                        hit &= hit - 1;
                    }
                }
                for (; j < cnt; j++) if ((int32_t)(bits[j] >> 16) == bin) h[bits[j] & 0xffffu]++;
            }
        }
    }
}

#endif

static int compare_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

// Quickselect (Hoare partition, median of three); after 2 log2(n) + 8 rounds without finishing
// (adversarial input) the remaining range is sorted instead, so the worst case is O(n log n).
static uint32_t quickselect_u32(uint32_t *a, size_t n, size_t k) {
    size_t lo = 0, hi = n - 1;
    int budget = 8;
    for (size_t m = n; m > 1; m >>= 1) budget += 2;
    while (hi > lo) {
        if (budget-- == 0) {
            qsort(a + lo, hi - lo + 1, sizeof(uint32_t), compare_u32);
            return a[k];
        }
        size_t mid = lo + (hi - lo) / 2;
        uint32_t x = a[lo], y = a[mid], z = a[hi];
        uint32_t pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        size_t i = lo, j = hi;
        for (;;) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i >= j) break;
            uint32_t t = a[i]; a[i] = a[j]; a[j] = t;
            i++; j--;
        }
        // Now a[lo..j] <= pivot <= a[j+1..hi].
        if (k <= j) hi = j; else lo = j + 1;
    }
    return a[k];
}

// The bin of (x >> shift) & mask holding rank *k (0-based) among cnt values; *k becomes the rank
// inside that bin. Four interleaved histograms, so runs of one bin don't serialise on one counter.
static uint32_t radix_bin(const uint32_t *a, size_t cnt, int shift, uint32_t mask, size_t *k) {
    uint32_t h[4][2048];
    memset(h, 0, sizeof h);
    size_t i = 0;
    for (; i + 4 <= cnt; i += 4) {
        h[0][(a[i] >> shift) & mask]++;
        h[1][(a[i + 1] >> shift) & mask]++;
        h[2][(a[i + 2] >> shift) & mask]++;
        h[3][(a[i + 3] >> shift) & mask]++;
    }
    for (; i < cnt; i++) h[0][(a[i] >> shift) & mask]++;
    uint32_t b = 0;
    for (;; b++) {
        size_t c = (size_t)h[0][b] + h[1][b] + h[2][b] + h[3][b];
        if (*k < c) return b;
        *k -= c;
    }
}

// The k-th smallest (0-based) of a[0..n). From 2^13 values on, a radix selection (4-6x faster than
// quickselect there, whose partition branches mispredict on random magnitudes): count the top 11
// bits, copy out the values of the bin holding rank k, then the next 11 and the last 10 bits over
// the copy. Exact: the same value quickselect finds. Below 2^13 (or without memory) quickselect.
uint32_t tv_select_u32(uint32_t *a, size_t n, size_t k) {
    if (n < (1u << 13) || n > 0xffffffffu) return quickselect_u32(a, n, k);
    uint32_t *buf = malloc(n * sizeof(uint32_t));
    if (!buf) return quickselect_u32(a, n, k);
    uint32_t b = radix_bin(a, n, 21, 0x7ff, &k), prefix = b << 21;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) { buf[m] = a[i]; m += (a[i] >> 21) == b; }
    b = radix_bin(buf, m, 10, 0x7ff, &k);
    prefix |= b << 10;
    size_t m2 = 0;
    for (size_t i = 0; i < m; i++) { buf[m2] = buf[i]; m2 += ((buf[i] >> 10) & 0x7ff) == b; }
    b = radix_bin(buf, m2, 0, 0x3ff, &k);
    free(buf);
    return prefix | b;
}


#if !(defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__)))
int tv_sparse_available(void) { return 0; }
void tv_sparse_combine(const void *base, int base_dtype, const void *const *models, const int *model_dtypes,
                       const uint8_t *is_task_vector, const tv_sparse_mask *masks, const float *weights, int model_count,
                       int consensus, int normalize, float lambda, float sum_scale,
                       void *out, int out_dtype, size_t first_index, size_t n) {
    (void)base; (void)base_dtype; (void)models; (void)model_dtypes; (void)is_task_vector; (void)masks; (void)weights;
    (void)model_count; (void)consensus; (void)normalize; (void)lambda; (void)sum_scale; (void)out; (void)out_dtype;
    (void)first_index; (void)n;
}
void tv_magnitude_histograms(const void *base, int base_dtype, const void *const *models, const int *model_dtypes,
                             const uint8_t *is_task_vector, int model_count, size_t n,
                             uint32_t *const *coarse, const int32_t *fine_bins, int ranks, uint32_t *const *fine) {
    (void)base; (void)base_dtype; (void)models; (void)model_dtypes; (void)is_task_vector; (void)model_count; (void)n;
    (void)coarse; (void)fine_bins; (void)ranks; (void)fine;
}
#endif
