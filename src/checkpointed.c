#include "checkpointed.h"

#include "checkpoint.h"
#include "exit_status.h"
#include "resume.h"

#include <stdio.h>
#include <string.h>

/* Rank 0 reads FILE; the other ranks learn its contents in pimc_resume_run. */
static int load(const struct pimc_options *options, const struct pimc_cluster *cluster,
                struct pimc_checkpoint *start)
{
    char error[512];
    struct pimc_checkpoint current;
    int status = PIMC_EXIT_OK;
    memset(start, 0, sizeof *start);
    if (!pimc_checkpoint_init(&current, options->seed, options->throws, pimc_rng_name(options->rng), error,
                              sizeof error))
        status = PIMC_EXIT_FAILURE;
    else if (cluster->rank == 0)
        status = pimc_resume_load(options->checkpoint_path, &current, start, error, sizeof error);
    else if (!pimc_checkpoint_copy(start, &current))
        status = PIMC_EXIT_FAILURE;
    if (status != PIMC_EXIT_OK)
        fprintf(stderr, "pimc-omp: %s\n", status == PIMC_EXIT_FAILURE ? "out of memory" : error);
    pimc_checkpoint_free(&current);
    return pimc_cluster_agree(cluster, status);
}

int pimc_run_checkpointed(const struct pimc_options *options, const struct pimc_context *context,
                          struct pimc_csv *csv, const struct pimc_cluster *cluster, const atomic_bool *stop,
                          const volatile sig_atomic_t *stop_signal)
{
    struct pimc_checkpoint start;
    int status = load(options, cluster, &start);
    if (status != PIMC_EXIT_OK) {
        pimc_checkpoint_free(&start);
        return status;
    }
    const struct pimc_resume_plan plan = {
        .rng = options->rng,
        .kernel = pimc_kernel_resolve_for(options->rng, options->kernel),
        .threads = options->threads,
        .schedule = options->schedule,
        .path = options->checkpoint_path,
        .interval_s = options->checkpoint_interval_s,
        .stop = stop,
        .cluster = cluster,
    };
    struct pimc_resume_result result;
    char error[512];
    status = pimc_resume_run(&plan, &start, &result, error, sizeof error);
    pimc_checkpoint_free(&start);
    if (status != PIMC_EXIT_OK && cluster->rank == 0)
        fprintf(stderr, "pimc-omp: %s\n", error);
    /* Nothing to report when the run never started (the first save failed). */
    if (result.outcome.throws_requested == 0)
        return status;

    if (cluster->rank == 0) {
        const struct pimc_outcome *outcome = &result.outcome;
        struct pimc_record record = {
            .context = context,
            .outcome = outcome,
            .figures = pimc_figures_of(outcome, PIMC_STRONG),
            .kernel = plan.kernel,
            .kernel_asked = options->kernel,
            .seed = options->seed,
            .repeats = 1,
            .threads_source = options->threads_source,
            .mode = "single",
            .rng = pimc_rng_name(options->rng),
            .run = "0",
            .segments = result.segments,
            .throws_resumed = result.throws_resumed,
            .nodes = outcome->ranks > 1 ? context->nodes : 1,
            .checkpoint = options->checkpoint_path,
            .placement = pimc_probe_placement(outcome->threads),
        };
        pimc_warn_about_placement(&record.placement);
        pimc_utc_timestamp(record.timestamp, sizeof record.timestamp);
        if (options->json)
            pimc_print_json(stdout, &record);
        else if (!options->quiet)
            pimc_print_report(stdout, &record);
        fflush(stdout);

        /* A finished run's row was written when it finished: a second would
         * count it twice in any table built from the file. */
        if (result.was_complete && csv->fd >= 0)
            fprintf(stderr, "pimc-omp: checkpoint '%s' is of a finished run: no row added to '%s' (it was "
                            "recorded when the run finished)\n",
                    options->checkpoint_path, csv->path);
        else if (csv->fd >= 0 && pimc_csv_append(csv, &record, error, sizeof error) != 0) {
            fprintf(stderr, "pimc-omp: %s\n", error);
            status = PIMC_EXIT_CANNOT_WRITE;
        }
        if (outcome->partial && status == PIMC_EXIT_OK) {
            status = PIMC_EXIT_SIGNAL + *stop_signal;
        } else if (status == PIMC_EXIT_OK && !record.figures.verified) {
            fprintf(stderr, "pimc-omp: verification FAILED: the estimate is more than 5 standard errors from pi\n");
            status = PIMC_EXIT_VERIFICATION;
        }
    }
    return pimc_cluster_from_rank0(cluster, status);
}
