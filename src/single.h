/* The single run, pimc-omp's plain mode: one configuration, timed in parallel
 * and on one thread, reported as text or JSON and as a CSV row. */
#ifndef PIMC_SINGLE_H
#define PIMC_SINGLE_H

#include "cli.h"
#include "cluster.h"
#include "report.h"
#include "sysinfo.h"

#include <signal.h>
#include <stdatomic.h>

/* Every rank runs it; rank 0 alone writes. Returns the exit status (exit_status.h),
 * the same on every rank. */
int pimc_run_single(const struct pimc_options *options, const struct pimc_context *context, struct pimc_csv *csv,
                    const struct pimc_cluster *cluster, const atomic_bool *stop,
                    const volatile sig_atomic_t *stop_signal);

#endif
