/* --against OTHER: this build timed against another pimc-omp executable, in
 * interleaved rounds on the same cores, with a verdict per metric (ab.c). */
#ifndef PIMC_AB_H
#define PIMC_AB_H

#include "cli.h"
#include "report.h"
#include "sysinfo.h"

#include <signal.h>
#include <stdatomic.h>

/* The exit status (exit_status.h): 0 PASS, or INCONCLUSIVE without --bisect;
 * 1 REGRESSION; 2 OTHER missing, not executable, not a pimc-omp or failing;
 * 3 the builds' hits differ (or a build's own verification failed); 4 a file
 * cannot be written; 125 INCONCLUSIVE with --bisect; 128+N stopped by signal N. */
int pimc_run_against(const struct pimc_options *options, const struct pimc_context *context, struct pimc_csv *csv,
                     const atomic_bool *stop, const volatile sig_atomic_t *stop_signal);

#endif
