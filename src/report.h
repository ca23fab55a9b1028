/* Report writers: the text report, and one record with the same named fields
 * (schema.h) as a CSV row or a JSON object. They format results; they compute
 * nothing, and they know nothing of the command line: a record carries every
 * value it writes. */
#ifndef PIMC_REPORT_H
#define PIMC_REPORT_H

#include "kernel.h"
#include "run.h"
#include "sysinfo.h"
#include "verdict.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct pimc_record {
    const struct pimc_context *context;
    const struct pimc_outcome *outcome;
    struct pimc_figures figures;
    enum pimc_kernel kernel;       /* the path used */
    enum pimc_kernel kernel_asked; /* AUTO, or the path --kernel forced */
    uint64_t seed;
    int repeats;                /* timed runs asked for each leg */
    const char *threads_source; /* option, OMP_NUM_THREADS, SLURM_CPUS_PER_TASK, affinity or baseline */
    char timestamp[32];         /* ISO 8601, UTC */
    const char *mode;           /* single, strong, weak, sizes, check */
    const char *run;            /* repeat index, or "median" */
    const char *rng;            /* the stream's generator, e.g. "philox4x32-10"; NULL: the default */
    uint64_t segments;          /* runs (checkpointed segments) the result took; 0 counts as 1 */
    uint64_t throws_resumed;    /* throws taken from a checkpoint rather than thrown by this process */
    int nodes;                  /* distinct hosts the run's ranks were on; 0 counts as 1 */
    const char *checkpoint;     /* the checkpoint file of a --checkpoint run (text report only); else NULL */
    struct pimc_placement placement; /* of a rank's team (rank 0's), pimc_probe_placement; {0}: not probed */
};

/* The generator of the default stream, as the rng column names it. */
#define PIMC_RNG_DEFAULT_NAME "philox4x32-10"

void pimc_print_report(FILE *out, const struct pimc_record *record);
void pimc_print_json(FILE *out, const struct pimc_record *record); /* the object and a newline */
void pimc_print_json_object(FILE *out, const struct pimc_record *record);

/* A study's table, one line per point (the tutorial's "CPU cores | run time |
 * speedup"), aligned for a terminal or as Markdown. */
void pimc_print_study_table(FILE *out, const struct pimc_record *points, int count, bool markdown);

/* A regression check: what it is about to measure (one line), then one line
 * per metric and the overall verdict, or all of it as one JSON object. */
struct pimc_check_plan {
    const char *baseline_path;
    int rows; /* applicable baseline rows */
    enum pimc_kernel kernel;
    int threads;
    uint64_t throws, seed;
    const char *cpu_model; /* of those rows */
    bool same_cpu;
    bool unsigned_rows; /* of this CPU's name, without the cpu_signature this CPU has */
    int checkpointed_rows; /* of the configuration, left out: checkpointed or resumed runs' */
    int rounds;
    bool serial, scalar; /* the 1-thread legs measured */
};
void pimc_print_check_plan(FILE *out, const struct pimc_check_plan *plan);

struct pimc_check_summary {
    const char *baseline_path;
    enum pimc_kernel kernel;
    int threads;
    uint64_t throws, seed;
    double tolerance;
    bool same_cpu;
    const struct pimc_metric *metrics;
    int metric_count;
    struct pimc_check_outcome outcome;
};
void pimc_print_check(FILE *out, const struct pimc_check_summary *summary);
void pimc_print_check_json(FILE *out, const struct pimc_check_summary *summary);

/* Now, as ISO 8601 UTC: 2026-11-24T21:40:00Z. */
void pimc_utc_timestamp(char *buf, size_t size);

/* A CSV file opened for appending, checked before any work starts. */
struct pimc_csv {
    const char *path;
    int fd;
    bool created;     /* by us, and still empty: removed at close if no row ever comes */
    bool lock_warned; /* flock failed once and we said so */
};

/* 0, or PIMC_EXIT_CANNOT_WRITE with a one-line message when the file cannot be
 * opened for appending or holds rows with other columns. */
int pimc_csv_open(struct pimc_csv *csv, const char *path, char *error, size_t error_size);

/* Appends the record as one row (and the header first if the file is empty),
 * under an exclusive lock, so that concurrent writers never mix lines. Where
 * the file system has no locks (flock fails), the row is still written, with a
 * warning on stderr that names the file. */
int pimc_csv_append(struct pimc_csv *csv, const struct pimc_record *record, char *error, size_t error_size);

/* Closes; a file this process created and never wrote a row to is removed,
 * under the lock, and only while it is still empty. */
void pimc_csv_close(struct pimc_csv *csv);

/* The CSV header line, without newline. */
const char *pimc_csv_header(void);

#endif
