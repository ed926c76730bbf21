/* Unix-domain stream sockets at paths of any length (see uds.h). */
#include "common/uds.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Connects FD to SA, waiting up to TIMEOUT_MS.  Returns 0 or -errno. */
static int connect_wait(int fd, const struct sockaddr_un *sa, int timeout_ms)
{
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    int rc = connect(fd, (const struct sockaddr *)sa, sizeof *sa);
    if (rc != 0 && (errno == EINPROGRESS || errno == EAGAIN)) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        if (poll(&p, 1, timeout_ms) <= 0)
            return -ETIMEDOUT;
        int soerr = 0;
        socklen_t len = sizeof soerr;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
        rc = soerr ? -1 : 0;
        errno = soerr;
    }
    if (rc != 0)
        return -errno;
    fcntl(fd, F_SETFL, flags);
    return 0;
}

/* Fills SA for PATH; a long path goes through an O_PATH descriptor of its
 * directory, stored in *DIRFD (-1 when not needed; the caller closes it).
 * Returns 0 or -errno. */
static int address(const char *path, struct sockaddr_un *sa, int *dirfd)
{
    *dirfd = -1;
    sa->sun_family = AF_UNIX;
    if ((size_t)snprintf(sa->sun_path, sizeof sa->sun_path, "%s", path) < sizeof sa->sun_path)
        return 0;
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (slash == NULL || (size_t)(slash - path) >= sizeof dir)
        return -ENAMETOOLONG;
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = '\0';
    *dirfd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (*dirfd < 0)
        return -errno;
    if ((size_t)snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/%s", *dirfd,
                         slash + 1) >= sizeof sa->sun_path) {
        close(*dirfd);
        *dirfd = -1;
        return -ENAMETOOLONG;
    }
    return 0;
}

int uds_listen(const char *path, int backlog)
{
    struct sockaddr_un sa;
    int dirfd;
    int rc = address(path, &sa, &dirfd);
    if (rc != 0)
        return rc;
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, backlog) != 0)
        rc = -errno;
    if (dirfd >= 0)
        close(dirfd);
    if (rc != 0 && fd >= 0)
        close(fd);
    return rc != 0 ? rc : fd;
}

int uds_connect(const char *path, int timeout_ms)
{
    struct sockaddr_un sa;
    int dirfd;
    int rc0 = address(path, &sa, &dirfd);
    if (rc0 != 0)
        return rc0;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = fd < 0 ? -errno : connect_wait(fd, &sa, timeout_ms);
    if (dirfd >= 0)
        close(dirfd);
    if (rc != 0 && fd >= 0)
        close(fd);
    return rc != 0 ? rc : fd;
}
