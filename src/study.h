/* Studies: strong and weak scaling over thread counts (--sweep, --weak) and
 * serial against parallel time over sizes (--sizes), each point measured with a
 * warm-up and repeats, written row by row to the CSV and JSON, and summed up in
 * the tutorial's table. */
#ifndef PIMC_STUDY_H
#define PIMC_STUDY_H

#include "cli.h"
#include "cluster.h"
#include "report.h"
#include "sysinfo.h"

#include <signal.h>
#include <stdatomic.h>

/* Every rank runs it; rank 0 alone writes. Returns the exit status
 * (exit_status.h), the same on every rank: 3 when a point failed verification,
 * 4 when a CSV row could not be written, 128+N when stopped by signal N. */
int pimc_run_study(const struct pimc_options *options, const struct pimc_context *context, struct pimc_csv *csv,
                   const atomic_bool *stop, const volatile sig_atomic_t *stop_signal,
                   const struct pimc_cluster *cluster);

#endif
