#include "vector_width.h"

static int allowed = 1;

void tv_allow_avx512(int a) { allowed = a; }

int tv_use_avx512(void) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    static int supported = -1;
    if (supported < 0) {
        __builtin_cpu_init();
        supported = __builtin_cpu_supports("avx512f");
    }
    return allowed && supported;
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
