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
 * This file only dispatches: options in, the context probed and the CSV opened
 * before any work starts, then one of the four modes (single.c, study.c,
 * check.c, checkpointed.c), whose exit status it returns (exit_status.h).
 */
#include "ab.h"
#include "check.h"
#include "checkpointed.h"
#include "cli.h"
#include "cluster.h"
#include "exit_status.h"
#include "file_io.h"
#include "kernel.h"
#include "report.h"
#include "selftest.h"
#include "single.h"
#include "study.h"
#include "sysinfo.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static atomic_bool stop_requested;
static volatile sig_atomic_t stop_signal;

/* Async-signal-safe: a lock-free atomic store and a sig_atomic_t. The first
 * signal names the stop: a SIGPIPE from writing the report of a run that a
 * SIGTERM stopped must not turn its 143 into 141. */
static void on_stop_signal(int signal_number)
{
    if (stop_signal == 0)
        stop_signal = signal_number;
    atomic_store(&stop_requested, true);
}

/* Every signal that asks a job to end is a stop request: the blocks under way
 * finish, the partial result is recorded (CSV row, checkpoint) and the exit
 * status is 128+N.
 * - SIGTERM: Slurm at the time limit, kill, timeout; SIGINT: Ctrl-C.
 * - SIGUSR1: the same request where SIGTERM cannot carry it: Open MPI's
 *   mpirun answers SIGTERM by killing its ranks, but hands SIGUSR1 to each;
 *   and Slurm's --signal=USR1@SECONDS sends it to every task.
 * - SIGHUP: the terminal or the ssh session went away.
 * - SIGUSR2 (LSF's and Grid Engine's warning before a kill), SIGXCPU (a CPU
 *   time limit: Grid Engine's s_cpu, ulimit -t), SIGALRM (timeout -s ALRM,
 *   alarm-based wrappers).
 * - SIGPIPE: the reader of stdout is gone (| head). coreutils die of it at
 *   once; a run here would lose its row, so it stops like the others, quietly.
 * Batch systems often send SIGTERM more than once (to the step, then to every
 * process): later ones must not cut the partial row short. A second Ctrl-C is
 * a person who wants out now: the default action. A signal that was ignored
 * when pimc-omp started stays ignored (nohup ignores SIGHUP; a parent that
 * ignores SIGPIPE wants EPIPE, which is then an error writing stdout, exit 4),
 * except the three above that job launchers rely on. */
static void install_stop_handlers(void)
{
    static const int always[] = {SIGTERM, SIGUSR1, SIGINT};
    static const int unless_ignored[] = {SIGHUP, SIGUSR2, SIGXCPU, SIGALRM, SIGPIPE};
    struct sigaction action, before;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < sizeof always / sizeof *always; i++) {
        action.sa_flags = always[i] == SIGINT ? SA_RESETHAND : 0;
        sigaction(always[i], &action, NULL);
    }
    action.sa_flags = 0;
    for (size_t i = 0; i < sizeof unless_ignored / sizeof *unless_ignored; i++)
        if (sigaction(unless_ignored[i], NULL, &before) == 0 && before.sa_handler != SIG_IGN)
            sigaction(unless_ignored[i], &action, NULL);
    /* A file size limit (ulimit -f) is a write that fails, EFBIG: reported
     * and the row cut back like a full disk, not a core dump mid-row. */
    signal(SIGXFSZ, SIG_IGN);
}

/* Ranks may be given different arguments (mpirun's A : B form): each says
 * whether it can go on, is done (--help, --version) or was given bad input,
 * and the worst verdict holds for all. PIMC_EXIT_OK: go on. */
static int parse(const struct pimc_cluster *cluster, int argc, char **argv, struct pimc_options *options,
                 bool *done)
{
    char error[512];
    enum pimc_cli_outcome parsed = pimc_parse_options(argc, argv, options, error, sizeof error);
    int verdict = pimc_cluster_agree(cluster, parsed == PIMC_CLI_ERROR ? 2 : parsed == PIMC_CLI_DONE ? 1 : 0);
    if (verdict == 2) {
        /* Say it once: rank 0 if its arguments were bad, else each rank whose were. */
        const bool leader_failed = pimc_cluster_from_rank0(cluster, parsed == PIMC_CLI_ERROR);
        if (parsed == PIMC_CLI_ERROR && cluster->rank == 0)
            fprintf(stderr, "pimc-omp: %s\n", error);
        else if (parsed == PIMC_CLI_ERROR && !leader_failed)
            fprintf(stderr, "pimc-omp: rank %d: %s\n", cluster->rank, error);
    }
    *done = verdict == 1;
    return verdict == 2 ? PIMC_EXIT_USAGE : PIMC_EXIT_OK;
}

/* What holds on every rank before any work: the kernel exists here, the
 * check runs alone. */
static int refuse_what_cannot_run(const struct pimc_cluster *cluster, const struct pimc_options *options)
{
    int status = PIMC_EXIT_OK;
    if (!pimc_kernel_available_for(options->rng, options->kernel)) { /* per rank: nodes may differ */
        fprintf(stderr, "pimc-omp: --kernel %s is not available on this CPU or build; use --kernel auto "
                        "(here: %s)\n",
                pimc_kernel_name(options->kernel),
                pimc_kernel_name(pimc_kernel_resolve_for(options->rng, PIMC_KERNEL_AUTO)));
        status = PIMC_EXIT_USAGE;
    }
    if ((options->check_path != NULL || options->against_path != NULL || options->self_test) && cluster->ranks > 1) {
        if (cluster->rank == 0)
            fprintf(stderr, "pimc-omp: %s one process; run it without mpirun/srun tasks\n",
                    options->self_test ? "--self-test checks" : options->check_path != NULL ? "--check measures"
                                                                                            : "--against measures");
        status = PIMC_EXIT_USAGE;
    }
    return pimc_cluster_agree(cluster, status);
}

static void probe_context(const struct pimc_cluster *cluster, struct pimc_context *context)
{
    pimc_probe_context(context);
    context->ranks_on_host = cluster->ranks_on_host;
    context->hosts = cluster->host_list;
    context->nodes = cluster->hosts;
    context->mpi_library = pimc_cluster_library();
}

static void warn_about_setup(const struct pimc_cluster *cluster, const struct pimc_options *options,
                             const struct pimc_context *context, bool study)
{
    if (cluster->rank != 0)
        return;
    if (cluster->ranks == 1 && pimc_cluster_launched_copies() > 1)
        fprintf(stderr, "pimc-omp: warning: started as %d tasks, but %s: running %d independent copies\n",
                pimc_cluster_launched_copies(),
                PIMC_HAVE_MPI ? "not by an MPI launcher this build knows (use srun --mpi=pmix or mpirun)"
                              : "this build has no MPI (rebuild with -Dmpi=enabled)",
                pimc_cluster_launched_copies());
    /* A study warns per point; a check runs the baseline's thread count and
     * judges its own conditions. */
    if (!study && options->check_path == NULL && options->against_path == NULL &&
        pimc_oversubscribed(context, options->threads))
        fprintf(stderr, "pimc-omp: warning: %d threads%s on %d usable CPUs: oversubscribed, the times are not "
                        "a speed result\n",
                options->threads * context->ranks_on_host, context->ranks_on_host > 1 ? " (all ranks here)" : "",
                context->ranks_on_host > 1 ? context->online_cpus : context->usable_cpus);
}

/* Under MPI every rank runs this; rank 0 alone writes output and files, and
 * every decision that ends the run is agreed so that no rank is left waiting. */
static int dispatch(const struct pimc_cluster *cluster, int argc, char **argv)
{
    struct pimc_options options;
    bool done;
    /* Before any file is made: a stop that comes before the run starts then
     * ends it with 128+N, and the CSV it created is removed, never left empty. */
    install_stop_handlers();
    int status = parse(cluster, argc, argv, &options, &done);
    if (status != PIMC_EXIT_OK || done)
        return status;
    if ((status = refuse_what_cannot_run(cluster, &options)) != PIMC_EXIT_OK)
        return status;
    if (options.self_test)
        return pimc_self_test(stdout, options.threads, NULL) ? PIMC_EXIT_OK : PIMC_EXIT_VERIFICATION;

    struct pimc_context context;
    probe_context(cluster, &context);
    char error[512];
    struct pimc_csv csv = {.fd = -1};
    if (cluster->rank == 0 && options.csv_path != NULL &&
        pimc_csv_open(&csv, options.csv_path, error, sizeof error) != 0) {
        fprintf(stderr, "pimc-omp: %s\n", error);
        status = PIMC_EXIT_CANNOT_WRITE;
    }
    if (status == PIMC_EXIT_OK && atomic_load(&stop_requested))
        status = PIMC_EXIT_SIGNAL + stop_signal;
    if ((status = pimc_cluster_agree(cluster, status)) != PIMC_EXIT_OK) {
        pimc_csv_close(&csv);
        return status;
    }

    const bool study = options.sweep_count > 0 || options.size_count > 0;
    warn_about_setup(cluster, &options, &context, study);
    if (options.against_path != NULL)
        status = pimc_run_against(&options, &context, &csv, &stop_requested, &stop_signal);
    else if (options.check_path != NULL)
        status = pimc_run_check(&options, &context, &csv, &stop_requested, &stop_signal);
    else if (study)
        status = pimc_run_study(&options, &context, &csv, &stop_requested, &stop_signal, cluster);
    else if (options.checkpoint_path != NULL)
        status = pimc_run_checkpointed(&options, &context, &csv, cluster, &stop_requested, &stop_signal);
    else
        status = pimc_run_single(&options, &context, &csv, cluster, &stop_requested, &stop_signal);
    pimc_csv_close(&csv);
    return status;
}

/* The report, JSON, study table, --help or --version went out whole, or the
 * run says so: exit 4 where it would have been 0 (or 3: a lost report is the
 * first thing to fix). A reader that went away (SIGPIPE) is no error to tell:
 * 141, as for any stop by a signal. */
static int finish_stdout(int status)
{
    const int failure = pimc_stdout_finish();
    const bool replace = status == PIMC_EXIT_OK || status == PIMC_EXIT_VERIFICATION;
    if (failure == 0)
        return status;
    if (failure == EPIPE && stop_signal == SIGPIPE)
        return replace ? PIMC_EXIT_SIGNAL + SIGPIPE : status;
    char name[PATH_MAX + 64];
    pimc_stdout_name(name, sizeof name);
    fprintf(stderr, "pimc-omp: cannot write %s: %s\n", name, strerror(failure));
    return replace ? PIMC_EXIT_CANNOT_WRITE : status;
}

int main(int argc, char **argv)
{
    /* Before anything is opened: a data file must never become fd 1 or 2. */
    if (pimc_open_standard_streams() != 0)
        return PIMC_EXIT_CANNOT_WRITE; /* no /dev/null: nowhere to say it either */
    pimc_stdout_guard();
    struct pimc_cluster cluster;
    pimc_cluster_start(&argc, &argv, &cluster);
    int status = dispatch(&cluster, argc, argv);
    status = finish_stdout(status);
    pimc_cluster_stop(&cluster);
    return status;
}
