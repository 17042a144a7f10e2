#ifndef TV_HALF_CONVERT_H
#define TV_HALF_CONVERT_H
#include <stddef.h>
#include <stdint.h>

/// 1 when the CPU converts F16 in hardware (x86-64 F16C + AVX), checked once at run time.
int tv_half_hw_available(void);
/// F16 bits -> float for n values (hardware path; call only when tv_half_hw_available()).
void tv_half_hw_decode(const uint16_t *src, float *dst, size_t n);
/// float -> F16 bits, round to nearest even (hardware path; same precondition).
void tv_half_hw_encode(const float *src, uint16_t *dst, size_t n);

#endif
