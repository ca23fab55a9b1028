/* Reading a file pimc-omp is given as input: a --check baseline, a checkpoint.
 *
 * Only a regular file is an input. A FIFO would block the open (until some
 * writer comes) or the read (until it writes), a device may never end or may
 * act on being opened (a tape rewinds), a directory or a socket holds no
 * record: each is refused at once, by kind, and nothing here can block. The
 * path is stat'ed first, so a special file is never opened at all; the open
 * is non-blocking in case the path changed in between, and the descriptor
 * becomes blocking again once fstat has shown a regular file. */
#ifndef PIMC_INPUT_FILE_H
#define PIMC_INPUT_FILE_H

#include <stddef.h>
#include <sys/types.h>

enum pimc_input_status {
    PIMC_INPUT_OK,
    PIMC_INPUT_ABSENT,    /* no such file (a checkpoint not written yet) */
    PIMC_INPUT_REFUSED,   /* not a regular file, or cannot be opened or read: why says which */
    PIMC_INPUT_TOO_LARGE, /* more than the caller's limit: nothing was read */
};

/* What a file of this mode is, for messages: "a regular file", "a directory",
 * "a FIFO (named pipe)", "a character device", "a block device", "a socket". */
const char *pimc_file_kind(mode_t mode);

/* Opens PATH for reading: on OK, *fd is a blocking descriptor of a regular
 * file (close it). Otherwise why holds a phrase about the file, without its
 * name, e.g. "it is a FIFO (named pipe), not a regular file". */
enum pimc_input_status pimc_input_open(const char *path, int *fd, char *why, size_t why_size);

/* The whole of PATH, NUL-terminated, in *text (free() it) and its length in
 * *length. TOO_LARGE when it holds more than max_bytes (*length then says how
 * many it has, when known). */
enum pimc_input_status pimc_input_read(const char *path, size_t max_bytes, char **text, size_t *length, char *why,
                                       size_t why_size);

#endif
