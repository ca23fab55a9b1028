/* The command line: parses and validates everything before any work starts. */
#ifndef PIMC_CLI_H
#define PIMC_CLI_H

#include "kernel.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PIMC_DEFAULT_THROWS UINT64_C(1000000000) /* the least a default run throws (run.h's sizing) */
#define PIMC_DEFAULT_WARM_UP_S 0.2                /* as run.h's PIMC_WARM_UP_S */
#define PIMC_DEFAULT_SEED UINT64_C(1)
#define PIMC_MAX_THROWS UINT64_C(9223372036854775807) /* 2^63 - 1 */
#define PIMC_MAX_THREADS 4096
#define PIMC_MAX_REPEATS 100 /* PIMC_MAX_RUNS */
#define PIMC_MAX_LIST 256     /* entries of --sweep and --sizes */
#define PIMC_DEFAULT_CHECKPOINT_INTERVAL 60.0 /* seconds */

/* The metrics a tolerance can be given for (--tolerance NAME=T). */
enum pimc_tolerance_metric {
    PIMC_TOLERANCE_THROUGHPUT,      /* throughput_per_thread */
    PIMC_TOLERANCE_SERIAL,          /* serial_throughput (--against) */
    PIMC_TOLERANCE_EFFICIENCY,      /* efficiency */
    PIMC_TOLERANCE_SPEED_VS_SCALAR, /* speed_vs_scalar (--check) */
    PIMC_TOLERANCE_METRICS
};
extern const char *const pimc_tolerance_metric_names[PIMC_TOLERANCE_METRICS];

#define PIMC_AGAINST_TOLERANCE 0.03  /* --against's default; --check's is 10% */
#define PIMC_AGAINST_BUDGET 60.0     /* seconds */
#define PIMC_AGAINST_THROWS UINT64_C(500000000)
#define PIMC_AGAINST_REPEATS 2       /* each child: a warm-up, then the best of 2 of each leg */

struct pimc_options {
    uint64_t throws;
    uint64_t seed;
    int threads;
    const char *threads_source; /* option, OMP_NUM_THREADS, SLURM_CPUS_PER_TASK or affinity */
    enum pimc_kernel kernel;    /* as asked: may be AUTO */
    enum pimc_rng rng;          /* the stream's generator (default Philox) */
    bool serial;                /* also time a 1-thread run of the same throws */
    struct pimc_schedule schedule; /* the kernel loop's, from OMP_SCHEDULE ({0}: the kernel's own) */
    int repeats;          /* default 1, or 3 in a study */
    const char *csv_path; /* NULL: no CSV */
    bool json;
    bool quiet;
    bool markdown; /* a study's table as Markdown */

    /* Studies: --sweep (strong, or weak with --weak) and --sizes. */
    int sweep_count; /* 0: no sweep */
    int sweep_threads[PIMC_MAX_LIST];
    bool weak;
    int size_count; /* 0: no sizes study */
    uint64_t sizes[PIMC_MAX_LIST];

    /* Regression check against a baseline written earlier by --csv or --json. */
    const char *check_path; /* NULL: no check */
    double tolerance;       /* fraction, e.g. 0.10 */
    bool throws_given, threads_given, seed_given, kernel_given; /* else the baseline's */
    bool tolerance_given; /* --tolerance, for one metric or all */

    /* --tolerance NAME=T: one metric's tolerance (NAN: --tolerance's), for
     * --check and --against; pimc_tolerance_for() reads them. */
    double metric_tolerance[PIMC_TOLERANCE_METRICS];

    /* A/B timing against another build (--against OTHER, src/ab.c). */
    const char *against_path; /* NULL: none */
    double warm_up_s;         /* --warm-up: seconds of each leg's warm-up at most, 0: none */
    bool warm_up_given;       /* --warm-up was given: --against passes it to both builds */
    double budget_s;          /* --budget: seconds of rounds at most (default 60) */
    bool bisect;              /* --bisect: INCONCLUSIVE exits 125 (git bisect run's "skip") */
    const char *junit_path;   /* --junit FILE: a JUnit XML report of --check or --against */

    /* A long run saved to and resumed from a checkpoint file. */
    const char *checkpoint_path; /* NULL: none */
    double checkpoint_interval_s;

    bool self_test; /* --self-test: check this build on this CPU (selftest.h), nothing else */
};

enum pimc_cli_outcome {
    PIMC_CLI_RUN,   /* options are valid: go */
    PIMC_CLI_DONE,  /* --help or --version printed */
    PIMC_CLI_ERROR, /* message in error[]: exit with status 2 */
};

enum pimc_cli_outcome pimc_parse_options(int argc, char **argv, struct pimc_options *options, char *error,
                                         size_t error_size);

/* The tolerance of one metric: its own (--tolerance NAME=T) or --tolerance's. */
double pimc_tolerance_for(const struct pimc_options *options, enum pimc_tolerance_metric metric);

/* A count in any of the forms 1000000000, 1e9, 2.5e9, 10^9, 1G (k M G T P: powers
 * of ten). False unless the whole text is such a count in [1, max]. */
bool pimc_parse_count(const char *text, uint64_t max, uint64_t *value);

#endif
