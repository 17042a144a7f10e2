#ifndef TV_SINCOS_H
#define TV_SINCOS_H

/// *s = sin(a), *c = cos(a) with one range reduction: glibc's sincos (a GNU extension Swift's
/// Glibc module does not expose), which gives the same bits as sin and cos; elsewhere, both calls.
void tv_sincos(double a, double *s, double *c);

#endif
