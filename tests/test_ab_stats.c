/*
 * The statistics of --against (src/stats.c) on made-up samples with known
 * answers: the signed-rank distribution against hand counts and the published
 * critical values, the Hodges-Lehmann estimate and its interval, and the
 * calls: equal samples PASS, a shifted one is a REGRESSION, a wide-noise one
 * is undecided (INCONCLUSIVE when the budget ends). The noise is from a fixed
 * seed, so every run gives the same verdicts.
 */
#include "stats.h"
#include "tap.h"

#include <math.h>
#include <stdint.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static double uniform(void) /* xorshift64*, in (0, 1) */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return ((double)((rng_state * 0x2545F4914F6CDD1Du) >> 11) + 0.5) / 9007199254740992.0;
}

static double gaussian(void) /* Box-Muller */
{
    return sqrt(-2.0 * log(uniform())) * cos(2.0 * M_PI * uniform());
}

static void distribution(void)
{
    tap_ok(fabs(pimc_signed_rank_cdf(6, 0) - 1.0 / 64) < 1e-15 && fabs(pimc_signed_rank_cdf(6, 2) - 3.0 / 64) < 1e-15,
           "n=6: P(T+ <= 0) = 1/64 (%.6f), P(T+ <= 2) = 3/64 (%.6f): by hand", pimc_signed_rank_cdf(6, 0),
           pimc_signed_rank_cdf(6, 2));
    tap_ok(fabs(pimc_signed_rank_cdf(10, 8) - 25.0 / 1024) < 1e-15 &&
               fabs(pimc_signed_rank_cdf(10, 9) - 33.0 / 1024) < 1e-15,
           "n=10: P(T+ <= 8) = 25/1024, P(T+ <= 9) = 33/1024: the 5%% two-sided critical value is 8");
    tap_ok(pimc_signed_rank_cdf(7, 28) == 1.0 && fabs(pimc_signed_rank_cdf(7, 27) - 127.0 / 128) < 1e-15 &&
               pimc_signed_rank_cdf(7, -1) == 0.0,
           "n=7: the cdf is 1 from n(n+1)/2 = 28 up, 127/128 at 27, 0 below 0");
    /* Published two-sided 5% critical values (largest c with P(T+ <= c) <= 0.025). */
    static const int n_of[] = {6, 7, 8, 9, 10, 11, 12, 15, 20, 25};
    static const int c_of[] = {0, 2, 3, 5, 8, 10, 13, 25, 52, 89};
    int wrong = 0;
    for (int i = 0; i < 10; i++)
        wrong += !(pimc_signed_rank_cdf(n_of[i], c_of[i]) <= 0.025 && pimc_signed_rank_cdf(n_of[i], c_of[i] + 1) > 0.025);
    tap_ok(wrong == 0, "the 5%% critical values for n = 6..25 are the published ones (%d wrong)", wrong);
    const double exact = pimc_signed_rank_cdf(PIMC_EXACT_SIGNED_RANK, 8000),
                 normal = pimc_signed_rank_cdf(PIMC_EXACT_SIGNED_RANK + 1, 8000 + (PIMC_EXACT_SIGNED_RANK + 1) / 2);
    tap_ok(fabs(exact - normal) < 2e-3, "the normal approximation past %d pairs meets the exact count (%.5f, %.5f)",
           PIMC_EXACT_SIGNED_RANK, exact, normal);
    tap_ok(pimc_signed_rank_min_pairs(0.95) == 6 && pimc_signed_rank_min_pairs(0.99) == 8,
           "an interval needs 6 pairs at 95%%, 8 at 99%%");
}

static void interval(void)
{
    const double d[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    struct pimc_interval i = pimc_signed_rank_interval(d, 10, 0.95);
    /* Walsh averages of 1..10: the sorted list starts 1, 1.5, 2, 2, 2.5, 2.5, 3, 3, 3, ...: with c = 8 the
     * interval is the 9th smallest and the 9th largest: 3 and 8. The median of the 55 averages is 5.5. */
    tap_ok(i.valid && i.estimate == 5.5 && i.low == 3.0 && i.high == 8.0 && fabs(i.coverage - (1 - 50.0 / 1024)) < 1e-12,
           "1..10: estimate 5.5, 95%% interval [3, 8], coverage 1 - 50/1024 (%g [%g, %g], %.4f)", i.estimate, i.low,
           i.high, i.coverage);
    const double outlier[10] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1.0};
    i = pimc_signed_rank_interval(outlier, 10, 0.95);
    tap_ok(i.valid && i.estimate == 0.0 && i.high <= 0.5, "one round spoiled by +1.0 among nine 0s: estimate 0 (the "
                                                           "mean would be 0.1), high %g", i.high);
    i = pimc_signed_rank_interval(d, 5, 0.95);
    tap_ok(!i.valid && i.estimate == 3.0 && isinf(i.low) && isinf(i.high),
           "5 pairs: no 95%% interval (2^-5 > 2.5%%), the estimate alone");
    i = pimc_signed_rank_interval(d, 0, 0.95);
    tap_ok(!i.valid && isnan(i.estimate), "no pairs: nothing");

    /* Coverage, by simulation: 4000 samples of 12 standard normal pairs. */
    int covered = 0;
    const int samples = 4000;
    for (int s = 0; s < samples; s++) {
        double x[12];
        for (int k = 0; k < 12; k++)
            x[k] = gaussian();
        i = pimc_signed_rank_interval(x, 12, 0.95);
        covered += i.low <= 0 && 0 <= i.high;
    }
    const double rate = (double)covered / samples, nominal = 1 - 2 * pimc_signed_rank_cdf(12, 13);
    tap_ok(fabs(rate - nominal) < 0.012, "12 normal pairs, 4000 samples: the interval covers the centre %.3f of the "
                                          "time (exact coverage %.3f)", rate, nominal);
    double big[300];
    for (int k = 0; k < 300; k++)
        big[k] = 0.01 * gaussian();
    i = pimc_signed_rank_interval(big, 300, 0.95);
    tap_ok(i.valid && i.low < 0 && i.high > 0 && i.high - i.low < 0.004,
           "300 pairs (normal approximation): a valid, narrow interval around 0 ([%.5f, %.5f])", i.low, i.high);
}

static void calls(void)
{
    const double tolerance = 0.03;
    double equal[8] = {0}, shifted[12], wide[12];
    for (int k = 0; k < 12; k++) {
        shifted[k] = log(0.95) + 0.005 * (k % 2 ? 1 : -1) * (k % 3); /* 5% slower, +-1% noise */
        wide[k] = 0.10 * (k % 2 ? 1 : -1) * (1 + k % 3);              /* centred on 0, +-10% to 30% */
    }
    tap_ok(pimc_ab_call_sample(equal, 8, 0.95, tolerance) == PIMC_AB_PASS, "equal samples: PASS");
    tap_ok(pimc_ab_call_sample(shifted, 12, 0.95, tolerance) == PIMC_AB_REGRESSION,
           "a sample 5%% slower with 1%% noise: REGRESSION at 3%%");
    tap_ok(pimc_ab_call_sample(shifted, 12, 0.95, 0.10) == PIMC_AB_PASS, "the same sample at 10%%: PASS");
    tap_ok(pimc_ab_call_sample(wide, 12, 0.95, tolerance) == PIMC_AB_UNDECIDED,
           "wide noise (+-10%% to 30%%) around 0: undecided, INCONCLUSIVE when the budget ends");
    tap_ok(pimc_ab_call_sample(shifted, 5, 0.95, tolerance) == PIMC_AB_UNDECIDED,
           "5 rounds of a clear slowdown: undecided (too few for an interval)");
    double faster[8];
    for (int k = 0; k < 8; k++)
        faster[k] = log(1.2);
    tap_ok(pimc_ab_call_sample(faster, 8, 0.95, tolerance) == PIMC_AB_PASS, "20%% faster: PASS (not a regression)");
    double edge[8];
    for (int k = 0; k < 8; k++)
        edge[k] = log1p(-tolerance) + 1e-9;
    tap_ok(pimc_ab_call_sample(edge, 8, 0.95, tolerance) == PIMC_AB_PASS, "exactly at 1 - tolerance: PASS");

    tap_ok(pimc_ab_combine(PIMC_AB_PASS, PIMC_AB_REGRESSION) == PIMC_AB_PASS &&
               pimc_ab_combine(PIMC_AB_REGRESSION, PIMC_AB_REGRESSION) == PIMC_AB_REGRESSION,
           "combine: the raw call decides PASS; REGRESSION when the adjusted times agree");
    tap_ok(pimc_ab_combine(PIMC_AB_REGRESSION, PIMC_AB_PASS) == PIMC_AB_UNDECIDED &&
               pimc_ab_combine(PIMC_AB_REGRESSION, PIMC_AB_UNDECIDED) == PIMC_AB_UNDECIDED,
           "combine: other work may turn a REGRESSION into undecided, never into PASS");
    tap_ok(pimc_ab_combine(PIMC_AB_UNDECIDED, PIMC_AB_PASS) == PIMC_AB_UNDECIDED &&
               pimc_ab_combine(PIMC_AB_UNDECIDED, PIMC_AB_REGRESSION) == PIMC_AB_UNDECIDED,
           "combine: adjusted times alone neither pass nor convict");
}

int main(void)
{
    distribution();
    interval();
    calls();
    return tap_done();
}
