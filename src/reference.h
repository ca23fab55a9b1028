/* Choosing the reference rows of a baseline: the configuration to measure
 * (kernel, threads, throws, seed) and what the baseline's applicable rows say
 * about it. Only rows of the run's generator compare: two generators are two
 * different streams, with other hits and other speeds. */
#ifndef PIMC_REFERENCE_H
#define PIMC_REFERENCE_H

#include "baseline.h"
#include "kernel.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Baseline 1-thread rows shorter than this are startup, not speed. */
#define PIMC_SPEED_ROW_MIN_THROWS UINT64_C(10000000)

struct pimc_check_config {
    enum pimc_kernel kernel; /* not AUTO */
    int threads;
    uint64_t throws, seed;
};

/* A kind of CPU as a baseline can tell it: the model's name and, in rows that
 * have one, its signature. Names can be ambiguous (a cloud "AMD EPYC" is a Zen 3
 * or a Zen 4); unrunnable_kernels (bit 1 << kernel) are paths this CPU lacks. */
struct pimc_cpu {
    const char *model;
    const char *signature;       /* "" or NULL when not known */
    unsigned unrunnable_kernels; /* 0: none known */
    bool signed_rows_only;       /* rows without a signature are not this CPU's: there are rows with its own */
};

/* Whether a row was measured on a CPU of that kind: the same name, and the same
 * signature where both have one; a row without one (files from before the
 * column) counts when the CPU can run the row's kernel, unless
 * signed_rows_only. pimc_choose_reference sets that when the baseline has rows
 * of this very signature: they are sure, the unsigned ones only likely. */
bool pimc_measured_on(const struct pimc_baseline_row *row, const struct pimc_cpu *cpu);

/* What the check is asked: this machine's CPU and generator, and the
 * values the command line gives in place of the reference row's. */
struct pimc_reference_request {
    struct pimc_cpu cpu;
    const char *rng; /* e.g. "philox4x32-10" */
    bool kernel_given, threads_given, throws_given, seed_given;
    struct pimc_check_config given; /* the values of the *_given ones; kernel not AUTO */
};

struct pimc_reference {
    struct pimc_check_config config;
    const char *cpu_model;     /* of the applicable rows */
    const char *cpu_signature; /* of the row that chose them; "" when it has none */
    bool same_cpu;             /* measured on this machine's kind of CPU */
    int rows, serial_rows;
    int checkpointed_rows; /* of the configuration and CPU, left out: checkpointed or resumed runs' */
    double parallel_best, parallel_median; /* seconds; NAN when no row has them */
    double serial_best, serial_median;
    double kernel_speed_best, kernel_speed_median; /* 1-thread throws/s of the kernel; NAN: none */
    double scalar_speed_best, scalar_speed_median; /* the same for the scalar path */
    double kernel_speed_best_s, scalar_speed_best_s; /* the legs behind the two bests, seconds */
    int speed_rows;                                /* rows behind those two */
    int hits_rows;                                 /* witnesses of the hits of (seed, throws) */
    uint64_t hits;
    /* This CPU's model in the baseline (rows of the generator, any
     * configuration): rows of its very model (its name, and its signature
     * when it has one), of its name with another signature, and of its name
     * without one. No own_model_rows: the check says so, and passes on none. */
    int own_model_rows, other_signature_rows, unsigned_name_rows;
};

/* The configuration is the reference row's: the latest complete row of the
 * generator, preferring this CPU (pimc_measured_on), then rows with a serial
 * leg. The applicable rows are the complete rows of that kernel, threads and
 * throws: of this CPU when there are any, else of the latest such row's CPU.
 * false (exit 2), with the reason, when no row applies or rows of the same
 * stream disagree on the hits. */
bool pimc_choose_reference(const struct pimc_baseline *baseline, const struct pimc_reference_request *request,
                           struct pimc_reference *reference, char *why, size_t why_size);

#endif
