/* A JUnit XML report of a check's verdicts (--junit FILE, for --check and
 * --against): the format GitLab (artifacts:reports:junit), Jenkins and
 * GitHub's test reporters read. One <testsuite> in a <testsuites>, one
 * <testcase> per metric; a regression is a <failure> holding the figures, a
 * metric that could not be judged (INCONCLUSIVE, SKIPPED) is <skipped>.
 * Written by libxml2's xmlwriter, which escapes what it must, to a temporary
 * file renamed over FILE: a reader never sees half a report. */
#ifndef PIMC_JUNIT_H
#define PIMC_JUNIT_H

#include "verdict.h"

#include <stddef.h>

struct pimc_junit_case {
    const char *name;          /* the metric, e.g. throughput_per_thread */
    enum pimc_verdict verdict; /* PASS; FAIL: <failure>; SKIPPED or INCONCLUSIVE: <skipped> */
    const char *detail;        /* the verdict's line of figures */
};

struct pimc_junit_property {
    const char *name, *value;
};

struct pimc_junit_suite {
    const char *name;      /* e.g. "pimc-omp --against" */
    const char *classname; /* of every testcase, e.g. "pimc-omp.against" */
    const char *timestamp; /* ISO 8601 */
    const char *hostname;
    double seconds;
    const struct pimc_junit_case *cases;
    int count;
    const struct pimc_junit_property *properties; /* the configuration, for a reader of the report */
    int property_count;
    const char *system_out; /* the verdict lines as printed; NULL: none */
};

/* 0, or PIMC_EXIT_CANNOT_WRITE with a one-line message naming the file. */
int pimc_junit_write(const char *path, const struct pimc_junit_suite *suite, char *error, size_t error_size);

/* --check's verdicts as such a report (suite "pimc-omp --check"). */
struct pimc_check_summary;
struct pimc_context;
int pimc_junit_write_check(const char *path, const struct pimc_check_summary *summary,
                           const struct pimc_context *context, double seconds, char *error, size_t error_size);

#endif
