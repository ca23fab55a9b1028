#include "stats.h"

#include <math.h>
#include <stdlib.h>

/* The null distribution of Wilcoxon's signed-rank statistic T+ for n pairs,
 * P(T+ = s) for s = 0..n(n+1)/2, by counting: T+ is the sum of the ranks 1..n
 * that come out positive, each with probability 1/2, i.e. a sum of
 * independent k * Bernoulli(1/2), k = 1..n. NULL when out of memory. */
static double *signed_rank_pmf(int n)
{
    const long m = (long)n * (n + 1) / 2;
    double *p = calloc((size_t)m + 1, sizeof *p);
    if (p == NULL)
        return NULL;
    p[0] = 1.0;
    long top = 0;
    for (int k = 1; k <= n; k++) { /* p <- (p + p shifted by k) / 2, in place from the top */
        top += k;
        for (long s = top; s >= 0; s--)
            p[s] = 0.5 * (p[s] + (s >= k ? p[s - k] : 0.0));
    }
    return p;
}

/* Past PIMC_EXACT_SIGNED_RANK pairs: the normal approximation with continuity
 * correction (its error is well under 1e-4 there). */
static double normal_cdf(int n, long t)
{
    const double mean = (double)n * (n + 1) / 4.0, sd = sqrt((double)n * (n + 1) * (2.0 * n + 1) / 24.0);
    return 0.5 * erfc(-((double)t + 0.5 - mean) / (sd * M_SQRT2));
}

double pimc_signed_rank_cdf(int n, int t)
{
    const long m = (long)n * (n + 1) / 2;
    if (t < 0)
        return 0.0;
    if (t >= m)
        return 1.0;
    if (n > PIMC_EXACT_SIGNED_RANK)
        return normal_cdf(n, t);
    double *p = signed_rank_pmf(n), cdf = 0.0;
    if (p == NULL)
        return NAN;
    for (long s = 0; s <= t; s++)
        cdf += p[s];
    free(p);
    return cdf;
}

/* The largest c with P(T+ <= c) <= alpha/2, or -1 when even P(T+ = 0) = 2^-n
 * is larger. The interval is then [W(c+1), W(m-c)] of the sorted Walsh
 * averages, with coverage 1 - 2 P(T+ <= c). */
static long critical_count(int n, double alpha, double *tail)
{
    const long m = (long)n * (n + 1) / 2;
    long c = -1;
    *tail = 0.0;
    if (n > PIMC_EXACT_SIGNED_RANK) {
        for (long lo = 0, hi = m / 2; lo <= hi;) { /* the cdf rises with c */
            const long mid = lo + (hi - lo) / 2;
            const double p = normal_cdf(n, mid);
            if (p <= alpha / 2) {
                c = mid;
                *tail = p;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return c;
    }
    double *p = signed_rank_pmf(n), cdf = 0.0;
    if (p == NULL)
        return -1;
    for (long s = 0; s <= m / 2 && cdf + p[s] <= alpha / 2; s++) {
        cdf += p[s];
        c = s;
    }
    free(p);
    *tail = cdf;
    return c;
}

int pimc_signed_rank_min_pairs(double confidence)
{
    const double alpha = 1.0 - confidence;
    for (int n = 1; n < 64; n++)
        if (ldexp(1.0, -n) <= alpha / 2)
            return n;
    return 64;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct pimc_interval pimc_signed_rank_interval(const double *d, int n, double confidence)
{
    struct pimc_interval r = {.n = n, .confidence = confidence, .estimate = NAN, .low = -INFINITY,
                              .high = INFINITY};
    if (n <= 0)
        return r;
    const long m = (long)n * (n + 1) / 2;
    double *walsh = malloc((size_t)m * sizeof *walsh);
    if (walsh == NULL)
        return r;
    long w = 0;
    for (int i = 0; i < n; i++)
        for (int j = i; j < n; j++)
            walsh[w++] = 0.5 * (d[i] + d[j]);
    qsort(walsh, (size_t)m, sizeof *walsh, compare_doubles);
    r.estimate = m % 2 ? walsh[m / 2] : 0.5 * (walsh[m / 2 - 1] + walsh[m / 2]);
    double tail;
    const long c = n >= pimc_signed_rank_min_pairs(confidence) ? critical_count(n, 1.0 - confidence, &tail) : -1;
    if (c >= 0) {
        r.valid = true;
        r.low = walsh[c];
        r.high = walsh[m - 1 - c];
        r.coverage = 1.0 - 2.0 * tail;
    }
    free(walsh);
    return r;
}

enum pimc_ab_call pimc_ab_call_of(const struct pimc_interval *log_ratio, double tolerance)
{
    if (!log_ratio->valid)
        return PIMC_AB_UNDECIDED;
    const double floor = log1p(-tolerance);
    if (log_ratio->high < floor)
        return PIMC_AB_REGRESSION;
    if (log_ratio->low >= floor)
        return PIMC_AB_PASS;
    return PIMC_AB_UNDECIDED;
}

enum pimc_ab_call pimc_ab_combine(enum pimc_ab_call raw, enum pimc_ab_call adjusted)
{
    if (raw == PIMC_AB_PASS)
        return PIMC_AB_PASS;
    if (raw == PIMC_AB_REGRESSION && adjusted == PIMC_AB_REGRESSION)
        return PIMC_AB_REGRESSION;
    return PIMC_AB_UNDECIDED;
}

enum pimc_ab_call pimc_ab_call_sample(const double *log_ratios, int n, double confidence, double tolerance)
{
    const struct pimc_interval i = pimc_signed_rank_interval(log_ratios, n, confidence);
    return pimc_ab_call_of(&i, tolerance);
}
