/*
 * Statistics of the estimate: pi within 5 standard errors for several seeds,
 * and z-scores over 100 seeds that look standard normal (mean, variance,
 * Kolmogorov-Smirnov), for each generator. Seeds are fixed, so the verdict is
 * the same every run; a biased stream or a wrong standard error would move it.
 */
#include "kernel.h"
#include "run.h"
#include "tap.h"

#include <math.h>
#include <stdlib.h>

static struct pimc_figures estimate(enum pimc_rng rng, uint64_t seed, uint64_t throws)
{
    struct pimc_throw_job job = {.rng = rng, .kernel = pimc_kernel_resolve_for(rng, PIMC_KERNEL_AUTO), .seed = seed,
                                 .throws = throws, .threads = 2};
    struct pimc_tally tally = pimc_throw_parallel(&job);
    struct pimc_outcome outcome = {.throws_requested = throws, .throws = tally.throws, .hits = tally.hits,
                                   .hits_agree = true, .threads = 2};
    return pimc_figures_of(&outcome, PIMC_STRONG);
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void formulas(void)
{
    struct pimc_outcome o = {.throws_requested = 100, .throws = 100, .hits = 75, .hits_agree = true, .threads = 4,
                             .parallel = {.runs = 1, .median_s = 0.5}, .serial = {.runs = 1, .median_s = 1.8}};
    struct pimc_figures f = pimc_figures_of(&o, PIMC_STRONG);
    /* By hand: the binomial error of the true p = pi/4, 4 sqrt(p (1 - p) / 100) = 0.1642183367736324 (of the
     * estimate's p = 0.75 it would be sqrt(3)/10); z = (3 - pi) / that = -0.8622219440997763. */
    tap_ok(fabs(f.pi - 3.0) < 1e-15 && fabs(f.std_error - 0.1642183367736324) < 1e-15 &&
               fabs(f.z_score - -0.8622219440997763) < 1e-12,
           "75 hits of 100: pi 3, standard error of p = pi/4 0.164218 (%.6f), z -0.8622 (%.4f)", f.std_error,
           f.z_score);
    tap_ok(f.has_speedup && fabs(f.speedup - 3.6) < 1e-12 && fabs(f.efficiency - 0.9) < 1e-12 &&
               fabs(f.throws_per_s - 200) < 1e-9 && fabs(f.throws_per_s_per_thread - 50) < 1e-9,
           "speedup = serial/parallel = 3.6, efficiency 0.9 on 4 threads, 200 throws/s, 50 per thread");
    tap_ok(f.verified == (fabs(f.z_score) <= 5), "verification follows |z| <= 5 (z %.2f)", f.z_score);

    f = pimc_figures_of(&o, PIMC_WEAK);
    tap_ok(f.has_speedup && fabs(f.efficiency - 3.6) < 1e-12 && fabs(f.speedup - 14.4) < 1e-12,
           "weak scaling: efficiency = T1/Tp = 3.6, scaled speedup = threads * T1/Tp = 14.4");

    o.throws = 60; /* a stop cut the first run: the result is the stream's first 60 throws */
    f = pimc_figures_of(&o, PIMC_STRONG);
    tap_ok(!f.has_speedup && f.throws_per_s == 0, "a run cut short has no speedup and no speed: its time is of "
                                                  "more throws than it counts");

    o.throws = 100;
    o.hits_agree = false;
    tap_ok(!pimc_figures_of(&o, PIMC_STRONG).verified, "runs that disagree on the hits fail verification");

    /* One throw is a hit or a miss: pi 4 or 0, 0.52 or 1.91 standard errors (1.642) from pi. */
    struct pimc_outcome one = {.throws_requested = 1, .throws = 1, .hits = 1, .hits_agree = true, .threads = 1};
    tap_ok(pimc_figures_of(&one, PIMC_STRONG).verified, "one throw that hits passes verification");
    one.hits = 0;
    tap_ok(pimc_figures_of(&one, PIMC_STRONG).verified, "one throw that misses passes verification");
}

static void within_five_sigma(enum pimc_rng rng)
{
    int inside = 0;
    double worst = 0;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        struct pimc_figures f = estimate(rng, seed * 1000003, 10000000);
        inside += fabs(f.z_score) <= 5 && f.verified;
        if (fabs(f.z_score) > worst)
            worst = fabs(f.z_score);
    }
    tap_ok(inside == 20, "%s, 20 seeds x 1e7 throws: all within 5 standard errors of pi (largest |z| %.2f)",
           pimc_rng_name(rng), worst);
}

/* Kolmogorov-Smirnov distance between the sample and the standard normal. */
static double ks_distance(double *z, int n)
{
    double d = 0;
    qsort(z, (size_t)n, sizeof *z, compare_doubles);
    for (int i = 0; i < n; i++) {
        double cdf = 0.5 * erfc(-z[i] / sqrt(2.0));
        double above = (double)(i + 1) / n - cdf, below = cdf - (double)i / n;
        d = fmax(d, fmax(above, below));
    }
    return d;
}

static void z_scores_look_normal(enum pimc_rng rng)
{
    const char *name = pimc_rng_name(rng);
    enum { SEEDS = 100 };
    double z[SEEDS], sum = 0, sum_squares = 0;
    for (int s = 0; s < SEEDS; s++) {
        z[s] = estimate(rng, 0xC0FFEE00u + (uint64_t)s, 1000000).z_score;
        sum += z[s];
    }
    double mean = sum / SEEDS;
    for (int s = 0; s < SEEDS; s++)
        sum_squares += (z[s] - mean) * (z[s] - mean);
    double variance = sum_squares / (SEEDS - 1);
    /* Bounds at the 0.1% level: mean ~ N(0, 1/100); (n-1) s^2 ~ chi^2(99), whose
     * 0.05% and 99.95% quantiles are about 60.3 and 148.2; KS critical value
     * 1.95/sqrt(n). */
    tap_ok(fabs(mean) < 3.29 / sqrt(SEEDS), "%s, z-scores over %d seeds: mean %.3f (|mean| < %.3f)", name, SEEDS,
           mean, 3.29 / sqrt(SEEDS));
    tap_ok(variance > 60.3 / 99 && variance < 148.2 / 99, "%s, z-scores: variance %.3f within [%.3f, %.3f]", name,
           variance, 60.3 / 99, 148.2 / 99);
    double d = ks_distance(z, SEEDS);
    tap_ok(d < 1.95 / sqrt(SEEDS), "%s, z-scores: Kolmogorov-Smirnov distance to N(0,1) %.3f < %.3f", name, d,
           1.95 / sqrt(SEEDS));
}

/* The standard error measured, not computed: the spread of the estimates over
 * 100 seeds against sigma = 4 sqrt(p (1 - p) / N) for p = pi/4, N = 1e6, worked
 * out by hand as 0.0016421834; (n-1) s^2 / sigma^2 ~ chi^2(99), bounds at 0.1%. */
static void standard_error_is_the_spread(enum pimc_rng rng)
{
    enum { SEEDS = 100 };
    const double sigma = 0.001642183367736324;
    double pi[SEEDS], sum = 0, sum_squares = 0, reported = 0;
    for (int s = 0; s < SEEDS; s++) {
        struct pimc_figures f = estimate(rng, 0x5EED0000u + (uint64_t)s, 1000000);
        pi[s] = f.pi;
        sum += f.pi;
        reported += f.std_error / SEEDS;
    }
    for (int s = 0; s < SEEDS; s++)
        sum_squares += (pi[s] - sum / SEEDS) * (pi[s] - sum / SEEDS);
    const double ratio = sum_squares / (sigma * sigma);
    tap_ok(ratio > 60.3 && ratio < 148.2, "%s, 100 estimates of 1e6 throws spread by %.6f (sigma %.6f): "
           "(n-1) s^2/sigma^2 = %.1f within [60.3, 148.2]", pimc_rng_name(rng), sqrt(sum_squares / (SEEDS - 1)),
           sigma, ratio);
    tap_ok(fabs(reported / sigma - 1) < 0.01, "%s, the reported standard error %.7f is sigma %.7f within 1%%",
           pimc_rng_name(rng), reported, sigma);
}

int main(void)
{
    formulas();
    for (int r = 0; r < PIMC_RNG_COUNT; r++) {
        within_five_sigma((enum pimc_rng)r);
        z_scores_look_normal((enum pimc_rng)r);
        standard_error_is_the_spread((enum pimc_rng)r);
    }
    return tap_done();
}
