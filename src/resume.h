/*
 * The checkpointed run: throws what a checkpoint has not done, saves the
 * checkpoint every interval from a background thread, and ends with exactly
 * the hits of an uninterrupted run.
 *
 * The run's throws are cut into chunks on a grid that depends on the throws
 * alone (never on threads or ranks), so every segment's done set is a union of
 * chunks and any later segment can take up the rest. The chunks still to do are
 * numbered in order and split into contiguous shares, one per rank
 * (pimc_cluster_share); each rank throws its share in batches of consecutive
 * chunks, one kernel job a batch, sized from the threads (pimc_batch_chunks) so
 * that the parallel loop's start and end cost little even on 512 threads; the
 * kernel tallies each chunk of a batch apart. Rank 0 learns the other ranks'
 * progress from non-blocking messages between batches, and its saver thread
 * writes what is known every interval: the kernel never waits for the disk.
 *
 * A stop request (SIGTERM at a time limit) ends the run within a kernel block;
 * the final checkpoint holds every chunk finished before the first unfinished
 * one of the batch, and only the chunks under way on each rank (those the
 * threads were in, a few at most) are thrown again. After a SIGKILL, at most
 * one interval of chunks and the batch under way are thrown again.
 */
#ifndef PIMC_RESUME_H
#define PIMC_RESUME_H

#include "checkpoint.h"
#include "cluster.h"
#include "kernel.h"
#include "run.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A chunk of the largest size takes about 0.25 s on one core of Philox's
 * scalar path (~0.27 Gthrows/s measured), 25 ms on two cores of AVX-512. */
#define PIMC_CHUNK_MAX_THROWS (UINT64_C(1) << 26)

/* Throws per grid cell for a run of this many throws: depends on nothing else. */
uint64_t pimc_chunk_throws(uint64_t throws);

/* Chunks of this size thrown as one kernel job by this many threads: about
 * 2^26 throws a thread (at least one chunk). How the chunks are run, never
 * which they are. */
uint64_t pimc_batch_chunks(uint64_t chunk_throws, int threads);

/* The throws a checkpoint has not done, as chunks: the parts of grid cells
 * [k*C, (k+1)*C) not yet done, numbered 0, 1, ... in the order of the throws. */
struct pimc_work {
    uint64_t chunk_throws; /* C */
    struct pimc_range *pending;
    size_t pending_count;
    uint64_t *first_chunk; /* number of pending[i]'s first chunk */
    uint64_t chunks;       /* in all */
};

bool pimc_work_init(struct pimc_work *work, const struct pimc_checkpoint *cp);
void pimc_work_free(struct pimc_work *work);

/* The throws of chunk `index` (< work->chunks). */
struct pimc_range pimc_work_chunk(const struct pimc_work *work, uint64_t index);

/* Adds the throws of chunks [from, to) to cp's done ranges (unmerged); false
 * when out of memory. */
bool pimc_work_add_done(const struct pimc_work *work, uint64_t from, uint64_t to, struct pimc_checkpoint *cp);

struct pimc_resume_plan {
    enum pimc_rng rng;       /* the generator the checkpoint names (pimc_rng_name) */
    enum pimc_kernel kernel; /* resolved for rng: not AUTO */
    int threads;
    struct pimc_schedule schedule; /* of the kernel's loop: {0} is its own */
    const char *path;         /* the checkpoint file (written by rank 0) */
    double interval_s;        /* between saves */
    const atomic_bool *stop;  /* end after the chunks under way */
    bool show_progress;       /* rank 0's progress line on stderr, as a plain run's (progress_line.h) */
    const struct pimc_cluster *cluster; /* NULL: this process only */
};

struct pimc_resume_result {
    /* The whole run's: throws and hits done so far (partial when some remain),
     * the parallel leg's one time the compute time summed over the segments;
     * no serial leg. Complete on rank 0 only. */
    struct pimc_outcome outcome;
    uint64_t segments;       /* that worked on the run, this one included when it threw */
    uint64_t throws_resumed; /* taken from the checkpoint */
    uint64_t throws_now;     /* thrown by this segment (all ranks) */
    bool was_complete;       /* the checkpoint was of a finished run: nothing thrown */
};

/* The checkpoint to start from: PATH's when it exists and is of this run, a new
 * one when PATH does not exist. 0; or 2 and a message when PATH is unreadable,
 * not a regular file, corrupt or of another run (seed, throws or stream
 * differ); 5 when out of memory. PATH is never written here. `current` gives the run's identity. */
int pimc_resume_load(const char *path, const struct pimc_checkpoint *current, struct pimc_checkpoint *start,
                     char *error, size_t error_size);

/* Runs the rest of `start` (rank 0's; the other ranks pass one with the run's
 * identity and receive the rest). Every rank calls it. 0; or 4 and a message
 * when the checkpoint cannot be written (before any throw if the first save
 * fails); 5 when out of memory (exit_status.h). The result is the same on every rank except the outcome. */
int pimc_resume_run(const struct pimc_resume_plan *plan, const struct pimc_checkpoint *start,
                    struct pimc_resume_result *result, char *error, size_t error_size);

#endif
