/*
 * Regression check (--check BASELINE): measure this build on this machine and
 * compare it with rows an earlier pimc-omp wrote with --csv or --json. Meant
 * for CI and node health checks on machines other jobs share.
 *
 * How it decides, in the order it runs, and the file that does each step:
 *
 * 1. baseline.c reads the baseline by column name: a CSV (RFC 4180, libcsv) or
 *    JSON (jansson; one object, an array of objects as --sweep --json prints,
 *    or several of these one after another). A file that cannot be read,
 *    lacks a column the check needs, holds a corrupt row or no complete row is
 *    unusable: exit 2 with the reason.
 * 2. reference.c chooses the reference rows. Only rows of the run's generator
 *    (the rng column; none means philox4x32-10) compare. The configuration
 *    (kernel, threads, throws, seed) is the reference row's: the latest
 *    complete row, preferring this CPU model, then rows with a serial leg (so that a `--kernel scalar -t 1 --no-serial` reference row is
 *    not taken for the main one). THROWS, --threads, --seed and --kernel replace
 *    its values. The applicable rows are the complete rows with that kernel,
 *    threads and throws: of this CPU model when there are any, else of the
 *    latest such row's model. Rows that --check itself wrote (mode=check),
 *    weak-scaling rows and multi-rank rows are never a timing reference.
 * 3. Measurement (this file): a warm-up of each leg, then --repeat rounds
 *    (default 5) of a parallel run, a 1-thread run of the same kernel and throws (for parallel
 *    efficiency) and a 1-thread scalar run of min(throws, 3e7) (for the
 *    kernel's speed against the scalar path, a ratio measured in one process
 *    that means the same on another CPU). The legs interleave, so a burst of
 *    load from other processes falls on all of them alike.
 * 4. Noise on a shared machine only ever slows a run down. So each timing
 *    metric takes the fastest run and compares it with the baseline's fastest
 *    (its *_min_s columns, over all applicable rows). And accounting.c
 *    discounts the time other work took from each run, from what the kernel counts per thread
 *    (/proc/self/task/TID/schedstat): its time on a CPU, which with
 *    paravirtual time accounting leaves out what the hypervisor stole, and its
 *    time ready to run but waiting for a CPU. A 1-thread run would have taken,
 *    alone, its thread's time on a CPU. A parallel run would have taken its
 *    time less the waits of the threads that did the work, spread over the
 *    team. A thread with no work sleeps, and sleep is never discounted: a
 *    parallel leg that leaves its team idle is not excused.
 * 5. Verdicts (verdict.c, pure functions). hits: equal to every baseline row of the same seed and throws
 *    (any CPU, kernel or threads), all runs agree, and the estimate lies within
 *    5 standard errors of pi; else FAIL, however fast. kernel: the baseline's
 *    path on the same CPU model. A timing metric PASSes only when its raw
 *    best (as timed, nothing discounted) is at baseline x (1 - tolerance) or
 *    better: the discount of step 4 is an estimate, up to 99% of a run, that
 *    may excuse a slow run but never pass one. Below that floor it FAILs, or is
 *    INCONCLUSIVE when the run passes only with other work's time discounted
 *    ("rerun on a quieter machine"), when other processes took more than 3/4
 *    of even its best run, or the hypervisor more than 10% of our CPUs during
 *    its best parallel run (steal, counted per CPU in /proc/stat, cannot be
 *    laid on our threads, so it is not discounted, but it cannot convict
 *    either). Before all that: a timed leg behind the metric, the baseline's
 *    or this run's, under PIMC_SHORTEST_TIMED_S (10 ms) makes it INCONCLUSIVE,
 *    naming the leg: such a leg is clock and scheduler noise, which can
 *    neither pass nor convict. And rows that may be another CPU model's
 *    (another name, the same name with another cpu_signature, or no
 *    signature when this CPU has one) pass no timing metric: the plan says
 *    when the baseline has no rows of this very model; throughput_per_thread,
 *    absolute, is SKIPPED against another model and INCONCLUSIVE against
 *    unsigned rows; efficiency and speed_vs_scalar are INCONCLUSIVE, except
 *    that speed_vs_scalar under half the baseline still FAILs (a path that
 *    lost its vectorization, on any model).
 * 6. Exit status (report.c prints the verdicts): 1 when a metric FAILs (the last line, "check: REGRESSION",
 *    names them); otherwise 0, with "check: PASS", or "check: INCONCLUSIVE"
 *    naming the metrics that could not be judged (not a regression shown,
 *    so not a failure; each metric's line says why); 2 for an unusable
 *    baseline; 4 when the --csv row cannot be written; 5 on a run-time failure
 *    (out of memory); 128+N on signal N.
 */
#include "check.h"

#include "accounting.h"
#include "baseline.h"
#include "exit_status.h"
#include "junit.h"
#include "kernel.h"
#include "reference.h"
#include "run.h"
#include "timer.h"
#include "verdict.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCALAR_LEG_THROWS UINT64_C(30000000)
/* speed_vs_scalar against rows that may be another CPU model's: the ratio of
 * a SIMD path to the scalar one differs between microarchitectures (5.4x on an
 * Intel Xeon, 6.2x on a Zen 4 and 13.8x on a Zen 5 "AMD EPYC"), so meeting
 * the baseline proves nothing (INCONCLUSIVE), while a SIMD path the compiler
 * failed to vectorize runs at about 1x: under half the baseline convicts on any
 * model. (A build that lost the path altogether is caught by kernel on the
 * same model; on another one that is SKIPPED.) */
#define PIMC_OTHER_MODEL_TOLERANCE 0.50

/* ---- measurement -------------------------------------------------------- */

/* One leg's timed runs. */
struct leg {
    enum pimc_kernel kernel;
    int threads;
    uint64_t throws;
    int runs, team;
    double raw[PIMC_MAX_RUNS];    /* as timed by the engine */
    double alone[PIMC_MAX_RUNS];  /* less the time other work took from its threads */
    double stolen[PIMC_MAX_RUNS]; /* share of our CPUs' time the hypervisor took */
    uint64_t hits;
    bool hits_agree;
    bool accounted; /* the kernel's accounts were there */
};

struct leg_summary {
    double best, raw_best, median; /* best: the fastest run with waits discounted */
    double lost_share;             /* of the best run's time, to other work */
    double stolen_share;           /* of the best run's CPU time, to the hypervisor */
};

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of_sorted(const double *sorted, int n)
{
    return n == 0 ? NAN : n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

static struct leg_summary summarize_leg(const struct leg *leg)
{
    struct leg_summary s = {.best = NAN, .raw_best = NAN, .median = NAN};
    double sorted[PIMC_MAX_RUNS];
    for (int r = 0; r < leg->runs; r++) {
        if (!(s.best <= leg->alone[r])) {
            s.best = leg->alone[r];
            s.lost_share = 1.0 - leg->alone[r] / leg->raw[r];
            s.stolen_share = leg->stolen[r];
        }
        s.raw_best = r == 0 || leg->raw[r] < s.raw_best ? leg->raw[r] : s.raw_best;
        sorted[r] = leg->raw[r];
    }
    qsort(sorted, (size_t)leg->runs, sizeof *sorted, compare_doubles);
    s.median = median_of_sorted(sorted, leg->runs);
    return s;
}

/* Times one run of the leg, and estimates how long it would have taken with
 * the machine to itself; false when a signal stopped it. */
static bool time_run(struct leg *leg, const struct pimc_run_plan *base, int usable_cpus, bool warm_up)
{
    struct pimc_run_plan plan = *base;
    plan.kernel = leg->kernel;
    plan.threads = leg->threads;
    plan.throws = leg->throws;
    /* A warm-up is the engine's (a set time, at most the leg's throws) alone;
     * a timed run follows the other legs' runs, warm. */
    plan.repeats = warm_up ? 0 : 1;
    plan.serial = false;
    plan.warm_up_s = warm_up ? base->warm_up_s : 0.0;
    struct pimc_outcome outcome;
    const bool parallel = leg->threads > 1;
    struct pimc_accounts *before = malloc(2 * sizeof *before), *after = before + 1;
    if (before == NULL) {
        perror("pimc-omp");
        exit(PIMC_EXIT_FAILURE);
    }
    pimc_read_accounts(parallel, before);
    const double start = pimc_now();
    pimc_run(&plan, &outcome);
    const double bracket = pimc_now() - start;
    pimc_read_accounts(parallel, after);
    const double t = warm_up ? bracket : outcome.parallel.seconds[0];
    double stolen;
    const double alone =
        pimc_time_alone(before, after, parallel, t, bracket, outcome.threads, usable_cpus, &stolen);
    leg->accounted = before->tasks > 0 && after->tasks > 0;
    free(before);
    if (outcome.partial)
        return false;
    if (warm_up)
        return true;
    if (leg->runs == 0) {
        leg->hits = outcome.hits;
        leg->hits_agree = true;
        leg->team = outcome.threads;
    } else if (outcome.hits != leg->hits) {
        leg->hits_agree = false;
    }
    leg->raw[leg->runs] = t;
    leg->alone[leg->runs] = alone;
    leg->stolen[leg->runs] = stolen;
    leg->runs++;
    return true;
}

static void fill_engine_leg(struct pimc_leg *out, const struct leg *leg)
{
    memset(out, 0, sizeof *out);
    out->runs = leg->runs;
    if (leg->runs == 0)
        return;
    memcpy(out->seconds, leg->raw, (size_t)leg->runs * sizeof *leg->raw);
    double sorted[PIMC_MAX_RUNS];
    memcpy(sorted, leg->raw, (size_t)leg->runs * sizeof *sorted);
    qsort(sorted, (size_t)leg->runs, sizeof *sorted, compare_doubles);
    out->median_s = median_of_sorted(sorted, leg->runs);
    out->min_s = sorted[0];
    out->max_s = sorted[leg->runs - 1];
}

/* A warm-up of each leg, then the rounds, the legs interleaved so that a burst
 * of load falls on all of them alike; false when a signal stopped it. */
static bool measure(struct leg *const *order, const struct pimc_run_plan *base, int usable_cpus, int rounds)
{
    bool going = true;
    for (int i = 0; i < 3 && going; i++)
        if (order[i] != NULL)
            going = time_run(order[i], base, usable_cpus, true);
    for (int r = 0; r < rounds && going; r++)
        for (int i = 0; i < 3 && going; i++)
            if (order[i] != NULL)
                going = time_run(order[i], base, usable_cpus, false);
    return going;
}

/* The measured result, as the engine's outcome: for --csv, and for its
 * verification. Every leg of the same throws must agree on the hits. */
static struct pimc_outcome outcome_of(const struct leg *par, const struct leg *ser, const struct leg *sca)
{
    struct pimc_outcome outcome = {
        .throws_requested = par->throws,
        .throws = par->throws,
        .hits = par->hits,
        .hits_agree = par->hits_agree && (ser->runs == 0 || (ser->hits_agree && ser->hits == par->hits)) &&
                      (sca->runs == 0 || sca->hits_agree) &&
                      (sca->runs == 0 || sca->throws != par->throws || sca->hits == par->hits),
        .threads = par->team,
        .ranks = 1,
    };
    fill_engine_leg(&outcome.parallel, par);
    fill_engine_leg(&outcome.serial, ser);
    return outcome;
}

/* ---- the verdicts, from the legs and the reference ----------------------- */

enum { HITS, KERNEL, THROUGHPUT, EFFICIENCY, SPEED_VS_SCALAR, METRICS };

struct measured {
    const struct leg *par, *ser, *sca;
    const struct pimc_outcome *outcome;
    const struct pimc_figures *figures;
    enum pimc_kernel kernel;
    bool kernel_forced, serial_asked, oversubscribed;
};

/* The shortest of the timed legs behind a metric, this run's and the
 * baseline's, named for its verdict line. */
struct shortest {
    const char *leg;
    double s;
};

/* A leg that was not timed (NAN) is no shorter than any. */
static struct shortest shortest_of(struct shortest a, struct shortest b)
{
    return isfinite(b.s) && !(a.s <= b.s) ? b : a;
}

static void judge(struct pimc_metric *metrics, const struct measured *x, const struct pimc_reference *ref,
                  const struct pimc_context *context, const struct pimc_options *options)
{
    const struct pimc_check_config *c = &ref->config;
    pimc_judge_hits(&metrics[HITS], &(struct pimc_hits_evidence){
                                        .hits = x->par->hits,
                                        .runs_agree = x->outcome->hits_agree,
                                        .verified = x->figures->verified,
                                        .z_score = x->figures->z_score,
                                        .seed = c->seed,
                                        .throws = c->throws,
                                        .witnesses = ref->hits_rows,
                                        .baseline_hits = ref->hits,
                                    });
    pimc_judge_kernel(&metrics[KERNEL], x->kernel, c->kernel, ref->same_cpu, x->kernel_forced);

    const struct leg_summary p = summarize_leg(x->par), s = summarize_leg(x->ser), k = summarize_leg(x->sca);
    const double n = (double)c->throws, threads = (double)c->threads;
    /* Rows that may be another CPU model's pass no timing metric: rows of
     * another model (another name, or the same name with another
     * cpu_signature), and rows of this CPU's name without a signature (files
     * from before the column) when this CPU has one. Two models both named
     * "AMD EPYC" differ by 40% in throughput per thread and by 2x in
     * speed_vs_scalar: a tolerance wide enough for both hides a regression. */
    char other_model[400] = "";
    if (!ref->same_cpu)
        snprintf(other_model, sizeof other_model, "the rows are another CPU model's (\"%s\"%s%s), which cannot pass "
                                                  "this one: add rows of this model with `pimc-omp --csv BASELINE`",
                 ref->cpu_model, *ref->cpu_signature ? ", cpu_signature " : "", ref->cpu_signature);
    else if (*ref->cpu_signature == '\0' && *context->cpu_signature != '\0')
        snprintf(other_model, sizeof other_model, "the rows have no cpu_signature, so they may be of another model "
                                                  "named \"%s\": add rows of this one (cpu_signature %s) with "
                                                  "`pimc-omp --csv BASELINE`",
                 ref->cpu_model, context->cpu_signature);
    const bool maybe_other_model = *other_model != '\0';
    const struct shortest par_here = {"this run's parallel leg", p.raw_best},
                          ser_here = {"this run's 1-thread leg", s.raw_best},
                          sca_here = {"this run's 1-thread scalar leg", k.raw_best},
                          par_base = {"the baseline's parallel leg", ref->parallel_best},
                          ser_base = {"the baseline's serial leg", ref->serial_best},
                          kernel_base = {"the baseline's 1-thread leg", ref->kernel_speed_best_s},
                          sca_base = {"the baseline's 1-thread scalar leg", ref->scalar_speed_best_s};
    const struct shortest throughput_leg = shortest_of(par_here, par_base),
                          efficiency_leg =
                              shortest_of(shortest_of(par_here, ser_here), shortest_of(par_base, ser_base)),
                          speed_leg = shortest_of(shortest_of(ser_here, sca_here), shortest_of(kernel_base, sca_base));

    char skip_why[300] = "";
    if (x->oversubscribed)
        snprintf(skip_why, sizeof skip_why, "%d threads on %d usable CPUs: oversubscribed, not a speed result",
                 c->threads, context->usable_cpus);

    struct pimc_metric *m = &metrics[THROUGHPUT];
    if (*skip_why)
        pimc_say(m, PIMC_SKIPPED, "(%s)", skip_why);
    else if (!ref->same_cpu && strcmp(ref->cpu_model, context->cpu_model) != 0)
        pimc_say(m, PIMC_SKIPPED, "(baseline from another CPU model: \"%s\"; this is \"%s\")", ref->cpu_model,
                 context->cpu_model);
    else if (!ref->same_cpu)
        pimc_say(m, PIMC_SKIPPED, "(baseline from another CPU of the same name \"%s\": %s%s; this is %s)",
                 ref->cpu_model, *ref->cpu_signature ? ref->cpu_signature : "rows of kernel ",
                 *ref->cpu_signature ? "" : pimc_kernel_name(c->kernel),
                 *context->cpu_signature ? context->cpu_signature : "a CPU without that path");
    else
        pimc_judge_timing(m, &(struct pimc_timing){
                                 .best = n / p.best / threads * 1e-9,
                                 .raw = n / p.raw_best / threads * 1e-9,
                                 .median = n / p.median / threads * 1e-9,
                                 .lost_share = p.lost_share,
                                 .stolen_share = p.stolen_share,
                                 .baseline_best = n / ref->parallel_best / threads * 1e-9,
                                 .baseline_median = n / ref->parallel_median / threads * 1e-9,
                                 .runs = x->par->runs,
                                 .baseline_rows = ref->rows,
                                 .shortest_leg = throughput_leg.leg,
                                 .shortest_leg_s = throughput_leg.s,
                                 .other_model = maybe_other_model ? other_model : NULL,
                             },
                          pimc_tolerance_for(options, PIMC_TOLERANCE_THROUGHPUT), " Gthrows/s", 3);

    m = &metrics[EFFICIENCY];
    if (*skip_why)
        pimc_say(m, PIMC_SKIPPED, "(%s)", skip_why);
    else if (!x->serial_asked)
        pimc_say(m, PIMC_SKIPPED, "(--no-serial: no 1-thread run)");
    else if (ref->serial_rows == 0)
        pimc_say(m, PIMC_SKIPPED, "(the baseline rows have no serial leg)");
    else
        pimc_judge_timing(m, &(struct pimc_timing){
                                 .best = s.best / (threads * p.best),
                                 .raw = s.raw_best / (threads * p.raw_best),
                                 .median = s.median / (threads * p.median),
                                 .lost_share = p.lost_share > s.lost_share ? p.lost_share : s.lost_share,
                                 .stolen_share = p.stolen_share,
                                 .baseline_best = ref->serial_best / (threads * ref->parallel_best),
                                 .baseline_median = ref->serial_median / (threads * ref->parallel_median),
                                 .runs = x->par->runs,
                                 .baseline_rows = ref->serial_rows,
                                 .shortest_leg = efficiency_leg.leg,
                                 .shortest_leg_s = efficiency_leg.s,
                                 .other_model = maybe_other_model ? other_model : NULL,
                             },
                          pimc_tolerance_for(options, PIMC_TOLERANCE_EFFICIENCY), "", 3);

    m = &metrics[SPEED_VS_SCALAR];
    const double scalar_n = (double)x->sca->throws;
    const double tolerance = pimc_tolerance_for(options, PIMC_TOLERANCE_SPEED_VS_SCALAR);
    if (*skip_why)
        pimc_say(m, PIMC_SKIPPED, "(%s)", skip_why);
    else if (c->kernel == PIMC_KERNEL_SCALAR)
        pimc_say(m, PIMC_SKIPPED, "(the configuration is the scalar path itself)");
    else if (!x->serial_asked)
        pimc_say(m, PIMC_SKIPPED, "(--no-serial: no 1-thread run)");
    else if (!isfinite(ref->scalar_speed_best))
        pimc_say(m, PIMC_SKIPPED, "(the baseline has no 1-thread scalar row of at least 1e7 throws on \"%s\"; add "
                                  "one with: pimc-omp --kernel scalar -t 1 --no-serial --repeat 5 --csv BASELINE 1e8)",
                 ref->cpu_model);
    else if (!isfinite(ref->kernel_speed_best))
        pimc_say(m, PIMC_SKIPPED, "(the baseline has no 1-thread run of kernel %s of at least 1e7 throws on \"%s\": "
                                  "record its rows with the serial leg)",
                 pimc_kernel_name(c->kernel), ref->cpu_model);
    else if (!ref->same_cpu && x->kernel != c->kernel)
        pimc_say(m, PIMC_SKIPPED, "(this CPU runs %s, the baseline %s)", pimc_kernel_name(x->kernel),
                 pimc_kernel_name(c->kernel));
    else
        pimc_judge_timing(m, &(struct pimc_timing){
                                 .best = (n / s.best) / (scalar_n / k.best),
                                 .raw = (n / s.raw_best) / (scalar_n / k.raw_best),
                                 .median = (n / s.median) / (scalar_n / k.median),
                                 .lost_share = s.lost_share > k.lost_share ? s.lost_share : k.lost_share,
                                 .baseline_best = ref->kernel_speed_best / ref->scalar_speed_best,
                                 .baseline_median = ref->kernel_speed_median / ref->scalar_speed_median,
                                 .runs = x->ser->runs,
                                 .baseline_rows = ref->speed_rows,
                                 .shortest_leg = speed_leg.leg,
                                 .shortest_leg_s = speed_leg.s,
                                 /* A SIMD path at half the baseline's ratio to scalar is one that lost its
                                  * vectorization, on any model: that much convicts. */
                                 .other_model = maybe_other_model ? other_model : NULL,
                                 .other_model_can_fail = true,
                             },
                          !maybe_other_model || tolerance >= PIMC_OTHER_MODEL_TOLERANCE ? tolerance
                                                                                        : PIMC_OTHER_MODEL_TOLERANCE,
                          "x", 2);
}

/* ---- the check ---------------------------------------------------------- */

/* The kernel paths this CPU cannot run: rows of them came from another CPU,
 * whatever its name. */
static unsigned unrunnable_kernels(enum pimc_rng rng)
{
    unsigned mask = 0;
    for (int k = PIMC_KERNEL_SCALAR; k < PIMC_KERNEL_COUNT; k++)
        if (!pimc_cpu_can_run(rng, (enum pimc_kernel)k))
            mask |= 1u << k;
    return mask;
}

/* Says so when the baseline has no rows of this CPU's very model: its
 * figures then pass no timing metric, and the way out is rows of this one. */
static void print_model_note(FILE *out, const struct pimc_reference *ref, const struct pimc_context *context)
{
    if (ref->own_model_rows > 0)
        return;
    const bool signed_here = *context->cpu_signature != '\0';
    fprintf(out, "check: no baseline rows of this CPU model (\"%s\"%s%s)", context->cpu_model,
            signed_here ? ", cpu_signature " : "", context->cpu_signature);
    if (ref->other_signature_rows > 0)
        fprintf(out, "; rows of \"%s\" with other signatures are another model's", context->cpu_model);
    if (ref->unsigned_name_rows > 0)
        fprintf(out, "; rows of \"%s\" without a cpu_signature may be another model's", context->cpu_model);
    if (ref->other_signature_rows + ref->unsigned_name_rows == 0)
        fprintf(out, "; the rows are of other models");
    fprintf(out, ": add rows of this one with `pimc-omp --csv FILE`\n");
}

static bool unusable(const char *path, const char *why)
{
    fprintf(stderr, "pimc-omp: --check: baseline '%s' is unusable: %s\n", path, why);
    return false;
}

int pimc_run_check(const struct pimc_options *options, const struct pimc_context *context, struct pimc_csv *csv,
                   const atomic_bool *stop, const volatile sig_atomic_t *stop_signal)
{
    /* --kernel auto asks for what the dispatch picks here: the same as no
     * --kernel, which measures that path against the baseline's. */
    const double started = pimc_now();
    const bool kernel_forced = options->kernel_given && options->kernel != PIMC_KERNEL_AUTO;
    const enum pimc_kernel kernel = pimc_kernel_resolve_for(options->rng, options->kernel);
    const char *rng = pimc_rng_name(options->rng);
    struct pimc_baseline baseline;
    struct pimc_reference ref;
    const struct pimc_reference_request request = {
        .cpu = {.model = context->cpu_model,
                .signature = context->cpu_signature,
                .unrunnable_kernels = unrunnable_kernels(options->rng)},
        .rng = rng,
        .kernel_given = kernel_forced,
        .threads_given = options->threads_given,
        .throws_given = options->throws_given,
        .seed_given = options->seed_given,
        .given = {.kernel = kernel, .threads = options->threads, .throws = options->throws, .seed = options->seed},
    };
    char why[1024];
    if (!pimc_baseline_read(options->check_path, &baseline, why, sizeof why) ||
        !pimc_choose_reference(&baseline, &request, &ref, why, sizeof why)) {
        unusable(options->check_path, why);
        pimc_baseline_free(&baseline);
        return PIMC_EXIT_UNUSABLE_BASELINE;
    }
    const struct pimc_check_config *c = &ref.config;
    const bool talk = !options->quiet && !options->json;
    const bool oversubscribed = pimc_oversubscribed(context, c->threads);
    /* The 1-thread legs: efficiency needs the serial one, speed_vs_scalar both. */
    const bool serial = options->serial && !oversubscribed;
    const bool scalar = serial && isfinite(ref.kernel_speed_best) && isfinite(ref.scalar_speed_best) &&
                        c->kernel != PIMC_KERNEL_SCALAR;
    if (talk) {
        pimc_print_check_plan(stdout, &(struct pimc_check_plan){
                                          .baseline_path = options->check_path,
                                          .rows = ref.rows,
                                          .kernel = c->kernel,
                                          .threads = c->threads,
                                          .throws = c->throws,
                                          .seed = c->seed,
                                          .cpu_model = ref.cpu_model,
                                          .same_cpu = ref.same_cpu,
                                          .unsigned_rows = ref.same_cpu && *ref.cpu_signature == '\0' &&
                                                           *context->cpu_signature != '\0',
                                          .checkpointed_rows = ref.checkpointed_rows,
                                          .rounds = options->repeats,
                                          .serial = serial,
                                          .scalar = scalar,
                                      });
        print_model_note(stdout, &ref, context);
        fflush(stdout);
    }

    struct leg legs[3];
    struct leg *par = &legs[0], *ser = &legs[1], *sca = &legs[2];
    *par = (struct leg){.kernel = kernel, .threads = c->threads, .throws = c->throws};
    *ser = (struct leg){.kernel = kernel, .threads = 1, .throws = c->throws};
    *sca = (struct leg){.kernel = PIMC_KERNEL_SCALAR, .threads = 1,
                        .throws = c->throws < SCALAR_LEG_THROWS ? c->throws : SCALAR_LEG_THROWS};
    struct leg *order[3] = {par, serial ? ser : NULL, scalar ? sca : NULL};
    const struct pimc_run_plan base = {.rng = options->rng, .seed = c->seed, .schedule = options->schedule,
                                       .warm_up_s = options->warm_up_s, .stop = stop};
    if (!measure(order, &base, context->usable_cpus, options->repeats)) {
        fprintf(stderr, "pimc-omp: --check stopped by signal %d: no verdict\n", (int)*stop_signal);
        pimc_baseline_free(&baseline);
        return PIMC_EXIT_SIGNAL + (int)*stop_signal;
    }
    if (par->team != c->threads)
        fprintf(stderr, "pimc-omp: warning: the OpenMP runtime gave %d threads of the %d asked; the figures are "
                        "per asked thread\n", par->team, c->threads);
    if (!par->accounted)
        fprintf(stderr, "pimc-omp: warning: no scheduler statistics (/proc/self/task/*/schedstat): time taken by "
                        "other processes cannot be discounted\n");

    const struct pimc_outcome outcome = outcome_of(par, ser, sca);
    struct pimc_record record = {
        .context = context,
        .outcome = &outcome,
        .figures = pimc_figures_of(&outcome, PIMC_STRONG),
        .kernel = par->kernel,
        .kernel_asked = kernel_forced ? par->kernel : PIMC_KERNEL_AUTO,
        .seed = c->seed,
        .repeats = options->repeats,
        .threads_source = options->threads_given ? options->threads_source : "baseline",
        .mode = "check",
        .run = options->repeats > 1 ? "median" : "0",
        .rng = rng,
        .nodes = 1,
        .placement = pimc_probe_placement(outcome.threads),
    };
    pimc_utc_timestamp(record.timestamp, sizeof record.timestamp);

    struct pimc_metric metrics[METRICS] = {
        [HITS] = {.name = "hits"},
        [KERNEL] = {.name = "kernel"},
        [THROUGHPUT] = {.name = "throughput_per_thread"},
        [EFFICIENCY] = {.name = "efficiency"},
        [SPEED_VS_SCALAR] = {.name = "speed_vs_scalar"},
    };
    judge(metrics, &(struct measured){.par = par, .ser = ser, .sca = sca, .outcome = &outcome,
                                      .figures = &record.figures, .kernel = par->kernel,
                                      .kernel_forced = kernel_forced, .serial_asked = options->serial,
                                      .oversubscribed = oversubscribed},
          &ref, context, options);
    const struct pimc_check_summary summary = {
        .baseline_path = options->check_path,
        .kernel = par->kernel,
        .threads = c->threads,
        .throws = c->throws,
        .seed = c->seed,
        .tolerance = options->tolerance,
        .same_cpu = ref.same_cpu,
        .metrics = metrics,
        .metric_count = METRICS,
        .outcome = pimc_check_outcome_of(metrics, METRICS),
    };
    /* The row before the verdict: a reader of stdout that is gone must not cost it. */
    int result = summary.outcome.exit_status;
    if (csv->fd >= 0 && pimc_csv_append(csv, &record, why, sizeof why) != 0) {
        fprintf(stderr, "pimc-omp: %s\n", why);
        result = PIMC_EXIT_CANNOT_WRITE;
    }
    if (talk)
        pimc_print_check(stdout, &summary);
    else if (options->json)
        pimc_print_check_json(stdout, &summary);
    fflush(stdout);
    if (options->junit_path != NULL &&
        pimc_junit_write_check(options->junit_path, &summary, context, pimc_now() - started, why, sizeof why) != 0) {
        fprintf(stderr, "pimc-omp: %s\n", why);
        result = PIMC_EXIT_CANNOT_WRITE;
    }
    pimc_baseline_free(&baseline); /* ref.cpu_model is one of its cells: the very end */
    return result;
}
