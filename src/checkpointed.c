#include "checkpointed.h"

#include "checkpoint.h"
#include "exit_status.h"
#include "file_io.h"
#include "resume.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One run at a time on FILE: two would overwrite each other's progress, and
 * each would count the other's throws again. Rank 0 takes the lock before it
 * reads FILE and keeps it to the end of the run; a second run is refused at
 * once. Where there is no lock (a file system without flock), the run goes on
 * with a warning, as a CSV append does; where PATH.lock cannot be made
 * (a missing or read-only directory), the first save says why. */
static int lock_checkpoint(const char *path, struct pimc_file_lock *lock)
{
    struct stat st;
    char holder[512];
    int error_number;
    /* A link would be replaced by the first save's rename, not its target:
     * say so rather than quietly turn the link into a file. */
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        fprintf(stderr, "pimc-omp: checkpoint '%s' is a symbolic link; give the path of the file itself (a "
                        "checkpoint is saved by renaming a new file over FILE, which would replace the link)\n",
                path);
        return PIMC_EXIT_USAGE;
    }
    switch (pimc_file_lock(path, lock, holder, sizeof holder, &error_number)) {
    case PIMC_LOCK_HELD:
        pimc_remove_stale_temps(path); /* of a run killed mid-save: no one else writes them now */
        return PIMC_EXIT_OK;
    case PIMC_LOCK_BUSY:
        fprintf(stderr, "pimc-omp: checkpoint '%s' is in use by another run%s%s%s; wait for it to end, or give "
                        "another FILE\n",
                path, *holder ? " (" : "", holder, *holder ? ")" : "");
        return PIMC_EXIT_USAGE;
    case PIMC_LOCK_REFUSED:
        fprintf(stderr, "pimc-omp: checkpoint '%s': %s\n", path, holder);
        return PIMC_EXIT_USAGE;
    case PIMC_LOCK_UNAVAILABLE:
        if (error_number != ENOENT && error_number != ENOTDIR && error_number != EACCES &&
            error_number != EROFS && error_number != EPERM)
            fprintf(stderr, "pimc-omp: warning: cannot lock checkpoint '%s' (%s.lock: %s); make sure no other "
                            "run uses it at the same time\n",
                    path, path, strerror(error_number));
        return PIMC_EXIT_OK;
    }
    return PIMC_EXIT_OK;
}

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

static int run_locked(const struct pimc_options *options, const struct pimc_context *context, struct pimc_csv *csv,
                      const struct pimc_cluster *cluster, const atomic_bool *stop,
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
        .show_progress = !options->quiet && !options->json && isatty(STDERR_FILENO),
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
            .mode = "checkpoint", /* compute time over segments: not a plain run's timing (baseline.c) */
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
        /* A finished run's row was written when it finished: a second would
         * count it twice in any table built from the file. The row comes
         * before the report: a reader of stdout that is gone must not cost it. */
        if (result.was_complete && csv->fd >= 0)
            fprintf(stderr, "pimc-omp: checkpoint '%s' is of a finished run: no row added to '%s' (it was "
                            "recorded when the run finished)\n",
                    options->checkpoint_path, csv->path);
        else if (csv->fd >= 0 && pimc_csv_append(csv, &record, error, sizeof error) != 0) {
            fprintf(stderr, "pimc-omp: %s\n", error);
            status = PIMC_EXIT_CANNOT_WRITE;
        }
        if (options->json)
            pimc_print_json(stdout, &record);
        else if (!options->quiet)
            pimc_print_report(stdout, &record);
        fflush(stdout);
        if (outcome->partial && status == PIMC_EXIT_OK) {
            status = PIMC_EXIT_SIGNAL + *stop_signal;
        } else if (status == PIMC_EXIT_OK && !record.figures.verified) {
            fprintf(stderr, "pimc-omp: verification FAILED: the estimate is more than 5 standard errors from pi\n");
            status = PIMC_EXIT_VERIFICATION;
        }
    }
    return pimc_cluster_from_rank0(cluster, status);
}

int pimc_run_checkpointed(const struct pimc_options *options, const struct pimc_context *context,
                          struct pimc_csv *csv, const struct pimc_cluster *cluster, const atomic_bool *stop,
                          const volatile sig_atomic_t *stop_signal)
{
    struct pimc_file_lock lock = {.fd = -1};
    int status = cluster->rank == 0 ? lock_checkpoint(options->checkpoint_path, &lock) : PIMC_EXIT_OK;
    if ((status = pimc_cluster_agree(cluster, status)) != PIMC_EXIT_OK) {
        pimc_file_unlock(&lock);
        return status;
    }
    status = run_locked(options, context, csv, cluster, stop, stop_signal);
    pimc_file_unlock(&lock);
    return status;
}
