/*
 * ARS-5 (ars4x32-5): the counter-based generator of Salmon, Moraes, Dror and
 * Shaw, "Parallel random numbers: as easy as 1, 2, 3" (SC'11), built from AES
 * rounds ("Advanced Randomization System"), exactly as Random123's ars.h
 * computes ars4x32_R(5, ctr, key) and as oneMKL ships it (VSL_BRNG_ARS5).
 *
 * A 128-bit counter and a 128-bit key, each four 32-bit words (word 0 least
 * significant), go through:
 *   v = ctr ^ key;  k = key;
 *   4 times:  k += W;  v = aesenc(v, k);
 *   once:     k += W;  v = aesenclast(v, k);
 * where "k += W" adds the Weyl constants 0x9E3779B97F4A7C15 (golden ratio) to
 * the key's low 64 bits and 0xBB67AE8584CAA73B (sqrt(3) - 1) to its high 64
 * bits, each modulo 2^64 (two separate 64-bit adds, no carry between them), and
 * aesenc / aesenclast are one AES-128 encryption round as the x86 instructions
 * of those names compute it (FIPS-197: ShiftRows, SubBytes, MixColumns (not in
 * the last round), then XOR with the round key), on the 16 bytes of the words
 * in little-endian order (byte 4c + r is row r of column c).
 *
 * Like Philox, any block is computed from its counter alone, which is what
 * makes hit counts independent of threads, ranks and SIMD lanes. Random123
 * reports no statistical flaw from 5 rounds up (it defaults to 7); the key
 * schedule is not AES's, so it is not a cryptographic generator.
 *
 * The stream is versioned by its name: "ars4x32-5" always means exactly this
 * function and kernel.h's use of it. Anything that would change a single output
 * (rounds, constants, word order) must take a new name.
 *
 * This header is the portable definition every AES-instruction path is tested
 * against (tests/test_kernel.c, tests/test_random123.c): plain C, one column of
 * the AES state per 32-bit word, for CPUs without AES instructions.
 */
#ifndef PIMC_ARS_H
#define PIMC_ARS_H

#include <stdint.h>

#define ARS_W64_0 UINT64_C(0x9E3779B97F4A7C15) /* golden ratio, added to key bits 0..63 */
#define ARS_W64_1 UINT64_C(0xBB67AE8584CAA73B) /* sqrt(3) - 1, added to key bits 64..127 */
#define ARS_ROUNDS 5

typedef struct {
    uint32_t v[4];
} ars4x32_ctr;

typedef struct {
    uint32_t v[4];
} ars4x32_key;

/* The AES S-box, FIPS-197 figure 7. */
static const uint8_t ars_sbox[256] = {
    0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5, 0x30, 0x01, 0x67, 0x2b, 0xfe, 0xd7, 0xab, 0x76,
    0xca, 0x82, 0xc9, 0x7d, 0xfa, 0x59, 0x47, 0xf0, 0xad, 0xd4, 0xa2, 0xaf, 0x9c, 0xa4, 0x72, 0xc0,
    0xb7, 0xfd, 0x93, 0x26, 0x36, 0x3f, 0xf7, 0xcc, 0x34, 0xa5, 0xe5, 0xf1, 0x71, 0xd8, 0x31, 0x15,
    0x04, 0xc7, 0x23, 0xc3, 0x18, 0x96, 0x05, 0x9a, 0x07, 0x12, 0x80, 0xe2, 0xeb, 0x27, 0xb2, 0x75,
    0x09, 0x83, 0x2c, 0x1a, 0x1b, 0x6e, 0x5a, 0xa0, 0x52, 0x3b, 0xd6, 0xb3, 0x29, 0xe3, 0x2f, 0x84,
    0x53, 0xd1, 0x00, 0xed, 0x20, 0xfc, 0xb1, 0x5b, 0x6a, 0xcb, 0xbe, 0x39, 0x4a, 0x4c, 0x58, 0xcf,
    0xd0, 0xef, 0xaa, 0xfb, 0x43, 0x4d, 0x33, 0x85, 0x45, 0xf9, 0x02, 0x7f, 0x50, 0x3c, 0x9f, 0xa8,
    0x51, 0xa3, 0x40, 0x8f, 0x92, 0x9d, 0x38, 0xf5, 0xbc, 0xb6, 0xda, 0x21, 0x10, 0xff, 0xf3, 0xd2,
    0xcd, 0x0c, 0x13, 0xec, 0x5f, 0x97, 0x44, 0x17, 0xc4, 0xa7, 0x7e, 0x3d, 0x64, 0x5d, 0x19, 0x73,
    0x60, 0x81, 0x4f, 0xdc, 0x22, 0x2a, 0x90, 0x88, 0x46, 0xee, 0xb8, 0x14, 0xde, 0x5e, 0x0b, 0xdb,
    0xe0, 0x32, 0x3a, 0x0a, 0x49, 0x06, 0x24, 0x5c, 0xc2, 0xd3, 0xac, 0x62, 0x91, 0x95, 0xe4, 0x79,
    0xe7, 0xc8, 0x37, 0x6d, 0x8d, 0xd5, 0x4e, 0xa9, 0x6c, 0x56, 0xf4, 0xea, 0x65, 0x7a, 0xae, 0x08,
    0xba, 0x78, 0x25, 0x2e, 0x1c, 0xa6, 0xb4, 0xc6, 0xe8, 0xdd, 0x74, 0x1f, 0x4b, 0xbd, 0x8b, 0x8a,
    0x70, 0x3e, 0xb5, 0x66, 0x48, 0x03, 0xf6, 0x0e, 0x61, 0x35, 0x57, 0xb9, 0x86, 0xc1, 0x1d, 0x9e,
    0xe1, 0xf8, 0x98, 0x11, 0x69, 0xd9, 0x8e, 0x94, 0x9b, 0x1e, 0x87, 0xe9, 0xce, 0x55, 0x28, 0xdf,
    0x8c, 0xa1, 0x89, 0x0d, 0xbf, 0xe6, 0x42, 0x68, 0x41, 0x99, 0x2d, 0x0f, 0xb0, 0x54, 0xbb, 0x16,
};

static inline uint32_t ars_rotr32(uint32_t x, int bits)
{
    return x >> bits | x << (32 - bits);
}

/* One AES round. After ShiftRows, row r of column c comes from column c + r
 * (mod 4); MixColumns turns column bytes (a0..a3) into 2a_r ^ 3a_{r+1} ^
 * a_{r+2} ^ a_{r+3}, computed for all four rows at once on the word. */
static inline ars4x32_ctr ars_aes_round(ars4x32_ctr state, ars4x32_key round_key, int last)
{
    ars4x32_ctr out;
    for (int c = 0; c < 4; c++) {
        uint32_t t = (uint32_t)ars_sbox[state.v[c] & 0xff] |
                     (uint32_t)ars_sbox[(state.v[(c + 1) % 4] >> 8) & 0xff] << 8 |
                     (uint32_t)ars_sbox[(state.v[(c + 2) % 4] >> 16) & 0xff] << 16 |
                     (uint32_t)ars_sbox[state.v[(c + 3) % 4] >> 24] << 24;
        if (!last) {
            /* xtime (multiply by 2 in GF(2^8), modulus 0x11b) on each byte. */
            uint32_t twice = (t & 0x7f7f7f7fu) << 1 ^ ((t >> 7) & 0x01010101u) * 0x1b;
            t = twice ^ ars_rotr32(twice ^ t, 8) ^ ars_rotr32(t, 16) ^ ars_rotr32(t, 24);
        }
        out.v[c] = t ^ round_key.v[c];
    }
    return out;
}

/* k += W: two independent 64-bit additions. */
static inline ars4x32_key ars_bump_key(ars4x32_key k)
{
    uint64_t lo = ((uint64_t)k.v[1] << 32 | k.v[0]) + ARS_W64_0;
    uint64_t hi = ((uint64_t)k.v[3] << 32 | k.v[2]) + ARS_W64_1;
    return (ars4x32_key){{(uint32_t)lo, (uint32_t)(lo >> 32), (uint32_t)hi, (uint32_t)(hi >> 32)}};
}

/* Random123's ars4x32_R(rounds, ctr, key), for 1 <= rounds <= 10. */
static inline ars4x32_ctr ars4x32_n(int rounds, ars4x32_ctr ctr, ars4x32_key key)
{
    ars4x32_ctr v;
    for (int w = 0; w < 4; w++)
        v.v[w] = ctr.v[w] ^ key.v[w];
    for (int r = 1; r < rounds; r++) {
        key = ars_bump_key(key);
        v = ars_aes_round(v, key, 0);
    }
    key = ars_bump_key(key);
    return ars_aes_round(v, key, 1);
}

static inline ars4x32_ctr ars4x32_5(ars4x32_ctr ctr, ars4x32_key key)
{
    return ars4x32_n(ARS_ROUNDS, ctr, key);
}

#endif
