#include "bounds.h"

#include <math.h>

bool pimc_time_possible(uint64_t throws, double seconds, uint64_t threads)
{
    if (!(isfinite(seconds) && seconds > 0 && seconds <= PIMC_MAX_SECONDS) || threads == 0)
        return false;
    /* In doubles: throws * anything could wrap in integers. */
    return (double)throws / seconds / (double)threads <= PIMC_MAX_THROWS_PER_S_PER_THREAD;
}
