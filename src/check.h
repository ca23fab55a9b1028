/* Regression check: measure this build on this machine and compare it with
 * baseline rows written earlier by --csv or --json. */
#ifndef PIMC_CHECK_H
#define PIMC_CHECK_H

#include "cli.h"
#include "report.h"
#include "sysinfo.h"

#include <signal.h>
#include <stdatomic.h>

/* Prints one verdict line per metric on stdout and returns the exit status
 * (exit_status.h): PIMC_EXIT_OK (also when a metric was INCONCLUSIVE: the
 * machine was too busy to tell, and the last line says so),
 * PIMC_EXIT_REGRESSION, PIMC_EXIT_UNUSABLE_BASELINE (with the reason on
 * stderr), PIMC_EXIT_CANNOT_WRITE when the --csv row cannot be written, or
 * 128+N when stopped by signal N (*stop_signal). */
int pimc_run_check(const struct pimc_options *options, const struct pimc_context *context, struct pimc_csv *csv,
                   const atomic_bool *stop, const volatile sig_atomic_t *stop_signal);

#endif
