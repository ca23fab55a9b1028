#include "run.h"

#include "progress_line.h"
#include "timer.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- timed legs --------------------------------------------------------- */

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void summarize(struct pimc_leg *leg)
{
    double sorted[PIMC_MAX_RUNS];
    const int runs = leg->runs;
    if (runs == 0)
        return;
    memcpy(sorted, leg->seconds, (size_t)runs * sizeof *sorted);
    qsort(sorted, (size_t)runs, sizeof *sorted, compare_doubles);
    leg->min_s = sorted[0];
    leg->max_s = sorted[runs - 1];
    leg->median_s = runs % 2 ? sorted[runs / 2] : (sorted[runs / 2 - 1] + sorted[runs / 2]) / 2;
}

/* The first chunk of a warm-up: a millisecond or less on most paths, so that
 * a tiny run's warm-up stays as short as the run, and the next chunks can be
 * sized from its rate. */
#define WARM_UP_FIRST_CHUNK (UINT64_C(1) << 20)

static const struct pimc_cluster *cluster_of(const struct pimc_run_plan *plan, bool all_ranks)
{
    static struct pimc_cluster alone = {.rank = 0, .ranks = 1};
    return all_ranks && plan->cluster != NULL ? plan->cluster : &alone;
}

/* The ranks' tallies of a run as one: each rank's is a prefix of its share,
 * and the shares follow each other in rank order, so the stream's start that
 * was made whole is the shares of the ranks before the first one cut short,
 * and that one's prefix. */
static struct pimc_tally sum_of_prefixes(const struct pimc_cluster *cluster, struct pimc_tally mine, uint64_t share)
{
    if (cluster->ranks > 1) {
        const bool cut = mine.throws < share;
        const int first_cut =
            cluster->ranks - (int)pimc_cluster_max(cluster, cut ? (double)(cluster->ranks - cluster->rank) : 0.0);
        if (cluster->rank > first_cut)
            mine = (struct pimc_tally){0};
    }
    return (struct pimc_tally){.throws = pimc_cluster_sum(cluster, mine.throws),
                               .hits = pimc_cluster_sum(cluster, mine.hits)};
}

static void cut(struct pimc_outcome *outcome, enum pimc_leg_name leg, int run)
{
    outcome->cut_leg = leg;
    outcome->cut_run = run;
}

/* A leg's warm-up: its own throws (this rank's share, from the stream's start),
 * on its thread count and path, untimed and uncounted, in growing chunks until
 * plan->warm_up_s has passed or as many throws as the leg's were made. A set
 * time, not a set count, because what it must do takes time: wake the team's
 * threads and bring the cores to the clock they hold under this load (a cold
 * first leg of a fresh process ran at half the speed of a warm one on a 2-vCPU
 * Zen 5); a count that is 0.1 s on one path is 3 s on another and 1 ms on a
 * big node. The cap keeps a tiny run (the test suites' 1e6 throws) tiny.
 * Every rank takes the same steps: each decision is from sums and maxima all
 * ranks share. Returns false when stopped; *rate is the throws a second, all
 * ranks', of the fastest chunk (0 when nothing ran). */
static bool warm_up(const struct pimc_run_plan *plan, uint64_t throws, int threads,
                    const struct pimc_cluster *cluster, double *rate)
{
    uint64_t first, share, mine = 0, all = 0, chunk = WARM_UP_FIRST_CHUNK; /* chunk: a rank's */
    double elapsed = 0.0;
    pimc_cluster_share(cluster, throws, &first, &share);
    *rate = 0.0;
    while (elapsed < plan->warm_up_s && all < throws) {
        const uint64_t n = share - mine < chunk ? share - mine : chunk;
        struct pimc_throw_job job = {.rng = plan->rng, .kernel = plan->kernel, .seed = plan->seed,
                                     .first_throw = first, .throws = n, .threads = threads,
                                     .schedule = plan->schedule, .stop = plan->stop};
        const double start = pimc_cluster_time(cluster);
        const uint64_t made = n > 0 ? pimc_throw_parallel(&job).throws : 0;
        const double took = pimc_cluster_max(cluster, pimc_cluster_time(cluster) - start);
        const uint64_t all_n = pimc_cluster_sum(cluster, n);
        if (pimc_cluster_sum(cluster, made) < all_n)
            return false;
        mine += n;
        all += all_n;
        elapsed += took;
        if (took > 0 && (double)all_n / took > *rate)
            *rate = (double)all_n / took;
        /* Double the chunk, but stop near the set time: no further than the
         * time left at this chunk's rate. */
        const double fits = took > 0 ? (double)chunk * (plan->warm_up_s - elapsed) / took : 2.0 * (double)chunk;
        chunk = fits >= 2.0 * (double)chunk ? 2 * chunk
                : fits > (double)WARM_UP_FIRST_CHUNK ? (uint64_t)fits
                                                      : WARM_UP_FIRST_CHUNK;
    }
    return true;
}

/* One timed run (repeat r) of a leg. Returns false when stopped. The first
 * complete run of the whole plan sets the outcome's throws and hits; every
 * later complete run must match them. A stop in the first timed run of the
 * plan leaves that run's prefix as the result. The run's clock under MPI is
 * the slowest rank's: the barrier lines the ranks up, and the run lasts until
 * the last one is done. */
static bool time_run(const struct pimc_run_plan *plan, const struct pimc_cluster *cluster, int threads,
                     enum pimc_leg_name name, int r, struct pimc_leg *leg, struct pimc_outcome *outcome,
                     bool *have_hits)
{
    uint64_t first, share;
    pimc_cluster_share(cluster, plan->throws, &first, &share);
    struct pimc_progress_line progress;
    struct pimc_throw_job job = {
        .rng = plan->rng,
        .kernel = plan->kernel,
        .seed = plan->seed,
        .first_throw = first,
        .throws = share,
        .threads = threads,
        .schedule = plan->schedule,
        .stop = plan->stop,
    };
    const bool show_progress = plan->show_progress && cluster->rank == 0;
    if (show_progress) {
        pimc_progress_line_start(&progress, name == PIMC_LEG_SERIAL ? "serial" : "parallel", share, 0);
        job.throws_done = &progress.done;
    }
    pimc_cluster_barrier(cluster);
    double start = pimc_cluster_time(cluster);
    struct pimc_tally tally = pimc_throw_parallel(&job);
    double elapsed = pimc_cluster_max(cluster, pimc_cluster_time(cluster) - start);
    if (show_progress)
        pimc_progress_line_stop(&progress);
    tally = sum_of_prefixes(cluster, tally, share);

    if (tally.throws < plan->throws) {
        cut(outcome, name, r);
        if (!*have_hits) { /* nothing complete yet: the prefix made whole is the result */
            outcome->throws = tally.throws;
            outcome->hits = tally.hits;
            *have_hits = true;
            leg->seconds[leg->runs++] = elapsed;
        }
        return false;
    }
    if (!*have_hits) {
        outcome->throws = tally.throws;
        outcome->hits = tally.hits;
        *have_hits = true;
    } else if (tally.hits != outcome->hits) {
        outcome->hits_agree = false;
    }
    leg->seconds[leg->runs++] = elapsed;
    return true;
}

/* A step of a leg: its warm-up (r == PIMC_WARM_UP_RUN) or its timed run r.
 * The serial leg, and a study's 1-core baseline, are rank 0's alone: the other
 * ranks sleep until it is done, so that its times are those of a machine they
 * leave alone, and then all learn whether a stop cut it, to take the same
 * next step. Returns false when stopped. */
static bool leg_step(const struct pimc_run_plan *plan, enum pimc_leg_name name, int r, struct pimc_outcome *outcome,
                     bool *have_hits, double *warm_rate)
{
    const bool all_ranks = name == PIMC_LEG_PARALLEL && !plan->rank0_only;
    const int threads = name == PIMC_LEG_SERIAL ? 1 : outcome->threads;
    struct pimc_leg *leg = name == PIMC_LEG_SERIAL ? &outcome->serial : &outcome->parallel;
    const struct pimc_cluster *cluster = cluster_of(plan, all_ranks);
    const bool alone = !all_ranks && plan->cluster != NULL && plan->cluster->ranks > 1;
    bool going = true;
    if (!alone || plan->cluster->rank == 0) {
        if (r == PIMC_WARM_UP_RUN) {
            double rate;
            going = warm_up(plan, plan->throws, threads, cluster, &rate);
            if (warm_rate != NULL)
                *warm_rate = rate;
            if (!going)
                cut(outcome, name, PIMC_WARM_UP_RUN);
        } else {
            going = time_run(plan, cluster, threads, name, r, leg, outcome, have_hits);
        }
        summarize(leg);
    }
    if (alone) {
        pimc_cluster_wait_for_rank0(plan->cluster);
        going = !pimc_cluster_agree(plan->cluster, !going);
    }
    return going;
}

/* 1, 2 or 5 times a power of ten: a size a reader takes in at a glance. */
uint64_t pimc_sized_throws(double throws_per_s, double seconds, uint64_t floor)
{
    const double want = throws_per_s * seconds;
    uint64_t size = floor;
    for (uint64_t decade = 1; decade <= UINT64_C(1000000000000000000) && (double)size < want; decade *= 10)
        for (int m = 0; m < 3 && (double)size < want; m++) {
            const uint64_t candidate = decade * (uint64_t)(m == 0 ? 1 : m == 1 ? 2 : 5);
            if (candidate > size)
                size = candidate;
        }
    return size;
}

/* The legs run in turns, P S P S ..., each warmed up before its first timed
 * run: so every timed run but the first of each follows a run of the other
 * leg, and neither leg gets the warmer machine or the quieter moment of the
 * session (all parallel runs, then all serial ones, gave the serial leg the
 * cores the parallel runs had warmed). */
void pimc_run(const struct pimc_run_plan *asked, struct pimc_outcome *outcome)
{
    struct pimc_run_plan plan = *asked;
    bool have_hits = false;
    memset(outcome, 0, sizeof *outcome);
    outcome->throws_requested = plan.throws;
    outcome->throws = 0; /* until a run says what was made */
    outcome->hits_agree = true;
    outcome->threads = pimc_start_team(plan.threads);
    outcome->ranks = plan.rank0_only || plan.cluster == NULL ? 1 : plan.cluster->ranks;

    bool going = true, serial_warm = false;
    double rate = 0.0;
    if (plan.warm_up_s > 0)
        going = leg_step(&plan, PIMC_LEG_PARALLEL, PIMC_WARM_UP_RUN, outcome, &have_hits, &rate);
    outcome->warm_throws_per_s = rate;
    /* Of all ranks' warm-up, so every rank sizes alike (a rank-0-only leg's
     * rate is rank 0's alone: not sized). */
    if (going && plan.size_throws && !plan.rank0_only && rate > 0) {
        plan.throws = pimc_sized_throws(rate, PIMC_SIZED_LEG_S, plan.throws);
        outcome->throws_sized = true;
        outcome->throws_requested = plan.throws;
    }
    for (int r = 0; r < plan.repeats && r < PIMC_MAX_RUNS && going; r++) {
        going = leg_step(&plan, PIMC_LEG_PARALLEL, r, outcome, &have_hits, NULL);
        if (going && plan.serial && !serial_warm && plan.warm_up_s > 0) {
            going = leg_step(&plan, PIMC_LEG_SERIAL, PIMC_WARM_UP_RUN, outcome, &have_hits, NULL);
            serial_warm = true;
        }
        if (going && plan.serial)
            going = leg_step(&plan, PIMC_LEG_SERIAL, r, outcome, &have_hits, NULL);
    }
    outcome->partial = !going;
    /* Every rank took the same steps; this is a last guard that they agree. */
    if (plan.cluster != NULL)
        outcome->partial = pimc_cluster_agree(plan.cluster, outcome->partial);
}

struct pimc_outcome pimc_outcome_of_run(const struct pimc_outcome *outcome, int run)
{
    struct pimc_outcome one = *outcome;
    struct pimc_leg *legs[] = {&one.parallel, &one.serial};
    for (int i = 0; i < 2; i++) {
        if (run < legs[i]->runs) {
            legs[i]->seconds[0] = legs[i]->seconds[run];
            legs[i]->runs = 1;
            summarize(legs[i]);
        } else {
            legs[i]->runs = 0;
        }
    }
    /* A stop in run k (or the warm-up, before run 0) cut runs k and later: the
     * ones before it completed in every leg. */
    one.partial = outcome->partial && outcome->cut_run <= run;
    if (!one.partial)
        cut(&one, PIMC_LEG_NONE, 0);
    return one;
}

double pimc_std_error(uint64_t throws)
{
    const double p = M_PI / 4.0;
    return throws > 0 ? 4.0 * sqrt(p * (1.0 - p) / (double)throws) : NAN;
}

struct pimc_figures pimc_figures_of(const struct pimc_outcome *outcome, enum pimc_scaling scaling)
{
    struct pimc_figures f = {.pi = NAN, .abs_error = NAN, .std_error = NAN, .z_score = NAN};
    const double n = (double)outcome->throws;
    f.has_estimate = outcome->throws > 0;
    if (f.has_estimate) {
        f.pi = 4.0 * (double)outcome->hits / n;
        f.abs_error = fabs(f.pi - M_PI);
        f.std_error = pimc_std_error(outcome->throws);
        f.z_score = (f.pi - M_PI) / f.std_error;
    }
    /* Speeds are of complete runs of all the throws: a cut run's time is not
     * one, and its prefix is fewer throws than it made. */
    const bool whole = outcome->throws == outcome->throws_requested && f.has_estimate;
    const int workers = outcome->threads * (outcome->ranks > 1 ? outcome->ranks : 1);
    if (whole && outcome->parallel.runs > 0 && outcome->parallel.median_s > 0) {
        f.throws_per_s = n / outcome->parallel.median_s;
        f.throws_per_s_per_thread = f.throws_per_s / workers;
    }
    /* Speedup compares the same throws: complete runs of both legs. */
    if (whole && outcome->serial.runs > 0 && outcome->parallel.runs > 0 && outcome->parallel.median_s > 0) {
        const double ratio = outcome->serial.median_s / outcome->parallel.median_s;
        f.has_speedup = true;
        f.speedup = scaling == PIMC_WEAK ? ratio * workers : ratio;
        f.efficiency = scaling == PIMC_WEAK ? ratio : ratio / workers;
    }
    f.verified = f.has_estimate && outcome->hits_agree && fabs(f.z_score) <= PIMC_VERIFY_SIGMAS;
    return f;
}

bool pimc_too_short(const struct pimc_outcome *outcome, char *text, size_t size)
{
    /* Like STREAM's checktick() and zstd's bench: a leg of a few milliseconds
     * is timer ticks, scheduler wake-ups and a cold start as much as throws. */
    const bool parallel = outcome->parallel.runs > 0 && outcome->parallel.median_s < PIMC_SHORTEST_TIMED_S;
    const bool serial = outcome->serial.runs > 0 && outcome->serial.median_s < PIMC_SHORTEST_TIMED_S;
    snprintf(text, size, "%s%s%s", parallel ? "parallel" : "", parallel && serial ? " " : "", serial ? "serial" : "");
    return parallel || serial;
}
