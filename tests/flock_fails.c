/* LD_PRELOAD'ed by tests/cli.bats: every flock fails as on a file system
 * without locks (NFS without lockd, Lustre mounted noflock): ENOLCK. */
#include <errno.h>
#include <sys/file.h>

int flock(int fd, int operation)
{
    (void)fd;
    (void)operation;
    errno = ENOLCK;
    return -1;
}
