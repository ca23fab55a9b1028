/* The exit statuses of pimc-omp, in one place: --help, the README and the
 * tests promise these numbers, and every mode (a run, a study, a check) returns
 * one of them. */
#ifndef PIMC_EXIT_STATUS_H
#define PIMC_EXIT_STATUS_H

enum pimc_exit_status {
    PIMC_EXIT_OK = 0,           /* done and verified; --check: pass (or inconclusive) */
    PIMC_EXIT_FAILURE = 1,      /* a run-time failure (out of memory, no thread) */
    PIMC_EXIT_REGRESSION = 1,   /* --check: a metric failed */
    PIMC_EXIT_USAGE = 2,        /* bad usage or input: nothing ran, nothing was written */
    PIMC_EXIT_UNUSABLE_BASELINE = 2, /* --check: the baseline cannot be used (bad input) */
    PIMC_EXIT_VERIFICATION = 3, /* the estimate is off by more than 5 standard errors, or runs disagree */
    PIMC_EXIT_CANNOT_WRITE = 4, /* a file cannot be written */
    PIMC_EXIT_BISECT_SKIP = 125, /* --against --bisect: INCONCLUSIVE (git bisect run's "cannot decide") */
    PIMC_EXIT_SIGNAL = 128,     /* + N: stopped by signal N */
};

#endif
