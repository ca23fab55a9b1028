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

#include <stdatomic.h>

struct pimc_study_result {
    bool partial;        /* a signal stopped it */
    bool verified;       /* every point verified, and (strong, sizes) hits as expected */
    int write_status;    /* 0, or 4 when a CSV row could not be written */
};

struct pimc_study_result pimc_run_study(const struct pimc_options *options, const struct pimc_context *context,
                                        struct pimc_csv *csv, const atomic_bool *stop,
                                        const struct pimc_cluster *cluster);

#endif
