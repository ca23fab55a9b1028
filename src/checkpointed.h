/* The checkpointed run (--checkpoint FILE): one long run that survives time
 * limits, kills and lost nodes. It continues FILE's run when FILE exists and is
 * of the same run (seed, throws, stream), and reports the result counted over
 * all segments like a single run: text or JSON, a CSV row, verified (5 sigma). */
#ifndef PIMC_CHECKPOINTED_H
#define PIMC_CHECKPOINTED_H

#include "cli.h"
#include "cluster.h"
#include "report.h"
#include "sysinfo.h"

#include <signal.h>
#include <stdatomic.h>

/* Every rank runs it; rank 0 alone reads FILE and writes. Rank 0 holds FILE's
 * lock (FILE.lock, pimc_file_lock) from before it reads FILE to the end, so one
 * run at a time works on it. Returns the exit status (exit_status.h), the same
 * on every rank: 2 when FILE is corrupt, of another run, a symbolic link, or in
 * use by another run (nothing is thrown or written then), 4 when FILE cannot
 * be written. */
int pimc_run_checkpointed(const struct pimc_options *options, const struct pimc_context *context,
                          struct pimc_csv *csv, const struct pimc_cluster *cluster, const atomic_bool *stop,
                          const volatile sig_atomic_t *stop_signal);

#endif
