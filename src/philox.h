/*
 * Philox4x32-10: the counter-based random number generator of Salmon, Moraes,
 * Dror and Shaw, "Parallel random numbers: as easy as 1, 2, 3" (SC'11), as
 * shipped in Random123 (philox.h) and cuRAND.
 *
 * A counter of four 32-bit words and a key of two 32-bit words go through ten
 * rounds of a keyed bijection; the output is four 32-bit words. Any block of
 * the stream is computed directly from its counter, with no state carried from
 * one block to the next: that is what lets pimc-omp give the same hit count for
 * any number of threads, ranks or SIMD lanes. Period 2^128 per key, 2^64 keys;
 * passes BigCrush (Salmon et al., table 2). It is not a cryptographic generator.
 *
 * This header is the scalar definition every vector path is tested against.
 */
#ifndef PIMC_PHILOX_H
#define PIMC_PHILOX_H

#include <stdint.h>

/* Multipliers and Weyl key increments, from Random123's philox.h. */
#define PHILOX_M4x32_0 UINT32_C(0xD2511F53)
#define PHILOX_M4x32_1 UINT32_C(0xCD9E8D57)
#define PHILOX_W32_0 UINT32_C(0x9E3779B9) /* golden ratio */
#define PHILOX_W32_1 UINT32_C(0xBB67AE85) /* sqrt(3) - 1 */
#define PHILOX_ROUNDS 10

typedef struct {
    uint32_t v[4];
} philox4x32_ctr;

typedef struct {
    uint32_t v[2];
} philox2x32_key;

static inline uint32_t philox_mulhilo32(uint32_t a, uint32_t b, uint32_t *hi)
{
    uint64_t product = (uint64_t)a * b;
    *hi = (uint32_t)(product >> 32);
    return (uint32_t)product;
}

static inline philox4x32_ctr philox4x32_round(philox4x32_ctr ctr, philox2x32_key key)
{
    uint32_t hi0, hi1;
    uint32_t lo0 = philox_mulhilo32(PHILOX_M4x32_0, ctr.v[0], &hi0);
    uint32_t lo1 = philox_mulhilo32(PHILOX_M4x32_1, ctr.v[2], &hi1);
    philox4x32_ctr out = {{hi1 ^ ctr.v[1] ^ key.v[0], lo1, hi0 ^ ctr.v[3] ^ key.v[1], lo0}};
    return out;
}

/* Round r uses the key advanced r times by the Weyl increments. */
static inline philox4x32_ctr philox4x32_10(philox4x32_ctr ctr, philox2x32_key key)
{
    for (int round = 0; round < PHILOX_ROUNDS; round++) {
        ctr = philox4x32_round(ctr, key);
        key.v[0] += PHILOX_W32_0;
        key.v[1] += PHILOX_W32_1;
    }
    return ctr;
}

#endif
