/* What this version of pimc-omp can do in its own time: the bounds every
 * number read from a file (a --check baseline, a checkpoint) must keep. A file
 * pimc-omp wrote keeps them; past them a value was made by hand, by another
 * program or by corruption, and taking it would start a check that never ends
 * or save a counter that wraps around. */
#ifndef PIMC_BOUNDS_H
#define PIMC_BOUNDS_H

#include <stdbool.h>
#include <stdint.h>

/* Throws a thread can make in a second, at the very most: 260 times the
 * fastest path measured (ARS on AVX-512 with VAES, 3.8e9 a thread,
 * docs/speed.md). A bound against the absurd (2^63 throws in a second), not a
 * claim about speed: it leaves room for CPUs to come, and for a test's
 * baseline that feigns a machine 100 times faster than this one. */
#define PIMC_MAX_THROWS_PER_S_PER_THREAD 1e12

/* The longest a run can take: 2^63-1 throws on the slowest path (ARS's
 * portable one, 1e8 a second) on one thread, about 3000 years. */
#define PIMC_MAX_SECONDS 1e11

/* Segments of a checkpointed run: one per start that saved, at most a few a
 * second; 2^32-1 is one a second for 136 years, and leaves room to count on. */
#define PIMC_MAX_SEGMENTS UINT64_C(4294967295)

/* Whether `throws` in `seconds` on `threads` threads (all ranks') is a time
 * this version can have taken: positive, finite, at most PIMC_MAX_SECONDS, and
 * no faster than PIMC_MAX_THROWS_PER_S_PER_THREAD a thread. */
bool pimc_time_possible(uint64_t throws, double seconds, uint64_t threads);

#endif
