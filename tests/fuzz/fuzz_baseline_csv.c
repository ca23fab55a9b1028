/* libFuzzer target: the baseline reader on CSV (libcsv), and the reference rows. */
#include "fuzz_baseline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_baseline(data, size, PIMC_BASELINE_CSV);
}
