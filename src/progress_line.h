/* The progress line on stderr of a long run: the share done, the count of
 * throws, the throughput and the time left, rewritten in place:
 *   parallel:  42.0%  4.2e+09 of 1e+10 throws  1.21 Gthrows/s  ETA 5 s
 * A separate, mostly sleeping thread draws it, so the kernel threads never do
 * anything for it but bump a counter once a block. It shows from the second
 * second on, so short runs print nothing; the caller shows it only on a
 * terminal. A plain run and a checkpointed one share it. */
#ifndef PIMC_PROGRESS_LINE_H
#define PIMC_PROGRESS_LINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct pimc_progress_line {
    atomic_uint_fast64_t done; /* throws done since the start: the kernel's throws_done */
    /* The rest is the line's own. */
    const char *label;
    uint64_t throws, done_before;
    double start;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t finished_cond;
    bool finished, shown, running;
};

/* Starts the line of a run of `throws` throws in all, `done_before` of which
 * were done before it started (a resumed checkpoint's): the share and the
 * count include them, the throughput and the time left do not. */
void pimc_progress_line_start(struct pimc_progress_line *line, const char *label, uint64_t throws,
                              uint64_t done_before);

/* Ends it and wipes it from the terminal. */
void pimc_progress_line_stop(struct pimc_progress_line *line);

#endif
