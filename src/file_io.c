#include "file_io.h"

#include "error_message.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- writes that finish or say why ---------------------------------------- */

int pimc_write_all(int fd, const void *data, size_t length)
{
    const char *next = data;
    while (length > 0) {
        const ssize_t wrote = write(fd, next, length);
        if (wrote < 0 && errno == EINTR)
            continue;
        if (wrote < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* A non-blocking pipe handed down by the parent: wait until it
             * takes more, as a blocking one would. */
            struct pollfd ready = {.fd = fd, .events = POLLOUT};
            if (poll(&ready, 1, -1) >= 0 || errno == EINTR)
                continue;
            return errno;
        }
        if (wrote < 0)
            return errno;
        if (wrote == 0) /* nothing written and no reason: no progress is possible */
            return errno = EIO;
        next += wrote;
        length -= (size_t)wrote;
    }
    return 0;
}

int pimc_sync_data(int fd)
{
    int status;
    while ((status = fdatasync(fd)) != 0 && errno == EINTR)
        ;
    if (status == 0 || errno == EINVAL || errno == ENOTSUP)
        return 0;
    return errno;
}

/* ---- standard streams ----------------------------------------------------- */

static bool stdout_was_closed;

int pimc_open_standard_streams(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        /* The mode that cannot be used: a report written to a closed stdout
         * then fails with EBADF and is reported, never silently dropped. */
        const int opened = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
        if (opened != fd) {
            const int failure = opened < 0 ? errno : EBADF;
            if (opened >= 0)
                close(opened);
            return errno = failure;
        }
        stdout_was_closed = stdout_was_closed || fd == 1;
    }
    return 0;
}

static int stdout_failure; /* the errno of the first write to stdout that failed */

static ssize_t stdout_write(void *cookie, const char *data, size_t length)
{
    (void)cookie;
    /* After a failure, nothing more: a pipe whose reader is gone would raise
     * SIGPIPE again at every write. */
    if (stdout_failure == 0)
        stdout_failure = pimc_write_all(STDOUT_FILENO, data, length);
    if (stdout_failure != 0) {
        errno = stdout_failure;
        return -1;
    }
    return (ssize_t)length;
}

void pimc_stdout_guard(void)
{
    static const cookie_io_functions_t functions = {.write = stdout_write};
    fflush(stdout);
    FILE *guarded = fopencookie(NULL, "w", functions);
    if (guarded == NULL)
        return; /* stdio's own stdout then: failures are still seen, without their reason */
    setvbuf(guarded, NULL, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF, BUFSIZ);
    stdout = guarded; /* glibc: "stdout is a normal variable which you can set" */
}

int pimc_stdout_finish(void)
{
    const bool flushed = fflush(stdout) == 0 && !ferror(stdout);
    if (!flushed)
        return stdout_failure != 0 ? stdout_failure : EIO;
    if (stdout_failure != 0)
        return stdout_failure;
    /* NFS and other network file systems report a write that did not fit
     * (EDQUOT, ENOSPC) at close. Every close of a descriptor of the file
     * flushes it; closing a copy keeps fd 1 open, so no file opened later
     * can land on it. */
    const int copy = dup(STDOUT_FILENO);
    if (copy >= 0 && close(copy) != 0 && errno != EINTR)
        return stdout_failure = errno;
    return 0;
}

void pimc_stdout_name(char *name, size_t size)
{
    char target[PATH_MAX];
    const ssize_t length = stdout_was_closed ? -1 : readlink("/proc/self/fd/1", target, sizeof target - 1);
    if (stdout_was_closed)
        snprintf(name, size, "standard output (closed when pimc-omp started)");
    else if (length > 0 && target[0] == '/')
        snprintf(name, size, "standard output ('%.*s')", (int)length, target);
    else
        snprintf(name, size, "standard output");
}

/* ---- atomic replacement ----------------------------------------------------- */

#define TEMP_SUFFIX ".tmp."
#define TEMP_RANDOM "XXXXXX" /* mkstemp's */

static mode_t umask_value;

static void read_umask(void)
{
    umask_value = umask(022); /* the only way to read it; put back at once */
    umask(umask_value);
}

/* The mode a file made by open(path, O_CREAT, 0666) would get. Read once,
 * before the saver thread exists (the first save is on the main thread):
 * umask() is process-wide and must not change while another thread creates
 * a file. */
static mode_t new_file_mode(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, read_umask);
    return 0666 & ~umask_value;
}

/* The directory of path ("." or "/" where it has none), in a new string. */
static char *directory_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

int pimc_replace_file(const char *path, const char *what, const char *text, size_t length, char *error,
                      size_t error_size)
{
    const size_t path_length = strlen(path);
    char *temp = malloc(path_length + sizeof TEMP_SUFFIX TEMP_RANDOM);
    char *directory = directory_of(path);
    if (temp == NULL || directory == NULL) {
        free(temp), free(directory);
        pimc_error_message(error, error_size, "cannot save %s '%s': out of memory", what, path);
        return -1;
    }
    /* In PATH's directory, so that rename() is atomic (one file system). */
    memcpy(temp, path, path_length);
    memcpy(temp + path_length, TEMP_SUFFIX TEMP_RANDOM, sizeof TEMP_SUFFIX TEMP_RANDOM);

    const char *step = "create", *file = temp;
    int failure = 0;
    const int fd = mkostemp(temp, O_CLOEXEC);
    if (fd < 0) {
        failure = errno;
        memcpy(temp + path_length, TEMP_SUFFIX TEMP_RANDOM, sizeof TEMP_SUFFIX TEMP_RANDOM);
    } else {
        /* mkstemp makes 0600; the file keeps the mode PATH had. A file system
         * without modes (vfat, some CIFS) refuses this, which is no reason to
         * lose a checkpoint. */
        struct stat old;
        (void)fchmod(fd, stat(path, &old) == 0 && S_ISREG(old.st_mode) ? old.st_mode & 07777 : new_file_mode());
        /* fsync before rename: else a crash after the rename may leave PATH
         * naming a file whose blocks never reached the disk. */
        if ((failure = pimc_write_all(fd, text, length)) != 0)
            step = "write";
        else if (fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP)
            failure = errno, step = "fsync";
        if (close(fd) != 0 && failure == 0 && errno != EINTR)
            failure = errno, step = "close";
        if (failure == 0 && rename(temp, path) != 0)
            failure = errno, step = "rename";
        if (failure != 0)
            unlink(temp);
    }
    if (failure == 0) {
        /* The rename itself reaches the disk with the directory. Some file
         * systems cannot fsync a directory (EINVAL): nothing more to do there. */
        const int dir = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir >= 0 && fsync(dir) != 0 && errno != EINVAL && errno != ENOTSUP)
            failure = errno, step = "fsync the directory of", file = path;
        if (dir >= 0)
            close(dir);
    }
    if (failure != 0)
        pimc_error_message(error, error_size, "cannot save %s '%s' (%s %s): %s", what, path, step, file,
                           strerror(failure));
    free(temp), free(directory);
    return failure == 0 ? 0 : -1;
}

void pimc_remove_stale_temps(const char *path)
{
    char *directory = directory_of(path);
    const char *slash = strrchr(path, '/');
    const char *base = slash != NULL ? slash + 1 : path;
    const size_t base_length = strlen(base), suffix_length = strlen(TEMP_SUFFIX);
    DIR *dir = directory != NULL ? opendir(directory) : NULL;
    for (struct dirent *entry; dir != NULL && (entry = readdir(dir)) != NULL;) {
        const char *name = entry->d_name;
        if (strncmp(name, base, base_length) != 0 || strncmp(name + base_length, TEMP_SUFFIX, suffix_length) != 0)
            continue;
        const char *random = name + base_length + suffix_length;
        bool ours = strlen(random) == strlen(TEMP_RANDOM);
        for (const char *c = random; ours && *c != '\0'; c++)
            ours = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9');
        if (ours)
            unlinkat(dirfd(dir), name, 0); /* a link is removed, never followed */
    }
    if (dir != NULL)
        closedir(dir);
    free(directory);
}

/* ---- a lock held for a run ---------------------------------------------------- */

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Who holds the lock, from the "PID HOST" its holder wrote: "PID 1234" here,
 * "PID 1234 on node7" elsewhere, "" when unknown (the holder has not written
 * it yet, or the text is another process's that is gone). */
static void describe_holder(int fd, char *holder, size_t size)
{
    char text[300], host[256] = "", here[256] = "";
    long pid = 0;
    const ssize_t got = pread(fd, text, sizeof text - 1, 0);
    holder[0] = '\0';
    if (got <= 0)
        return;
    text[got] = '\0';
    if (sscanf(text, "%ld %255s", &pid, host) != 2 || pid <= 0 || pid > INT_MAX)
        return;
    gethostname(here, sizeof here - 1);
    if (strcmp(host, here) != 0)
        snprintf(holder, size, "PID %ld on %s", pid, host);
    else if (kill((pid_t)pid, 0) == 0 || errno == EPERM)
        snprintf(holder, size, "PID %ld", pid);
}

enum pimc_lock_status pimc_file_lock(const char *path, struct pimc_file_lock *lock, char *holder,
                                     size_t holder_size, int *error_number)
{
    *lock = (struct pimc_file_lock){.fd = -1, .path = malloc(strlen(path) + sizeof ".lock")};
    holder[0] = '\0';
    *error_number = 0;
    if (lock->path == NULL)
        return *error_number = ENOMEM, PIMC_LOCK_UNAVAILABLE;
    sprintf(lock->path, "%s.lock", path);
    /* O_NOFOLLOW: a link planted as PATH.lock is refused, never followed;
     * O_NONBLOCK: a FIFO planted there cannot hang the open. */
    const int flags = O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
    for (int tries = 0; tries < 100; tries++) {
        bool created = true;
        int fd = open(lock->path, flags | O_CREAT | O_EXCL, 0644);
        if (fd < 0 && errno == EEXIST) {
            created = false;
            fd = open(lock->path, flags);
            if (fd < 0 && errno == ENOENT) /* its holder removed it just now */
                continue;
        }
        struct stat opened, named;
        if (fd < 0 && errno == ELOOP) {
            snprintf(holder, holder_size, "lock file '%s' is a symbolic link; remove it", lock->path);
            return PIMC_LOCK_REFUSED;
        }
        if (fd < 0 && errno == EISDIR) {
            snprintf(holder, holder_size, "lock file '%s' is not a regular file; remove it", lock->path);
            return PIMC_LOCK_REFUSED;
        }
        if (fd < 0)
            return *error_number = errno, PIMC_LOCK_UNAVAILABLE;
        if (fstat(fd, &opened) != 0 || !S_ISREG(opened.st_mode)) {
            close(fd);
            snprintf(holder, holder_size, "lock file '%s' is not a regular file; remove it", lock->path);
            return PIMC_LOCK_REFUSED;
        }
        int status;
        while ((status = flock(fd, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR)
            ;
        if (status != 0 && errno == EWOULDBLOCK) {
            describe_holder(fd, holder, holder_size);
            close(fd);
            return PIMC_LOCK_BUSY;
        }
        if (status != 0) { /* a file system without locks */
            *error_number = errno;
            if (created)
                unlink(lock->path);
            close(fd);
            return PIMC_LOCK_UNAVAILABLE;
        }
        /* The holder before us removes the file while it holds the lock: a
         * lock on a file no longer named PATH.lock locks nothing. */
        if (stat(lock->path, &named) != 0 || !same_file(&opened, &named)) {
            close(fd);
            continue;
        }
        char text[300], host[256] = "?";
        gethostname(host, sizeof host - 1);
        const int length = snprintf(text, sizeof text, "%ld %s\n", (long)getpid(), host);
        if (ftruncate(fd, 0) == 0)
            (void)pimc_write_all(fd, text, (size_t)length); /* only for the message of a second run */
        lock->fd = fd;
        return PIMC_LOCK_HELD;
    }
    return PIMC_LOCK_BUSY;
}

void pimc_file_unlock(struct pimc_file_lock *lock)
{
    if (lock->fd >= 0) {
        struct stat opened, named;
        if (fstat(lock->fd, &opened) == 0 && stat(lock->path, &named) == 0 && same_file(&opened, &named))
            unlink(lock->path);
        close(lock->fd);
        lock->fd = -1;
    }
    free(lock->path);
    lock->path = NULL;
}
