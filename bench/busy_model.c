/*
 * bench/busy-model: the table of the work plan's modelled busy fraction, for
 * thread counts 1 to 512: how much of the threads' time goes to throws, by the
 * model the kernel sizes its blocks and waves with (kernel.h,
 * PIMC_BUSY_MODEL_DEFAULT), for plain runs and checkpointed ones, next to the
 * plan this project had before (THROWS/256 blocks, one parallel loop per
 * checkpoint chunk). A model, not a measurement: it says whether the plan can
 * keep a big node's threads busy, on the side where they are least busy (the
 * fastest path, a contended claim per block, a parallel loop's start and end).
 *
 *   build/bench/busy-model            Markdown table on stdout
 *   build/bench/busy-model --threads 1-16,96,192   other thread counts
 *
 * "least timed size": the throws whose parallel leg lasts PIMC_SHORTEST_TIMED_S
 * on the model's path; below it a leg is too short to time and no speed result
 * is claimed. "least busy" is the least over sizes from there to 2^63 (a
 * geometric series of ratio 1.05 and the plan's edges), the figure
 * tests/test_kernel.c and tests/test_checkpoint.c hold at >= 97%.
 */
#include "kernel.h"
#include "resume.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct pimc_busy_model model = PIMC_BUSY_MODEL_DEFAULT;

/* ---- the plan before: blocks of THROWS/256 (2^12..2^20, whole 64s), waves of
 * 256 blocks a thread, and a checkpoint's chunks one parallel loop each ---- */

static double old_seconds(uint64_t throws, int threads)
{
    uint64_t block = throws / 256;
    block = block < (UINT64_C(1) << 12) ? UINT64_C(1) << 12
            : block > (UINT64_C(1) << 20) ? UINT64_C(1) << 20
                                           : block & ~UINT64_C(63);
    const uint64_t blocks = throws / block + (throws % block != 0), t = (uint64_t)threads;
    const uint64_t wave = 256 * t, full = blocks / wave, last = blocks % wave;
    const double round_s = (double)block / model.throws_per_s + model.block_cost_s;
    const double loop_s = model.loop_cost_s + model.loop_cost_per_thread_s * (double)t;
    double seconds = (double)full * ((double)(wave / t) * round_s + loop_s);
    if (last > 0)
        seconds += (double)((last + t - 1) / t) * round_s + loop_s;
    return seconds;
}

/* ---- busy fractions of a run of n throws ------------------------------------ */

static double busy_of(uint64_t throws, int threads, double seconds)
{
    return seconds > 0 ? (double)throws / model.throws_per_s / (threads * seconds) : 1.0;
}

static double plain_busy(uint64_t throws, int threads)
{
    return pimc_modelled_busy(throws, threads, &model);
}

/* The checkpointed run on one rank: batches of pimc_batch_chunks chunks, one job each. */
static double checkpointed_busy(uint64_t throws, int threads)
{
    const uint64_t c = pimc_chunk_throws(throws), batch = pimc_batch_chunks(c, threads) * c;
    const double seconds = (double)(throws / batch) * pimc_modelled_seconds(batch, threads, &model) +
                           pimc_modelled_seconds(throws % batch, threads, &model);
    return busy_of(throws, threads, seconds);
}

static double old_checkpointed_busy(uint64_t throws, int threads)
{
    const uint64_t c = pimc_chunk_throws(throws);
    const double seconds = (double)(throws / c) * old_seconds(c, threads) + old_seconds(throws % c, threads);
    return busy_of(throws, threads, seconds);
}

static uint64_t least_timed(int threads)
{
    return (uint64_t)ceil(PIMC_SHORTEST_TIMED_S * model.throws_per_s * threads);
}

/* The least busy fraction over timed sizes, and the size where it is. */
static double least_busy(int threads, double (*busy)(uint64_t, int), uint64_t *where)
{
    double worst = 1.0;
    for (int series = 0; series < 2; series++)
        for (uint64_t i = 0;; i++) {
            uint64_t n;
            if (series == 0)
                n = (uint64_t)((double)least_timed(threads) * pow(1.05, (double)i));
            else if (i / 3 < 1024) /* whole numbers of 2^20-throw blocks a thread, +-1 */
                n = (i / 3 + 1) * (uint64_t)threads * PIMC_BLOCK_MAX_THROWS + i % 3 - 1;
            else
                break;
            if (n >= UINT64_C(1) << 63)
                break;
            if (n < least_timed(threads))
                continue;
            const double b = busy(n, threads);
            if (b < worst)
                worst = b, *where = n;
        }
    return worst;
}

static double old_plain_busy(uint64_t throws, int threads)
{
    return busy_of(throws, threads, old_seconds(throws, threads));
}

static void percent(char *cell, size_t size, double fraction)
{
    snprintf(cell, size, "%.1f%%", 100 * fraction);
}

static int parse_threads(const char *text, int *list, int most)
{
    int n = 0;
    for (const char *p = text; *p && n < most;) {
        char *end;
        long first = strtol(p, &end, 10), last = first;
        if (end == p || first < 1 || first > 4096)
            return -1;
        if (*end == '-') {
            p = end + 1;
            last = strtol(p, &end, 10);
            if (end == p || last < first || last > 4096)
                return -1;
        }
        for (long t = first; t <= last && n < most; t++)
            list[n++] = (int)t;
        p = *end == ',' ? end + 1 : end;
        if (*end != ',' && *end != '\0')
            return -1;
    }
    return n;
}

int main(int argc, char **argv)
{
    int threads[512] = {1, 2, 4, 8, 16, 32, 48, 64, 96, 128, 192, 256, 384, 512};
    int count = 14;
    if (argc == 3 && strcmp(argv[1], "--threads") == 0) {
        if ((count = parse_threads(argv[2], threads, 512)) <= 0) {
            fprintf(stderr, "bench/busy-model: --threads '%s' is not a list like 1-16,96,192\n", argv[2]);
            return 2;
        }
    } else if (argc != 1) {
        fprintf(stderr, "usage: bench/busy-model [--threads LIST]\n");
        return 2;
    }
    printf("Modelled busy fraction of the threads (kernel.h's model: %.1f Gthrows/s a thread, %.1f us a block, "
           "a parallel loop %.0f us + %.1f us a thread); speed results from %.0f ms legs.\n\n",
           model.throws_per_s * 1e-9, model.block_cost_s * 1e6, model.loop_cost_s * 1e6,
           model.loop_cost_per_thread_s * 1e6, PIMC_SHORTEST_TIMED_S * 1e3);
    printf("| threads | least timed size | busy there | at 1e9 | at 1e11 | least busy, timed sizes (at) | "
           "checkpointed, least busy (at) | before: least busy | before: checkpointed |\n");
    printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < count; i++) {
        const int t = threads[i];
        const uint64_t least = least_timed(t);
        char there[16], at_1e9[32], at_1e11[16], plain[64], ckpt[64], old[16], old_ckpt[16];
        uint64_t where = 0, ckpt_where = 0, ignored = 0;
        percent(there, sizeof there, plain_busy(least, t));
        percent(at_1e9, sizeof at_1e9, plain_busy(UINT64_C(1000000000), t));
        if (UINT64_C(1000000000) < least)
            strcat(at_1e9, " (too short)");
        percent(at_1e11, sizeof at_1e11, plain_busy(UINT64_C(100000000000), t));
        const double p = least_busy(t, plain_busy, &where), c = least_busy(t, checkpointed_busy, &ckpt_where);
        snprintf(plain, sizeof plain, "%.1f%% (%.3g)", 100 * p, (double)where);
        snprintf(ckpt, sizeof ckpt, "%.1f%% (%.3g)", 100 * c, (double)ckpt_where);
        percent(old, sizeof old, least_busy(t, old_plain_busy, &ignored));
        percent(old_ckpt, sizeof old_ckpt, least_busy(t, old_checkpointed_busy, &ignored));
        printf("| %d | %.3g | %s | %s | %s | %s | %s | %s | %s |\n", t, (double)least, there, at_1e9, at_1e11, plain,
               ckpt, old, old_ckpt);
    }
    return 0;
}
