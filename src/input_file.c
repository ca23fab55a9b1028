#include "input_file.h"

#include "error_message.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The phrase in why[size], and the status: `return refused(why, size, ...)`. */
#define refused(why, size, ...) (pimc_error_message(why, size, __VA_ARGS__), PIMC_INPUT_REFUSED)

const char *pimc_file_kind(mode_t mode)
{
    if (S_ISREG(mode))
        return "a regular file";
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO (named pipe)";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "a special file";
}

static enum pimc_input_status not_regular(mode_t mode, char *why, size_t size)
{
    return refused(why, size, "it is %s, not a regular file", pimc_file_kind(mode));
}

enum pimc_input_status pimc_input_open(const char *path, int *fd, char *why, size_t size)
{
    struct stat st;
    *fd = -1;
    /* stat first: a special file is refused without being opened at all. */
    if (stat(path, &st) != 0)
        return errno == ENOENT ? PIMC_INPUT_ABSENT : refused(why, size, "cannot open it: %s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        return not_regular(st.st_mode, why, size);
    /* The path may name something else by now: O_NONBLOCK keeps a FIFO put in
     * its place from blocking the open, O_NOCTTY a terminal from becoming ours. */
    const int opened = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (opened < 0)
        return errno == ENOENT ? PIMC_INPUT_ABSENT : refused(why, size, "cannot open it: %s", strerror(errno));
    if (fstat(opened, &st) != 0 || !S_ISREG(st.st_mode)) {
        const int saved = errno;
        close(opened);
        return S_ISREG(st.st_mode) ? refused(why, size, "cannot open it: %s", strerror(saved))
                                   : not_regular(st.st_mode, why, size);
    }
    /* A regular file never blocks, but reads should not see EAGAIN either. */
    const int flags = fcntl(opened, F_GETFL);
    if (flags < 0 || fcntl(opened, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        const int saved = errno;
        close(opened);
        return refused(why, size, "cannot open it: %s", strerror(saved));
    }
    *fd = opened;
    return PIMC_INPUT_OK;
}

enum pimc_input_status pimc_input_read(const char *path, size_t max_bytes, char **text, size_t *length, char *why,
                                       size_t size)
{
    int fd;
    *text = NULL;
    *length = 0;
    enum pimc_input_status status = pimc_input_open(path, &fd, why, size);
    if (status != PIMC_INPUT_OK)
        return status;
    struct stat st;
    if (fstat(fd, &st) == 0 && (uintmax_t)st.st_size > max_bytes) {
        close(fd);
        *length = (size_t)st.st_size;
        return PIMC_INPUT_TOO_LARGE;
    }
    /* Read to the end, not to st_size: the file may be growing (a CSV other
     * jobs append to). One byte past the limit tells a file that grew past it. */
    size_t used = 0, capacity = 0;
    char *buffer = NULL;
    for (;;) {
        if (capacity - used < 4096 && capacity <= max_bytes) {
            size_t grown = capacity ? 2 * capacity : (size_t)st.st_size + 4096;
            if (grown > max_bytes + 1)
                grown = max_bytes + 1;
            char *bigger = realloc(buffer, grown + 1);
            if (bigger == NULL) {
                free(buffer);
                close(fd);
                return refused(why, size, "cannot read it: out of memory");
            }
            buffer = bigger;
            capacity = grown;
        }
        if (used == capacity)
            break; /* max_bytes + 1 read: too large */
        const ssize_t got = read(fd, buffer + used, capacity - used);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            const int saved = errno;
            free(buffer);
            close(fd);
            return refused(why, size, "cannot read it: %s", strerror(saved));
        }
        if (got == 0)
            break;
        used += (size_t)got;
    }
    close(fd);
    if (used > max_bytes) {
        free(buffer);
        *length = used;
        return PIMC_INPUT_TOO_LARGE;
    }
    buffer[used] = '\0';
    *text = buffer;
    *length = used;
    return PIMC_INPUT_OK;
}
