// Finding a byte string in a mapped file, for the global-heap check (HDF5GlobalHeapCheck.swift)
// that scans whole files: memchr for the first byte, memcmp for the rest. In C because the
// per-hit work of a Swift loop dominates in debug builds (float data has a 'G' every ~256
// bytes); memmem itself is a GNU extension that Swift's Glibc module does not show.
#include <stddef.h>
#include <string.h>

/// Offset of the first occurrence of needle[0..<nlen] in base[from..<len], or -1.
static inline long long tv_find_bytes(const void *base, size_t len, const void *needle, size_t nlen, size_t from) {
    const unsigned char *b = (const unsigned char *)base, *n = (const unsigned char *)needle;
    if (nlen == 0 || len < nlen) return -1;
    size_t at = from;
    while (at + nlen <= len) {
        const unsigned char *hit = (const unsigned char *)memchr(b + at, n[0], len - nlen + 1 - at);
        if (hit == NULL) return -1;
        size_t p = (size_t)(hit - b);
        if (memcmp(hit + 1, n + 1, nlen - 1) == 0) return (long long)p;
        at = p + 1;
    }
    return -1;
}
