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

/* Enough throws to wake the team's threads and bring the cores to speed, about
 * a tenth of a second, without doubling the cost of a long study. */
#define WARM_UP_THROWS (UINT64_C(1) << 27)

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

/* Returns false when stopped. The first complete run of the whole plan sets the
 * outcome's throws and hits; every later complete run must match them. A stop
 * in the first timed run of the plan leaves that run's prefix as the result.
 * The run's clock under MPI is the slowest rank's: the barrier lines the ranks
 * up, and the run lasts until the last one is done. */
static bool run_leg_here(const struct pimc_run_plan *plan, int threads, enum pimc_leg_name name,
                         struct pimc_leg *leg, struct pimc_outcome *outcome, bool *have_hits, bool all_ranks)
{
    const struct pimc_cluster *cluster = cluster_of(plan, all_ranks);
    const char *label = name == PIMC_LEG_SERIAL ? "serial" : "parallel";
    bool stopped = false;
    uint64_t first, share;
    pimc_cluster_share(cluster, plan->throws, &first, &share);
    if (plan->warm_up) {
        struct pimc_throw_job warm = {.rng = plan->rng, .kernel = plan->kernel, .seed = plan->seed, .threads = threads,
                                      .schedule = plan->schedule,
                                      .first_throw = first, .throws = share < WARM_UP_THROWS ? share : WARM_UP_THROWS,
                                      .stop = plan->stop};
        stopped = pimc_cluster_sum(cluster, pimc_throw_parallel(&warm).throws) <
                  pimc_cluster_sum(cluster, warm.throws);
        if (stopped)
            cut(outcome, name, PIMC_WARM_UP_RUN);
    }
    for (int r = 0; r < plan->repeats && r < PIMC_MAX_RUNS && !stopped; r++) {
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
            pimc_progress_line_start(&progress, label, share, 0);
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
            stopped = true;
            cut(outcome, name, r);
            if (!*have_hits) { /* nothing complete yet: the prefix made whole is the result */
                outcome->throws = tally.throws;
                outcome->hits = tally.hits;
                *have_hits = true;
                leg->seconds[leg->runs++] = elapsed;
            }
            break;
        }
        if (!*have_hits) {
            outcome->throws = tally.throws;
            outcome->hits = tally.hits;
            *have_hits = true;
        } else if (tally.hits != outcome->hits) {
            outcome->hits_agree = false;
        }
        leg->seconds[leg->runs++] = elapsed;
    }
    summarize(leg);
    return !stopped;
}

/* A leg of rank 0's alone: the other ranks sleep until it is done, so that its
 * times are those of a machine they leave alone. */
static bool run_leg(const struct pimc_run_plan *plan, int threads, enum pimc_leg_name name, struct pimc_leg *leg,
                    struct pimc_outcome *outcome, bool *have_hits, bool all_ranks)
{
    leg->runs = 0;
    if (all_ranks || plan->cluster == NULL || plan->cluster->ranks == 1)
        return run_leg_here(plan, threads, name, leg, outcome, have_hits, all_ranks);
    bool complete = true;
    if (plan->cluster->rank == 0)
        complete = run_leg_here(plan, threads, name, leg, outcome, have_hits, false);
    pimc_cluster_wait_for_rank0(plan->cluster);
    return complete;
}

void pimc_run(const struct pimc_run_plan *plan, struct pimc_outcome *outcome)
{
    bool have_hits = false;
    memset(outcome, 0, sizeof *outcome);
    outcome->throws_requested = plan->throws;
    outcome->throws = 0; /* until a run says what was made */
    outcome->hits_agree = true;
    outcome->threads = pimc_start_team(plan->threads);
    outcome->ranks = plan->rank0_only || plan->cluster == NULL ? 1 : plan->cluster->ranks;

    bool complete = run_leg(plan, outcome->threads, PIMC_LEG_PARALLEL, &outcome->parallel, outcome, &have_hits,
                            !plan->rank0_only);
    if (complete && plan->serial) {
        pimc_start_team(1);
        complete = run_leg(plan, 1, PIMC_LEG_SERIAL, &outcome->serial, outcome, &have_hits, false);
    }
    outcome->partial = !complete;
    /* Rank 0 alone ran the serial leg: every rank must still take the same path next. */
    if (plan->cluster != NULL)
        outcome->partial = pimc_cluster_agree(plan->cluster, outcome->partial);
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
