/*
 * The throw kernel: every path that turns generator blocks into hits, the
 * run-time choice between them, and the OpenMP loop over blocks. The stream is
 * defined in kernel.h; philox.h and ars.h are the portable generators all paths
 * must agree with (tests/test_kernel.c holds each path to a reference written
 * independently, tests/test_random123.c to Random123 itself).
 *
 * Paths work on whole blocks, two throws each.
 *
 * Philox: the vector paths keep one block per 64-bit lane, with each 32-bit
 * word in the low half of its lane: then a single vpmuludq yields the full
 * 64-bit product M * word, its high half is one shift away, and the garbage
 * that builds up in the upper halves never matters because vpmuludq reads only
 * the lower ones. The same instruction squares x and y exactly for the hit test.
 *
 * ARS: one block per 128-bit lane, which is what (v)aesenc works on, so a zmm
 * holds 4 blocks, a ymm 2, an xmm (or an Arm NEON register) 1. The round keys depend on the seed only and
 * are the same in every lane. After the last round each 64-bit lane is one
 * throw, x in its low half and y in its high half: vpmuludq squares x, a shift
 * brings y down to be squared.
 *
 * Dispatch is explicit (cpuid + xgetbv, a table of paths, a user override) and
 * never on the function that holds the OpenMP pragma: clang 14 does not clone
 * the outlined parallel body under target_clones, so only leaf functions carry
 * target attributes.
 */
#include "kernel.h"

#include "ars.h"
#include "philox.h"

#include <ctype.h>
#include <dlfcn.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define PIMC_X86 1
#include <cpuid.h>
#include <immintrin.h>
#else
#define PIMC_X86 0
#endif

/* Armv8's AES instructions are optional (FEAT_AES); Linux says whether this
 * CPU has them in the auxiliary vector. gcc's target("+crypto") lets one leaf
 * use them in a baseline build. */
#if defined(__aarch64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define PIMC_ARM_AES 1
#include <arm_neon.h>
#include <asm/hwcap.h>
#include <sys/auxv.h>
#else
#define PIMC_ARM_AES 0
#endif

static const char *const kernel_names[PIMC_KERNEL_COUNT] = {
    [PIMC_KERNEL_AUTO] = "auto",
    [PIMC_KERNEL_SCALAR] = "scalar",
    [PIMC_KERNEL_AESNI] = "aesni",
    [PIMC_KERNEL_NEON] = "neon",
    [PIMC_KERNEL_AVX2] = "avx2",
    [PIMC_KERNEL_AVX512] = "avx512",
};

/* x^2 + y^2 < 2^64 exactly: both squares fit in 64 bits, and their sum wraps
 * around (and so ends up below x^2) exactly when it reaches 2^64. */
static inline unsigned throw_hits(uint32_t x, uint32_t y)
{
    uint64_t xx = (uint64_t)x * x;
    return xx + (uint64_t)y * y >= xx;
}

static inline philox4x32_ctr block_words(uint64_t seed, uint64_t block)
{
    philox4x32_ctr ctr = {{(uint32_t)block, (uint32_t)(block >> 32), 0, 0}};
    philox2x32_key key = {{(uint32_t)seed, (uint32_t)(seed >> 32)}};
    return philox4x32_10(ctr, key);
}

/* Both throws of each block in [first_block, first_block + blocks). */
static uint64_t block_hits_scalar(uint64_t seed, uint64_t first_block, uint64_t blocks)
{
    uint64_t hits = 0;
    for (uint64_t b = first_block; b < first_block + blocks; b++) {
        philox4x32_ctr w = block_words(seed, b);
        hits += throw_hits(w.v[0], w.v[1]) + throw_hits(w.v[2], w.v[3]);
    }
    return hits;
}

static inline ars4x32_ctr ars_block_words(uint64_t seed, uint64_t block)
{
    ars4x32_ctr ctr = {{(uint32_t)block, (uint32_t)(block >> 32), 0, 0}};
    ars4x32_key key = {{(uint32_t)seed, (uint32_t)(seed >> 32), 0, 0}};
    return ars4x32_5(ctr, key);
}

/* Round key r (0..ARS_ROUNDS) of the seed's key (seed, 0): the key plus r Weyl steps,
 * as two 64-bit halves. */
static inline uint64_t ars_round_key_lo(uint64_t seed, int r)
{
    return seed + (uint64_t)r * ARS_W64_0;
}

static inline uint64_t ars_round_key_hi(int r)
{
    return (uint64_t)r * ARS_W64_1;
}

/* The portable path uses the classic table form of an AES round: a byte x in
 * row 0 of a column contributes (2 S(x), S(x), S(x), 3 S(x)) to that column after
 * SubBytes and MixColumns, and a byte in row r the same word rotated by 8r bits.
 * Four lookups a column instead of ars.h's byte-wise arithmetic: twice as fast
 * in a release build (-O3), with the same outputs (tests/test_kernel.c holds it
 * to the reference). */
#define ARS_XTIME(s) ((uint32_t)(((s) << 1 ^ ((s) & 0x80 ? 0x1b : 0)) & 0xff))
#define ARS_MIX_COLUMN(s) (ARS_XTIME(s) | (uint32_t)(s) << 8 | (uint32_t)(s) << 16 | (ARS_XTIME(s) ^ (s)) << 24),
static const uint32_t ars_round_table[256] = {ARS_SBOX_LIST(ARS_MIX_COLUMN)};

static inline uint32_t rotl32(uint32_t x, int bits)
{
    return x << bits | x >> (32 - bits);
}

static uint64_t ars_block_hits_scalar(uint64_t seed, uint64_t first_block, uint64_t blocks)
{
    uint32_t key[ARS_ROUNDS + 1][4];
    for (int r = 0; r <= ARS_ROUNDS; r++) {
        const uint64_t lo = ars_round_key_lo(seed, r), hi = ars_round_key_hi(r);
        key[r][0] = (uint32_t)lo, key[r][1] = (uint32_t)(lo >> 32), key[r][2] = (uint32_t)hi;
        key[r][3] = (uint32_t)(hi >> 32);
    }
    const uint32_t *t = ars_round_table;
    uint64_t hits = 0;
    for (uint64_t b = first_block; b < first_block + blocks; b++) {
        uint32_t s0 = (uint32_t)b ^ key[0][0], s1 = (uint32_t)(b >> 32) ^ key[0][1], s2 = key[0][2], s3 = key[0][3];
        for (int r = 1; r < ARS_ROUNDS; r++) {
            const uint32_t n0 = t[s0 & 0xff] ^ rotl32(t[(s1 >> 8) & 0xff], 8) ^ rotl32(t[(s2 >> 16) & 0xff], 16) ^
                                rotl32(t[s3 >> 24], 24) ^ key[r][0];
            const uint32_t n1 = t[s1 & 0xff] ^ rotl32(t[(s2 >> 8) & 0xff], 8) ^ rotl32(t[(s3 >> 16) & 0xff], 16) ^
                                rotl32(t[s0 >> 24], 24) ^ key[r][1];
            const uint32_t n2 = t[s2 & 0xff] ^ rotl32(t[(s3 >> 8) & 0xff], 8) ^ rotl32(t[(s0 >> 16) & 0xff], 16) ^
                                rotl32(t[s1 >> 24], 24) ^ key[r][2];
            const uint32_t n3 = t[s3 & 0xff] ^ rotl32(t[(s0 >> 8) & 0xff], 8) ^ rotl32(t[(s1 >> 16) & 0xff], 16) ^
                                rotl32(t[s2 >> 24], 24) ^ key[r][3];
            s0 = n0, s1 = n1, s2 = n2, s3 = n3;
        }
        /* The last round has no MixColumns: the S-box alone. */
        const ars4x32_ctr w = ars_aes_round((ars4x32_ctr){{s0, s1, s2, s3}},
                                            (ars4x32_key){{key[ARS_ROUNDS][0], key[ARS_ROUNDS][1],
                                                           key[ARS_ROUNDS][2], key[ARS_ROUNDS][3]}},
                                            1);
        hits += throw_hits(w.v[0], w.v[1]) + throw_hits(w.v[2], w.v[3]);
    }
    return hits;
}

#if PIMC_X86

/* ---- Philox, AVX-512F: 8 blocks per zmm, 4 independent groups in flight ---------- */

#define AVX512_LANES 8
#ifndef AVX512_GROUPS
#define AVX512_GROUPS 4 /* 4 x 4 state registers: enough to hide vpmuludq latency */
#endif

__attribute__((target("avx512f"))) static uint64_t block_hits_avx512(uint64_t seed, uint64_t first_block,
                                                                     uint64_t blocks)
{
    const uint64_t step = AVX512_LANES * AVX512_GROUPS;
    const __m512i m0 = _mm512_set1_epi64(PHILOX_M4x32_0);
    const __m512i m1 = _mm512_set1_epi64(PHILOX_M4x32_1);
    __m512i key0[PHILOX_ROUNDS], key1[PHILOX_ROUNDS];
    for (int r = 0; r < PHILOX_ROUNDS; r++) {
        key0[r] = _mm512_set1_epi64((uint32_t)((uint32_t)seed + (uint32_t)r * PHILOX_W32_0));
        key1[r] = _mm512_set1_epi64((uint32_t)((uint32_t)(seed >> 32) + (uint32_t)r * PHILOX_W32_1));
    }
    __m512i block = _mm512_add_epi64(_mm512_set1_epi64((long long)first_block),
                                     _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0));
    const __m512i group_step = _mm512_set1_epi64(AVX512_LANES);
    const __m512i loop_step = _mm512_set1_epi64((long long)step);

    uint64_t misses = 0, done = 0;
    for (; blocks - done >= step; done += step) {
        __m512i x0[AVX512_GROUPS], x1[AVX512_GROUPS], x2[AVX512_GROUPS], x3[AVX512_GROUPS];
        __m512i ctr = block;
        /* Round 0 with counter words 2 and 3 known to be zero. */
        for (int g = 0; g < AVX512_GROUPS; g++) {
            __m512i lo0 = _mm512_mul_epu32(ctr, m0);
            x0[g] = _mm512_xor_si512(_mm512_srli_epi64(ctr, 32), key0[0]);
            x1[g] = _mm512_setzero_si512();
            x2[g] = _mm512_xor_si512(_mm512_srli_epi64(lo0, 32), key1[0]);
            x3[g] = lo0;
            ctr = _mm512_add_epi64(ctr, group_step);
        }
        for (int r = 1; r < PHILOX_ROUNDS; r++) {
            for (int g = 0; g < AVX512_GROUPS; g++) {
                __m512i p0 = _mm512_mul_epu32(x0[g], m0);
                __m512i p1 = _mm512_mul_epu32(x2[g], m1);
                x0[g] = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p1, 32), x1[g], key0[r], 0x96);
                x1[g] = p1;
                x2[g] = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p0, 32), x3[g], key1[r], 0x96);
                x3[g] = p0;
            }
        }
        for (int g = 0; g < AVX512_GROUPS; g++) {
            __m512i xx_even = _mm512_mul_epu32(x0[g], x0[g]);
            __m512i xx_odd = _mm512_mul_epu32(x2[g], x2[g]);
            __m512i sum_even = _mm512_add_epi64(xx_even, _mm512_mul_epu32(x1[g], x1[g]));
            __m512i sum_odd = _mm512_add_epi64(xx_odd, _mm512_mul_epu32(x3[g], x3[g]));
            unsigned miss = (unsigned)_mm512_cmplt_epu64_mask(sum_even, xx_even) |
                            (unsigned)_mm512_cmplt_epu64_mask(sum_odd, xx_odd) << 8;
            misses += (unsigned)__builtin_popcount(miss);
        }
        block = _mm512_add_epi64(block, loop_step);
    }
    return 2 * done - misses + block_hits_scalar(seed, first_block + done, blocks - done);
}

/* ---- Philox, AVX2: 4 blocks per ymm, 2 groups (16 ymm registers only) ------------- */

#define AVX2_LANES 4
#ifndef AVX2_GROUPS
#define AVX2_GROUPS 2
#endif

__attribute__((target("avx2"))) static uint64_t block_hits_avx2(uint64_t seed, uint64_t first_block,
                                                                 uint64_t blocks)
{
    const uint64_t step = AVX2_LANES * AVX2_GROUPS;
    const __m256i m0 = _mm256_set1_epi64x(PHILOX_M4x32_0);
    const __m256i m1 = _mm256_set1_epi64x(PHILOX_M4x32_1);
    /* Adding 2^63 turns an unsigned compare into the signed one AVX2 has. */
    const __m256i sign = _mm256_set1_epi64x((long long)(UINT64_C(1) << 63));
    uint32_t key0[PHILOX_ROUNDS], key1[PHILOX_ROUNDS];
    for (int r = 0; r < PHILOX_ROUNDS; r++) {
        key0[r] = (uint32_t)seed + (uint32_t)r * PHILOX_W32_0;
        key1[r] = (uint32_t)(seed >> 32) + (uint32_t)r * PHILOX_W32_1;
    }
    __m256i block = _mm256_add_epi64(_mm256_set1_epi64x((long long)first_block), _mm256_set_epi64x(3, 2, 1, 0));
    const __m256i group_step = _mm256_set1_epi64x(AVX2_LANES);
    const __m256i loop_step = _mm256_set1_epi64x((long long)step);

    __m256i misses = _mm256_setzero_si256(); /* each lane counts down by one per miss */
    uint64_t done = 0;
    for (; blocks - done >= step; done += step) {
        __m256i x0[AVX2_GROUPS], x1[AVX2_GROUPS], x2[AVX2_GROUPS], x3[AVX2_GROUPS];
        __m256i ctr = block;
        for (int g = 0; g < AVX2_GROUPS; g++) {
            __m256i lo0 = _mm256_mul_epu32(ctr, m0);
            x0[g] = _mm256_xor_si256(_mm256_srli_epi64(ctr, 32), _mm256_set1_epi64x(key0[0]));
            x1[g] = _mm256_setzero_si256();
            x2[g] = _mm256_xor_si256(_mm256_srli_epi64(lo0, 32), _mm256_set1_epi64x(key1[0]));
            x3[g] = lo0;
            ctr = _mm256_add_epi64(ctr, group_step);
        }
        for (int r = 1; r < PHILOX_ROUNDS; r++) {
            const __m256i k0 = _mm256_set1_epi64x(key0[r]), k1 = _mm256_set1_epi64x(key1[r]);
            for (int g = 0; g < AVX2_GROUPS; g++) {
                __m256i p0 = _mm256_mul_epu32(x0[g], m0);
                __m256i p1 = _mm256_mul_epu32(x2[g], m1);
                x0[g] = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p1, 32), x1[g]), k0);
                x1[g] = p1;
                x2[g] = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p0, 32), x3[g]), k1);
                x3[g] = p0;
            }
        }
        for (int g = 0; g < AVX2_GROUPS; g++) {
            __m256i xx_even = _mm256_add_epi64(_mm256_mul_epu32(x0[g], x0[g]), sign);
            __m256i xx_odd = _mm256_add_epi64(_mm256_mul_epu32(x2[g], x2[g]), sign);
            __m256i sum_even = _mm256_add_epi64(xx_even, _mm256_mul_epu32(x1[g], x1[g]));
            __m256i sum_odd = _mm256_add_epi64(xx_odd, _mm256_mul_epu32(x3[g], x3[g]));
            misses = _mm256_add_epi64(misses, _mm256_cmpgt_epi64(xx_even, sum_even));
            misses = _mm256_add_epi64(misses, _mm256_cmpgt_epi64(xx_odd, sum_odd));
        }
        block = _mm256_add_epi64(block, loop_step);
    }
    uint64_t lane[AVX2_LANES];
    _mm256_storeu_si256((__m256i *)lane, misses);
    uint64_t missed = 0 - (lane[0] + lane[1] + lane[2] + lane[3]);
    return 2 * done - missed + block_hits_scalar(seed, first_block + done, blocks - done);
}

/* ---- ARS, VAES + AVX-512F: 4 blocks per zmm, 8 independent groups -------- */

/* vaesenc has a latency of 3-5 cycles and issues once a cycle: 8 blocks of
 * state in flight keep the AES unit busy, and 8 groups x 4 blocks make one
 * iteration 64 throws, the granule pimc_plan_work keeps to. */
#ifndef ARS512_GROUPS
#define ARS512_GROUPS 8
#endif

__attribute__((target("avx512f,vaes"))) static uint64_t ars_block_hits_avx512(uint64_t seed, uint64_t first_block,
                                                                         uint64_t blocks)
{
    const uint64_t step = 4 * ARS512_GROUPS;
    __m512i key[ARS_ROUNDS + 1];
    for (int r = 0; r <= ARS_ROUNDS; r++)
        key[r] = _mm512_broadcast_i32x4(
            _mm_set_epi64x((long long)ars_round_key_hi(r), (long long)ars_round_key_lo(seed, r)));
    /* Counter of lane l: (first_block + l) in the low 64 bits, 0 in the high. */
    __m512i ctr = _mm512_add_epi64(_mm512_set1_epi64((long long)first_block), _mm512_set_epi64(0, 3, 0, 2, 0, 1, 0, 0));
    ctr = _mm512_and_si512(ctr, _mm512_set_epi64(0, -1, 0, -1, 0, -1, 0, -1));
    const __m512i group_step = _mm512_set_epi64(0, 4, 0, 4, 0, 4, 0, 4);
    const __m512i one = _mm512_set1_epi64(1);

    __m512i misses = _mm512_setzero_si512(); /* one count per 64-bit lane */
    uint64_t done = 0;
    for (; blocks - done >= step; done += step) {
        __m512i v[ARS512_GROUPS];
        for (int g = 0; g < ARS512_GROUPS; g++) {
            v[g] = _mm512_xor_si512(ctr, key[0]);
            ctr = _mm512_add_epi64(ctr, group_step);
        }
        for (int r = 1; r < ARS_ROUNDS; r++)
            for (int g = 0; g < ARS512_GROUPS; g++)
                v[g] = _mm512_aesenc_epi128(v[g], key[r]);
        for (int g = 0; g < ARS512_GROUPS; g++) {
            __m512i w = _mm512_aesenclast_epi128(v[g], key[ARS_ROUNDS]);
            __m512i xx = _mm512_mul_epu32(w, w);
            __m512i y = _mm512_srli_epi64(w, 32);
            __m512i sum = _mm512_add_epi64(xx, _mm512_mul_epu32(y, y));
            misses = _mm512_mask_add_epi64(misses, _mm512_cmplt_epu64_mask(sum, xx), misses, one);
        }
    }
    uint64_t missed = (uint64_t)_mm512_reduce_add_epi64(misses);
    return 2 * done - missed + ars_block_hits_scalar(seed, first_block + done, blocks - done);
}

/* ---- ARS, VAES + AVX2: 2 blocks per ymm, 4 groups (16 ymm registers) ------ */

#ifndef ARS256_GROUPS
#define ARS256_GROUPS 4
#endif

__attribute__((target("avx2,vaes"))) static uint64_t ars_block_hits_avx2(uint64_t seed, uint64_t first_block,
                                                                    uint64_t blocks)
{
    const uint64_t step = 2 * ARS256_GROUPS;
    __m256i key[ARS_ROUNDS + 1];
    for (int r = 0; r <= ARS_ROUNDS; r++)
        key[r] = _mm256_broadcastsi128_si256(
            _mm_set_epi64x((long long)ars_round_key_hi(r), (long long)ars_round_key_lo(seed, r)));
    __m256i ctr = _mm256_set_epi64x(0, (long long)(first_block + 1), 0, (long long)first_block);
    const __m256i group_step = _mm256_set_epi64x(0, 2, 0, 2);
    /* Adding 2^63 turns an unsigned compare into the signed one AVX2 has. */
    const __m256i sign = _mm256_set1_epi64x((long long)(UINT64_C(1) << 63));

    __m256i misses = _mm256_setzero_si256(); /* each lane counts down by one per miss */
    uint64_t done = 0;
    for (; blocks - done >= step; done += step) {
        __m256i v[ARS256_GROUPS];
        for (int g = 0; g < ARS256_GROUPS; g++) {
            v[g] = _mm256_xor_si256(ctr, key[0]);
            ctr = _mm256_add_epi64(ctr, group_step);
        }
        for (int r = 1; r < ARS_ROUNDS; r++)
            for (int g = 0; g < ARS256_GROUPS; g++)
                v[g] = _mm256_aesenc_epi128(v[g], key[r]);
        for (int g = 0; g < ARS256_GROUPS; g++) {
            __m256i w = _mm256_aesenclast_epi128(v[g], key[ARS_ROUNDS]);
            __m256i xx = _mm256_add_epi64(_mm256_mul_epu32(w, w), sign);
            __m256i y = _mm256_srli_epi64(w, 32);
            __m256i sum = _mm256_add_epi64(xx, _mm256_mul_epu32(y, y));
            misses = _mm256_add_epi64(misses, _mm256_cmpgt_epi64(xx, sum));
        }
    }
    uint64_t lane[4];
    _mm256_storeu_si256((__m256i *)lane, misses);
    uint64_t missed = 0 - (lane[0] + lane[1] + lane[2] + lane[3]);
    return 2 * done - missed + ars_block_hits_scalar(seed, first_block + done, blocks - done);
}

/* ---- ARS, AES-NI: 1 block per xmm, 8 groups ------------------------------- */

#ifndef ARS128_GROUPS
#define ARS128_GROUPS 8
#endif

__attribute__((target("aes,sse4.2"))) static uint64_t ars_block_hits_aesni(uint64_t seed, uint64_t first_block,
                                                                      uint64_t blocks)
{
    const uint64_t step = ARS128_GROUPS;
    __m128i key[ARS_ROUNDS + 1];
    for (int r = 0; r <= ARS_ROUNDS; r++)
        key[r] = _mm_set_epi64x((long long)ars_round_key_hi(r), (long long)ars_round_key_lo(seed, r));
    __m128i ctr = _mm_set_epi64x(0, (long long)first_block);
    const __m128i group_step = _mm_set_epi64x(0, 1);
    const __m128i sign = _mm_set1_epi64x((long long)(UINT64_C(1) << 63));

    __m128i misses = _mm_setzero_si128();
    uint64_t done = 0;
    for (; blocks - done >= step; done += step) {
        __m128i v[ARS128_GROUPS];
        for (int g = 0; g < ARS128_GROUPS; g++) {
            v[g] = _mm_xor_si128(ctr, key[0]);
            ctr = _mm_add_epi64(ctr, group_step);
        }
        for (int r = 1; r < ARS_ROUNDS; r++)
            for (int g = 0; g < ARS128_GROUPS; g++)
                v[g] = _mm_aesenc_si128(v[g], key[r]);
        for (int g = 0; g < ARS128_GROUPS; g++) {
            __m128i w = _mm_aesenclast_si128(v[g], key[ARS_ROUNDS]);
            __m128i xx = _mm_add_epi64(_mm_mul_epu32(w, w), sign);
            __m128i y = _mm_srli_epi64(w, 32);
            __m128i sum = _mm_add_epi64(xx, _mm_mul_epu32(y, y));
            misses = _mm_add_epi64(misses, _mm_cmpgt_epi64(xx, sum));
        }
    }
    uint64_t lane[2];
    _mm_storeu_si128((__m128i *)lane, misses);
    uint64_t missed = 0 - (lane[0] + lane[1]);
    return 2 * done - missed + ars_block_hits_scalar(seed, first_block + done, blocks - done);
}

/* The OS must have enabled the registers too (XCR0), not only the CPU have the
 * instructions: hypervisors can advertise AVX-512 the guest kernel did not turn on. */
static uint64_t read_xcr0(void)
{
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (uint64_t)edx << 32 | eax;
}

/* What this CPU and OS can run: cpuid leaves 1 and 7 and XCR0. */
struct cpu_features {
    bool aesni, avx2, avx512f, vaes_ymm, vaes_zmm;
};

static struct cpu_features read_cpu_features(void)
{
    struct cpu_features f = {0};
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
        return f;
    /* Legacy-encoded SSE needs no XCR0 bit of its own beyond what every x86-64 OS sets. */
    f.aesni = (ecx & bit_AES) && (ecx & bit_SSE4_2);
    const bool osxsave = ecx & bit_OSXSAVE, avx = ecx & bit_AVX;
    if (!osxsave || !avx)
        return f;
    const uint64_t xcr0 = read_xcr0();
    const bool ymm_state = (xcr0 & 0x6) == 0x6;   /* SSE and AVX state */
    const bool zmm_state = (xcr0 & 0xe6) == 0xe6; /* plus opmask, ZMM_Hi256, Hi16_ZMM */
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
        return f;
    const bool vaes = ecx & bit_VAES;
    f.avx2 = ymm_state && (ebx & bit_AVX2);
    f.avx512f = zmm_state && (ebx & bit_AVX512F);
    f.vaes_ymm = f.avx2 && vaes;
    f.vaes_zmm = f.avx512f && vaes;
    return f;
}

static bool cpu_has(enum pimc_rng rng, enum pimc_kernel kernel)
{
    const struct cpu_features features = read_cpu_features();
    switch (kernel) {
    case PIMC_KERNEL_AESNI:
        return rng == PIMC_RNG_ARS && features.aesni;
    case PIMC_KERNEL_AVX2:
        return rng == PIMC_RNG_ARS ? features.vaes_ymm : features.avx2;
    case PIMC_KERNEL_AVX512:
        return rng == PIMC_RNG_ARS ? features.vaes_zmm : features.avx512f;
    default:
        return false;
    }
}

#endif /* PIMC_X86 */

#if PIMC_ARM_AES

/* ---- ARS, Armv8 AES: 1 block per NEON register, 8 in flight ---------------- */

/* Arm splits the round differently from x86: AESE(v, k) is ShiftRows and
 * SubBytes of v ^ k, AESMC is MixColumns. So x86's aesenc(v, k) ^ ... chain
 *   v ^ k0, aesenc(., k1) .. aesenc(., k4), aesenclast(., k5)
 * is AESMC(AESE(ctr, k0)), then AESMC(AESE(., k_r)) for r = 1..3, AESE(., k4),
 * and a final XOR with k5: each round key is XORed in at the start of the next
 * AESE instead of at the end of the round before. */
#ifndef ARSNEON_GROUPS
#define ARSNEON_GROUPS 8
#endif

__attribute__((target("+crypto"))) static uint64_t ars_block_hits_neon(uint64_t seed, uint64_t first_block,
                                                                    uint64_t blocks)
{
    uint8x16_t key[ARS_ROUNDS + 1];
    for (int r = 0; r <= ARS_ROUNDS; r++)
        key[r] = vreinterpretq_u8_u64(vcombine_u64(vcreate_u64(ars_round_key_lo(seed, r)),
                                                   vcreate_u64(ars_round_key_hi(r))));
    uint64_t hits = 0, done = 0;
    for (; blocks - done >= ARSNEON_GROUPS; done += ARSNEON_GROUPS) {
        uint8x16_t v[ARSNEON_GROUPS];
        for (int g = 0; g < ARSNEON_GROUPS; g++)
            v[g] = vaesmcq_u8(vaeseq_u8(
                vreinterpretq_u8_u64(vcombine_u64(vcreate_u64(first_block + done + (uint64_t)g), vcreate_u64(0))),
                key[0]));
        for (int r = 1; r < ARS_ROUNDS - 1; r++)
            for (int g = 0; g < ARSNEON_GROUPS; g++)
                v[g] = vaesmcq_u8(vaeseq_u8(v[g], key[r]));
        for (int g = 0; g < ARSNEON_GROUPS; g++) {
            uint64x2_t w = vreinterpretq_u64_u8(veorq_u8(vaeseq_u8(v[g], key[ARS_ROUNDS - 1]), key[ARS_ROUNDS]));
            uint64_t even = vgetq_lane_u64(w, 0), odd = vgetq_lane_u64(w, 1);
            hits += throw_hits((uint32_t)even, (uint32_t)(even >> 32)) + throw_hits((uint32_t)odd, (uint32_t)(odd >> 32));
        }
    }
    return hits + ars_block_hits_scalar(seed, first_block + done, blocks - done);
}

static bool cpu_has_arm_aes(void)
{
    return (getauxval(AT_HWCAP) & HWCAP_AES) != 0;
}

#endif /* PIMC_ARM_AES */

typedef uint64_t (*block_hits_fn)(uint64_t seed, uint64_t first_block, uint64_t blocks);

/* One generator's paths, indexed by kernel; NULL where it has none (or this build lacks it). */
static const block_hits_fn paths[PIMC_RNG_COUNT][PIMC_KERNEL_COUNT] = {
    [PIMC_RNG_PHILOX] = {[PIMC_KERNEL_SCALAR] = block_hits_scalar,
#if PIMC_X86
                         [PIMC_KERNEL_AVX2] = block_hits_avx2, [PIMC_KERNEL_AVX512] = block_hits_avx512
#endif
    },
    [PIMC_RNG_ARS] = {[PIMC_KERNEL_SCALAR] = ars_block_hits_scalar,
#if PIMC_X86
                      [PIMC_KERNEL_AESNI] = ars_block_hits_aesni, [PIMC_KERNEL_AVX2] = ars_block_hits_avx2,
                      [PIMC_KERNEL_AVX512] = ars_block_hits_avx512
#endif
#if PIMC_ARM_AES
                      [PIMC_KERNEL_NEON] = ars_block_hits_neon
#endif
    },
};

static const char *const rng_names[PIMC_RNG_COUNT] = {[PIMC_RNG_PHILOX] = "philox4x32-10",
                                                      [PIMC_RNG_ARS] = "ars4x32-5"};
static const char *const rng_options[PIMC_RNG_COUNT] = {[PIMC_RNG_PHILOX] = "philox", [PIMC_RNG_ARS] = "ars"};

const char *pimc_rng_name(enum pimc_rng rng)
{
    return (unsigned)rng < PIMC_RNG_COUNT ? rng_names[rng] : "?";
}

const char *pimc_rng_option(enum pimc_rng rng)
{
    return (unsigned)rng < PIMC_RNG_COUNT ? rng_options[rng] : "?";
}

bool pimc_rng_from_name(const char *text, enum pimc_rng *rng)
{
    for (int r = 0; r < PIMC_RNG_COUNT; r++) {
        if (strcmp(text, rng_names[r]) == 0 || strcmp(text, rng_options[r]) == 0) {
            *rng = (enum pimc_rng)r;
            return true;
        }
    }
    return false;
}

const char *pimc_kernel_name(enum pimc_kernel kernel)
{
    return (unsigned)kernel < PIMC_KERNEL_COUNT ? kernel_names[kernel] : "?";
}

bool pimc_kernel_from_name(const char *name, enum pimc_kernel *kernel)
{
    for (int k = 0; k < PIMC_KERNEL_COUNT; k++) {
        if (strcmp(name, kernel_names[k]) == 0) {
            *kernel = (enum pimc_kernel)k;
            return true;
        }
    }
    return false;
}

static unsigned hidden_kernels;

void pimc_kernel_hide(unsigned mask)
{
    hidden_kernels = mask & ~(1u << PIMC_KERNEL_AUTO | 1u << PIMC_KERNEL_SCALAR); /* always there */
}

bool pimc_cpu_can_run(enum pimc_rng rng, enum pimc_kernel kernel)
{
    if ((unsigned)rng >= PIMC_RNG_COUNT || (unsigned)kernel >= PIMC_KERNEL_COUNT || (hidden_kernels & (1u << kernel)))
        return false;
    switch (kernel) {
    case PIMC_KERNEL_AUTO:
    case PIMC_KERNEL_SCALAR:
        return true;
    default:
#if PIMC_X86
        return cpu_has(rng, kernel);
#elif PIMC_ARM_AES
        return rng == PIMC_RNG_ARS && kernel == PIMC_KERNEL_NEON && cpu_has_arm_aes();
#else
        return false;
#endif
    }
}

bool pimc_kernel_available_for(enum pimc_rng rng, enum pimc_kernel kernel)
{
    return pimc_cpu_can_run(rng, kernel) && (kernel == PIMC_KERNEL_AUTO || paths[rng][kernel] != NULL);
}

bool pimc_kernel_available(enum pimc_kernel kernel)
{
    return pimc_kernel_available_for(PIMC_RNG_PHILOX, kernel);
}

/* Fastest first, as measured by bench/speed on the CPUs we have. */
static const enum pimc_kernel preference[] = {PIMC_KERNEL_AVX512, PIMC_KERNEL_AVX2, PIMC_KERNEL_AESNI,
                                              PIMC_KERNEL_NEON};

enum pimc_kernel pimc_kernel_resolve_for(enum pimc_rng rng, enum pimc_kernel kernel)
{
    if (kernel != PIMC_KERNEL_AUTO)
        return kernel;
    for (size_t p = 0; p < sizeof preference / sizeof *preference; p++)
        if (pimc_kernel_available_for(rng, preference[p]))
            return preference[p];
    return PIMC_KERNEL_SCALAR;
}

enum pimc_kernel pimc_kernel_resolve(enum pimc_kernel kernel)
{
    return pimc_kernel_resolve_for(PIMC_RNG_PHILOX, kernel);
}

/* The path's loop over whole blocks, and its generator for the half blocks at the ends. */
struct path {
    enum pimc_rng rng;
    block_hits_fn block_hits;
};

static struct path path_of(enum pimc_rng rng, enum pimc_kernel kernel)
{
    block_hits_fn f = paths[rng][pimc_kernel_resolve_for(rng, kernel)];
    return (struct path){rng, f != NULL ? f : paths[rng][PIMC_KERNEL_SCALAR]};
}

/* The throw of block `block` that starts at word `word` (0 or 2). */
static unsigned half_block_hits(enum pimc_rng rng, uint64_t seed, uint64_t block, int word)
{
    uint32_t x, y;
    if (rng == PIMC_RNG_ARS) {
        ars4x32_ctr w = ars_block_words(seed, block);
        x = w.v[word], y = w.v[word + 1];
    } else {
        philox4x32_ctr w = block_words(seed, block);
        x = w.v[word], y = w.v[word + 1];
    }
    return throw_hits(x, y);
}

static uint64_t count_hits_with(struct path path, uint64_t seed, uint64_t first_throw, uint64_t count)
{
    uint64_t hits = 0;
    if (count == 0)
        return 0;
    if (first_throw % 2 == 1) { /* starts on the second throw of a block */
        hits += half_block_hits(path.rng, seed, first_throw / 2, 2);
        first_throw++;
        count--;
    }
    hits += path.block_hits(seed, first_throw / 2, count / 2);
    if (count % 2 == 1) /* ends on the first throw of a block */
        hits += half_block_hits(path.rng, seed, (first_throw + count) / 2, 0);
    return hits;
}

uint64_t pimc_count_hits(enum pimc_rng rng, enum pimc_kernel kernel, uint64_t seed, uint64_t first_throw,
                         uint64_t count)
{
    return count_hits_with(path_of(rng, kernel), seed, first_throw, count);
}

/* ---- the work plan: blocks and waves from the throws and the threads -------- */

#define GRAIN_THROWS UINT64_C(64) /* the widest path's iteration: 32 Philox blocks in 4 zmm, or 8 x 4 ARS blocks */
#define MIN_BLOCKS_PER_THREAD UINT64_C(8)
#define MAX_BLOCKS_PER_THREAD_PER_WAVE UINT64_C(256)

struct pimc_work_plan pimc_plan_work(uint64_t throws, int threads)
{
    struct pimc_work_plan plan = {0};
    const uint64_t t = threads > 0 ? (uint64_t)threads : 1;
    const uint64_t units = throws / GRAIN_THROWS;
    if (throws == 0)
        return plan;
    uint64_t per_thread = 1; /* blocks */
    if (throws / t >= PIMC_BLOCK_MIN_THROWS) {
        /* Blocks of at most 2^20 throws: in 64-throw units, so that rounding
         * up to whole units cannot pass the bound. */
        const uint64_t most_units = t * (PIMC_BLOCK_MAX_THROWS / GRAIN_THROWS);
        per_thread = units / most_units + (units % most_units != 0);
        if (per_thread < MIN_BLOCKS_PER_THREAD) {
            const uint64_t fit = throws / (t * PIMC_BLOCK_MIN_THROWS); /* >= 1 */
            per_thread = fit < MIN_BLOCKS_PER_THREAD ? fit : MIN_BLOCKS_PER_THREAD;
        }
        plan.blocks = t * per_thread;
        plan.wave_blocks = t * (per_thread < MAX_BLOCKS_PER_THREAD_PER_WAVE ? per_thread
                                                                            : MAX_BLOCKS_PER_THREAD_PER_WAVE);
    } else {
        /* Too few throws to give every thread a block of 2^12: fewer blocks than
         * threads, each of about 2^12 (and whole units), all in one wave. */
        plan.blocks = throws / PIMC_BLOCK_MIN_THROWS + (throws % PIMC_BLOCK_MIN_THROWS != 0);
        if (plan.blocks > units)
            plan.blocks = units > 0 ? units : 1;
        plan.wave_blocks = plan.blocks;
    }
    plan.unit_quotient = units / plan.blocks;
    plan.unit_remainder = units % plan.blocks;
    plan.largest_block = GRAIN_THROWS * (plan.unit_quotient + (plan.unit_remainder != 0)) + throws % GRAIN_THROWS;
    return plan;
}

static uint64_t block_start(const struct pimc_work_plan *plan, uint64_t b)
{
    const uint64_t longer = b < plan->unit_remainder ? b : plan->unit_remainder;
    return GRAIN_THROWS * (b * plan->unit_quotient + longer);
}

void pimc_plan_block(const struct pimc_work_plan *plan, uint64_t throws, uint64_t b, uint64_t *first, uint64_t *end)
{
    *first = block_start(plan, b);
    *end = b + 1 < plan->blocks ? block_start(plan, b + 1) : throws; /* the last takes the odd throws */
}

double pimc_modelled_seconds(uint64_t throws, int threads, const struct pimc_busy_model *model)
{
    const struct pimc_work_plan plan = pimc_plan_work(throws, threads);
    const uint64_t t = threads > 0 ? (uint64_t)threads : 1;
    if (plan.blocks == 0)
        return 0.0;
    const double round_s = (double)plan.largest_block / model->throws_per_s + model->block_cost_s;
    const double loop_s = model->loop_cost_s + model->loop_cost_per_thread_s * (double)t;
    /* Every wave but the last is whole; a wave of w blocks is ceil(w / t) rounds. */
    const uint64_t full = plan.blocks / plan.wave_blocks, last = plan.blocks % plan.wave_blocks;
    const double full_rounds = (double)((plan.wave_blocks + t - 1) / t);
    double seconds = (double)full * (full_rounds * round_s + loop_s);
    if (last > 0)
        seconds += (double)((last + t - 1) / t) * round_s + loop_s;
    return seconds;
}

double pimc_modelled_busy(uint64_t throws, int threads, const struct pimc_busy_model *model)
{
    const double seconds = pimc_modelled_seconds(throws, threads, model);
    const double work = (double)throws / model->throws_per_s;
    return seconds > 0 ? work / ((threads > 0 ? threads : 1) * seconds) : 1.0;
}

/* ---- the schedule ------------------------------------------------------------ */

static const char *skip_spaces(const char *p)
{
    while (isspace((unsigned char)*p))
        p++;
    return p;
}

/* The word at p, any case: returns the text after it, or NULL when p does not start with it. */
static const char *word_at(const char *p, const char *word)
{
    const size_t n = strlen(word);
    return strncasecmp(p, word, n) == 0 ? p + n : NULL;
}

bool pimc_schedule_parse(const char *text, struct pimc_schedule *schedule)
{
    static const struct {
        const char *name;
        enum pimc_schedule_kind kind;
    } kinds[] = {{"static", PIMC_SCHEDULE_STATIC}, {"dynamic", PIMC_SCHEDULE_DYNAMIC},
                 {"guided", PIMC_SCHEDULE_GUIDED}, {"auto", PIMC_SCHEDULE_AUTO}};
    const char *p = skip_spaces(text), *after;
    *schedule = (struct pimc_schedule){PIMC_SCHEDULE_DEFAULT, 0};
    if (*p == '\0')
        return true;
    /* The monotonic modifiers say how a thread's chunks are ordered: no
     * bearing on sums, so they are accepted and not kept. */
    if ((after = word_at(p, "nonmonotonic")) != NULL || (after = word_at(p, "monotonic")) != NULL) {
        after = skip_spaces(after);
        if (*after != ':')
            return false;
        p = skip_spaces(after + 1);
    }
    size_t k = 0;
    while (k < sizeof kinds / sizeof *kinds && (after = word_at(p, kinds[k].name)) == NULL)
        k++;
    if (k == sizeof kinds / sizeof *kinds)
        return false;
    p = skip_spaces(after);
    int chunk = 0;
    if (*p == ',') {
        p = skip_spaces(p + 1);
        if (!isdigit((unsigned char)*p) || kinds[k].kind == PIMC_SCHEDULE_AUTO)
            return false;
        long long value = 0;
        for (; isdigit((unsigned char)*p); p++) {
            value = 10 * value + (*p - '0');
            if (value > 1000000000LL)
                return false;
        }
        if (value < 1)
            return false;
        chunk = (int)value;
        p = skip_spaces(p);
    }
    if (*p != '\0')
        return false;
    *schedule = (struct pimc_schedule){kinds[k].kind, chunk};
    return true;
}

/* ---- the parallel loop -------------------------------------------------------- */

static bool stop_requested(const struct pimc_throw_job *job)
{
    return job->stop != NULL && atomic_load_explicit(job->stop, memory_order_relaxed);
}

/* Hits of the job's throws [first, end) (counted from its first throw), added
 * to the grid's cells when it has one. */
static uint64_t throw_range(const struct pimc_throw_job *job, struct path path, uint64_t first, uint64_t end)
{
    const uint64_t from = job->first_throw + first, to = job->first_throw + end;
    if (job->grid == 0)
        return count_hits_with(path, job->seed, from, to - from);
    const uint64_t first_cell = job->first_throw / job->grid;
    uint64_t hits = 0;
    for (uint64_t a = from; a < to;) {
        const uint64_t cell = a / job->grid;
        const uint64_t cell_end = to - cell * job->grid > job->grid ? (cell + 1) * job->grid : to;
        const uint64_t h = count_hits_with(path, job->seed, a, cell_end - a);
        atomic_fetch_add_explicit(&job->cell_hits[cell - first_cell], h, memory_order_relaxed);
        atomic_fetch_add_explicit(&job->cell_throws[cell - first_cell], cell_end - a, memory_order_relaxed);
        hits += h;
        a = cell_end;
    }
    return hits;
}

/* A block of a stopped wave that no thread began. */
#define BLOCK_SKIPPED UINT64_MAX

/* Block b of the wave that starts at block `from`; its hits also go to
 * block_hits[b - from] (BLOCK_SKIPPED when a stop request skipped it) when the
 * caller keeps them. */
static inline void throw_block(const struct pimc_throw_job *job, struct path path, const struct pimc_work_plan *plan,
                               uint64_t from, uint64_t b, uint64_t *block_hits, uint64_t *hits, uint64_t *made)
{
    if (stop_requested(job)) {
        if (block_hits != NULL)
            block_hits[b - from] = BLOCK_SKIPPED;
        return;
    }
    uint64_t first, end;
    pimc_plan_block(plan, job->throws, b, &first, &end);
    const uint64_t block_hit_count = throw_range(job, path, first, end);
    if (block_hits != NULL)
        block_hits[b - from] = block_hit_count;
    *hits += block_hit_count;
    *made += end - first;
    if (job->throws_done != NULL)
        atomic_fetch_add_explicit(job->throws_done, end - first, memory_order_relaxed);
}

/* One wave, blocks [from, to), as one parallel loop with the job's schedule:
 * each kind is its own pragma, so that no OpenMP state is set to choose it. */
static void throw_wave(const struct pimc_throw_job *job, struct path path, const struct pimc_work_plan *plan,
                       uint64_t from, uint64_t to, uint64_t *block_hits, uint64_t *hits, uint64_t *made)
{
    uint64_t h = 0, m = 0;
    const int chunk = job->schedule.chunk > 0 ? job->schedule.chunk : 1;
    switch (job->schedule.kind) {
    case PIMC_SCHEDULE_STATIC:
        if (job->schedule.chunk > 0) {
#pragma omp parallel for num_threads(job->threads) schedule(static, chunk) reduction(+ : h, m)
            for (uint64_t b = from; b < to; b++)
                throw_block(job, path, plan, from, b, block_hits, &h, &m);
        } else {
#pragma omp parallel for num_threads(job->threads) schedule(static) reduction(+ : h, m)
            for (uint64_t b = from; b < to; b++)
                throw_block(job, path, plan, from, b, block_hits, &h, &m);
        }
        break;
    case PIMC_SCHEDULE_GUIDED:
#pragma omp parallel for num_threads(job->threads) schedule(guided, chunk) reduction(+ : h, m)
        for (uint64_t b = from; b < to; b++)
            throw_block(job, path, plan, from, b, block_hits, &h, &m);
        break;
    case PIMC_SCHEDULE_AUTO:
#pragma omp parallel for num_threads(job->threads) schedule(auto) reduction(+ : h, m)
        for (uint64_t b = from; b < to; b++)
            throw_block(job, path, plan, from, b, block_hits, &h, &m);
        break;
    default: /* PIMC_SCHEDULE_DEFAULT, PIMC_SCHEDULE_DYNAMIC */
#pragma omp parallel for num_threads(job->threads) schedule(dynamic, chunk) reduction(+ : h, m)
        for (uint64_t b = from; b < to; b++)
            throw_block(job, path, plan, from, b, block_hits, &h, &m);
        break;
    }
    *hits += h;
    *made += m;
}

struct pimc_tally pimc_throw_parallel(const struct pimc_throw_job *job)
{
    const struct path path = path_of(job->rng, job->kernel);
    const struct pimc_work_plan plan = pimc_plan_work(job->throws, job->threads);
    uint64_t hits = 0, throws_made = 0;
    /* Under a stop request each thread skips the blocks it has not begun, so
     * the blocks of a stopped wave that got done need not be its first ones (a
     * thread can be descheduled between claiming a block and beginning it).
     * The tally counts the longest run of done blocks from the job's first
     * throw only: throws that a fresh run of that many gives, with the same
     * hits. Each wave keeps its blocks' hits for that; short of memory for it,
     * a stopped wave counts for nothing. */
    const uint64_t wave_capacity = plan.blocks < plan.wave_blocks ? plan.blocks : plan.wave_blocks;
    uint64_t *block_hits = job->stop != NULL ? malloc(wave_capacity * sizeof *block_hits) : NULL;
    /* A stop request skips at most one wave of block claims, not the rest of
     * 2^63 throws. */
    for (uint64_t from = 0; from < plan.blocks && !stop_requested(job); from += plan.wave_blocks) {
        const uint64_t to = plan.blocks - from < plan.wave_blocks ? plan.blocks : from + plan.wave_blocks;
        uint64_t wave_hits = 0, wave_throws = 0, wave_first, wave_end, unused;
        throw_wave(job, path, &plan, from, to, block_hits, &wave_hits, &wave_throws);
        pimc_plan_block(&plan, job->throws, from, &wave_first, &unused);
        pimc_plan_block(&plan, job->throws, to - 1, &unused, &wave_end);
        if (wave_throws == wave_end - wave_first) {
            hits += wave_hits;
            throws_made += wave_throws;
            continue;
        }
        for (uint64_t b = from; block_hits != NULL && b < to && block_hits[b - from] != BLOCK_SKIPPED; b++) {
            uint64_t first, end;
            pimc_plan_block(&plan, job->throws, b, &first, &end);
            hits += block_hits[b - from];
            throws_made += end - first;
        }
        break;
    }
    free(block_hits);
    return (struct pimc_tally){.throws = throws_made, .hits = hits};
}

int pimc_start_team(int threads)
{
    int team = 1;
#pragma omp parallel num_threads(threads)
    {
#pragma omp single
        team = omp_get_num_threads();
    }
    return team;
}

const char *pimc_openmp_runtime(void)
{
    /* libomp exports the kmp_* API; libgomp does not. */
    return dlsym(RTLD_DEFAULT, "kmp_get_stacksize") != NULL ? "LLVM libomp" : "libgomp";
}

const char *pimc_openmp_version(void)
{
    switch (_OPENMP) {
    case 201107:
        return "3.1";
    case 201307:
        return "4.0";
    case 201511:
        return "4.5";
    case 201811:
        return "5.0";
    case 202011:
        return "5.1";
    case 202111:
        return "5.2";
    default:
        return "unknown";
    }
}
