/*
 * Unix sockets: stream sockets at file paths (0600) and in the abstract
 * namespace; message sockets (SOCK_SEQPACKET) at file paths.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "platform/posix/posix.h"

static xipc_err unix_addr(struct sockaddr_un *sa, socklen_t *len,
                          const char *path, int abstract)
{
    size_t n = strlen(path);
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (n == 0 || n + 1 > sizeof(sa->sun_path) - (abstract ? 1 : 0))
        return XIPC_EINVAL;
    memcpy(sa->sun_path + (abstract ? 1 : 0), path, n);
    /* abstract: a leading NUL and the name; a file: the path and its NUL */
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    return XIPC_OK;
}

xipc_err xipc__posix_connect(int fd, const void *addr, unsigned addrlen, xipc_deadline *d)
{
    /* A Unix socket whose listener's backlog is full refuses a
     * non-blocking connect with EAGAIN and stays unconnected (it does not
     * complete later as TCP does): try again until the deadline. */
    uint32_t nap = 500;
    int rc;
    while ((rc = connect(fd, addr, (socklen_t)addrlen)) != 0 && errno == EAGAIN) {
        int left = xipc__deadline_left_ms(d);
        if (left == 0)
            return XIPC_ETIMEDOUT;
        xipc_plat_sleep_us(left > 0 && (uint32_t)left * 1000u < nap ? (uint32_t)left * 1000u : nap);
        nap = nap < 16000 ? nap * 2 : nap;
    }
    if (rc != 0) {
        if (errno == ENOENT) { /* no socket file: no listener */
            xipc__set_syserr(errno);
            return XIPC_ECONNREFUSED;
        }
        if (errno != EINPROGRESS && errno != EINTR)
            return xipc__posix_err(errno);
        xipc_err rv = xipc__posix_wait(fd, POLLOUT, d);
        if (rv != XIPC_OK)
            return rv;
        int err = 0;
        socklen_t el = sizeof(err);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
            err = errno;
        if (err != 0)
            return xipc__posix_err(err);
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return XIPC_OK;
}

/* Is someone listening at the socket file? 0 when it is stale. */
static int unix_in_use(int type, const struct sockaddr_un *sa, socklen_t len)
{
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return 1;
    int rc = connect(fd, (const struct sockaddr *)sa, len);
    int e = errno;
    close(fd);
    return rc == 0 || e != ECONNREFUSED;
}

static xipc_err unix_listen(int type, const char *path, int abstract, int backlog,
                           xipc_plat_sock *out)
{
    struct sockaddr_un sa;
    socklen_t len;
    if (unix_addr(&sa, &len, path, abstract) != XIPC_OK)
        return XIPC_EINVAL;
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return xipc__posix_err(errno);
    for (int attempt = 0;; attempt++) {
        if (bind(fd, (struct sockaddr *)&sa, len) == 0)
            break;
        int e = errno;
        struct stat st;
        /* a socket file nobody listens on is left by a crash: replace it,
         * but only if it is ours and really a socket */
        if (e == EADDRINUSE && !abstract && attempt == 0 && lstat(path, &st) == 0 &&
            S_ISSOCK(st.st_mode) && st.st_uid == geteuid() && !unix_in_use(type, &sa, len)) {
            unlink(path);
            continue;
        }
        close(fd);
        return xipc__posix_err(e);
    }
    /* no connection can arrive before listen(): set the mode first */
    if ((!abstract && chmod(path, 0600) != 0) || listen(fd, backlog) != 0) {
        int e = errno;
        close(fd);
        if (!abstract)
            unlink(path);
        return xipc__posix_err(e);
    }
    *out = fd;
    return XIPC_OK;
}

static xipc_err unix_dial(int type, const char *path, int abstract, int timeout_ms,
                         xipc_plat_sock *out)
{
    struct sockaddr_un sa;
    socklen_t len;
    if (unix_addr(&sa, &len, path, abstract) != XIPC_OK)
        return XIPC_EINVAL;
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return xipc__posix_err(errno);
    xipc_deadline d = xipc__deadline(timeout_ms);
    xipc_err rv = xipc__posix_connect(fd, &sa, (unsigned)len, &d);
    if (rv != XIPC_OK) {
        close(fd);
        return rv;
    }
    *out = fd;
    return XIPC_OK;
}

xipc_err xipc_plat_unix_listen(const char *path, int abstract, int backlog,
                               xipc_plat_sock *out)
{
    return unix_listen(SOCK_STREAM, path, abstract, backlog, out);
}

xipc_err xipc_plat_unix_dial(const char *path, int abstract, int timeout_ms,
                             xipc_plat_sock *out)
{
    return unix_dial(SOCK_STREAM, path, abstract, timeout_ms, out);
}

xipc_err xipc_plat_msgsock_listen(const char *path, int backlog, xipc_plat_sock *out)
{
    return unix_listen(SOCK_SEQPACKET, path, 0, backlog, out);
}

xipc_err xipc_plat_msgsock_dial(const char *path, int timeout_ms, xipc_plat_sock *out)
{
    return unix_dial(SOCK_SEQPACKET, path, 0, timeout_ms, out);
}
