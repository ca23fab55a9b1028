/* The exit statuses of pimc-omp, in one place: --help, docs/usage.md and the
 * tests promise these numbers, and every mode (a run, a study, a check) returns
 * one of them. Each number has one meaning, so that a CI job can tell a slower
 * build (1) from a crash (5). */
#ifndef PIMC_EXIT_STATUS_H
#define PIMC_EXIT_STATUS_H

enum pimc_exit_status {
    PIMC_EXIT_OK = 0,           /* done and verified; --check: pass (or inconclusive) */
    PIMC_EXIT_REGRESSION = 1,   /* --check: a metric failed (what CI reacts to: nothing else says 1) */
    PIMC_EXIT_USAGE = 2,        /* bad usage or input: nothing ran, nothing was written */
    PIMC_EXIT_UNUSABLE_BASELINE = 2, /* --check: the baseline cannot be used (bad input) */
    PIMC_EXIT_VERIFICATION = 3, /* the estimate is off by more than 5 standard errors, or runs disagree */
    PIMC_EXIT_CANNOT_WRITE = 4, /* a file cannot be written */
    PIMC_EXIT_FAILURE = 5,      /* a run-time failure (out of memory, a thread that could not start) */
    PIMC_EXIT_BISECT_SKIP = 125, /* --against --bisect: INCONCLUSIVE (git bisect run's "cannot decide") */
    PIMC_EXIT_SIGNAL = 128,     /* + N: stopped by signal N */
};

#endif
