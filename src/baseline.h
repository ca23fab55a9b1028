/* Reading a baseline: the rows an earlier pimc-omp wrote with --csv (read by
 * libcsv) or --json (read by jansson), by column name (schema.h), each row
 * validated. Any file gives either rows or a one-line reason, never a crash:
 * the fuzz targets in tests/fuzz hold it to that. */
#ifndef PIMC_BASELINE_H
#define PIMC_BASELINE_H

#include "kernel.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PIMC_BASELINE_MAX_BYTES ((size_t)256 << 20)

struct pimc_baseline_row {
    long where; /* CSV line or JSON object number, for messages */
    const char *timestamp, *cpu_model, *cpu_signature, *mode;
    const char *rng; /* the stream's generator; "philox4x32-10" when the file has no rng column */
    enum pimc_kernel kernel;
    int threads;
    uint64_t throws, seed, hits, ranks;
    double parallel_s, parallel_min_s, serial_s, serial_min_s; /* NAN: empty, the leg did not run */
    bool complete;  /* status=complete */
    /* Written by a checkpointed run (mode=checkpoint), or resumed from a
     * checkpoint (segments > 1, throws_resumed > 0): its time is compute time
     * summed over segments, on other threads or nodes perhaps. */
    bool checkpointed;
    /* A timing reference: complete, one rank, not a --check, --weak or
     * checkpointed row. */
    bool reference;
};

struct pimc_baseline {
    const char *unit; /* "line" (CSV) or "object" (JSON), for messages */
    struct pimc_baseline_row *rows;
    int count, capacity;
    char **cells; /* the text the rows point into */
    size_t cell_count, cell_capacity;
};

/* false, with the reason in why, when the file cannot be read, is neither
 * CSV nor JSON, lacks a column the check needs, or holds a bad row. */
bool pimc_baseline_read(const char *path, struct pimc_baseline *baseline, char *why, size_t why_size);

enum pimc_baseline_format {
    PIMC_BASELINE_ANY,  /* JSON when the first byte past white space is { or [, else CSV */
    PIMC_BASELINE_CSV,
    PIMC_BASELINE_JSON,
};

/* The same for a file's contents. */
bool pimc_baseline_parse(const char *text, size_t length, enum pimc_baseline_format format,
                         struct pimc_baseline *baseline, char *why, size_t why_size);

/* Releases what read or parse left, whether they succeeded or not. */
void pimc_baseline_free(struct pimc_baseline *baseline);

#endif
