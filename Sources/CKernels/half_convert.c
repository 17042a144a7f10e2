// Hardware F16 conversion for TVStorage's ElementConversion, chosen at run time so the binary still runs
// on x86-64 CPUs without F16C and on other architectures (where these are never called).
// vcvtph2ps is exact; vcvtps2ph with imm 0 rounds to nearest even, as the software codec does.
// Only NaN payloads may differ from the software codec (both give a NaN).
#include "half_convert.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

int tv_half_hw_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c");
}

__attribute__((target("avx,f16c")))
void tv_half_hw_decode(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm_loadu_si128((const __m128i *)(src + i));
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
    }
    if (i < n) {
        uint16_t tmp[8] = {0};
        float out[8];
        for (size_t j = 0; j < n - i; j++) tmp[j] = src[i + j];
        _mm256_storeu_ps(out, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)tmp)));
        for (size_t j = 0; j < n - i; j++) dst[i + j] = out[j];
    }
}

__attribute__((target("avx,f16c")))
void tv_half_hw_encode(const float *src, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm_storeu_si128((__m128i *)(dst + i), h);
    }
    if (i < n) {
        float tmp[8] = {0};
        uint16_t out[8];
        for (size_t j = 0; j < n - i; j++) tmp[j] = src[i + j];
        _mm_storeu_si128((__m128i *)out, _mm256_cvtps_ph(_mm256_loadu_ps(tmp), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        for (size_t j = 0; j < n - i; j++) dst[i + j] = out[j];
    }
}

#else
int tv_half_hw_available(void) { return 0; }
void tv_half_hw_decode(const uint16_t *src, float *dst, size_t n) { (void)src; (void)dst; (void)n; }
void tv_half_hw_encode(const float *src, uint16_t *dst, size_t n) { (void)src; (void)dst; (void)n; }
#endif
