/* Wall-clock timing for the runs: a monotonic clock, and its measured tick. */
#ifndef PIMC_TIMER_H
#define PIMC_TIMER_H

/* Seconds on a monotonic clock (CLOCK_MONOTONIC): immune to NTP steps. */
double pimc_now(void);

/* The smallest step the clock was seen to make, in seconds (measured, like
 * STREAM's checktick(), not taken from clock_getres). */
double pimc_timer_tick(void);

#endif
