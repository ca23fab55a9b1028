#include "cluster.h"

#include "timer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* Rank 0 learns every rank's host, and lists them with their rank ranges. */
static void gather_hosts(struct pimc_cluster *c)
{
    char name[MPI_MAX_PROCESSOR_NAME] = "";
    int length;
    MPI_Get_processor_name(name, &length);
    char *all = c->rank == 0 ? calloc((size_t)c->ranks, MPI_MAX_PROCESSOR_NAME) : NULL;
    MPI_Gather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 0, MPI_COMM_WORLD);

    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, c->rank, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &c->ranks_on_host);
    MPI_Comm_free(&node);

    if (c->rank == 0 && all != NULL) {
        size_t used = 0;
        c->hosts = 0;
        c->host_list[0] = '\0';
        for (int r = 0; r < c->ranks;) {
            int end = r;
            while (end + 1 < c->ranks && strcmp(all + (size_t)(end + 1) * MPI_MAX_PROCESSOR_NAME,
                                                all + (size_t)r * MPI_MAX_PROCESSOR_NAME) == 0)
                end++;
            if (used < sizeof c->host_list)
                used += (size_t)snprintf(c->host_list + used, sizeof c->host_list - used, "%s%s (rank%s %d%s%.0d)",
                                         used ? ", " : "", all + (size_t)r * MPI_MAX_PROCESSOR_NAME,
                                         end > r ? "s" : "", r, end > r ? "-" : "", end > r ? end : 0);
            c->hosts++;
            r = end + 1;
        }
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

uint64_t pimc_cluster_sum(const struct pimc_cluster *c, uint64_t value)
{
    uint64_t sum = value;
    if (c->mpi)
        MPI_Allreduce(&value, &sum, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    return sum;
}

double pimc_cluster_max(const struct pimc_cluster *c, double value)
{
    double max = value;
    if (c->mpi)
        MPI_Allreduce(&value, &max, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return max;
}

double pimc_cluster_time(const struct pimc_cluster *c)
{
    return c->mpi ? MPI_Wtime() : pimc_now();
}

const char *pimc_cluster_library(void)
{
    static char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int length;
    if (version[0] == '\0') {
        MPI_Get_library_version(version, &length);
        version[strcspn(version, ",\n")] = '\0'; /* "Open MPI v4.1.4, package: ..." -> first part */
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
uint64_t pimc_cluster_sum(const struct pimc_cluster *c, uint64_t value) { return (void)c, value; }
double pimc_cluster_max(const struct pimc_cluster *c, double value) { return (void)c, value; }
double pimc_cluster_time(const struct pimc_cluster *c) { return (void)c, pimc_now(); }
const char *pimc_cluster_library(void) { return ""; }

#endif
