#include "run.h"

#include "timer.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- progress on stderr: a separate, mostly sleeping thread, so the kernel
 * threads never do anything for it but bump a counter once a block ---------- */

struct progress {
    const char *label;
    uint64_t throws;
    double start;
    atomic_uint_fast64_t done;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t finished_cond;
    bool finished, shown, running;
};

static void *progress_main(void *arg)
{
    struct progress *p = arg;
    const double quiet_period = 2.0, interval = 0.5;
    pthread_mutex_lock(&p->lock);
    double wake = p->start + quiet_period;
    while (!p->finished) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        double wait = wake - pimc_now();
        if (wait > 0) {
            long ns = until.tv_nsec + (long)(fmod(wait, 1.0) * 1e9);
            until.tv_sec += (time_t)wait + ns / 1000000000L;
            until.tv_nsec = ns % 1000000000L;
            pthread_cond_timedwait(&p->finished_cond, &p->lock, &until);
            continue;
        }
        double elapsed = pimc_now() - p->start;
        double done = (double)atomic_load_explicit(&p->done, memory_order_relaxed);
        double rate = done / elapsed, left = (double)p->throws - done;
        fprintf(stderr, "\r\033[K%s: %5.1f%%  %.3g of %.3g throws  %.3g Gthrows/s  ETA %.0f s", p->label,
                100.0 * done / (double)p->throws, done, (double)p->throws, rate * 1e-9,
                rate > 0 ? left / rate : 0.0);
        p->shown = true;
        wake = pimc_now() + interval;
    }
    if (p->shown)
        fputs("\r\033[K", stderr);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static void progress_start(struct progress *p, const char *label, uint64_t throws)
{
    memset(p, 0, sizeof *p);
    p->label = label;
    p->throws = throws;
    p->start = pimc_now();
    atomic_init(&p->done, 0);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->finished_cond, NULL);
    p->running = pthread_create(&p->thread, NULL, progress_main, p) == 0;
}

static void progress_stop(struct progress *p)
{
    if (p->running) {
        pthread_mutex_lock(&p->lock);
        p->finished = true;
        pthread_cond_signal(&p->finished_cond);
        pthread_mutex_unlock(&p->lock);
        pthread_join(p->thread, NULL);
    }
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->finished_cond);
}

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

/* Returns false when stopped. The first complete run of the whole plan sets the
 * outcome's hits; every later complete run must match them. */
static const struct pimc_cluster *cluster_of(const struct pimc_run_plan *plan, bool all_ranks)
{
    static struct pimc_cluster alone = {.rank = 0, .ranks = 1};
    return all_ranks && plan->cluster != NULL ? plan->cluster : &alone;
}

/* The run's clock under MPI is the slowest rank's: the barrier lines the ranks
 * up, and the run lasts until the last one is done. */
static bool run_leg_here(const struct pimc_run_plan *plan, int threads, const char *label, struct pimc_leg *leg,
                         struct pimc_outcome *outcome, bool *have_hits, bool all_ranks)
{
    const struct pimc_cluster *cluster = cluster_of(plan, all_ranks);
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
    }
    for (int r = 0; r < plan->repeats && r < PIMC_MAX_RUNS && !stopped; r++) {
        struct progress progress;
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
            progress_start(&progress, label, share);
            job.throws_done = &progress.done;
        }
        pimc_cluster_barrier(cluster);
        double start = pimc_cluster_time(cluster);
        struct pimc_tally tally = pimc_throw_parallel(&job);
        double elapsed = pimc_cluster_max(cluster, pimc_cluster_time(cluster) - start);
        if (show_progress)
            progress_stop(&progress);
        tally.throws = pimc_cluster_sum(cluster, tally.throws);
        tally.hits = pimc_cluster_sum(cluster, tally.hits);

        if (tally.throws < plan->throws) {
            stopped = true;
            if (!*have_hits) { /* nothing complete yet: the partial tally is the result */
                outcome->throws = tally.throws;
                outcome->hits = tally.hits;
                *have_hits = true;
                leg->seconds[leg->runs++] = elapsed;
            }
            break;
        }
        if (!*have_hits) {
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
static bool run_leg(const struct pimc_run_plan *plan, int threads, const char *label, struct pimc_leg *leg,
                    struct pimc_outcome *outcome, bool *have_hits, bool all_ranks)
{
    leg->runs = 0;
    if (all_ranks || plan->cluster == NULL || plan->cluster->ranks == 1)
        return run_leg_here(plan, threads, label, leg, outcome, have_hits, all_ranks);
    bool complete = true;
    if (plan->cluster->rank == 0)
        complete = run_leg_here(plan, threads, label, leg, outcome, have_hits, false);
    pimc_cluster_wait_for_rank0(plan->cluster);
    return complete;
}

void pimc_run(const struct pimc_run_plan *plan, struct pimc_outcome *outcome)
{
    bool have_hits = false;
    memset(outcome, 0, sizeof *outcome);
    outcome->throws_requested = plan->throws;
    outcome->throws = plan->throws;
    outcome->hits_agree = true;
    outcome->threads = pimc_start_team(plan->threads);
    outcome->ranks = plan->rank0_only || plan->cluster == NULL ? 1 : plan->cluster->ranks;

    bool complete = run_leg(plan, outcome->threads, "parallel", &outcome->parallel, outcome, &have_hits,
                            !plan->rank0_only);
    if (complete && plan->serial) {
        pimc_start_team(1);
        complete = run_leg(plan, 1, "serial", &outcome->serial, outcome, &have_hits, false);
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
    return one;
}

struct pimc_figures pimc_figures_of(const struct pimc_outcome *outcome, enum pimc_scaling scaling)
{
    struct pimc_figures f = {0};
    const double n = (double)outcome->throws, p = (double)outcome->hits / n;
    f.pi = 4.0 * p;
    f.abs_error = fabs(f.pi - M_PI);
    /* Binomial: hits ~ B(n, pi/4), so 4*hits/n has standard error 4*sqrt(p(1-p)/n). */
    f.std_error = 4.0 * sqrt(p * (1.0 - p) / n);
    /* With every throw a hit (or every one a miss) the binomial error is 0 and the
     * estimate cannot be trusted at all: an infinite z-score fails verification. */
    f.z_score = f.std_error > 0 ? (f.pi - M_PI) / f.std_error : (f.abs_error > 0 ? INFINITY : 0.0);
    const int workers = outcome->threads * (outcome->ranks > 1 ? outcome->ranks : 1);
    if (outcome->parallel.runs > 0 && outcome->parallel.median_s > 0) {
        f.throws_per_s = n / outcome->parallel.median_s;
        f.throws_per_s_per_thread = f.throws_per_s / workers;
    }
    /* Speedup compares the same throws: only when both legs completed. */
    if (!outcome->partial && outcome->serial.runs > 0 && outcome->parallel.median_s > 0) {
        const double ratio = outcome->serial.median_s / outcome->parallel.median_s;
        f.has_speedup = true;
        f.speedup = scaling == PIMC_WEAK ? ratio * workers : ratio;
        f.efficiency = scaling == PIMC_WEAK ? ratio : ratio / workers;
    }
    f.verified = outcome->hits_agree && fabs(f.z_score) <= PIMC_VERIFY_SIGMAS;
    return f;
}
