/*
 * pimc-omp --self-test: the generators against their published known answers,
 * then every kernel path this CPU runs against reference hit counts, through
 * the same OpenMP loop a run uses, on 1 thread and on all of them.
 *
 * The known answers are Random123's kat_vectors (Philox4x32-10; ARS, which
 * Random123 publishes for 10 rounds only: ars.h computes any number of rounds
 * with the same code, the stream uses 5). They hold philox.h and ars.h, the
 * portable definitions, to the published generators; the hit counts then hold
 * each path to those definitions. A hit count is a sum over throws, so one
 * wrong word in a million blocks shows; threads, schedule and path never
 * change it (kernel.h), so one expected value serves every path.
 *
 * The expected hits were computed three ways that share no code: Random123's
 * own philox4x32_R and ars4x32_R (the stream of tests/test_random123.c), the
 * plain Python of tests/reference.py (the 10^6 cases of both generators and
 * Philox's 10^7 case), and every path of this program on 1 and 2 threads
 * (the cases that start at throw 0, through the CLI). tests/test_selftest.c
 * checks that the test fails when an expected value is wrong.
 *
 * The budget is well under 2 s on a 2-CPU machine, loaded: the portable paths
 * (10^8 Philox throws a second, ARS half that) run the 10^6 cases only, the
 * SIMD paths the 10^7 case too, and the generator's fastest path (the one
 * --kernel auto runs) the 10^8 case as well, on all threads only.
 */
#include "selftest.h"

#include "ars.h"
#include "kernel.h"
#include "philox.h"
#include "timer.h"

#include <inttypes.h>

/* A test build only (tests/meson.build) defines this, to prove that a wrong
 * expected value fails: 1 makes one hit count wrong, 2 one known answer. The
 * pimc-omp binary is always built without it. */
#ifndef PIMC_SELFTEST_CORRUPT
#define PIMC_SELFTEST_CORRUPT 0
#endif
#define WRONG_HITS ((uint64_t)(PIMC_SELFTEST_CORRUPT == 1))
#define WRONG_WORD ((uint32_t)(PIMC_SELFTEST_CORRUPT == 2))

/* Throws [first_throw, first_throw + throws) of seed's stream: the hits of each generator. */
struct reference_case {
    uint64_t seed, first_throw, throws;
    uint64_t hits[PIMC_RNG_COUNT];
};

static const struct reference_case cases[] = {
    /* The default seed, as `pimc-omp -t 1 1e6` throws it. */
    {1, 0, 1000000, {[PIMC_RNG_PHILOX] = 785428, [PIMC_RNG_ARS] = 785948}},
    /* The largest seed (both key words all ones), an odd start and an odd count,
     * across block 2^32: the counter's high word changes halfway. */
    {UINT64_MAX, (UINT64_C(1) << 33) - 1001, 1000003,
     {[PIMC_RNG_PHILOX] = 786089 + WRONG_HITS, [PIMC_RNG_ARS] = 785274}},
    /* Digits of pi as the seed: both key words busy. */
    {UINT64_C(0x243f6a8885a308d3), 0, 10000000, {[PIMC_RNG_PHILOX] = 7854639, [PIMC_RNG_ARS] = 7855633}},
    /* 10^7 throws: SIMD paths only; 10^8: the fastest SIMD path, all threads only (see the top). */
    {2024, 0, 100000000, {[PIMC_RNG_PHILOX] = 78540295, [PIMC_RNG_ARS] = 78539042}},
};
#define CASES (int)(sizeof cases / sizeof *cases)
#define PORTABLE_MAX_THROWS UINT64_C(1000003)
#define ONE_THREAD_MAX_THROWS UINT64_C(10000000)

/* ---- known answers -------------------------------------------------------- */

struct known_answer {
    uint32_t counter[4], key[4], output[4];
};

/* Random123 1.14 kat_vectors, philox4x32 with 10 rounds (key words 2, 3 unused). */
static const struct known_answer philox_answers[] = {
    {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
    {{~0u, ~0u, ~0u, ~0u}, {~0u, ~0u}, {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
     {0xa4093822, 0x299f31d0},
     {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
};

/* The same file's ars4x32 lines, 10 rounds. */
static const struct known_answer ars_answers[] = {
    {{0, 0, 0, 0}, {0, 0, 0, 0}, {0x8d73ee19, 0x506401ef, 0x13c2dbe4, 0x0cbe9c0d ^ WRONG_WORD}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
     {0xa4093822, 0x299f31d0, 0x082efa98, 0xec4e6c89},
     {0xa516e7d6, 0x8357ad74, 0x5b59b3ec, 0x8763fff3}},
    {{~0u, ~0u, ~0u, ~0u}, {~0u, ~0u, 0, 0}, {0xbb3743b1, 0x9f635551, 0xecbc87fc, 0xa19478a9}},
};

static void generate(enum pimc_rng rng, const struct known_answer *k, uint32_t out[4])
{
    if (rng == PIMC_RNG_ARS) {
        const ars4x32_ctr w = ars4x32_n(10, (ars4x32_ctr){{k->counter[0], k->counter[1], k->counter[2], k->counter[3]}},
                                        (ars4x32_key){{k->key[0], k->key[1], k->key[2], k->key[3]}});
        for (int i = 0; i < 4; i++)
            out[i] = w.v[i];
    } else {
        const philox4x32_ctr w =
            philox4x32_10((philox4x32_ctr){{k->counter[0], k->counter[1], k->counter[2], k->counter[3]}},
                          (philox2x32_key){{k->key[0], k->key[1]}});
        for (int i = 0; i < 4; i++)
            out[i] = w.v[i];
    }
}

/* One line: "ok: ..." or "FAIL: " and the first answer that differs. */
static bool known_answers_hold(FILE *out, enum pimc_rng rng)
{
    const struct known_answer *answers = rng == PIMC_RNG_ARS ? ars_answers : philox_answers;
    const int count = rng == PIMC_RNG_ARS ? (int)(sizeof ars_answers / sizeof *ars_answers)
                                          : (int)(sizeof philox_answers / sizeof *philox_answers);
    fprintf(out, "%-14s %-7s ", pimc_rng_name(rng), "KAT");
    for (int a = 0; a < count; a++) {
        uint32_t got[4];
        generate(rng, &answers[a], got);
        for (int w = 0; w < 4; w++) {
            if (got[w] != answers[a].output[w]) {
                fprintf(out, "FAIL: counter %08" PRIx32 " %08" PRIx32 " %08" PRIx32 " %08" PRIx32
                             ": %08" PRIx32 " %08" PRIx32 " %08" PRIx32 " %08" PRIx32 ", published %08" PRIx32
                             " %08" PRIx32 " %08" PRIx32 " %08" PRIx32 "\n",
                        answers[a].counter[0], answers[a].counter[1], answers[a].counter[2], answers[a].counter[3],
                        got[0], got[1], got[2], got[3], answers[a].output[0], answers[a].output[1],
                        answers[a].output[2], answers[a].output[3]);
                return false;
            }
        }
    }
    fprintf(out, "ok: %d of Random123's published known answers%s\n", count,
            rng == PIMC_RNG_ARS ? " (10 rounds; the stream uses 5)" : "");
    return true;
}

/* ---- the paths ------------------------------------------------------------ */

/* aesni and neon are ARS's alone (kernel.h). */
static bool generator_has(enum pimc_rng rng, enum pimc_kernel kernel)
{
    return rng == PIMC_RNG_ARS || (kernel != PIMC_KERNEL_AESNI && kernel != PIMC_KERNEL_NEON);
}

static bool is_simd(enum pimc_kernel kernel)
{
    return kernel != PIMC_KERNEL_SCALAR;
}

/* Every case the path runs, on 1 thread and on `threads`; one line. */
static bool path_agrees(FILE *out, enum pimc_rng rng, enum pimc_kernel kernel, int threads, const char *teams_text)
{
    int ran = 0, wrong = 0;
    uint64_t largest = 0;
    char first_wrong[200] = "";
    for (int c = 0; c < CASES; c++) {
        const struct reference_case *r = &cases[c];
        if (r->throws > PORTABLE_MAX_THROWS && !is_simd(kernel))
            continue;
        if (r->throws > ONE_THREAD_MAX_THROWS && kernel != pimc_kernel_resolve_for(rng, PIMC_KERNEL_AUTO))
            continue;
        largest = r->throws > largest ? r->throws : largest;
        int teams[2], team_count = 0;
        if (r->throws <= ONE_THREAD_MAX_THROWS || threads == 1)
            teams[team_count++] = 1;
        if (threads > 1)
            teams[team_count++] = threads;
        for (int t = 0; t < team_count; t++) {
            const struct pimc_throw_job job = {.rng = rng, .kernel = kernel, .seed = r->seed,
                                               .first_throw = r->first_throw, .throws = r->throws,
                                               .threads = teams[t]};
            const struct pimc_tally tally = pimc_throw_parallel(&job);
            ran++;
            if (tally.hits == r->hits[rng] && tally.throws == r->throws)
                continue;
            if (wrong++ == 0)
                snprintf(first_wrong, sizeof first_wrong,
                         "seed %#" PRIx64 ", throws %" PRIu64 " to %" PRIu64 ", %d thread%s: %" PRIu64
                         " hits, expected %" PRIu64,
                         r->seed, r->first_throw, r->first_throw + r->throws - 1, teams[t], teams[t] == 1 ? "" : "s",
                         tally.hits, r->hits[rng]);
        }
    }
    fprintf(out, "%-14s %-7s ", pimc_rng_name(rng), pimc_kernel_name(kernel));
    if (wrong == 0)
        fprintf(out, "ok: %d reference hit counts, %s throws, on %s\n", ran,
                largest > ONE_THREAD_MAX_THROWS ? "10^6 to 10^8"
                : largest > PORTABLE_MAX_THROWS ? "10^6 to 10^7"
                                                : "10^6",
                teams_text);
    else
        fprintf(out, "FAIL: %s%s\n", first_wrong, wrong > 1 ? " (and more)" : "");
    return wrong == 0;
}

bool pimc_self_test(FILE *out, int threads, struct pimc_self_test_result *result)
{
    struct pimc_self_test_result tally = {0};
    const double start = pimc_now();
    if (threads < 1)
        threads = 1;
    char teams_text[40] = "1 thread";
    if (threads > 1)
        snprintf(teams_text, sizeof teams_text, "1 and %d threads", threads);
    for (int g = 0; g < PIMC_RNG_COUNT; g++) {
        const enum pimc_rng rng = (enum pimc_rng)g;
        if (known_answers_hold(out, rng))
            tally.passed++;
        else
            tally.failed++;
        fflush(out);
        for (int k = PIMC_KERNEL_SCALAR; k < PIMC_KERNEL_COUNT; k++) {
            const enum pimc_kernel kernel = (enum pimc_kernel)k;
            if (!generator_has(rng, kernel))
                continue;
            if (!pimc_kernel_available_for(rng, kernel)) {
                fprintf(out, "%-14s %-7s skipped: %s\n", pimc_rng_name(rng), pimc_kernel_name(kernel),
                        pimc_cpu_can_run(rng, kernel) ? "not in this build"
                                                      : "this CPU lacks it (or PIMC_HIDE_KERNELS hides it)");
                tally.skipped++;
            } else if (path_agrees(out, rng, kernel, threads, teams_text)) {
                tally.passed++;
            } else {
                tally.failed++;
            }
            fflush(out);
        }
    }
    tally.seconds = pimc_now() - start;
    fprintf(out, "self-test: %s: %d passed, %d failed, %d skipped, on %s, in %.2f s\n",
            tally.failed == 0 ? "PASS" : "FAIL", tally.passed, tally.failed, tally.skipped, teams_text, tally.seconds);
    fflush(out);
    if (result != NULL)
        *result = tally;
    return tally.failed == 0;
}
