/*
 * The self-test: whether this binary, on this CPU, computes the streams kernel.h
 * defines. For an admin after an install and for a package recipe's sanity check,
 * where the test suite is not at hand. It uses the kernel's API only (the paths,
 * the OpenMP loop, the generators' headers) and knows nothing of options or files.
 */
#ifndef PIMC_SELFTEST_H
#define PIMC_SELFTEST_H

#include <stdbool.h>
#include <stdio.h>

struct pimc_self_test_result {
    int passed;  /* generators whose known answers hold, and paths whose hits all agree */
    int failed;  /* the same, with at least one disagreement */
    int skipped; /* paths this CPU or build cannot run (PIMC_HIDE_KERNELS counts as the CPU) */
    double seconds;
};

/* For each generator: Random123's published known answers; then, for each of its
 * kernel paths that this CPU runs, the hits of a few reference cases (seeds, first
 * throws and 10^6 to 10^8 throws) on 1 thread and on `threads` threads. One line
 * per generator's known answers and per path to out, flushed as it goes, and a
 * last line with the verdict. True when nothing failed. */
bool pimc_self_test(FILE *out, int threads, struct pimc_self_test_result *result);

#endif
