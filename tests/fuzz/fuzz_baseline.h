/* The baseline targets' common body: parse as one format, then choose the
 * reference rows the way --check does, with and without overrides. */
#include "baseline.h"
#include "reference.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_baseline(const uint8_t *data, size_t size, enum pimc_baseline_format format)
{
    struct pimc_baseline baseline;
    char why[1024];
    if (pimc_baseline_parse((const char *)data, size, format, &baseline, why, sizeof why)) {
        static const struct pimc_reference_request requests[] = {
            {.cpu = {.model = "", .signature = ""}, .rng = "philox4x32-10"},
            {.cpu = {.model = "CPU", .signature = "family 25 model 1 stepping 1"}, .rng = "ars4x32-5"},
            {.cpu = {.model = "CPU", .signature = "", .unrunnable_kernels = 1u << PIMC_KERNEL_AVX512},
             .rng = "philox4x32-10", .threads_given = true, .throws_given = true,
             .given = {.kernel = PIMC_KERNEL_SCALAR, .threads = 1, .throws = 1000000, .seed = 1}},
        };
        for (size_t i = 0; i < sizeof requests / sizeof *requests; i++) {
            struct pimc_reference reference;
            pimc_choose_reference(&baseline, &requests[i], &reference, why, sizeof why);
        }
    }
    pimc_baseline_free(&baseline);
    return 0;
}
