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

/* The AES S-box, FIPS-197 figure 7, as a list X(S(0)) X(S(1)) ... so that a
 * table derived from it (kernel.c's round tables) is written from the same
 * 256 values. */
#define ARS_SBOX_LIST(X) \
    X(0x63) X(0x7c) X(0x77) X(0x7b) X(0xf2) X(0x6b) X(0x6f) X(0xc5) \
    X(0x30) X(0x01) X(0x67) X(0x2b) X(0xfe) X(0xd7) X(0xab) X(0x76) \
    X(0xca) X(0x82) X(0xc9) X(0x7d) X(0xfa) X(0x59) X(0x47) X(0xf0) \
    X(0xad) X(0xd4) X(0xa2) X(0xaf) X(0x9c) X(0xa4) X(0x72) X(0xc0) \
    X(0xb7) X(0xfd) X(0x93) X(0x26) X(0x36) X(0x3f) X(0xf7) X(0xcc) \
    X(0x34) X(0xa5) X(0xe5) X(0xf1) X(0x71) X(0xd8) X(0x31) X(0x15) \
    X(0x04) X(0xc7) X(0x23) X(0xc3) X(0x18) X(0x96) X(0x05) X(0x9a) \
    X(0x07) X(0x12) X(0x80) X(0xe2) X(0xeb) X(0x27) X(0xb2) X(0x75) \
    X(0x09) X(0x83) X(0x2c) X(0x1a) X(0x1b) X(0x6e) X(0x5a) X(0xa0) \
    X(0x52) X(0x3b) X(0xd6) X(0xb3) X(0x29) X(0xe3) X(0x2f) X(0x84) \
    X(0x53) X(0xd1) X(0x00) X(0xed) X(0x20) X(0xfc) X(0xb1) X(0x5b) \
    X(0x6a) X(0xcb) X(0xbe) X(0x39) X(0x4a) X(0x4c) X(0x58) X(0xcf) \
    X(0xd0) X(0xef) X(0xaa) X(0xfb) X(0x43) X(0x4d) X(0x33) X(0x85) \
    X(0x45) X(0xf9) X(0x02) X(0x7f) X(0x50) X(0x3c) X(0x9f) X(0xa8) \
    X(0x51) X(0xa3) X(0x40) X(0x8f) X(0x92) X(0x9d) X(0x38) X(0xf5) \
    X(0xbc) X(0xb6) X(0xda) X(0x21) X(0x10) X(0xff) X(0xf3) X(0xd2) \
    X(0xcd) X(0x0c) X(0x13) X(0xec) X(0x5f) X(0x97) X(0x44) X(0x17) \
    X(0xc4) X(0xa7) X(0x7e) X(0x3d) X(0x64) X(0x5d) X(0x19) X(0x73) \
    X(0x60) X(0x81) X(0x4f) X(0xdc) X(0x22) X(0x2a) X(0x90) X(0x88) \
    X(0x46) X(0xee) X(0xb8) X(0x14) X(0xde) X(0x5e) X(0x0b) X(0xdb) \
    X(0xe0) X(0x32) X(0x3a) X(0x0a) X(0x49) X(0x06) X(0x24) X(0x5c) \
    X(0xc2) X(0xd3) X(0xac) X(0x62) X(0x91) X(0x95) X(0xe4) X(0x79) \
    X(0xe7) X(0xc8) X(0x37) X(0x6d) X(0x8d) X(0xd5) X(0x4e) X(0xa9) \
    X(0x6c) X(0x56) X(0xf4) X(0xea) X(0x65) X(0x7a) X(0xae) X(0x08) \
    X(0xba) X(0x78) X(0x25) X(0x2e) X(0x1c) X(0xa6) X(0xb4) X(0xc6) \
    X(0xe8) X(0xdd) X(0x74) X(0x1f) X(0x4b) X(0xbd) X(0x8b) X(0x8a) \
    X(0x70) X(0x3e) X(0xb5) X(0x66) X(0x48) X(0x03) X(0xf6) X(0x0e) \
    X(0x61) X(0x35) X(0x57) X(0xb9) X(0x86) X(0xc1) X(0x1d) X(0x9e) \
    X(0xe1) X(0xf8) X(0x98) X(0x11) X(0x69) X(0xd9) X(0x8e) X(0x94) \
    X(0x9b) X(0x1e) X(0x87) X(0xe9) X(0xce) X(0x55) X(0x28) X(0xdf) \
    X(0x8c) X(0xa1) X(0x89) X(0x0d) X(0xbf) X(0xe6) X(0x42) X(0x68) \
    X(0x41) X(0x99) X(0x2d) X(0x0f) X(0xb0) X(0x54) X(0xbb) X(0x16)

#define ARS_SBOX_BYTE(s) s,
static const uint8_t ars_sbox[256] = {ARS_SBOX_LIST(ARS_SBOX_BYTE)};

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
