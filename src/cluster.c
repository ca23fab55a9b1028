#include "cluster.h"

#include "exit_status.h"
#include "host_list.h"
#include "timer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if PIMC_HAVE_MPI
#include <mpi.h>
#endif

/* Variables the launchers we know set in every process they start: Open MPI's
 * mpirun, PMIx (srun --mpi=pmix, prterun), PMI-1/2 (MPICH's hydra, srun
 * --mpi=pmi2). */
static const char *const launcher_variables[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"};

static int env_int(const char *name)
{
    const char *value = getenv(name);
    return value != NULL ? atoi(value) : 0;
}

int pimc_cluster_launched_copies(void)
{
    int copies = env_int("OMPI_COMM_WORLD_SIZE");
    if (copies <= 0)
        copies = env_int("PMI_SIZE");
    if (copies <= 0)
        copies = env_int("SLURM_STEP_NUM_TASKS");
    return copies > 0 ? copies : 1;
}

int pimc_cluster_launched_rank(void)
{
    static const char *const rank_variables[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"};
    for (size_t i = 0; i < sizeof rank_variables / sizeof *rank_variables; i++)
        if (getenv(rank_variables[i]) != NULL)
            return env_int(rank_variables[i]);
    return 0;
}

void pimc_cluster_share(const struct pimc_cluster *c, uint64_t throws, uint64_t *first, uint64_t *count)
{
    const uint64_t ranks = (uint64_t)c->ranks, rank = (uint64_t)c->rank;
    const uint64_t base = throws / ranks, extra = throws % ranks;
    *first = rank * base + (rank < extra ? rank : extra);
    *count = base + (rank < extra);
}

static void single_process(struct pimc_cluster *c)
{
    char host[256];
    memset(c, 0, sizeof *c);
    c->ranks = c->ranks_on_host = c->hosts = 1;
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = '\0';
    snprintf(c->host_list, sizeof c->host_list, "%s", host);
}

#if PIMC_HAVE_MPI

static bool launched_by_mpi(void)
{
    for (size_t i = 0; i < sizeof launcher_variables / sizeof *launcher_variables; i++)
        if (getenv(launcher_variables[i]) != NULL)
            return true;
    return false;
}

static void out_of_memory(void)
{
    fputs("pimc-omp: out of memory\n", stderr);
    MPI_Abort(MPI_COMM_WORLD, PIMC_EXIT_FAILURE);
    exit(PIMC_EXIT_FAILURE); /* should MPI_Abort return */
}

/* Rank 0 learns every rank's host and lists them (host_list.c), every rank how
 * many distinct hosts there are. */
static void gather_hosts(struct pimc_cluster *c)
{
    char name[MPI_MAX_PROCESSOR_NAME] = "";
    int length;
    MPI_Get_processor_name(name, &length);
    char *all = c->rank == 0 ? calloc((size_t)c->ranks, MPI_MAX_PROCESSOR_NAME) : NULL;
    if (c->rank == 0 && all == NULL)
        out_of_memory();
    MPI_Gather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 0, MPI_COMM_WORLD);

    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, c->rank, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &c->ranks_on_host);
    MPI_Comm_free(&node);

    if (c->rank == 0) {
        c->hosts = pimc_host_list(all, MPI_MAX_PROCESSOR_NAME, c->ranks, c->host_list, sizeof c->host_list);
        if (c->hosts < 0)
            out_of_memory();
    }
    free(all);
    MPI_Bcast(&c->hosts, 1, MPI_INT, 0, MPI_COMM_WORLD);
}

void pimc_cluster_start(int *argc, char ***argv, struct pimc_cluster *c)
{
    single_process(c);
    if (!launched_by_mpi())
        return;
    int provided;
    /* Only the main thread calls MPI, outside the OpenMP regions. */
    MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    c->mpi = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &c->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &c->ranks);
    gather_hosts(c);
}

void pimc_cluster_stop(const struct pimc_cluster *c)
{
    if (c->mpi)
        MPI_Finalize();
}

int pimc_cluster_agree(const struct pimc_cluster *c, int status)
{
    int agreed = status;
    if (c->mpi)
        MPI_Allreduce(&status, &agreed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return agreed;
}

int pimc_cluster_from_rank0(const struct pimc_cluster *c, int value)
{
    if (c->mpi)
        MPI_Bcast(&value, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return value;
}

void pimc_cluster_barrier(const struct pimc_cluster *c)
{
    if (c->mpi)
        MPI_Barrier(MPI_COMM_WORLD);
}

/* Completes a collective asleep: a short spin for the usual case (every rank
 * there at once), then sleeps between polls that double from 1 ms to 8 ms, so
 * that a rank waiting for others costs the CPU next to nothing. Each poll of a
 * rank that shares rank 0's CPU costs rank 0 about 28 us (a context switch and
 * the library's progress): at a steady 1 ms, two such ranks slowed rank 0's
 * serial leg by 5.6% (bench/mpi, Intel Xeon). The doubling keeps a short wait
 * short: a rank wakes at most about as long after the others arrive as it had
 * already waited, and never more than 8 ms. A blocking MPI call would
 * busy-poll the whole time. */
static void wait_quietly(MPI_Request *request)
{
    const long first_nap_ns = 1000000, longest_nap_ns = 8000000;
    struct timespec nap = {.tv_sec = 0, .tv_nsec = first_nap_ns};
    const double spin_until = MPI_Wtime() + 100e-6;
    int done = 0;
    while (MPI_Test(request, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && !done)
        if (MPI_Wtime() > spin_until) {
            nanosleep(&nap, NULL);
            if (nap.tv_nsec < longest_nap_ns)
                nap.tv_nsec = nap.tv_nsec * 2 < longest_nap_ns ? nap.tv_nsec * 2 : longest_nap_ns;
        }
}

void pimc_cluster_wait_for_rank0(const struct pimc_cluster *c)
{
    MPI_Request request;
    if (!c->mpi)
        return;
    MPI_Ibarrier(MPI_COMM_WORLD, &request);
    wait_quietly(&request);
}

uint64_t pimc_cluster_sum(const struct pimc_cluster *c, uint64_t value)
{
    uint64_t sum = value;
    if (c->mpi)
        MPI_Allreduce(&value, &sum, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    return sum;
}

/* The first collective after the throws: ranks that finish their share early
 * wait here, asleep, for the slowest (it may share their node). */
double pimc_cluster_max(const struct pimc_cluster *c, double value)
{
    double max = value;
    if (c->mpi) {
        MPI_Request request;
        MPI_Iallreduce(&value, &max, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD, &request);
        wait_quietly(&request);
    }
    return max;
}

double pimc_cluster_time(const struct pimc_cluster *c)
{
    return c->mpi ? MPI_Wtime() : pimc_now();
}

/* One line, whatever the library: Open MPI says "Open MPI v4.1.4, package: ...",
 * MPICH "MPICH Version:\t4.0.2\nMPICH Release date: ..." (several lines, tabs).
 * Both become "<name> <version>": "Open MPI 4.1.4", "MPICH 4.0.2". */
const char *pimc_cluster_library(void)
{
    static char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int length;
    if (version[0] == '\0') {
        char raw[MPI_MAX_LIBRARY_VERSION_STRING] = "";
        MPI_Get_library_version(raw, &length);
        raw[strcspn(raw, ",\n")] = '\0'; /* the first line, up to Open MPI's ", package" */
        char *value = strstr(raw, "Version:");
        if (value != NULL) { /* MPICH and its kin: "NAME Version:\tX" */
            *value = '\0';
            value += strlen("Version:");
        } else if ((value = strstr(raw, " v")) != NULL && value[2] >= '0' && value[2] <= '9') {
            *value = '\0'; /* "Open MPI v4.1.4" */
            value += 2;
        } else {
            value = raw + strlen(raw);
        }
        value += strspn(value, " \t");
        size_t name = strlen(raw);
        while (name > 0 && (raw[name - 1] == ' ' || raw[name - 1] == '\t'))
            raw[--name] = '\0';
        snprintf(version, sizeof version, "%s%s%s", raw, *value ? " " : "", value);
        for (char *t = version; *t; t++) /* no tab survives into a CSV or a report line */
            if (*t == '\t')
                *t = ' ';
    }
    return version;
}

#else /* no MPI in this build */

void pimc_cluster_start(int *argc, char ***argv, struct pimc_cluster *c)
{
    (void)argc, (void)argv, (void)launcher_variables;
    single_process(c);
}

void pimc_cluster_stop(const struct pimc_cluster *c) { (void)c; }
int pimc_cluster_agree(const struct pimc_cluster *c, int status) { return (void)c, status; }
int pimc_cluster_from_rank0(const struct pimc_cluster *c, int value) { return (void)c, value; }
void pimc_cluster_barrier(const struct pimc_cluster *c) { (void)c; }
void pimc_cluster_wait_for_rank0(const struct pimc_cluster *c) { (void)c; }
uint64_t pimc_cluster_sum(const struct pimc_cluster *c, uint64_t value) { return (void)c, value; }
double pimc_cluster_max(const struct pimc_cluster *c, double value) { return (void)c, value; }
double pimc_cluster_time(const struct pimc_cluster *c) { return (void)c, pimc_now(); }
const char *pimc_cluster_library(void) { return ""; }

#endif

/* ==== Checkpointed runs (resume.c): progress to rank 0, start state from it ====
 * Self-contained: nothing above depends on this section. Messages carry a
 * rank's cumulative (chunks done, hits), so any one may be dropped but the last;
 * MPI keeps messages from one rank in order, so its final one comes last. */

#include <stdlib.h>

enum { PROGRESS_TAG = 0x7131, FINAL_TAG = 0x7132 };

struct pimc_progress_link {
    const struct pimc_cluster *cluster;
#if PIMC_HAVE_MPI
    MPI_Request send, receive;
    bool sending, receiving;
    uint64_t send_buffer[2], receive_buffer[2];
    int finished; /* ranks whose final count rank 0 has */
#endif
};

struct pimc_progress_link *pimc_progress_open(const struct pimc_cluster *cluster)
{
    struct pimc_progress_link *link = calloc(1, sizeof *link);
    if (link != NULL)
        link->cluster = cluster;
    return link;
}

#if PIMC_HAVE_MPI

static bool progress_over_mpi(const struct pimc_progress_link *link)
{
    return link->cluster->mpi && link->cluster->ranks > 1;
}

void pimc_progress_offer(struct pimc_progress_link *link, uint64_t chunks, uint64_t hits)
{
    if (!progress_over_mpi(link) || link->cluster->rank == 0)
        return;
    if (link->sending) {
        int done = 0;
        MPI_Test(&link->send, &done, MPI_STATUS_IGNORE);
        if (!done)
            return; /* the next offer carries this one's news too */
        link->sending = false;
    }
    link->send_buffer[0] = chunks;
    link->send_buffer[1] = hits;
    MPI_Isend(link->send_buffer, 2, MPI_UINT64_T, 0, PROGRESS_TAG, MPI_COMM_WORLD, &link->send);
    link->sending = true;
}

void pimc_progress_finish(struct pimc_progress_link *link, uint64_t chunks, uint64_t hits)
{
    if (!progress_over_mpi(link) || link->cluster->rank == 0)
        return;
    if (link->sending)
        MPI_Wait(&link->send, MPI_STATUS_IGNORE);
    link->sending = false;
    uint64_t final[2] = {chunks, hits};
    MPI_Send(final, 2, MPI_UINT64_T, 0, FINAL_TAG, MPI_COMM_WORLD);
}

void pimc_progress_collect(struct pimc_progress_link *link, bool until_all_finished, pimc_progress_fn *fn,
                           void *arg)
{
    if (!progress_over_mpi(link) || link->cluster->rank != 0)
        return;
    while (link->finished < link->cluster->ranks - 1) {
        if (!link->receiving) {
            MPI_Irecv(link->receive_buffer, 2, MPI_UINT64_T, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD,
                      &link->receive);
            link->receiving = true;
        }
        MPI_Status status;
        int arrived = 0;
        if (until_all_finished)
            MPI_Wait(&link->receive, &status), arrived = 1;
        else
            MPI_Test(&link->receive, &arrived, &status);
        if (!arrived)
            return;
        link->receiving = false;
        link->finished += status.MPI_TAG == FINAL_TAG;
        fn(arg, status.MPI_SOURCE, link->receive_buffer[0], link->receive_buffer[1]);
    }
}

void pimc_progress_close(struct pimc_progress_link *link)
{
    if (link == NULL)
        return;
    /* A receive still posted (rank 0 stopped collecting early) must not outlive its buffer. */
    if (link->receiving) {
        MPI_Cancel(&link->receive);
        MPI_Wait(&link->receive, MPI_STATUS_IGNORE);
    }
    if (link->sending)
        MPI_Wait(&link->send, MPI_STATUS_IGNORE);
    free(link);
}

void pimc_cluster_broadcast(const struct pimc_cluster *cluster, uint64_t *values, size_t count)
{
    const size_t piece = (size_t)1 << 20; /* MPI counts are ints */
    for (size_t done = 0; cluster->mpi && done < count; done += piece)
        MPI_Bcast(values + done, (int)(count - done < piece ? count - done : piece), MPI_UINT64_T, 0,
                  MPI_COMM_WORLD);
}

#else /* no MPI: one process, nothing to tell anyone */

void pimc_progress_offer(struct pimc_progress_link *link, uint64_t chunks, uint64_t hits)
{
    (void)link, (void)chunks, (void)hits;
}
void pimc_progress_finish(struct pimc_progress_link *link, uint64_t chunks, uint64_t hits)
{
    (void)link, (void)chunks, (void)hits;
}
void pimc_progress_collect(struct pimc_progress_link *link, bool until_all_finished, pimc_progress_fn *fn,
                           void *arg)
{
    (void)link, (void)until_all_finished, (void)fn, (void)arg;
}
void pimc_progress_close(struct pimc_progress_link *link) { free(link); }
void pimc_cluster_broadcast(const struct pimc_cluster *cluster, uint64_t *values, size_t count)
{
    (void)cluster, (void)values, (void)count;
}

#endif
