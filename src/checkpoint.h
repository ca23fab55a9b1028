/*
 * The checkpoint of a long run: what it has done, in a JSON file that a kill at
 * any moment leaves whole.
 *
 * The stream is counter-based (kernel.h), so a run's progress is fully
 * described by which throws are done and how many of them hit: a run continued
 * from its checkpoint ends with exactly the hits of an uninterrupted one, on any
 * threads, ranks or kernel path. The file holds the run's identity (seed,
 * throws, the stream's generator and version), the done throws as sorted,
 * disjoint ranges with their hits, the compute time so far and the number of
 * segments (runs) that worked on it. README.md documents the format.
 *
 * This file reads, checks and writes checkpoints; it runs nothing (resume.c).
 */
#ifndef PIMC_CHECKPOINT_H
#define PIMC_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PIMC_CHECKPOINT_FORMAT "pimc-omp checkpoint"
#define PIMC_CHECKPOINT_VERSION 1 /* of the file's layout */

/* The version of the map from throw index to generator output that kernel.h
 * defines (block i/2, words 0,1 or 2,3, the hit test). A checkpoint of another
 * version counts other darts, so it is refused; bump this when that map changes. */
#define PIMC_STREAM_VERSION 1

/* Files past this size are refused unread: a real checkpoint holds a few ranges
 * per segment and rank, a few kilobytes. */
#define PIMC_CHECKPOINT_MAX_BYTES (16u << 20)

struct pimc_range {
    uint64_t first, end; /* throws [first, end) */
};

struct pimc_checkpoint {
    uint64_t seed;
    uint64_t throws; /* of the whole run, 1 to 2^63-1 */
    char generator[32]; /* the stream's, e.g. "philox4x32-10" */
    int stream_version;
    struct pimc_range *done; /* sorted, disjoint and not touching, within [0, throws) */
    size_t done_count, done_capacity;
    uint64_t hits;     /* among the done throws */
    double compute_s;  /* the run's compute time, summed over its segments */
    uint64_t segments; /* runs that worked on it */
};

/* A checkpoint of nothing done yet. False (and a message) when the generator's
 * name does not fit. */
bool pimc_checkpoint_init(struct pimc_checkpoint *cp, uint64_t seed, uint64_t throws, const char *generator,
                          char *error, size_t error_size);
void pimc_checkpoint_free(struct pimc_checkpoint *cp);

/* A deep copy; false when out of memory. */
bool pimc_checkpoint_copy(struct pimc_checkpoint *to, const struct pimc_checkpoint *from);

/* Adds done throws [first, end) to the list, in any order; pimc_checkpoint_merge
 * then sorts and joins them. False when out of memory. */
bool pimc_checkpoint_add(struct pimc_checkpoint *cp, uint64_t first, uint64_t end);

/* Sorts the done ranges and joins touching ones. False (the list then sorted
 * but unchanged otherwise) when two overlap or one leaves [0, throws): the same
 * throws counted twice. */
bool pimc_checkpoint_merge(struct pimc_checkpoint *cp);

uint64_t pimc_checkpoint_throws_done(const struct pimc_checkpoint *cp);
bool pimc_checkpoint_complete(const struct pimc_checkpoint *cp);

enum pimc_checkpoint_status {
    PIMC_CHECKPOINT_OK,
    PIMC_CHECKPOINT_ABSENT,  /* no such file: a run starts from nothing */
    PIMC_CHECKPOINT_INVALID, /* unreadable or not a valid checkpoint: message in error */
};

/* Reads and checks everything in the file: layout, types, ranges, counts. Any
 * input gives OK, ABSENT or INVALID with a one-line message naming the file and
 * what is wrong; on OK, cp must be freed. */
enum pimc_checkpoint_status pimc_checkpoint_read(const char *path, struct pimc_checkpoint *cp, char *error,
                                                 size_t error_size);

/* The same for text already in memory (any bytes, not NUL-terminated); `name`
 * labels the messages. */
enum pimc_checkpoint_status pimc_checkpoint_parse(const char *name, const char *text, size_t length,
                                                  struct pimc_checkpoint *cp, char *error, size_t error_size);

/* True when cp is a checkpoint of the run `current` describes (seed, throws,
 * generator, stream version); else false and a message naming every field
 * that differs, with both values. */
bool pimc_checkpoint_matches(const char *path, const struct pimc_checkpoint *cp,
                             const struct pimc_checkpoint *current, char *error, size_t error_size);

/* The file's text (JSON and a newline); free() it. NULL when out of memory. */
char *pimc_checkpoint_format(const struct pimc_checkpoint *cp);

/* Replaces the file atomically (pimc_replace_file): the text goes to a new
 * temp file PATH.tmp.XXXXXX (mkstemp: never a planted link), is fsync'ed and
 * renamed over PATH, then the directory is fsync'ed. A crash at any moment
 * leaves either the previous checkpoint or the new one, whole. 0, or -1 with a
 * message (PATH is then unchanged, and no temp file is left). */
int pimc_checkpoint_write(const char *path, const struct pimc_checkpoint *cp, char *error, size_t error_size);

#endif
