/* The statistics of an A/B comparison (--against), as pure functions: no
 * clock, no file, no output.
 *
 * Each round of an A/B run gives one paired difference d = log(this build's
 * figure) - log(the other build's), for each metric (higher is better). The
 * centre of the d's is estimated by Hodges and Lehmann's estimator, the median
 * of the Walsh averages (d_i + d_j) / 2 over i <= j, and bounded by the
 * confidence interval that Wilcoxon's signed-rank statistic gives: the k-th
 * smallest and k-th largest Walsh average, k from the exact null distribution
 * of the statistic (its normal approximation past PIMC_EXACT_SIGNED_RANK
 * pairs). It assumes only that the d's are independent and symmetric about
 * their centre, which the ABBA order (each round runs A B B A or B A A B)
 * makes plausible; one round spoiled by other work moves it by one rank, not
 * by the size of the spoil. The ratio this/other is exp() of it.
 *
 * Why not a bootstrap: a percentile bootstrap undercovers at the 6 to 30
 * pairs a minute gives, needs a seed to be repeatable, and costs thousands of
 * resamples a look; this interval is exact for any n from 6 up at 95%.
 */
#ifndef PIMC_STATS_H
#define PIMC_STATS_H

#include <stdbool.h>

#define PIMC_EXACT_SIGNED_RANK 200 /* pairs up to which the null distribution is counted exactly */

struct pimc_interval {
    bool valid;         /* false: too few pairs for this confidence (or none) */
    int n;              /* pairs */
    double confidence;  /* asked, e.g. 0.95 */
    double coverage;    /* what the exact distribution gives (>= confidence) */
    double estimate;    /* Hodges-Lehmann: the median of the Walsh averages */
    double low, high;   /* the interval of the centre */
};

/* The estimate and interval of the centre of d[0..n-1]. With too few pairs
 * (fewer than pimc_signed_rank_min_pairs), valid is false and low/high are the
 * whole real line, estimate still set when n > 0. */
struct pimc_interval pimc_signed_rank_interval(const double *d, int n, double confidence);

/* The fewest pairs for which the interval exists: 6 at 95%, 8 at 99%. */
int pimc_signed_rank_min_pairs(double confidence);

/* P(T+ <= t) for Wilcoxon's signed-rank statistic of n pairs under the null
 * hypothesis (exact up to PIMC_EXACT_SIGNED_RANK pairs). For tests. */
double pimc_signed_rank_cdf(int n, int t);

/* What an interval of log(this / other) says about a figure where higher is
 * better, against a tolerance (0.03: 3% slower is allowed). */
enum pimc_ab_call {
    PIMC_AB_PASS,       /* wholly at or above 1 - tolerance: no slowdown beyond it */
    PIMC_AB_REGRESSION, /* wholly below 1 - tolerance: slower beyond it */
    PIMC_AB_UNDECIDED,  /* straddles it (or too few pairs): more rounds, or INCONCLUSIVE */
};
enum pimc_ab_call pimc_ab_call_of(const struct pimc_interval *log_ratio, double tolerance);

/* The call on the raw times, overruled only towards doubt by the call on the
 * times with other work's share taken out: PASS needs the raw times to pass;
 * a raw REGRESSION that the adjusted times do not confirm is UNDECIDED (other
 * work, not the build, may have made it); adjusted times never convict nor
 * pass on their own. */
enum pimc_ab_call pimc_ab_combine(enum pimc_ab_call raw, enum pimc_ab_call adjusted);

/* The call on a sample, as --against makes it at its last look: for tests
 * and the benchmark's simulations. */
enum pimc_ab_call pimc_ab_call_sample(const double *log_ratios, int n, double confidence, double tolerance);

#endif
