/*
 * The kernel against the definition of its stream: Random123's known answers
 * for Philox4x32-10, then every SIMD path and the OpenMP loop against a plain
 * per-throw reference written here from the stream's description in kernel.h
 * (it shares no code with the kernel or philox.h).
 */
#include "kernel.h"
#include "philox.h"
#include "tap.h"

#include <inttypes.h>
#include <omp.h>
#include <stdlib.h>

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

__extension__ typedef unsigned __int128 uint128;

static int reference_throw_hits(uint64_t seed, uint64_t i)
{
    uint64_t j = i / 2;
    uint32_t counter[4] = {(uint32_t)(j % 4294967296u), (uint32_t)(j / 4294967296u), 0, 0}, w[4];
    reference_philox(counter, seed, w);
    uint32_t x = i % 2 ? w[2] : w[0], y = i % 2 ? w[3] : w[1];
    /* x^2 + y^2 < 2^64, in 128-bit arithmetic: no wrap-around trick to get wrong. */
    uint128 r2 = (uint128)x * x + (uint128)y * y;
    return r2 < ((uint128)1 << 64);
}

static uint64_t reference_hits(uint64_t seed, uint64_t first, uint64_t count)
{
    uint64_t hits = 0;
    for (uint64_t i = first; i < first + count; i++)
        hits += (uint64_t)reference_throw_hits(seed, i);
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

static void paths_match_reference(void)
{
    /* Edges: odd starts, counts around the vector widths (8 and 32 blocks, 16
     * and 64 throws) and the block size, and the counter's low word wrapping
     * into the high one at block 2^32 (throw 2^33). */
    static const uint64_t edge_counts[] = {0, 1, 2, 3, 15, 16, 17, 63, 64, 65, 127, 128, 129, 4095, 4096, 4097, 10007};
    static const uint64_t edge_firsts[] = {0, 1, 2, 63, (UINT64_C(1) << 33) - 70, (UINT64_C(1) << 33) - 1,
                                           UINT64_C(1) << 33, UINT64_C(3) << 40, UINT64_MAX / 2 - 5000};
    for (int k = PIMC_KERNEL_SCALAR; k < PIMC_KERNEL_COUNT; k++) {
        enum pimc_kernel kernel = (enum pimc_kernel)k;
        if (!pimc_kernel_available(kernel)) {
            printf("ok %d - # SKIP %s: this CPU lacks it\n", ++tap_count, pimc_kernel_name(kernel));
            continue;
        }
        int cases = 0, wrong = 0;
        char first_wrong[160] = "";
        for (size_t f = 0; f < sizeof edge_firsts / sizeof *edge_firsts; f++) {
            for (size_t c = 0; c < sizeof edge_counts / sizeof *edge_counts; c++) {
                for (uint64_t seed = 0; seed < 3; seed++) {
                    uint64_t s = seed == 2 ? UINT64_MAX : seed * 0x123456789abcdefu;
                    uint64_t got = pimc_count_hits(kernel, s, edge_firsts[f], edge_counts[c]);
                    uint64_t want = reference_hits(s, edge_firsts[f], edge_counts[c]);
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
            uint64_t got = pimc_count_hits(kernel, seed, first, count), want = reference_hits(seed, first, count);
            cases++;
            if (got != want && wrong++ == 0)
                snprintf(first_wrong, sizeof first_wrong,
                         " (first wrong: seed %" PRIu64 " first %" PRIu64 " count %" PRIu64 ")", seed, first, count);
        }
        tap_ok(wrong == 0, "%s path equals the reference in %d cases%s", pimc_kernel_name(kernel), cases,
               first_wrong);
        uint64_t big = pimc_count_hits(kernel, 2024, 12345, 3000001), big_want = reference_hits(2024, 12345, 3000001);
        tap_ok(big == big_want, "%s path, 3000001 throws: %" PRIu64 " hits, reference %" PRIu64,
               pimc_kernel_name(kernel), big, big_want);
    }
}

/* ---- the OpenMP loop: any thread count, schedule and path, same hits ------ */

static void parallel_runs_agree(void)
{
    const uint64_t seed = 7, throws = 5000000 + 12345;
    const uint64_t want = reference_hits(seed, 0, throws);
    static const int thread_counts[] = {1, 2, 3, 5, 8};
    for (size_t t = 0; t < sizeof thread_counts / sizeof *thread_counts; t++) {
        bool same = true;
        for (int k = PIMC_KERNEL_SCALAR; k < PIMC_KERNEL_COUNT; k++) {
            if (!pimc_kernel_available((enum pimc_kernel)k))
                continue;
            struct pimc_throw_job job = {.kernel = (enum pimc_kernel)k, .seed = seed, .throws = throws,
                                         .threads = thread_counts[t]};
            struct pimc_tally tally = pimc_throw_parallel(&job);
            same = same && tally.hits == want && tally.throws == throws;
        }
        tap_ok(same, "%d threads, every path: %" PRIu64 " hits of %" PRIu64 " throws, as the reference",
               thread_counts[t], want, throws);
    }

    /* The loop keeps a user's OMP_SCHEDULE: make it look set, then choose. */
    setenv("OMP_SCHEDULE", "set-by-test", 1);
    static const struct {
        omp_sched_t kind;
        int chunk;
        const char *name;
    } schedules[] = {{omp_sched_static, 0, "static"}, {omp_sched_static, 3, "static,3"},
                     {omp_sched_dynamic, 7, "dynamic,7"}, {omp_sched_guided, 1, "guided"}, {omp_sched_auto, 0, "auto"}};
    for (size_t s = 0; s < sizeof schedules / sizeof *schedules; s++) {
        omp_set_schedule(schedules[s].kind, schedules[s].chunk);
        struct pimc_throw_job job = {.kernel = pimc_kernel_resolve(PIMC_KERNEL_AUTO), .seed = seed,
                                     .throws = throws, .threads = 3};
        struct pimc_tally tally = pimc_throw_parallel(&job);
        tap_ok(tally.hits == want, "schedule(%s), 3 threads: %" PRIu64 " hits", schedules[s].name, tally.hits);
    }
    unsetenv("OMP_SCHEDULE");

    /* A first throw far into the stream (an MPI rank's share), in parallel. */
    const uint64_t first = (UINT64_C(1) << 33) - 777777;
    struct pimc_throw_job offset_job = {.kernel = pimc_kernel_resolve(PIMC_KERNEL_AUTO), .seed = seed,
                                        .first_throw = first, .throws = 1000003, .threads = 4};
    tap_ok(pimc_throw_parallel(&offset_job).hits == reference_hits(seed, first, 1000003),
           "first throw 2^33-777777, across the counter's 32-bit carry, 4 threads");
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

    bool independent = true;
    for (uint64_t n = 1; n < UINT64_C(1) << 62; n = n * 3 + 1)
        independent = independent && pimc_block_throws(n) >= 4096 && pimc_block_throws(n) <= (1u << 20);
    tap_ok(independent, "block size within [2^12, 2^20] throws for every size");
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
}

int main(void)
{
    known_answers();
    kernel_names();
    paths_match_reference();
    parallel_runs_agree();
    stop_and_progress();
    return tap_done();
}
