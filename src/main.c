/*
 * pimc-omp: Monte Carlo pi on all cores, as a benchmark you can trust.
 *
 * How to run it and report it (also in --help): quote medians of repeated runs
 * (--repeat), with the kernel path, compiler, OpenMP runtime and binding shown;
 * a run with more threads than usable CPUs, or one under a millisecond, is
 * flagged and is not a speed result. Every run checks itself: the estimate must
 * lie within 5 standard errors of pi and every run of the same throws must give
 * the same hits, or the exit status is 3.
 *
 * This file is the glue: options in, plan out, result to the writers, and the
 * exit status. It knows nothing of SIMD (kernel.c) or formats (report.c).
 */
#include "check.h"
#include "cli.h"
#include "cluster.h"
#include "kernel.h"
#include "report.h"
#include "run.h"
#include "study.h"
#include "sysinfo.h"
#include "timer.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum exit_status {
    EXIT_DONE = 0,
    EXIT_FAILURE_AT_RUN_TIME = 1,
    EXIT_USAGE = 2,
    EXIT_VERIFICATION_FAILED = 3,
    EXIT_CANNOT_WRITE = 4,
};

static atomic_bool stop_requested;
static volatile sig_atomic_t stop_signal;

/* Async-signal-safe: a lock-free atomic store and a sig_atomic_t. */
static void on_stop_signal(int signal_number)
{
    stop_signal = signal_number;
    atomic_store(&stop_requested, true);
}

static void install_stop_handlers(void)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    /* Batch systems often send SIGTERM more than once (to the step, then to
     * every process): later ones must not cut the partial row short. */
    sigaction(SIGTERM, &action, NULL);
    /* A second Ctrl-C is a person who wants out now: the default action. */
    action.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &action, NULL);
}

static void warn_about_measurement(const struct pimc_outcome *outcome, int asked_threads)
{
    if (outcome->threads != asked_threads)
        fprintf(stderr, "pimc-omp: warning: the OpenMP runtime gave %d threads of the %d asked "
                        "(OMP_DYNAMIC or OMP_THREAD_LIMIT?)\n",
                outcome->threads, asked_threads);
    /* Like STREAM's checktick(): a run of few clock ticks is mostly rounding. */
    const double too_short = 1e-3;
    if (outcome->parallel.runs > 0 && outcome->parallel.median_s < too_short)
        fprintf(stderr, "pimc-omp: warning: the parallel run took %.1f us (timer tick %.0f ns): too short to "
                        "time reliably; throw more darts or --repeat\n",
                outcome->parallel.median_s * 1e6, pimc_timer_tick() * 1e9);
    if (outcome->parallel.runs > 1 && outcome->parallel.max_s > PIMC_NOISY_SPREAD * outcome->parallel.min_s)
        fprintf(stderr, "pimc-omp: warning: parallel times spread from %.4g to %.4g s: the machine is noisy; "
                        "take the median with care\n",
                outcome->parallel.min_s, outcome->parallel.max_s);
}

/* Under MPI every rank runs this; rank 0 alone writes output and files, and
 * every decision that ends the run is agreed so that no rank is left waiting. */
static int run(const struct pimc_cluster *cluster, int argc, char **argv)
{
    struct pimc_options options;
    char error[512];
    const bool leader = cluster->rank == 0;
    /* Ranks may be given different arguments (mpirun's A : B form): each says
     * whether it can go on (0), is done (1: --help, --version) or was given bad
     * input (2), and the worst verdict holds for all. */
    enum pimc_cli_outcome parsed = pimc_parse_options(argc, argv, &options, error, sizeof error);
    int verdict = parsed == PIMC_CLI_ERROR ? 2 : parsed == PIMC_CLI_DONE ? 1 : 0;
    verdict = pimc_cluster_agree(cluster, verdict);
    if (verdict == 2) {
        /* Say it once: rank 0 if its arguments were bad, else each rank whose were. */
        const bool leader_failed = pimc_cluster_from_rank0(cluster, parsed == PIMC_CLI_ERROR);
        if (parsed == PIMC_CLI_ERROR && leader)
            fprintf(stderr, "pimc-omp: %s\n", error);
        else if (parsed == PIMC_CLI_ERROR && !leader_failed)
            fprintf(stderr, "pimc-omp: rank %d: %s\n", cluster->rank, error);
    }
    if (verdict != 0)
        return verdict == 1 ? EXIT_DONE : EXIT_USAGE;

    int status = EXIT_DONE;
    if (!pimc_kernel_available(options.kernel)) { /* per rank: nodes may differ */
        fprintf(stderr, "pimc-omp: --kernel %s is not available on this CPU or build; use --kernel auto "
                        "(here: %s)\n",
                pimc_kernel_name(options.kernel), pimc_kernel_name(pimc_kernel_resolve(PIMC_KERNEL_AUTO)));
        status = EXIT_USAGE;
    }
    if (options.check_path != NULL && cluster->ranks > 1) {
        if (leader)
            fprintf(stderr, "pimc-omp: --check measures one process; run it without mpirun/srun tasks\n");
        status = EXIT_USAGE;
    }
    if ((status = pimc_cluster_agree(cluster, status)) != EXIT_DONE)
        return status;

    struct pimc_context context;
    pimc_probe_context(&context);
    context.ranks_on_host = cluster->ranks_on_host;
    context.hosts = cluster->host_list;
    context.nodes = cluster->hosts;
    context.mpi_library = pimc_cluster_library();

    struct pimc_csv csv = {.fd = -1};
    if (leader && options.csv_path != NULL && pimc_csv_open(&csv, options.csv_path, error, sizeof error) != 0) {
        fprintf(stderr, "pimc-omp: %s\n", error);
        status = EXIT_CANNOT_WRITE;
    }
    if ((status = pimc_cluster_agree(cluster, status)) != EXIT_DONE)
        return status;

    if (leader && cluster->ranks == 1 && pimc_cluster_launched_copies() > 1)
        fprintf(stderr, "pimc-omp: warning: started as %d tasks, but %s: running %d independent copies\n",
                pimc_cluster_launched_copies(),
                PIMC_HAVE_MPI ? "not by an MPI launcher this build knows (use srun --mpi=pmix or mpirun)"
                              : "this build has no MPI (rebuild with -Dmpi=enabled)",
                pimc_cluster_launched_copies());
    const bool study = options.sweep_count > 0 || options.size_count > 0;
    /* A check runs the baseline's thread count and judges its own conditions. */
    if (leader && !study && options.check_path == NULL && pimc_oversubscribed(&context, options.threads))
        fprintf(stderr, "pimc-omp: warning: %d threads%s on %d usable CPUs: oversubscribed, the times are not "
                        "a speed result\n",
                options.threads * context.ranks_on_host, context.ranks_on_host > 1 ? " (all ranks here)" : "",
                context.ranks_on_host > 1 ? context.online_cpus : context.usable_cpus);

    install_stop_handlers();
    if (options.check_path != NULL) {
        status = pimc_run_check(&options, &context, &csv, &stop_requested, &stop_signal);
        pimc_csv_close(&csv);
        return status;
    }
    if (study) {
        const uint64_t most_workers =
            options.weak ? (uint64_t)options.sweep_threads[options.sweep_count - 1] * (uint64_t)cluster->ranks : 1;
        if (options.throws > PIMC_MAX_THROWS / most_workers) {
            if (leader)
                fprintf(stderr, "pimc-omp: --weak with %llu throws per thread on up to %llu threads passes "
                                "2^63-1 throws; throw fewer per thread\n",
                        (unsigned long long)options.throws, (unsigned long long)most_workers);
            pimc_csv_close(&csv);
            return EXIT_USAGE;
        }
        struct pimc_study_result study = pimc_run_study(&options, &context, &csv, &stop_requested, cluster);
        pimc_csv_close(&csv);
        if (study.partial)
            status = 128 + stop_signal;
        else if (study.write_status != 0)
            status = EXIT_CANNOT_WRITE;
        else if (leader && !study.verified) { /* rank 0 alone holds every point's result */
            fprintf(stderr, "pimc-omp: verification FAILED: a point's estimate is more than 5 standard errors "
                            "from pi, or its hits differ from the 1-thread run's\n");
            status = EXIT_VERIFICATION_FAILED;
        }
        return pimc_cluster_from_rank0(cluster, status);
    }

    struct pimc_run_plan plan = {
        .kernel = pimc_kernel_resolve(options.kernel),
        .seed = options.seed,
        .throws = options.throws,
        .threads = options.threads,
        .repeats = options.repeats,
        .serial = options.serial,
        .warm_up = options.repeats > 1, /* a repeated run's figures should not include a cold first run */
        .show_progress = !options.quiet && !options.json && isatty(STDERR_FILENO),
        .stop = &stop_requested,
        .cluster = cluster,
    };
    struct pimc_outcome outcome;
    pimc_run(&plan, &outcome);

    if (leader) {
        struct pimc_record record = {
            .options = &options,
            .context = &context,
            .outcome = &outcome,
            .figures = pimc_figures_of(&outcome, PIMC_STRONG),
            .kernel = plan.kernel,
            .mode = "single",
            .run = options.repeats > 1 ? "median" : "0",
        };
        pimc_utc_timestamp(record.timestamp, sizeof record.timestamp);
        warn_about_measurement(&outcome, options.threads);
        if (options.json)
            pimc_print_json(stdout, &record);
        else if (!options.quiet)
            pimc_print_report(stdout, &record);
        fflush(stdout);

        if (csv.fd >= 0 && pimc_csv_append(&csv, &record, error, sizeof error) != 0) {
            fprintf(stderr, "pimc-omp: %s\n", error);
            status = EXIT_CANNOT_WRITE;
        }
        pimc_csv_close(&csv);
        if (outcome.partial) {
            status = 128 + stop_signal;
        } else if (status == EXIT_DONE && !record.figures.verified) {
            fprintf(stderr, "pimc-omp: verification FAILED: %s\n",
                    outcome.hits_agree ? "the estimate is more than 5 standard errors from pi"
                                       : "runs of the same throws gave different hits");
            status = EXIT_VERIFICATION_FAILED;
        }
    }
    return pimc_cluster_from_rank0(cluster, status);
}

int main(int argc, char **argv)
{
    struct pimc_cluster cluster;
    pimc_cluster_start(&argc, &argv, &cluster);
    int status = run(&cluster, argc, argv);
    pimc_cluster_stop(&cluster);
    return status;
}
