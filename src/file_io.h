/*
 * The write side of every file pimc-omp makes: a CSV row, a checkpoint, the
 * report and JSON on stdout. One rule for all of them: a write that fails says
 * why (the errno of the failing call, never the "Success" of a short write),
 * and the file is left as it was.
 *
 * write() may write part of a buffer (a full disk, a quota, a signal, a pipe)
 * and only the next call says why: pimc_write_all loops until all is written
 * or a call fails. Everything here returns an errno value (0: done), so that a
 * caller formats its message from what this call saw, not from a global that
 * the next library call may change.
 *
 * Standard streams: a process started with fd 0, 1 or 2 closed would open its
 * data files there, and the report (or the warnings) would go into them.
 * pimc_open_standard_streams opens /dev/null on each closed one, in the mode
 * that cannot be used (read-only for 1 and 2, as gnulib's stdopen does), so a
 * report written there fails and is reported instead of vanishing.
 */
#ifndef PIMC_FILE_IO_H
#define PIMC_FILE_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* All of data[0, length) to fd, over short writes and EINTR. 0, or the errno
 * of the call that failed (a write() that returns 0 counts as EIO); errno is
 * set to it too. */
int pimc_write_all(int fd, const void *data, size_t length);

/* fdatasync through EINTR; 0, or its errno. Files that cannot be synced
 * (EINVAL, ENOTSUP: a pipe, /dev/null) count as synced. */
int pimc_sync_data(int fd);

/* Opens /dev/null on each of fds 0, 1, 2 that is closed, before anything else
 * is opened. 0, or the errno of /dev/null. */
int pimc_open_standard_streams(void);

/* Puts stdout on a stream that writes through pimc_write_all and keeps the
 * first failure's errno (stdio keeps only a flag). Line-buffered on a
 * terminal, fully buffered otherwise. Once, early in main. */
void pimc_stdout_guard(void);

/* The end of stdout, coreutils' close_stdout: flushes, and checks that every
 * write succeeded and that the file takes its close (NFS reports a full quota
 * there). 0, or the errno of the first failure. */
int pimc_stdout_finish(void);

/* What stdout is, for a message: "standard output" and, when it is a file,
 * its path: "standard output ('/scratch/out.json')". */
void pimc_stdout_name(char *name, size_t size);

/* Replaces PATH with text[0, length), atomically: the text goes to a new
 * temp file beside PATH (mkstemp: PATH.tmp.XXXXXX, made with O_EXCL, so a
 * planted link is never followed), is fsync'ed and renamed over PATH, then the
 * directory is fsync'ed. A crash at any moment leaves the old PATH or the new
 * one, whole. The temp file is removed on every failure. The new file keeps
 * PATH's permissions (a new PATH gets 0666 less the umask).
 * 0, or -1 with "cannot save WHAT 'PATH' (STEP FILE): reason" in error. */
int pimc_replace_file(const char *path, const char *what, const char *text, size_t length, char *error,
                      size_t error_size);

/* Removes the temp files that pimc_replace_file left beside PATH when it was
 * killed mid-write (PATH.tmp.XXXXXX). Only for a caller that holds PATH's
 * lock: no one else can be writing them then. */
void pimc_remove_stale_temps(const char *path);

/* A lock on PATH held for a whole run, in a sidecar file PATH.lock: a lock on
 * PATH itself would not survive PATH being replaced by rename. The sidecar
 * holds "PID HOST" of the holder, and is removed when the lock is released. */
struct pimc_file_lock {
    int fd;     /* -1: not held */
    char *path; /* PATH.lock */
};

enum pimc_lock_status {
    PIMC_LOCK_HELD,        /* ours until pimc_file_unlock */
    PIMC_LOCK_BUSY,        /* another process holds it: `holder` says who, where known */
    PIMC_LOCK_UNAVAILABLE, /* no lock here (no flock, read-only directory): errno in *error_number */
    PIMC_LOCK_REFUSED,     /* PATH.lock is a link or not a regular file: the message in `holder` */
};

/* Tries once, without waiting. `holder` gets "PID 1234 on node7" (BUSY) or
 * the reason (REFUSED). */
enum pimc_lock_status pimc_file_lock(const char *path, struct pimc_file_lock *lock, char *holder,
                                     size_t holder_size, int *error_number);

/* Removes PATH.lock (while still holding it) and releases the lock. */
void pimc_file_unlock(struct pimc_file_lock *lock);

#endif
