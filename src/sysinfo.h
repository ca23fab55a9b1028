/* What a result needs around it to mean something later: host, CPU, compiler,
 * OpenMP runtime and settings, Slurm job, version. Probed once per process. */
#ifndef PIMC_SYSINFO_H
#define PIMC_SYSINFO_H

#include "topology.h"

#include <stdbool.h>

struct pimc_context {
    char host[256];
    char cpu_model[256];
    char cpu_signature[192]; /* "family 25 model 1 stepping 1"; "" when /proc/cpuinfo has none */
    char compiler[64];
    char openmp[64];        /* runtime and version, e.g. "libgomp 4.5" */
    const char *omp_proc_bind; /* environment values, "" when unset */
    const char *omp_places;
    const char *omp_schedule;
    const char *slurm_job_id;
    const char *version;
    int usable_cpus;           /* CPUs in this process's affinity mask */
    int online_cpus;           /* CPUs of the whole host */
    struct pimc_topology topology; /* of the usable CPUs (topology.h) */
    /* Filled in from the cluster after probing: */
    int ranks_on_host;         /* MPI ranks sharing this host (1 without MPI) */
    const char *hosts;         /* "node1 (ranks 0-3), ..." */
    int nodes;                 /* distinct hosts of the run's ranks (1 without MPI) */
    const char *mpi_library;   /* "" without MPI */
};

/* More threads than CPUs to run them: this process's own mask, or all the
 * ranks on this host together against the host's CPUs. */
bool pimc_oversubscribed(const struct pimc_context *context, int threads_per_rank);

void pimc_probe_context(struct pimc_context *context);

/* CPUs this process may run on (its affinity mask; Slurm and taskset narrow it). */
int pimc_usable_cpus(void);

#endif
