/* What a result needs around it to mean something later: host, CPU, compiler,
 * OpenMP runtime and settings, Slurm job, version. Probed once per process. */
#ifndef PIMC_SYSINFO_H
#define PIMC_SYSINFO_H

struct pimc_context {
    char host[256];
    char cpu_model[256];
    char compiler[64];
    char openmp[64];        /* runtime and version, e.g. "libgomp 4.5" */
    const char *omp_proc_bind; /* environment values, "" when unset */
    const char *omp_places;
    const char *omp_schedule;
    const char *slurm_job_id;
    const char *version;
    int usable_cpus;           /* CPUs in this process's affinity mask */
};

void pimc_probe_context(struct pimc_context *context);

/* CPUs this process may run on (its affinity mask; Slurm and taskset narrow it). */
int pimc_usable_cpus(void);

#endif
