#include "study.h"

#include "exit_status.h"
#include "run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct study_result {
    bool partial;     /* a signal stopped it */
    bool verified;    /* every point verified, and (strong, sizes) hits as expected */
    int write_status; /* 0, or PIMC_EXIT_CANNOT_WRITE when a CSV row could not be written */
};

struct study {
    const struct pimc_options *options;
    const struct pimc_context *context;
    struct pimc_csv *csv;
    const char *mode; /* strong, weak, sizes */
    enum pimc_scaling scaling;
    uint64_t throws; /* THROWS, or a thread's under --weak: given, or sized (sized_throws) */
    bool throws_sized;
    struct pimc_run_plan plan;
    int json_rows;
    struct study_result result;
    struct pimc_record summary[PIMC_MAX_LIST + 1]; /* one per point, for the table */
    struct pimc_outcome outcomes[PIMC_MAX_LIST + 1];
    struct pimc_placement placement; /* of the point being recorded */
    int points;
};

static void emit(struct study *s, const struct pimc_record *record)
{
    char error[512];
    if (s->plan.cluster->rank != 0)
        return;
    /* The row first: a reader of stdout that is gone must not cost it. */
    if (s->csv->fd >= 0 && s->result.write_status == 0 &&
        pimc_csv_append(s->csv, record, error, sizeof error) != 0) {
        fprintf(stderr, "pimc-omp: %s\n", error);
        s->result.write_status = PIMC_EXIT_CANNOT_WRITE;
    }
    if (s->options->json) {
        fputs(s->json_rows++ ? ",\n" : "[\n", stdout);
        pimc_print_json_object(stdout, record);
    }
}

static struct pimc_record record_of(struct study *s, const struct pimc_outcome *outcome, const char *run)
{
    struct pimc_record record = {
        .context = s->context,
        .outcome = outcome,
        .figures = pimc_figures_of(outcome, s->scaling),
        .kernel = s->plan.kernel,
        .kernel_asked = s->options->kernel,
        .seed = s->options->seed,
        .repeats = s->options->repeats,
        .threads_source = s->options->threads_source,
        .mode = s->mode,
        .run = run,
        .rng = pimc_rng_name(s->plan.rng),
        .nodes = outcome->ranks > 1 ? s->context->nodes : 1,
        .placement = s->placement,
    };
    pimc_utc_timestamp(record.timestamp, sizeof record.timestamp);
    return record;
}

/* One row per timed run, then (with repeats) the row of medians, which is also
 * the point's line in the table. A strong or weak point keeps the 1-thread
 * median as its serial time in every row: that is what its speedup is against. */
static void record_point(struct study *s, const struct pimc_outcome *outcome)
{
    const int runs = outcome->parallel.runs;
    char run_name[16];
    /* Where this point's team ran: its cores are the table's "CPU cores". */
    s->placement = pimc_probe_placement(outcome->threads);
    for (int r = 0; r < runs; r++) {
        struct pimc_outcome one = pimc_outcome_of_run(outcome, r);
        if (strcmp(s->mode, "sizes") != 0)
            one.serial = outcome->serial;
        snprintf(run_name, sizeof run_name, "%d", r);
        struct pimc_record record = record_of(s, &one, run_name);
        emit(s, &record);
    }
    s->outcomes[s->points] = *outcome;
    s->summary[s->points] = record_of(s, &s->outcomes[s->points], s->options->repeats > 1 ? "median" : "0");
    /* The medians; and the point's row when no row of a run says where a stop
     * cut it (in the warm-up, or in a run after the last one completed). */
    const bool cut_unrecorded = outcome->partial && (runs == 0 || outcome->cut_run >= runs);
    if (runs > 1 || cut_unrecorded)
        emit(s, &s->summary[s->points]);
    s->result.verified = s->result.verified && s->summary[s->points].figures.verified;
    s->result.partial = s->result.partial || outcome->partial;
    s->points++;
}

static void measure(struct study *s, int threads, uint64_t throws, bool serial, bool rank0_only,
                    struct pimc_outcome *outcome)
{
    struct pimc_run_plan plan = s->plan;
    plan.threads = threads;
    plan.throws = throws;
    plan.serial = serial;
    plan.rank0_only = rank0_only;
    pimc_run(&plan, outcome);
    outcome->throws_sized = s->throws_sized;
}

/* THROWS left out: a size whose leg on the list's most threads lasts
 * PIMC_SIZED_LEG_S or more (the fewer threads' legs last longer), from a
 * warm-up on that many threads. The default 1e9 is a fine study on 2 threads
 * and 1 ms a point on 192. At least THROWS's default; the default as it is
 * when nothing was measured (--warm-up 0, or a stop, which the first point
 * then records). */
static void size_throws(struct study *s)
{
    const struct pimc_options *o = s->options;
    const int most = o->sweep_threads[o->sweep_count - 1];
    const uint64_t workers = (uint64_t)most * (uint64_t)s->plan.cluster->ranks;
    struct pimc_run_plan plan = s->plan;
    plan.threads = most;
    plan.throws = s->scaling == PIMC_WEAK ? o->throws * workers : o->throws;
    plan.repeats = 0; /* the warm-up alone */
    plan.serial = false;
    plan.show_progress = false;
    struct pimc_outcome warm;
    pimc_run(&plan, &warm);
    if (warm.partial || !(warm.warm_throws_per_s > 0))
        return;
    const double rate = s->scaling == PIMC_WEAK ? warm.warm_throws_per_s / (double)workers : warm.warm_throws_per_s;
    s->throws = pimc_sized_throws(rate, PIMC_SIZED_LEG_S, o->throws);
    s->throws_sized = true;
}

static void scaling_study(struct study *s)
{
    const struct pimc_options *o = s->options;
    struct pimc_outcome baseline, outcome;
    /* The 1-core time is every speedup's denominator: it is measured first (on
     * rank 0 alone under MPI) and is the table's first line, whether or not the
     * list names 1 thread. */
    measure(s, 1, s->throws, false, true, &baseline);
    baseline.serial = baseline.parallel;
    record_point(s, &baseline);
    for (int i = 0; i < o->sweep_count && !s->result.partial; i++) {
        const int threads = o->sweep_threads[i];
        if (threads == 1 && s->plan.cluster->ranks == 1)
            continue; /* that is the baseline */
        const uint64_t workers = (uint64_t)threads * (uint64_t)s->plan.cluster->ranks;
        measure(s, threads, s->scaling == PIMC_WEAK ? s->throws * workers : s->throws, false, false, &outcome);
        outcome.serial = baseline.parallel;
        /* Strong scaling throws the same darts: the same hits, or something is wrong. */
        if (s->scaling == PIMC_STRONG && outcome.throws == outcome.throws_requested && outcome.hits != baseline.hits)
            outcome.hits_agree = false;
        record_point(s, &outcome);
    }
}

static void sizes_study(struct study *s)
{
    for (int i = 0; i < s->options->size_count && !s->result.partial; i++) {
        struct pimc_outcome outcome;
        measure(s, s->options->threads, s->options->sizes[i], true, false, &outcome);
        record_point(s, &outcome);
    }
}

static void warn_about_points(const struct study *s)
{
    for (int i = 0; i < s->points; i++) {
        const struct pimc_outcome *o = &s->outcomes[i];
        const int on_host = o->ranks > 1 ? s->context->ranks_on_host : 1;
        if (pimc_oversubscribed(s->context, o->threads))
            fprintf(stderr, "pimc-omp: warning: %d threads%s on %d usable CPUs: that row is marked oversubscribed "
                            "and is not a speed result\n",
                    o->threads * on_host, on_host > 1 ? " (all ranks here)" : "",
                    on_host > 1 ? s->context->online_cpus : s->context->usable_cpus);
        pimc_warn_about_placement(&s->summary[i].placement);
        if (o->parallel.runs > 1 && o->parallel.max_s > PIMC_NOISY_SPREAD * o->parallel.min_s)
            fprintf(stderr, "pimc-omp: warning: %d threads, %llu throws: times spread from %.4g to %.4g s; "
                            "the machine is noisy\n",
                    o->threads, (unsigned long long)o->throws, o->parallel.min_s, o->parallel.max_s);
    }
}

static struct study_result study(const struct pimc_options *options, const struct pimc_context *context,
                                 struct pimc_csv *csv, const atomic_bool *stop, const struct pimc_cluster *cluster)
{
    struct study *s = calloc(1, sizeof *s);
    if (s == NULL) {
        perror("pimc-omp");
        exit(PIMC_EXIT_FAILURE);
    }
    s->options = options;
    s->context = context;
    s->csv = csv;
    s->mode = options->size_count > 0 ? "sizes" : options->weak ? "weak" : "strong";
    s->scaling = options->weak ? PIMC_WEAK : PIMC_STRONG;
    s->result.verified = true;
    s->plan = (struct pimc_run_plan){
        .rng = options->rng,
        .kernel = pimc_kernel_resolve_for(options->rng, options->kernel),
        .seed = options->seed,
        .repeats = options->repeats,
        .schedule = options->schedule,
        .warm_up_s = options->warm_up_s,
        .show_progress = !options->quiet && !options->json && isatty(STDERR_FILENO),
        .stop = stop,
        .cluster = cluster,
    };

    s->throws = options->throws;
    if (options->size_count > 0)
        sizes_study(s);
    else {
        if (!options->throws_given && options->warm_up_s > 0)
            size_throws(s);
        scaling_study(s);
    }

    if (cluster->rank == 0) {
        if (options->json && s->json_rows > 0)
            fputs("\n]\n", stdout);
        else if (!options->json && !options->quiet)
            pimc_print_study_table(stdout, s->summary, s->points, options->markdown);
        fflush(stdout);
        warn_about_points(s);
    }
    struct study_result result = s->result;
    free(s);
    return result;
}

int pimc_run_study(const struct pimc_options *options, const struct pimc_context *context, struct pimc_csv *csv,
                   const atomic_bool *stop, const volatile sig_atomic_t *stop_signal,
                   const struct pimc_cluster *cluster)
{
    const bool leader = cluster->rank == 0;
    const uint64_t most_workers =
        options->weak ? (uint64_t)options->sweep_threads[options->sweep_count - 1] * (uint64_t)cluster->ranks : 1;
    if (options->throws > PIMC_MAX_THROWS / most_workers) {
        if (leader)
            fprintf(stderr, "pimc-omp: --weak with %llu throws per thread on up to %llu threads passes "
                            "2^63-1 throws; throw fewer per thread\n",
                    (unsigned long long)options->throws, (unsigned long long)most_workers);
        return PIMC_EXIT_USAGE;
    }
    const struct study_result result = study(options, context, csv, stop, cluster);
    int status = PIMC_EXIT_OK;
    if (result.partial)
        status = PIMC_EXIT_SIGNAL + *stop_signal;
    else if (result.write_status != 0)
        status = PIMC_EXIT_CANNOT_WRITE;
    else if (leader && !result.verified) { /* rank 0 alone holds every point's result */
        fprintf(stderr, "pimc-omp: verification FAILED: a point's estimate is more than 5 standard errors "
                        "from pi, or its hits differ from the 1-thread run's\n");
        status = PIMC_EXIT_VERIFICATION;
    }
    return pimc_cluster_from_rank0(cluster, status);
}
