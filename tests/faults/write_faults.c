/* LD_PRELOAD'ed by tests/writes.bats: writes that fail the way disks, quotas
 * and pipes make them fail, chosen by the environment.
 *
 *   PIMC_FAULT        short | eio | enospc | edquot | efbig  (unset: no fault)
 *   PIMC_FAULT_PATH   only files whose path (/proc/self/fd/N) holds this text
 *   PIMC_FAULT_FD     only this descriptor (1: stdout); without either, every
 *                     descriptor but 2, so that the message still gets out
 *   PIMC_FAULT_AFTER  bytes that go through first (default 0): the write that
 *                     crosses the limit takes what fits and returns that (a
 *                     short write, as a full disk gives it); from the next
 *                     call on, every write fails with the error
 *   PIMC_FAULT_CALL   instead: the Nth write (1-based) and all later ones fail
 *   PIMC_FAULT_SYNC   1: writes go through, and fsync/fdatasync fail with the
 *                     error instead (NFS reports a full quota at the flush)
 *
 * short: no error ever; every write takes at most PIMC_FAULT_CHUNK bytes
 * (default 7), so that a writer that does not loop loses the rest.
 *
 * Writes go to the system call directly: no dlsym, nothing allocated, safe in
 * any thread and under a sanitizer's runtime. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long setting(const char *name, long otherwise)
{
    const char *value = getenv(name);
    return value != NULL && *value != '\0' ? strtol(value, NULL, 10) : otherwise;
}

/* The errno of PIMC_FAULT, 0 for short, -1 when no fault is asked. */
static int fault_errno(void)
{
    const char *kind = getenv("PIMC_FAULT");
    if (kind == NULL || *kind == '\0')
        return -1;
    static const struct {
        const char *name;
        int error;
    } kinds[] = {{"short", 0}, {"eio", EIO}, {"enospc", ENOSPC}, {"edquot", EDQUOT}, {"efbig", EFBIG}};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (strcmp(kind, kinds[i].name) == 0)
            return kinds[i].error;
    return -1;
}

static bool applies_to(int fd)
{
    const long only_fd = setting("PIMC_FAULT_FD", -1);
    if (only_fd >= 0)
        return fd == only_fd;
    if (fd == 2)
        return false;
    const char *text = getenv("PIMC_FAULT_PATH");
    if (text == NULL || *text == '\0')
        return true;
    char link[64], target[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const ssize_t length = readlink(link, target, sizeof target - 1);
    if (length <= 0)
        return false;
    target[length] = '\0';
    return strstr(target, text) != NULL;
}

static long bytes_passed, calls; /* of the writes the fault applies to */

ssize_t write(int fd, const void *data, size_t length)
{
    const int error = fault_errno();
    if (error < 0 || setting("PIMC_FAULT_SYNC", 0) == 1 || !applies_to(fd))
        return syscall(SYS_write, fd, data, length);
    if (error == 0) {
        const size_t chunk = (size_t)setting("PIMC_FAULT_CHUNK", 7);
        return syscall(SYS_write, fd, data, length < chunk ? length : chunk);
    }
    const long call = __atomic_add_fetch(&calls, 1, __ATOMIC_SEQ_CST);
    const long nth = setting("PIMC_FAULT_CALL", 0);
    if (nth > 0) {
        if (call < nth)
            return syscall(SYS_write, fd, data, length);
        errno = error;
        return -1;
    }
    const long after = setting("PIMC_FAULT_AFTER", 0);
    const long passed = __atomic_load_n(&bytes_passed, __ATOMIC_SEQ_CST);
    if (passed >= after) {
        errno = error;
        return -1;
    }
    const size_t room = (size_t)(after - passed);
    const ssize_t wrote = syscall(SYS_write, fd, data, length < room ? length : room);
    if (wrote > 0)
        __atomic_add_fetch(&bytes_passed, wrote, __ATOMIC_SEQ_CST);
    return wrote;
}

static int sync_fault(int fd)
{
    const int error = fault_errno();
    if (error > 0 && setting("PIMC_FAULT_SYNC", 0) == 1 && applies_to(fd)) {
        errno = error;
        return -1;
    }
    return 0;
}

int fsync(int fd)
{
    return sync_fault(fd) != 0 ? -1 : (int)syscall(SYS_fsync, fd);
}

int fdatasync(int fd)
{
    return sync_fault(fd) != 0 ? -1 : (int)syscall(SYS_fdatasync, fd);
}
