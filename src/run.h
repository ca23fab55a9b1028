/* The run engine: times the parallel and the 1-thread runs of the same throws,
 * repeats them, checks they agree, and derives the figures a report shows. It
 * knows nothing of options, files or output formats. */
#ifndef PIMC_RUN_H
#define PIMC_RUN_H

#include "cluster.h"
#include "kernel.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pimc_run_plan {
    enum pimc_rng rng;       /* the stream's generator */
    enum pimc_kernel kernel; /* resolved for rng: not AUTO */
    uint64_t seed;
    uint64_t throws;
    int threads;
    int repeats;
    struct pimc_schedule schedule; /* of the kernel's loop: {0} is its own, dynamic,1 */
    bool serial;
    /* Each leg's untimed warm-up, before its first timed run: about this many
     * seconds, never more throws than the leg's own; 0: none. */
    double warm_up_s;
    /* THROWS was not given: after the parallel leg's warm-up, raise throws (a
     * floor) to a readable size whose parallel leg lasts PIMC_SIZED_LEG_S. */
    bool size_throws;
    bool show_progress;      /* on stderr, for runs past two seconds */
    const atomic_bool *stop; /* set by a signal handler: finish the blocks under way and return */
    /* Ranks that share the parallel run's throws; the serial run is rank 0's
     * alone. NULL: this process only. */
    const struct pimc_cluster *cluster;
    bool rank0_only; /* the "parallel" run too is rank 0's alone (a study's 1-core baseline) */
};

#define PIMC_MAX_RUNS 100
#define PIMC_SIZED_LEG_S 0.2 /* the parallel leg a default THROWS is sized for */

/* One timed leg (the parallel or the serial run), over its repeats. */
struct pimc_leg {
    /* Timed runs completed; 0 when the leg did not run. Or 1 when a stop cut
     * the first timed run of the first leg: that run is the result then. */
    int runs;
    double median_s, min_s, max_s;
    double seconds[PIMC_MAX_RUNS]; /* each run's time, in the order run */
};

/* The legs of a run, to say which one a stop request cut. */
enum pimc_leg_name { PIMC_LEG_NONE, PIMC_LEG_PARALLEL, PIMC_LEG_SERIAL };
#define PIMC_WARM_UP_RUN (-1) /* cut_run of a stop in a leg's untimed warm-up */

struct pimc_outcome {
    uint64_t throws_requested;
    /* The throws the result stands for, and their hits. All those requested
     * once one timed run completed. When a stop came before that, the longest
     * run of throws from the stream's start that was made whole (0 when it
     * came in the warm-up): a fresh run of `throws` throws gives these hits. */
    uint64_t throws;
    uint64_t hits;
    /* A stop request ended it before every run asked was done: cut_leg and
     * cut_run say where. What completed before is complete: with throws ==
     * throws_requested the result is whole, and so is every timed run it
     * counts. */
    bool partial;
    enum pimc_leg_name cut_leg; /* PIMC_LEG_NONE unless partial */
    int cut_run;                /* the timed run cut, from 0, or PIMC_WARM_UP_RUN */
    bool hits_agree; /* every complete run, parallel or serial, gave the same hits */
    bool throws_sized; /* throws_requested was sized from the warm-up (plan.size_throws) */
    double warm_throws_per_s; /* the parallel leg's warm-up rate, all ranks: its fastest chunk (0: none) */
    int threads;     /* per rank: what the OpenMP runtime gave */
    int ranks;       /* that took part in the parallel run */
    struct pimc_leg parallel, serial;
};

struct pimc_figures {
    bool has_estimate; /* some throws were made; else pi and its errors are NAN */
    double pi, abs_error, std_error, z_score;
    double throws_per_s, throws_per_s_per_thread;
    bool has_speedup;
    double speedup, efficiency;
    bool verified; /* an estimate within PIMC_VERIFY_SIGMAS standard errors, and hits agree */
};

/* The binomial standard error of an estimate 4*hits/throws of pi: hits ~
 * B(throws, p) with p = pi/4, the true probability of a hit, so the error is
 * 4*sqrt(p(1-p)/throws). Of the true p, not of the estimate: that is 0 when
 * every throw hits (or misses), which a valid run of a few throws does, and
 * would make any distance from pi "infinitely many" errors. NAN for 0 throws. */
double pimc_std_error(uint64_t throws);

#define PIMC_VERIFY_SIGMAS 5.0
#define PIMC_NOISY_SPREAD 1.2 /* max/min of repeated times past which a warning is due */

/* Warms each leg up, then times plan->repeats runs of each, the legs
 * alternating (see run.c). repeats 0: the warm-ups alone. */
void pimc_run(const struct pimc_run_plan *plan, struct pimc_outcome *outcome);

/* A readable size of at least `floor` throws (1, 2 or 5 times a power of ten)
 * whose parallel leg at `throws_per_s` lasts about `seconds` or more. */
uint64_t pimc_sized_throws(double throws_per_s, double seconds, uint64_t floor);

/* The legs of an outcome timed under PIMC_SHORTEST_TIMED_S, as the report and
 * the too_short column name them ("parallel", "serial", "parallel serial"),
 * in `text`; false (and "") when none is. */
bool pimc_too_short(const struct pimc_outcome *outcome, char *text, size_t size);

/* Strong scaling (the same throws on more threads): speedup = serial / parallel
 * time, efficiency = speedup / threads. Weak scaling (the same throws per
 * thread): efficiency = T1 / Tp, and speedup = threads * efficiency (scaled). */
enum pimc_scaling { PIMC_STRONG, PIMC_WEAK };

struct pimc_figures pimc_figures_of(const struct pimc_outcome *outcome, enum pimc_scaling scaling);

/* The same outcome with one timed run of each leg in place of all of them: the
 * record of repeat number `run`. It is complete when the run completed in
 * every leg that has it, and otherwise cut where the outcome was. */
struct pimc_outcome pimc_outcome_of_run(const struct pimc_outcome *outcome, int run);

#endif
