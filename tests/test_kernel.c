/*
 * The kernel against the definition of its stream: Random123's known answers
 * for Philox4x32-10 and ARS, then every SIMD path of both generators and the
 * OpenMP loop against a plain per-throw reference written here from the
 * stream's description in kernel.h. The reference shares no code with the
 * kernel, philox.h or ars.h: its AES S-box is computed from its definition
 * (inverse in GF(2^8), then the affine map), not copied from a table. This test
 * runs on every CPU, the aarch64 cross build included; test_random123.c adds
 * Random123's own code where it builds (x86 with AES-NI).
 */
#include "ars.h"
#include "kernel.h"
#include "philox.h"
#include "tap.h"

#include <inttypes.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* ---- the reference: one throw at a time, straight from the definition ---- */

static void reference_philox(const uint32_t counter[4], uint64_t seed, uint32_t out[4])
{
    uint32_t c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
    uint32_t k0 = (uint32_t)(seed & 0xffffffffu), k1 = (uint32_t)(seed >> 32);
    for (int round = 0; round < 10; round++) {
        uint64_t a = (uint64_t)0xD2511F53u * c0, b = (uint64_t)0xCD9E8D57u * c2;
        uint32_t n0 = (uint32_t)(b >> 32) ^ c1 ^ k0, n1 = (uint32_t)b;
        uint32_t n2 = (uint32_t)(a >> 32) ^ c3 ^ k1, n3 = (uint32_t)a;
        c0 = n0, c1 = n1, c2 = n2, c3 = n3;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

/* AES from FIPS-197, one byte at a time; state byte 4c + r is row r, column c. */
static uint8_t gf_mul(uint8_t a, uint8_t b)
{
    uint8_t product = 0;
    for (; b; b >>= 1) {
        if (b & 1)
            product ^= a;
        a = (uint8_t)(a << 1 ^ (a & 0x80 ? 0x1b : 0));
    }
    return product;
}

static uint8_t sbox[256];

static void make_sbox(void)
{
    for (int a = 0; a < 256; a++) {
        uint8_t inverse = 0; /* 0 maps to 0 */
        for (int b = 1; b < 256 && a != 0; b++)
            if (gf_mul((uint8_t)a, (uint8_t)b) == 1)
                inverse = (uint8_t)b;
        uint8_t s = 0x63;
        for (int bit = 0; bit < 8; bit++) {
            int v = (inverse >> bit ^ inverse >> (bit + 4) % 8 ^ inverse >> (bit + 5) % 8 ^ inverse >> (bit + 6) % 8 ^
                     inverse >> (bit + 7) % 8) & 1;
            s ^= (uint8_t)(v << bit);
        }
        sbox[a] = s;
    }
}

static void aes_round(uint8_t state[16], const uint8_t key[16], bool last)
{
    uint8_t t[16];
    for (int c = 0; c < 4; c++)
        for (int r = 0; r < 4; r++)
            t[4 * c + r] = sbox[state[4 * ((c + r) % 4) + r]]; /* SubBytes, ShiftRows */
    for (int c = 0; c < 4 && !last; c++) {
        uint8_t *col = &t[4 * c], a0 = col[0], a1 = col[1], a2 = col[2], a3 = col[3];
        col[0] = gf_mul(a0, 2) ^ gf_mul(a1, 3) ^ a2 ^ a3;
        col[1] = a0 ^ gf_mul(a1, 2) ^ gf_mul(a2, 3) ^ a3;
        col[2] = a0 ^ a1 ^ gf_mul(a2, 2) ^ gf_mul(a3, 3);
        col[3] = gf_mul(a0, 3) ^ a1 ^ a2 ^ gf_mul(a3, 2);
    }
    for (int i = 0; i < 16; i++)
        state[i] = t[i] ^ key[i];
}

static void to_bytes(const uint32_t w[4], uint8_t b[16])
{
    for (int i = 0; i < 16; i++)
        b[i] = (uint8_t)(w[i / 4] >> 8 * (i % 4));
}

/* Random123's ars4x32_R: xor the key in; rounds-1 aesenc and one aesenclast,
 * the key's two 64-bit halves bumped by the Weyl constants before each. */
static void reference_ars(int rounds, const uint32_t counter[4], const uint32_t key[4], uint32_t out[4])
{
    uint64_t k_lo = (uint64_t)key[1] << 32 | key[0], k_hi = (uint64_t)key[3] << 32 | key[2];
    uint8_t state[16], k[16];
    to_bytes(counter, state);
    to_bytes(key, k);
    for (int i = 0; i < 16; i++)
        state[i] ^= k[i];
    for (int r = 1; r <= rounds; r++) {
        k_lo += 0x9E3779B97F4A7C15u;
        k_hi += 0xBB67AE8584CAA73Bu;
        uint32_t words[4] = {(uint32_t)k_lo, (uint32_t)(k_lo >> 32), (uint32_t)k_hi, (uint32_t)(k_hi >> 32)};
        to_bytes(words, k);
        aes_round(state, k, r == rounds);
    }
    for (int w = 0; w < 4; w++)
        out[w] = (uint32_t)state[4 * w] | (uint32_t)state[4 * w + 1] << 8 | (uint32_t)state[4 * w + 2] << 16 |
                 (uint32_t)state[4 * w + 3] << 24;
}

__extension__ typedef unsigned __int128 uint128;

static int reference_throw_hits(enum pimc_rng rng, uint64_t seed, uint64_t i)
{
    uint64_t j = i / 2;
    uint32_t counter[4] = {(uint32_t)(j % 4294967296u), (uint32_t)(j / 4294967296u), 0, 0}, w[4];
    if (rng == PIMC_RNG_ARS)
        reference_ars(5, counter, (const uint32_t[4]){(uint32_t)(seed % 4294967296u), (uint32_t)(seed >> 32), 0, 0},
                      w);
    else
        reference_philox(counter, seed, w);
    uint32_t x = i % 2 ? w[2] : w[0], y = i % 2 ? w[3] : w[1];
    /* x^2 + y^2 < 2^64, in 128-bit arithmetic: no wrap-around trick to get wrong. */
    uint128 r2 = (uint128)x * x + (uint128)y * y;
    return r2 < ((uint128)1 << 64);
}

static uint64_t reference_hits(enum pimc_rng rng, uint64_t seed, uint64_t first, uint64_t count)
{
    uint64_t hits = 0;
    for (uint64_t i = first; i < first + count; i++)
        hits += (uint64_t)reference_throw_hits(rng, seed, i);
    return hits;
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* ---- known answers ------------------------------------------------------- */

static void check_known_answer(const char *name, philox4x32_ctr ctr, philox2x32_key key, const uint32_t expect[4])
{
    philox4x32_ctr got = philox4x32_10(ctr, key);
    uint32_t ref[4];
    reference_philox(ctr.v, (uint64_t)key.v[1] << 32 | key.v[0], ref);
    bool same = true;
    for (int w = 0; w < 4; w++)
        same = same && got.v[w] == expect[w] && ref[w] == expect[w];
    tap_ok(same, "Philox4x32-10 known answer, %s: %08" PRIx32 " %08" PRIx32 " %08" PRIx32 " %08" PRIx32, name,
           got.v[0], got.v[1], got.v[2], got.v[3]);
}

static void check_ars_known_answer(const char *name, const uint32_t ctr[4], const uint32_t key[4],
                                   const uint32_t expect[4])
{
    ars4x32_ctr got = ars4x32_n(10, (ars4x32_ctr){{ctr[0], ctr[1], ctr[2], ctr[3]}},
                                (ars4x32_key){{key[0], key[1], key[2], key[3]}});
    uint32_t ref[4];
    reference_ars(10, ctr, key, ref);
    bool same = true;
    for (int w = 0; w < 4; w++)
        same = same && got.v[w] == expect[w] && ref[w] == expect[w];
    tap_ok(same, "ars4x32 (10 rounds) known answer, %s: %08" PRIx32 " %08" PRIx32 " %08" PRIx32 " %08" PRIx32, name,
           got.v[0], got.v[1], got.v[2], got.v[3]);
}

static void ars_known_answers(void)
{
    /* Random123 1.14 kat_vectors (Debian librandom123-doc), the ars4x32 lines:
     * counter, key, output; Random123 publishes them for 10 rounds only. */
    check_ars_known_answer("counter 0, key 0", (const uint32_t[4]){0, 0, 0, 0}, (const uint32_t[4]){0, 0, 0, 0},
                           (const uint32_t[4]){0x8d73ee19, 0x506401ef, 0x13c2dbe4, 0x0cbe9c0d});
    check_ars_known_answer("digits of pi", (const uint32_t[4]){0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
                           (const uint32_t[4]){0xa4093822, 0x299f31d0, 0x082efa98, 0xec4e6c89},
                           (const uint32_t[4]){0xa516e7d6, 0x8357ad74, 0x5b59b3ec, 0x8763fff3});
    check_ars_known_answer("all ones, key high half 0", (const uint32_t[4]){~0u, ~0u, ~0u, ~0u},
                           (const uint32_t[4]){~0u, ~0u, 0, 0},
                           (const uint32_t[4]){0xbb3743b1, 0x9f635551, 0xecbc87fc, 0xa19478a9});

    /* FIPS-197 appendix C.1 gives AES's S-box outputs indirectly; two values
     * from its figure 7 pin the computed table to the standard. */
    tap_ok(sbox[0x00] == 0x63 && sbox[0x53] == 0xed && sbox[0xff] == 0x16,
           "computed S-box: S(00)=63, S(53)=ed, S(ff)=16 (FIPS-197 figure 7)");

    /* ARS-5, the stream's generator: ars.h against the byte-wise reference over
     * random counters and keys (the kernel's own keys have a zero high half). */
    uint64_t state = 5;
    int differ = 0;
    for (int n = 0; n < 2000; n++) {
        uint64_t a = splitmix64(&state), b = splitmix64(&state), c = splitmix64(&state), d = splitmix64(&state);
        uint32_t ctr[4] = {(uint32_t)a, (uint32_t)(a >> 32), (uint32_t)b, (uint32_t)(b >> 32)};
        uint32_t key[4] = {(uint32_t)c, (uint32_t)(c >> 32), (uint32_t)d, (uint32_t)(d >> 32)}, ref[4];
        int rounds = 1 + n % 10;
        ars4x32_ctr got = ars4x32_n(rounds, (ars4x32_ctr){{ctr[0], ctr[1], ctr[2], ctr[3]}},
                                    (ars4x32_key){{key[0], key[1], key[2], key[3]}});
        reference_ars(rounds, ctr, key, ref);
        for (int w = 0; w < 4; w++)
            differ += got.v[w] != ref[w];
    }
    tap_ok(differ == 0, "ars.h equals the byte-wise AES reference for 2000 random counters and keys, 1 to 10 rounds");
}

static void known_answers(void)
{
    /* Random123 kat_vectors, philox4x32 with 10 rounds. */
    check_known_answer("counter 0, key 0", (philox4x32_ctr){{0, 0, 0, 0}}, (philox2x32_key){{0, 0}},
                       (const uint32_t[4]){0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
    check_known_answer("all ones", (philox4x32_ctr){{~0u, ~0u, ~0u, ~0u}}, (philox2x32_key){{~0u, ~0u}},
                       (const uint32_t[4]){0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
    check_known_answer("digits of pi", (philox4x32_ctr){{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}},
                       (philox2x32_key){{0xa4093822, 0x299f31d0}},
                       (const uint32_t[4]){0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
}

/* ---- every path against the reference ------------------------------------ */

static void paths_match_reference(enum pimc_rng rng)
{
    /* Edges: odd starts, counts around the vector widths (8 and 32 blocks, 16
     * and 64 throws) and the block size, and the counter's low word wrapping
     * into the high one at block 2^32 (throw 2^33). */
    static const uint64_t edge_counts[] = {0, 1, 2, 3, 15, 16, 17, 63, 64, 65, 127, 128, 129, 4095, 4096, 4097, 10007};
    static const uint64_t edge_firsts[] = {0, 1, 2, 63, (UINT64_C(1) << 33) - 70, (UINT64_C(1) << 33) - 1,
                                           UINT64_C(1) << 33, UINT64_C(3) << 40, UINT64_MAX / 2 - 5000};
    for (int k = PIMC_KERNEL_SCALAR; k < PIMC_KERNEL_COUNT; k++) {
        enum pimc_kernel kernel = (enum pimc_kernel)k;
        if (rng == PIMC_RNG_PHILOX && (kernel == PIMC_KERNEL_AESNI || kernel == PIMC_KERNEL_NEON))
            continue; /* no such path */
        if (!pimc_kernel_available_for(rng, kernel)) {
            printf("ok %d - # SKIP %s %s: this CPU or build lacks it\n", ++tap_count, pimc_rng_name(rng),
                   pimc_kernel_name(kernel));
            continue;
        }
        int cases = 0, wrong = 0;
        char first_wrong[160] = "";
        for (size_t f = 0; f < sizeof edge_firsts / sizeof *edge_firsts; f++) {
            for (size_t c = 0; c < sizeof edge_counts / sizeof *edge_counts; c++) {
                for (uint64_t seed = 0; seed < 3; seed++) {
                    uint64_t s = seed == 2 ? UINT64_MAX : seed * 0x123456789abcdefu;
                    uint64_t got = pimc_count_hits(rng, kernel, s, edge_firsts[f], edge_counts[c]);
                    uint64_t want = reference_hits(rng, s, edge_firsts[f], edge_counts[c]);
                    cases++;
                    if (got != want && wrong++ == 0)
                        snprintf(first_wrong, sizeof first_wrong,
                                 " (first wrong: seed %" PRIu64 " first %" PRIu64 " count %" PRIu64 ": %" PRIu64
                                 " vs %" PRIu64 ")",
                                 s, edge_firsts[f], edge_counts[c], got, want);
                }
            }
        }
        uint64_t state = 42 + (uint64_t)k;
        for (int r = 0; r < 300; r++) {
            uint64_t seed = splitmix64(&state), first = splitmix64(&state) >> (1 + r % 40),
                     count = splitmix64(&state) % 5000;
            uint64_t got = pimc_count_hits(rng, kernel, seed, first, count),
                     want = reference_hits(rng, seed, first, count);
            cases++;
            if (got != want && wrong++ == 0)
                snprintf(first_wrong, sizeof first_wrong,
                         " (first wrong: seed %" PRIu64 " first %" PRIu64 " count %" PRIu64 ")", seed, first, count);
        }
        tap_ok(wrong == 0, "%s %s path equals the reference in %d cases%s", pimc_rng_name(rng),
               pimc_kernel_name(kernel), cases, first_wrong);
        uint64_t big = pimc_count_hits(rng, kernel, 2024, 12345, 3000001),
                 big_want = reference_hits(rng, 2024, 12345, 3000001);
        tap_ok(big == big_want, "%s %s path, 3000001 throws: %" PRIu64 " hits, reference %" PRIu64,
               pimc_rng_name(rng), pimc_kernel_name(kernel), big, big_want);
    }
}

/* ---- the OpenMP loop: any thread count, schedule and path, same hits ------ */

static void parallel_runs_agree(enum pimc_rng rng)
{
    const char *name = pimc_rng_name(rng);
    const uint64_t seed = 7, throws = 5000000 + 12345;
    const uint64_t want = reference_hits(rng, seed, 0, throws);
    static const int thread_counts[] = {1, 2, 3, 5, 8};
    for (size_t t = 0; t < sizeof thread_counts / sizeof *thread_counts; t++) {
        bool same = true;
        for (int k = PIMC_KERNEL_SCALAR; k < PIMC_KERNEL_COUNT; k++) {
            if (!pimc_kernel_available_for(rng, (enum pimc_kernel)k))
                continue;
            struct pimc_throw_job job = {.rng = rng, .kernel = (enum pimc_kernel)k, .seed = seed, .throws = throws,
                                         .threads = thread_counts[t]};
            struct pimc_tally tally = pimc_throw_parallel(&job);
            same = same && tally.hits == want && tally.throws == throws;
        }
        tap_ok(same, "%s, %d threads, every path: %" PRIu64 " hits of %" PRIu64 " throws, as the reference", name,
               thread_counts[t], want, throws);
    }

    /* The job's schedule, whatever it is; and the kernel leaves the runtime's
     * own schedule (what schedule(runtime) would use) as it found it. */
    static const char *const schedules[] = {"static", "static,3", "dynamic,7", "guided", "auto",
                                            "nonmonotonic:dynamic"};
    omp_sched_t kind_before, kind_after;
    int chunk_before, chunk_after;
    omp_get_schedule(&kind_before, &chunk_before);
    for (size_t s = 0; s < sizeof schedules / sizeof *schedules; s++) {
        struct pimc_throw_job job = {.rng = rng, .kernel = pimc_kernel_resolve_for(rng, PIMC_KERNEL_AUTO),
                                     .seed = seed, .throws = throws, .threads = 3};
        const bool parsed = pimc_schedule_parse(schedules[s], &job.schedule);
        struct pimc_tally tally = pimc_throw_parallel(&job);
        tap_ok(parsed && tally.hits == want, "%s, schedule %s, 3 threads: %" PRIu64 " hits", name, schedules[s],
               tally.hits);
    }
    omp_get_schedule(&kind_after, &chunk_after);
    tap_ok(kind_after == kind_before && chunk_after == chunk_before,
           "%s: the runtime's own schedule is untouched by the kernel", name);

    /* Thread counts that cut the work in other ways: a prime, a big node's,
     * more threads than 2^12-throw blocks. */
    static const struct {
        int threads;
        uint64_t throws;
    } odd[] = {{97, 3000017}, {192, 4000037}, {512, 3000017}, {512, 100003}, {7, 63}, {3, 1}};
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
        struct pimc_throw_job job = {.rng = rng, .kernel = pimc_kernel_resolve_for(rng, PIMC_KERNEL_AUTO),
                                     .seed = seed, .first_throw = 11, .throws = odd[i].throws,
                                     .threads = odd[i].threads};
        const struct pimc_tally tally = pimc_throw_parallel(&job);
        const uint64_t expected = reference_hits(rng, seed, 11, odd[i].throws);
        tap_ok(tally.hits == expected && tally.throws == odd[i].throws,
               "%s, %d threads, %" PRIu64 " throws from throw 11: %" PRIu64 " hits, as the reference", name,
               odd[i].threads, odd[i].throws, tally.hits);
    }

    /* A first throw far into the stream (an MPI rank's share), in parallel. */
    const uint64_t first = (UINT64_C(1) << 33) - 777777;
    struct pimc_throw_job offset_job = {.rng = rng, .kernel = pimc_kernel_resolve_for(rng, PIMC_KERNEL_AUTO),
                                        .seed = seed, .first_throw = first, .throws = 1000003, .threads = 4};
    tap_ok(pimc_throw_parallel(&offset_job).hits == reference_hits(rng, seed, first, 1000003),
           "%s, first throw 2^33-777777, across the counter's 32-bit carry, 4 threads", name);
}

static void stop_and_progress(void)
{
    atomic_bool stop = true;
    atomic_uint_fast64_t done = 0;
    struct pimc_throw_job job = {.kernel = PIMC_KERNEL_SCALAR, .seed = 1, .throws = UINT64_C(1) << 62,
                                 .threads = 2, .stop = &stop, .throws_done = &done};
    struct pimc_tally tally = pimc_throw_parallel(&job);
    tap_ok(tally.throws == 0 && tally.hits == 0 && done == 0, "a stop set before the start: 2^62 throws skipped at once");

    stop = false;
    job.throws = 1000000;
    tally = pimc_throw_parallel(&job);
    tap_ok(tally.throws == 1000000 && done == 1000000, "progress counter reaches the throws made (%" PRIu64 ")",
           (uint64_t)done);

}

/* ---- the work plan: blocks and waves for 1 to 512 threads --------------------- */

/* Every block in [first, end), adjacent, the last at `throws`; sizes within 64
 * throws of each other but for the last's odd throws; at most 2^20 throws
 * (+63 in the last); at least 2^12 where every thread gets a block; a whole
 * number of blocks a thread in the job and in each wave. */
static bool plan_holds(uint64_t throws, int threads, char *why, size_t size)
{
    const struct pimc_work_plan plan = pimc_plan_work(throws, threads);
    const uint64_t t = (uint64_t)threads;
    if (plan.blocks == 0 || plan.wave_blocks == 0 || plan.wave_blocks > plan.blocks)
        return snprintf(why, size, "%" PRIu64 " blocks, waves of %" PRIu64, plan.blocks, plan.wave_blocks), false;
    const bool every_thread = throws / t >= PIMC_BLOCK_MIN_THROWS;
    if (every_thread && (plan.blocks % t != 0 || plan.wave_blocks % t != 0))
        return snprintf(why, size, "%" PRIu64 " blocks in waves of %" PRIu64 ": not whole rounds of %d threads",
                        plan.blocks, plan.wave_blocks, threads), false;
    if (!every_thread && plan.blocks > t)
        return snprintf(why, size, "%" PRIu64 " blocks of under 2^12 for %d threads", plan.blocks, threads), false;
    /* Blocks 0, 1, the boundary of the longer ones, and the last two: the sizes are two values at most. */
    const uint64_t probes[] = {0, 1, plan.unit_remainder > 0 ? plan.unit_remainder - 1 : 0, plan.unit_remainder,
                               plan.blocks > 1 ? plan.blocks - 2 : 0, plan.blocks - 1};
    uint64_t smallest = UINT64_MAX, largest = 0;
    for (size_t i = 0; i < sizeof probes / sizeof *probes; i++) {
        const uint64_t b = probes[i] < plan.blocks ? probes[i] : plan.blocks - 1;
        uint64_t first, end, next_first, next_end;
        pimc_plan_block(&plan, throws, b, &first, &end);
        if (b + 1 < plan.blocks) {
            pimc_plan_block(&plan, throws, b + 1, &next_first, &next_end);
            if (next_first != end)
                return snprintf(why, size, "block %" PRIu64 " ends at %" PRIu64 ", the next starts at %" PRIu64, b,
                                end, next_first), false;
        } else if (end != throws) {
            return snprintf(why, size, "the last block ends at %" PRIu64, end), false;
        }
        if (b == 0 && first != 0)
            return snprintf(why, size, "block 0 starts at %" PRIu64, first), false;
        const uint64_t length = end - first - (b + 1 == plan.blocks ? throws % 64 : 0);
        smallest = length < smallest ? length : smallest;
        largest = length > largest ? length : largest;
        if (end - first > plan.largest_block)
            return snprintf(why, size, "block %" PRIu64 " of %" PRIu64 " throws, above the plan's largest", b,
                            end - first), false;
    }
    if (largest - smallest > 64 || largest > PIMC_BLOCK_MAX_THROWS ||
        (every_thread && smallest < PIMC_BLOCK_MIN_THROWS - 64))
        return snprintf(why, size, "blocks of %" PRIu64 " to %" PRIu64 " throws", smallest, largest), false;
    return true;
}

static void work_plans(void)
{
    char why[256] = "";
    bool ok = true;
    uint64_t bad_throws = 0;
    int bad_threads = 0;
    for (int t = 1; t <= 512 && ok; t++)
        for (uint64_t n = 1; n < UINT64_C(1) << 63 && ok; n = n < 64 ? n + 1 : n + n / 3 + (uint64_t)t)
            if (!(ok = plan_holds(n, t, why, sizeof why)))
                bad_throws = n, bad_threads = t;
    if (!ok)
        printf("# %d threads, %" PRIu64 " throws: %s\n", bad_threads, bad_throws, why);
    tap_ok(ok, "work plans for 1 to 512 threads, 1 to 2^63 throws: adjacent blocks of 2^12..2^20 throws within 64 "
               "of each other, whole rounds of threads");

    /* The hits do not depend on the plan: the same throws on threads whose
     * plans differ in blocks, waves and sizes. */
    const uint64_t seed = 5, first = 123456789, throws = 2 * PIMC_BLOCK_MAX_THROWS * 9 + 4097;
    const uint64_t want = pimc_count_hits(PIMC_RNG_PHILOX, PIMC_KERNEL_SCALAR, seed, first, throws);
    bool same = true;
    for (int t = 1; t <= 9; t++) {
        struct pimc_throw_job job = {.kernel = pimc_kernel_resolve(PIMC_KERNEL_AUTO), .seed = seed,
                                     .first_throw = first, .throws = throws, .threads = t};
        same = same && pimc_throw_parallel(&job).hits == want;
    }
    tap_ok(same, "1 to 9 threads, %" PRIu64 " throws (plans of 18 to 81 blocks): the same hits", throws);
}

/* The busy fraction the model gives for every thread count 1 to 512 at every
 * size whose parallel leg is a speed result: the leg lasts at least
 * PIMC_SHORTEST_TIMED_S on the model's (fastest) path. Sizes: a geometric
 * series from that least size to 2^63-1, and the edges where the plan
 * changes (a whole number of 2^20-throw blocks a thread, +-1). */
static void busy_fraction(void)
{
    const struct pimc_busy_model model = PIMC_BUSY_MODEL_DEFAULT;
    double worst = 1.0;
    uint64_t worst_throws = 0, sizes = 0;
    int worst_threads = 0;
    for (int t = 1; t <= 512; t++) {
        const uint64_t least = (uint64_t)(PIMC_SHORTEST_TIMED_S * model.throws_per_s * t);
        for (int series = 0; series < 2; series++) {
            for (uint64_t i = 0;; i++) {
                uint64_t n;
                if (series == 0) {
                    n = (uint64_t)((double)least * pow(1.05, (double)i)) + i % 3;
                } else { /* k blocks of 2^20 a thread, and one throw either side */
                    const uint64_t k = i / 3 + 1;
                    n = k * (uint64_t)t * PIMC_BLOCK_MAX_THROWS + i % 3 - 1;
                    if (n < least)
                        continue;
                    if (k > 1024)
                        break;
                }
                if (n >= UINT64_C(1) << 63 || n < least)
                    break;
                const double busy = pimc_modelled_busy(n, t, &model);
                sizes++;
                if (busy < worst)
                    worst = busy, worst_throws = n, worst_threads = t;
            }
        }
    }
    tap_ok(worst >= 0.97, "modelled busy fraction >= 97%% for 1 to 512 threads at every timed size (%" PRIu64
           " sizes): least %.2f%%, %d threads, %" PRIu64 " throws", sizes, 100 * worst, worst_threads, worst_throws);

    /* What the old plan (THROWS/256 blocks, dynamic,1, one loop per 256 blocks
     * a thread) gave a checkpoint chunk, for the record: 192 threads 67% busy. */
    const double chunk_192 = pimc_modelled_busy(UINT64_C(1) << 25, 192, &model);
    tap_ok(chunk_192 < 0.97, "one 2^25-throw chunk on 192 threads alone is not a speed result (%.0f%% busy): "
           "checkpointed runs batch their chunks", 100 * chunk_192);
}

/* A job on a grid: each cell's tally is that of its throws, whatever the blocks. */
static void grid_tallies(void)
{
    const uint64_t seed = 17, first = 3 * (UINT64_C(1) << 20) - 1000, throws = 5000007, grid = UINT64_C(1) << 20;
    const uint64_t cells = (first + throws - 1) / grid - first / grid + 1;
    atomic_uint_fast64_t hits[8], made[8];
    bool ok = cells <= 8;
    for (int threads = 1; threads <= 5 && ok; threads += 2) {
        for (uint64_t c = 0; c < cells; c++)
            atomic_init(&hits[c], 0), atomic_init(&made[c], 0);
        struct pimc_throw_job job = {.kernel = pimc_kernel_resolve(PIMC_KERNEL_AUTO), .seed = seed,
                                     .first_throw = first, .throws = throws, .threads = threads, .grid = grid,
                                     .cell_hits = hits, .cell_throws = made};
        const struct pimc_tally tally = pimc_throw_parallel(&job);
        uint64_t sum = 0;
        for (uint64_t c = 0; c < cells && ok; c++) {
            const uint64_t cell = first / grid + c;
            const uint64_t from = cell * grid > first ? cell * grid : first;
            const uint64_t to = (cell + 1) * grid < first + throws ? (cell + 1) * grid : first + throws;
            ok = made[c] == to - from &&
                 hits[c] == pimc_count_hits(PIMC_RNG_PHILOX, PIMC_KERNEL_SCALAR, seed, from, to - from);
            sum += hits[c];
        }
        ok = ok && sum == tally.hits && tally.throws == throws;
    }
    tap_ok(ok, "a job on a grid of 2^20 throws: each of its %" PRIu64 " cells tallied exactly, on 1, 3 and 5 threads",
           cells);
}

static void schedule_names(void)
{
    static const struct {
        const char *text;
        bool valid;
        enum pimc_schedule_kind kind;
        int chunk;
    } cases[] = {{"", true, PIMC_SCHEDULE_DEFAULT, 0},        {"static", true, PIMC_SCHEDULE_STATIC, 0},
                 {"STATIC, 4", true, PIMC_SCHEDULE_STATIC, 4}, {"dynamic,1", true, PIMC_SCHEDULE_DYNAMIC, 1},
                 {" guided ,3 ", true, PIMC_SCHEDULE_GUIDED, 3}, {"auto", true, PIMC_SCHEDULE_AUTO, 0},
                 {"monotonic:static,2", true, PIMC_SCHEDULE_STATIC, 2},
                 {"nonmonotonic : dynamic", true, PIMC_SCHEDULE_DYNAMIC, 0},
                 {"runtime", false, 0, 0}, {"dynamic,0", false, 0, 0}, {"dynamic,", false, 0, 0},
                 {"auto,2", false, 0, 0}, {"static,2,3", false, 0, 0}, {"dynamics", false, 0, 0},
                 {"dynamic,99999999999", false, 0, 0}, {"set-by-test", false, 0, 0}};
    bool ok = true;
    const char *wrong = "";
    for (size_t i = 0; i < sizeof cases / sizeof *cases && ok; i++) {
        struct pimc_schedule s;
        const bool valid = pimc_schedule_parse(cases[i].text, &s);
        ok = valid == cases[i].valid && (!valid || (s.kind == cases[i].kind && s.chunk == cases[i].chunk));
        if (!ok)
            wrong = cases[i].text;
    }
    tap_ok(ok, "OMP_SCHEDULE's forms parse (kinds, chunks, modifiers, any case); others are refused%s%s",
           *wrong ? ": wrong on " : "", wrong);
}

static void kernel_names(void)
{
    bool round_trip = true;
    for (int k = 0; k < PIMC_KERNEL_COUNT; k++) {
        enum pimc_kernel parsed;
        round_trip = round_trip && pimc_kernel_from_name(pimc_kernel_name((enum pimc_kernel)k), &parsed) &&
                     parsed == (enum pimc_kernel)k;
    }
    enum pimc_kernel ignored;
    tap_ok(round_trip && !pimc_kernel_from_name("avx", &ignored) && !pimc_kernel_from_name("", &ignored),
           "kernel names round-trip; unknown names are refused");
    enum pimc_kernel best = pimc_kernel_resolve(PIMC_KERNEL_AUTO);
    pimc_kernel_hide(1u << PIMC_KERNEL_AVX512 | 1u << PIMC_KERNEL_AVX2);
    bool hidden = pimc_kernel_resolve(PIMC_KERNEL_AUTO) == PIMC_KERNEL_SCALAR &&
                  !pimc_kernel_available(PIMC_KERNEL_AVX512) && pimc_kernel_available(PIMC_KERNEL_SCALAR);
    pimc_kernel_hide(0);
    tap_ok(hidden && pimc_kernel_resolve(PIMC_KERNEL_AUTO) == best,
           "hidden paths fall back to scalar, and come back (auto: %s)", pimc_kernel_name(best));

    /* ARS has paths on 128-bit registers (aesni, neon); Philox never offers them. */
    enum pimc_kernel ars_best = pimc_kernel_resolve_for(PIMC_RNG_ARS, PIMC_KERNEL_AUTO);
    pimc_kernel_hide(1u << PIMC_KERNEL_AVX512 | 1u << PIMC_KERNEL_AVX2);
    enum pimc_kernel ars_hidden = pimc_kernel_resolve_for(PIMC_RNG_ARS, PIMC_KERNEL_AUTO);
    pimc_kernel_hide(1u << PIMC_KERNEL_AVX512 | 1u << PIMC_KERNEL_AVX2 | 1u << PIMC_KERNEL_AESNI |
                     1u << PIMC_KERNEL_NEON);
    bool ars_scalar = pimc_kernel_resolve_for(PIMC_RNG_ARS, PIMC_KERNEL_AUTO) == PIMC_KERNEL_SCALAR;
    pimc_kernel_hide(0);
    tap_ok(!pimc_kernel_available_for(PIMC_RNG_PHILOX, PIMC_KERNEL_AESNI) &&
               !pimc_kernel_available_for(PIMC_RNG_PHILOX, PIMC_KERNEL_NEON) && ars_scalar &&
               (ars_hidden == PIMC_KERNEL_AESNI || ars_hidden == PIMC_KERNEL_NEON ||
                ars_hidden == PIMC_KERNEL_SCALAR) &&
               pimc_kernel_resolve_for(PIMC_RNG_ARS, PIMC_KERNEL_AUTO) == ars_best,
           "ARS: auto %s, %s without the vector paths, scalar without AES instructions; Philox has no aesni or "
           "neon path",
           pimc_kernel_name(ars_best), pimc_kernel_name(ars_hidden));

    bool rng_names = true;
    for (int r = 0; r < PIMC_RNG_COUNT; r++) {
        enum pimc_rng by_name, by_option;
        rng_names = rng_names && pimc_rng_from_name(pimc_rng_name((enum pimc_rng)r), &by_name) && by_name == (enum pimc_rng)r &&
                    pimc_rng_from_name(pimc_rng_option((enum pimc_rng)r), &by_option) && by_option == (enum pimc_rng)r;
    }
    enum pimc_rng no_rng;
    tap_ok(rng_names && !pimc_rng_from_name("ars5", &no_rng) && strcmp(pimc_rng_name(PIMC_RNG_ARS), "ars4x32-5") == 0 &&
               strcmp(pimc_rng_name(PIMC_RNG_PHILOX), "philox4x32-10") == 0,
           "generator names round-trip (philox4x32-10 / philox, ars4x32-5 / ars); unknown names are refused");
}

int main(void)
{
    make_sbox();
    known_answers();
    ars_known_answers();
    kernel_names();
    for (int r = 0; r < PIMC_RNG_COUNT; r++) {
        paths_match_reference((enum pimc_rng)r);
        parallel_runs_agree((enum pimc_rng)r);
    }
    stop_and_progress();
    work_plans();
    busy_fraction();
    grid_tallies();
    schedule_names();
    return tap_done();
}
