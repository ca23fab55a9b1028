/* The processes of one run: MPI ranks when an MPI launcher (mpirun, srun
 * --mpi=pmix) started several, else a single process. Without MPI in the build,
 * or when started alone, every call here is the one-process identity. */
#ifndef PIMC_CLUSTER_H
#define PIMC_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pimc_cluster {
    int rank, ranks;
    bool mpi;             /* MPI was initialised */
    int ranks_on_host;    /* ranks that share this rank's host */
    int hosts;            /* distinct hosts */
    char host_list[512];  /* "node1 (ranks 0-3), node2 (ranks 4-7)" on rank 0; see host_list.h */
};

/* Initialises MPI only when a launcher started this process (its environment
 * says so): a pimc-omp started alone never pays for MPI start-up. */
void pimc_cluster_start(int *argc, char ***argv, struct pimc_cluster *cluster);
void pimc_cluster_stop(const struct pimc_cluster *cluster);

/* Every rank passes the same status; the largest wins, so one rank's bad
 * argument or unwritable file ends the whole job instead of hanging it. */
int pimc_cluster_agree(const struct pimc_cluster *cluster, int status);

/* Rank 0's value, on every rank: for decisions only rank 0 can make (it alone
 * runs the serial reference and writes the output). */
int pimc_cluster_from_rank0(const struct pimc_cluster *cluster, int value);

void pimc_cluster_barrier(const struct pimc_cluster *cluster);

/* Every rank calls it once rank 0 has run a leg alone (the serial reference, a
 * sweep's 1-core baseline). The others wait in it from the start of that leg,
 * asleep: MPI_Barrier would busy-poll and take the CPUs rank 0 is timed on. */
void pimc_cluster_wait_for_rank0(const struct pimc_cluster *cluster);

/* The rank a launcher gave this process, from its environment (0 when none):
 * known before, and without, MPI, so that --help and --version print once. */
int pimc_cluster_launched_rank(void);
uint64_t pimc_cluster_sum(const struct pimc_cluster *cluster, uint64_t value);
/* Waits asleep (see pimc_cluster_wait_for_rank0) for the slowest rank. */
double pimc_cluster_max(const struct pimc_cluster *cluster, double value);

/* MPI_Wtime under MPI, the monotonic clock otherwise. */
double pimc_cluster_time(const struct pimc_cluster *cluster);

/* This rank's share of throws [0, throws): contiguous, sizes differing by at most one. */
void pimc_cluster_share(const struct pimc_cluster *cluster, uint64_t throws, uint64_t *first, uint64_t *count);

/* Copies a launcher started (Slurm tasks, mpirun ranks) as seen from the
 * environment: more than 1 with one rank means independent copies. */
int pimc_cluster_launched_copies(void);

/* "Open MPI 4.1.4" or similar; "" without MPI. */
const char *pimc_cluster_library(void);

/* ==== Checkpointed runs (resume.c) ==========================================
 * Rank 0 learns how far the other ranks got without any rank waiting for
 * another: each rank offers its cumulative progress between chunks with a
 * non-blocking send (dropped while the previous one is still in flight: a later
 * message replaces it anyway), and rank 0 takes what has arrived between its
 * own chunks. Only the main thread calls these (MPI_THREAD_FUNNELED). */

struct pimc_progress_link;

typedef void pimc_progress_fn(void *arg, int rank, uint64_t chunks, uint64_t hits);

/* NULL when out of memory. */
struct pimc_progress_link *pimc_progress_open(const struct pimc_cluster *cluster);

/* Ranks other than 0: this rank's chunks done and their hits so far. Never blocks. */
void pimc_progress_offer(struct pimc_progress_link *link, uint64_t chunks, uint64_t hits);

/* Ranks other than 0, at the end: the final count, delivered (waits for rank 0). */
void pimc_progress_finish(struct pimc_progress_link *link, uint64_t chunks, uint64_t hits);

/* Rank 0: hands each message that has arrived to fn; with `until_all_finished`,
 * waits until every other rank's final count has come. */
void pimc_progress_collect(struct pimc_progress_link *link, bool until_all_finished, pimc_progress_fn *fn,
                           void *arg);

void pimc_progress_close(struct pimc_progress_link *link);

/* Rank 0's values, on every rank. */
void pimc_cluster_broadcast(const struct pimc_cluster *cluster, uint64_t *values, size_t count);

#endif
