/* multihost.h: what bench/multihost.c and its task library must agree on. */
#ifndef RAYC_BENCH_MULTIHOST_H
#define RAYC_BENCH_MULTIHOST_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* An FNV-style hash over 8-byte words (then the tail bytes): fast enough
 * to check 256 MiB in a fraction of the transfer time, and any moved or
 * flipped byte changes it. */
static inline uint64_t mh_checksum(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 1469598103934665603ull, w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, b + i, 8);
        h = (h ^ w) * 1099511628211ull;
    }
    for (; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* Value J of the map-reduce's input (bench/multihost_dask.py computes the
 * same): below 2^32, so its square fits in 64 bits. */
static inline uint64_t mh_value(uint64_t j)
{
    return (j * 2654435761ull) & 0xffffffffull;
}

#endif
