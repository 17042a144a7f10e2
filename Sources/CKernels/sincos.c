#define _GNU_SOURCE
#include <math.h>
#include "sincos.h"

void tv_sincos(double a, double *s, double *c) {
#if defined(__GLIBC__)
    sincos(a, s, c);
#else
    *s = sin(a);
    *c = cos(a);
#endif
}
