#include "single.h"

#include "exit_status.h"
#include "run.h"
#include "timer.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void warn_about_measurement(const struct pimc_outcome *outcome, int asked_threads)
{
    if (outcome->threads != asked_threads)
        fprintf(stderr, "pimc-omp: warning: the OpenMP runtime gave %d threads of the %d asked "
                        "(OMP_DYNAMIC or OMP_THREAD_LIMIT?)\n",
                outcome->threads, asked_threads);
    /* Like STREAM's checktick(): a leg of a few milliseconds is timer ticks,
     * wake-ups and cache misses as much as throws. The report and the row
     * say so too (too_short); this names the remedy. */
    char short_legs[32];
    if (outcome->throws == outcome->throws_requested && pimc_too_short(outcome, short_legs, sizeof short_legs))
        fprintf(stderr, "pimc-omp: warning: the %s took under %.0f ms: too short to time, not a speed "
                        "result; throw more darts (leave THROWS out for a size timed well here)\n",
                strchr(short_legs, ' ') != NULL ? "parallel and serial legs"
                : strcmp(short_legs, "serial") == 0 ? "serial leg" : "parallel leg",
                PIMC_SHORTEST_TIMED_S * 1e3);
    if (outcome->parallel.runs > 1 && outcome->parallel.max_s > PIMC_NOISY_SPREAD * outcome->parallel.min_s)
        fprintf(stderr, "pimc-omp: warning: parallel times spread from %.4g to %.4g s: the machine is noisy; "
                        "take the median with care\n",
                outcome->parallel.min_s, outcome->parallel.max_s);
}

int pimc_run_single(const struct pimc_options *options, const struct pimc_context *context, struct pimc_csv *csv,
                    const struct pimc_cluster *cluster, const atomic_bool *stop,
                    const volatile sig_atomic_t *stop_signal)
{
    struct pimc_run_plan plan = {
        .rng = options->rng,
        .kernel = pimc_kernel_resolve_for(options->rng, options->kernel),
        .seed = options->seed,
        .throws = options->throws,
        .threads = options->threads,
        .repeats = options->repeats,
        .schedule = options->schedule,
        .serial = options->serial,
        .warm_up_s = options->warm_up_s,
        .size_throws = !options->throws_given,
        .show_progress = !options->quiet && !options->json && isatty(STDERR_FILENO),
        .stop = stop,
        .cluster = cluster,
    };
    struct pimc_outcome outcome;
    pimc_run(&plan, &outcome);

    int status = PIMC_EXIT_OK;
    if (cluster->rank == 0) {
        char error[512];
        struct pimc_record record = {
            .context = context,
            .outcome = &outcome,
            .figures = pimc_figures_of(&outcome, PIMC_STRONG),
            .kernel = plan.kernel,
            .kernel_asked = options->kernel,
            .seed = options->seed,
            .repeats = options->repeats,
            .threads_source = options->threads_source,
            .mode = "single",
            .rng = pimc_rng_name(plan.rng),
            .run = options->repeats > 1 ? "median" : "0",
            .nodes = outcome.ranks > 1 ? context->nodes : 1,
            .placement = pimc_probe_placement(outcome.threads),
        };
        pimc_utc_timestamp(record.timestamp, sizeof record.timestamp);
        warn_about_measurement(&outcome, options->threads);
        pimc_warn_about_placement(&record.placement);
        /* The row first: a reader of stdout that is gone (| head) must not
         * cost it. */
        if (csv->fd >= 0 && pimc_csv_append(csv, &record, error, sizeof error) != 0) {
            fprintf(stderr, "pimc-omp: %s\n", error);
            status = PIMC_EXIT_CANNOT_WRITE;
        }
        if (options->json)
            pimc_print_json(stdout, &record);
        else if (!options->quiet)
            pimc_print_report(stdout, &record);
        fflush(stdout);
        if (outcome.partial) {
            status = PIMC_EXIT_SIGNAL + *stop_signal;
        } else if (status == PIMC_EXIT_OK && !record.figures.verified) {
            fprintf(stderr, "pimc-omp: verification FAILED: %s\n",
                    outcome.hits_agree ? "the estimate is more than 5 standard errors from pi"
                                       : "runs of the same throws gave different hits");
            status = PIMC_EXIT_VERIFICATION;
        }
    }
    return pimc_cluster_from_rank0(cluster, status);
}
