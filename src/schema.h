/* The columns of a result, in the order every CSV header and JSON object has
 * them: the one list the writers (report.c) and the baseline reader
 * (baseline.c) share. Column order is an interface: tools read these names;
 * new columns only ever go at the end. */
#ifndef PIMC_SCHEMA_H
#define PIMC_SCHEMA_H

#define PIMC_COLUMNS(X)                                                                                    \
    X(TIMESTAMP, "timestamp") X(HOST, "host") X(CPU_MODEL, "cpu_model") X(KERNEL, "kernel")                \
    X(COMPILER, "compiler") X(THREADS, "threads") X(THROWS, "throws") X(SEED, "seed") X(HITS, "hits")      \
    X(PI, "pi") X(ABS_ERROR, "abs_error") X(STD_ERROR, "std_error") X(SERIAL_S, "serial_s")                \
    X(PARALLEL_S, "parallel_s") X(SPEEDUP, "speedup") X(EFFICIENCY, "efficiency")                          \
    X(THROWS_PER_S, "throws_per_s") X(Z_SCORE, "z_score") X(THROWS_PER_S_PER_THREAD, "throws_per_s_per_thread") \
    X(STATUS, "status") X(THROWS_REQUESTED, "throws_requested") X(MODE, "mode") X(RUN, "run")              \
    X(REPEATS, "repeats") X(SERIAL_MIN_S, "serial_min_s") X(SERIAL_MAX_S, "serial_max_s")                  \
    X(PARALLEL_MIN_S, "parallel_min_s") X(PARALLEL_MAX_S, "parallel_max_s") X(RANKS, "ranks")              \
    X(THREADS_PER_RANK, "threads_per_rank") X(USABLE_CPUS, "usable_cpus") X(OVERSUBSCRIBED, "oversubscribed") \
    X(THREADS_SOURCE, "threads_source") X(OPENMP, "openmp") X(OMP_PROC_BIND, "omp_proc_bind")              \
    X(OMP_PLACES, "omp_places") X(OMP_SCHEDULE, "omp_schedule") X(VERSION, "version")                      \
    X(SLURM_JOB_ID, "slurm_job_id") X(NODES, "nodes") X(RNG, "rng") X(SEGMENTS, "segments")                \
    X(THROWS_RESUMED, "throws_resumed") X(MPI_LIBRARY, "mpi_library")       \
    X(CPU_SIGNATURE, "cpu_signature") X(STOPPED_IN, "stopped_in") X(CORES, "cores")                        \
    X(HW_THREADS_PER_CORE, "hw_threads_per_core") X(PACKAGES, "packages") X(NUMA_NODES, "numa_nodes") X(CORES_USED, "cores_used") X(SMT_SHARED, "smt_shared")      \
    X(TOO_SHORT, "too_short")

enum pimc_column {
#define PIMC_COLUMN_ID(id, name) PIMC_COLUMN_##id,
    PIMC_COLUMNS(PIMC_COLUMN_ID)
#undef PIMC_COLUMN_ID
    PIMC_COLUMN_COUNT
};

/* "timestamp", "host", ...: indexed by enum pimc_column. */
extern const char *const pimc_column_names[PIMC_COLUMN_COUNT];

#endif
