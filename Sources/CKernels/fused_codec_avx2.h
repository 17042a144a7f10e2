// The BF16 <-> F32 conversions and the strip encoder shared by the fused merge kernels
// (linear_combine.c, sparse_combine.c), so every kernel rounds identically: round to nearest even;
// NaN becomes a quiet NaN with its sign and top payload bits, as HalfFloat.f32ToBF16 does. Include
// inside an x86-64 block after <immintrin.h> and linear_combine.h; internal to CKernels.
#ifndef TV_FUSED_CODEC_AVX2_H
#define TV_FUSED_CODEC_AVX2_H

#include <stdint.h>
#include <string.h>

#define TV_BF16_FN __attribute__((target("avx2,f16c"), always_inline)) static inline

TV_BF16_FN float bf16_to_f32(uint16_t b) {
    uint32_t x = (uint32_t)b << 16;
    float f;
    memcpy(&f, &x, 4);
    return f;
}

TV_BF16_FN uint16_t f32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40);
    return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

// 8 floats to 8 BF16 values, the same rounding as f32_to_bf16.
TV_BF16_FN __m128i to_bf16x8(__m256 v) {
    __m256i x = _mm256_castps_si256(v);
    __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(1));
    __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(x, _mm256_set1_epi32(0x7fff)), lsb), 16);
    __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(0x40));
    __m256i mag = _mm256_and_si256(x, _mm256_set1_epi32(0x7fffffff));
    __m256i nan = _mm256_cmpgt_epi32(mag, _mm256_set1_epi32(0x7f800000));
    __m256i r = _mm256_and_si256(_mm256_blendv_epi8(rounded, quiet, nan), _mm256_set1_epi32(0xffff));
    // Pack 8 × 32-bit lanes (each < 2^16) into 8 × 16-bit: packus works per 128-bit lane.
    __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0x08);
    return _mm256_castsi256_si128(packed);
}

// The cnt floats of src encoded as `dtype` (TV_F16, TV_BF16, else F32) at p.
__attribute__((target("avx2,f16c"))) static void encode_strip(const float *src, size_t cnt, int dtype, void *p) {
    size_t j = 0;
    switch (dtype) {
    case TV_F16: {
        uint16_t *h = p;
        for (; j + 8 <= cnt; j += 8)
            _mm_storeu_si128((__m128i *)(h + j), _mm256_cvtps_ph(_mm256_loadu_ps(src + j), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        for (; j < cnt; j++) h[j] = _cvtss_sh(src[j], _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        break;
    }
    case TV_BF16: {
        uint16_t *h = p;
        for (; j + 8 <= cnt; j += 8) _mm_storeu_si128((__m128i *)(h + j), to_bf16x8(_mm256_loadu_ps(src + j)));
        for (; j < cnt; j++) h[j] = f32_to_bf16(src[j]);
        break;
    }
    default: memcpy(p, src, cnt * sizeof(float));
    }
}

#endif
