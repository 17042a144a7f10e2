// Reading operands strip by strip as float tau (x, or x - base), converted in registers, for the
// fused sparse kernels (sparse_combine.c, magnitude_select.c). Include inside an x86-64 block after
// <immintrin.h>, linear_combine.h and fused_codec_avx2.h, with TARGET and INLINE defined; internal
// to CKernels.
#ifndef TV_FUSED_TAU_AVX2_H
#define TV_FUSED_TAU_AVX2_H

static size_t width_of(int dtype) { return dtype == TV_F32 ? 4 : (dtype == TV_ZERO ? 0 : 2); }

TARGET static INLINE __m256 load8(const void *p, const int dtype, size_t j) {
    switch (dtype) {
    case TV_F16: return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)p + j)));
    case TV_BF16:
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)((const uint16_t *)p + j))), 16));
    default: return _mm256_loadu_ps((const float *)p + j);
    }
}

TARGET static INLINE float load1(const void *p, const int dtype, size_t j) {
    switch (dtype) {
    case TV_F16: return _cvtsh_ss(((const uint16_t *)p)[j]);
    case TV_BF16: return bf16_to_f32(((const uint16_t *)p)[j]);
    default: return ((const float *)p)[j];
    }
}


// d = x (a task vector) or x - b (a checkpoint), in float; dtype a constant after inlining.
TARGET static INLINE void tau_as(const void *xp, const int dtype, const int is_tv, const float *b, size_t cnt, float *d) {
    size_t j = 0;
    for (; j + 8 <= cnt; j += 8) {
        __m256 x = load8(xp, dtype, j);
        if (!is_tv) x = _mm256_sub_ps(x, _mm256_loadu_ps(b + j));
        _mm256_storeu_ps(d + j, x);
    }
    for (; j < cnt; j++) d[j] = is_tv ? load1(xp, dtype, j) : load1(xp, dtype, j) - b[j];
}

// The strip of values [i, i + cnt) of operand p as tau (zeros for a missing model).
TARGET static void tau_strip(const void *p, int dtype, int is_tv, const float *b, size_t i, size_t cnt, float *d) {
    if (dtype == TV_ZERO || p == NULL) { memset(d, 0, cnt * sizeof(float)); return; }
    const void *xp = (const uint8_t *)p + i * width_of(dtype);
    switch (dtype) {
    case TV_F16: if (is_tv) tau_as(xp, TV_F16, 1, b, cnt, d); else tau_as(xp, TV_F16, 0, b, cnt, d); break;
    case TV_BF16: if (is_tv) tau_as(xp, TV_BF16, 1, b, cnt, d); else tau_as(xp, TV_BF16, 0, b, cnt, d); break;
    default: if (is_tv) tau_as(xp, TV_F32, 1, b, cnt, d); else tau_as(xp, TV_F32, 0, b, cnt, d);
    }
}

TARGET static void base_strip(const void *p, int dtype, size_t i, size_t cnt, float *b) {
    tau_strip(p, dtype, 1, b, i, cnt, b);  // as a "task vector": the values themselves (b is not read)
}

#endif
