#include "check.h"

#include <stdio.h>

/* Placeholder until the regression check lands: refuses plainly. */
int pimc_run_check(const struct pimc_options *options, const struct pimc_context *context, struct pimc_csv *csv,
                   const atomic_bool *stop, const volatile sig_atomic_t *stop_signal)
{
    (void)options, (void)context, (void)csv, (void)stop, (void)stop_signal;
    fprintf(stderr, "pimc-omp: --check is not implemented yet\n");
    return PIMC_CHECK_UNUSABLE_BASELINE;
}
