// The passes of the one-read exact top-k selection of TIES and breadcrumbs (TVEngine's
// FusedSelection): a 2048-bin histogram of bits(|tau|) per model (L1-resident, unlike the
// 65,536-bin MagnitudeSelector), then the bits of the few values in each threshold's bin, which an
// exact selection over that short list (tv_select_u32) turns into the threshold.
#include "sparse_combine.h"
#include "linear_combine.h"
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#pragma STDC FP_CONTRACT OFF

#define TARGET __attribute__((target("avx2,f16c")))
#define INLINE inline __attribute__((always_inline))
#define STRIP 512

#include "fused_codec_avx2.h"
#include "fused_tau_avx2.h"

// pack_lut[m]: the indices of m's set bits, one per byte from the lowest (AVX2 left-packing).
static uint64_t pack_lut[256];

__attribute__((constructor)) static void init_pack_lut(void) {
    for (int m = 0; m < 256; m++) {
        uint64_t v = 0;
        int c = 0;
        for (int l = 0; l < 8; l++)
            if (m >> l & 1) v |= (uint64_t)l << (8 * c++);
        pack_lut[m] = v;
    }
}

static int needs_base(const int *model_dtypes, const uint8_t *is_task_vector, int model_count) {
    int need = 0;
    for (int k = 0; k < model_count; k++) need |= !is_task_vector[k] && model_dtypes[k] != TV_ZERO;
    return need;
}

TARGET void tv_magnitude_coarse(const void *base, int base_dtype,
                                const void *const *models, const int *model_dtypes, const uint8_t *is_task_vector,
                                int model_count, size_t n, uint32_t *const *hist) {
    _Alignas(32) float b[STRIP], d[STRIP];
    _Alignas(32) uint32_t bin[STRIP];
    const __m256i absmask = _mm256_set1_epi32(0x7fffffff);
    const int need_base = needs_base(model_dtypes, is_task_vector, model_count);
    for (size_t i = 0; i < n; i += STRIP) {
        size_t cnt = n - i < STRIP ? n - i : STRIP;
        if (need_base) base_strip(base, base_dtype, i, cnt, b);
        for (int k = 0; k < model_count; k++) {
            uint32_t *h = hist[k];
            if (model_dtypes[k] == TV_ZERO || models[k] == NULL) { h[0] += (uint32_t)cnt; continue; }
            tau_strip(models[k], model_dtypes[k], is_task_vector[k], b, i, cnt, d);
            size_t j = 0;
            for (; j + 8 <= cnt; j += 8) {
                __m256i bits = _mm256_and_si256(_mm256_castps_si256(_mm256_load_ps(d + j)), absmask);
                _mm256_store_si256((__m256i *)(bin + j), _mm256_srli_epi32(bits, TV_SELECT_SHIFT));
            }
            for (; j < cnt; j++) { uint32_t x; memcpy(&x, d + j, 4); bin[j] = (x & 0x7fffffffu) >> TV_SELECT_SHIFT; }
            uint32_t *h0 = h, *h1 = h + TV_SELECT_BINS, *h2 = h + 2 * TV_SELECT_BINS, *h3 = h + 3 * TV_SELECT_BINS;
            for (j = 0; j + 4 <= cnt; j += 4) {
                h0[bin[j]]++;
                h1[bin[j + 1]]++;
                h2[bin[j + 2]]++;
                h3[bin[j + 3]]++;
            }
            for (; j < cnt; j++) h0[bin[j]]++;
        }
    }
}

TARGET void tv_magnitude_collect(const void *base, int base_dtype,
                                 const void *const *models, const int *model_dtypes, const uint8_t *is_task_vector,
                                 int model_count, size_t n, const int32_t *bins, int ranks,
                                 uint32_t **dst, uint32_t *const *end) {
    _Alignas(32) float b[STRIP], d[STRIP];
    _Alignas(32) uint32_t bits[STRIP];
    const __m256i absmask = _mm256_set1_epi32(0x7fffffff);
    const int need_base = needs_base(model_dtypes, is_task_vector, model_count);
    for (size_t i = 0; i < n; i += STRIP) {
        size_t cnt = n - i < STRIP ? n - i : STRIP;
        if (need_base) base_strip(base, base_dtype, i, cnt, b);
        for (int k = 0; k < model_count; k++) {
            int wanted = 0;
            for (int r = 0; r < ranks; r++) wanted |= bins[k * ranks + r] >= 0;
            if (!wanted) continue;
            tau_strip(models[k], model_dtypes[k], is_task_vector[k], b, i, cnt, d);  // zeros for a missing model
            size_t j = 0;
            for (; j + 8 <= cnt; j += 8)
                _mm256_store_si256((__m256i *)(bits + j), _mm256_and_si256(_mm256_castps_si256(_mm256_load_ps(d + j)), absmask));
            for (; j < cnt; j++) { uint32_t x; memcpy(&x, d + j, 4); bits[j] = x & 0x7fffffffu; }
            for (int r = 0; r < ranks; r++) {
                int32_t want_bin = bins[k * ranks + r];
                if (want_bin < 0) continue;
                uint32_t *o = dst[k * ranks + r], *const stop = end[k * ranks + r];
                const __m256i want = _mm256_set1_epi32(want_bin);
                // Branch-free: the hits left-packed and stored 8 wide (the caller leaves 8 values of
                // slack after each end), the cursor advanced by their count.
                for (j = 0; j + 8 <= cnt && o <= stop; j += 8) {
                    __m256i v = _mm256_load_si256((const __m256i *)(bits + j));
                    __m256i hi = _mm256_srli_epi32(v, TV_SELECT_SHIFT);
                    unsigned hit = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(hi, want)));
                    __m256i idx = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)pack_lut[hit]));
                    _mm256_storeu_si256((__m256i *)o, _mm256_permutevar8x32_epi32(v, idx));
                    o += __builtin_popcount(hit);
                }
                if (o > stop) o = stop;
                for (; j < cnt; j++) if ((int32_t)(bits[j] >> TV_SELECT_SHIFT) == want_bin && o < stop) *o++ = bits[j];
                dst[k * ranks + r] = o;
            }
        }
    }
}

#else

void tv_magnitude_coarse(const void *base, int base_dtype, const void *const *models, const int *model_dtypes,
                         const uint8_t *is_task_vector, int model_count, size_t n, uint32_t *const *hist) {
    (void)base; (void)base_dtype; (void)models; (void)model_dtypes; (void)is_task_vector; (void)model_count; (void)n; (void)hist;
}
void tv_magnitude_collect(const void *base, int base_dtype, const void *const *models, const int *model_dtypes,
                          const uint8_t *is_task_vector, int model_count, size_t n, const int32_t *bins, int ranks,
                          uint32_t **dst, uint32_t *const *end) {
    (void)base; (void)base_dtype; (void)models; (void)model_dtypes; (void)is_task_vector; (void)model_count; (void)n;
    (void)bins; (void)ranks; (void)dst; (void)end;
}

#endif
