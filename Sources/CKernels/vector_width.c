#include "vector_width.h"

#include <stdlib.h>
#include <string.h>

static int allowed = 1;

/// TVTOOL_NO_AVX512=1 in the environment runs the AVX2 variants on an AVX-512 CPU (to measure what
/// an AVX2-only CPU runs; the results are the same).
static int env_allows(void) {
    static int cached = -1;
    if (cached < 0) {
        const char *v = getenv("TVTOOL_NO_AVX512");
        cached = !(v && *v && strcmp(v, "0") != 0);
    }
    return cached;
}

void tv_allow_avx512(int a) { allowed = a; }

int tv_use_avx512(void) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    static int supported = -1;
    if (supported < 0) {
        __builtin_cpu_init();
        supported = __builtin_cpu_supports("avx512f");
    }
    return allowed && supported && env_allows();
#else
    return 0;
#endif
}

int tv_use_avx512dq(void) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    static int supported = -1;
    if (supported < 0) {
        __builtin_cpu_init();
        supported = __builtin_cpu_supports("avx512dq");
    }
    return supported && tv_use_avx512();
#else
    return 0;
#endif
}

int tv_cpu_has_avx2_fma(void) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}
