/* The verdicts of a regression check, as pure functions of what was measured
 * and what the baseline says: no clock, no file, no output. Each metric gets
 * PASS, FAIL, SKIPPED (nothing to compare with) or INCONCLUSIVE (slower than
 * the baseline allows, but other work took so much of the machine that the
 * slowness proves nothing), and a line of detail. */
#ifndef PIMC_VERDICT_H
#define PIMC_VERDICT_H

#include "kernel.h"

#include <stdbool.h>
#include <stdint.h>

enum pimc_verdict { PIMC_PASS, PIMC_FAIL, PIMC_SKIPPED, PIMC_INCONCLUSIVE };

/* "PASS", "FAIL", "SKIPPED", "INCONCLUSIVE". */
const char *pimc_verdict_name(enum pimc_verdict verdict);

/* A run that other work took more than this share of was mostly someone
 * else's: its slowness proves nothing. */
#define PIMC_MAX_LOST_SHARE 0.75
/* Steal is not discounted (it cannot be told apart per thread): a slow
 * parallel run during which the hypervisor took more than this share of our
 * CPUs cannot convict. */
#define PIMC_MAX_STOLEN_SHARE 0.10

struct pimc_metric {
    const char *name; /* hits, kernel, throughput_per_thread, efficiency, speed_vs_scalar */
    enum pimc_verdict verdict;
    bool has_values;
    double measured, baseline; /* for JSON */
    char text[1024];           /* after "check NAME: VERDICT " */
};

/* Sets the verdict and its detail, printf-style. */
void pimc_say(struct pimc_metric *m, enum pimc_verdict verdict, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* hits: the runs must agree among themselves, the estimate verify, and the
 * count equal the baseline's for the same seed and throws (when it has rows of
 * them: witnesses = 0 means none). */
struct pimc_hits_evidence {
    uint64_t hits;       /* measured */
    bool runs_agree;     /* every run of the same throws gave these hits */
    bool verified;       /* within PIMC_VERIFY_SIGMAS standard errors of pi */
    double z_score;
    uint64_t seed, throws;
    int witnesses;           /* baseline rows of that seed and throws */
    uint64_t baseline_hits;  /* what they hold */
};
void pimc_judge_hits(struct pimc_metric *m, const struct pimc_hits_evidence *e);

/* kernel: the path the dispatch chose must be the baseline's on the same CPU
 * model; another model may have other paths (SKIPPED). */
void pimc_judge_kernel(struct pimc_metric *m, enum pimc_kernel used, enum pimc_kernel baseline, bool same_cpu,
                       bool forced);

/* A timing metric where higher is better. raw/best/median: this machine's
 * figure from the fastest run as timed, from the fastest run with other
 * work's time discounted, and from the median run; the baseline's from its
 * fastest runs and the median of its rows. lost_share: of the best run's time,
 * what other work took; stolen_share: of our CPUs' time, what the hypervisor
 * took.
 *
 * The rules, in order (the first that applies decides):
 * 1. A timed leg behind the figures under PIMC_SHORTEST_TIMED_S (shortest_leg
 *    names it, shortest_leg_s is its length): INCONCLUSIVE. Such a leg is the
 *    clock's and the scheduler's noise, so it can neither pass nor convict.
 * 2. raw >= baseline_best * (1 - tolerance): PASS; but INCONCLUSIVE when
 *    other_model says the rows may be another CPU model's (a figure of another
 *    model is not this one's to meet).
 * 3. best (discounted) meets that floor while raw does not: INCONCLUSIVE. The
 *    discount is an estimate that can reach 99% of a run: it may excuse a slow
 *    run, never make it pass.
 * 4. Below the floor either way: INCONCLUSIVE past PIMC_MAX_LOST_SHARE or
 *    PIMC_MAX_STOLEN_SHARE, or on other_model rows unless
 *    other_model_can_fail; else FAIL. */
struct pimc_timing {
    double best, raw, median, lost_share, stolen_share;
    double baseline_best, baseline_median;
    int runs, baseline_rows;
    const char *shortest_leg; /* e.g. "the baseline's parallel leg"; NULL: none known */
    double shortest_leg_s;
    const char *other_model;  /* NULL: the rows are this CPU model's; else why they may not be */
    bool other_model_can_fail; /* a drop below the floor convicts on other_model rows too */
};
void pimc_judge_timing(struct pimc_metric *m, const struct pimc_timing *x, double tolerance, const char *unit,
                       int decimals);

/* The check's outcome over its metrics: "REGRESSION" when one FAILed (exit
 * 1), else "INCONCLUSIVE" when one was (exit 0: not a regression shown), else
 * "PASS". failing and unsure list the metrics' names, comma-separated. */
struct pimc_check_outcome {
    const char *final;
    int exit_status;
    char failing[128], unsure[128];
};
struct pimc_check_outcome pimc_check_outcome_of(const struct pimc_metric *metrics, int count);

#endif
