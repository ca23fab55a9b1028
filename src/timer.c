#include "timer.h"

#include <time.h>

double pimc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double pimc_timer_tick(void)
{
    double smallest = 1.0;
    for (int i = 0; i < 20; i++) {
        double t0 = pimc_now(), t1;
        while ((t1 = pimc_now()) == t0) {
        }
        if (t1 - t0 < smallest)
            smallest = t1 - t0;
    }
    return smallest;
}
