/*
 * Local datagram sockets (AF_UNIX, SOCK_DGRAM) for the POSIX port: what
 * mailslot:// is made of (with private folders, posix_dir.c).
 *
 * A socket address holds at most sizeof(sun_path) - 1 bytes of path (107
 * on Linux). A longer path is reached through its folder: the folder is
 * opened and the socket named "/proc/self/fd/<dirfd>/<file>", which the
 * kernel resolves like any path.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "platform/posix/posix.h"

/* Bytes the kernel refuses to use of a send buffer for one datagram. */
#define DGRAM_SNDBUF_SLACK 32
/* A ceiling whatever the buffers allow: bigger datagrams need large
 * physically contiguous kernel allocations that fail on a busy host. */
#define DGRAM_HARD_MAX (4u << 20)


/* ---- addresses -------------------------------------------------------------- */

typedef struct dgram_addr {
    struct sockaddr_un sun;
    socklen_t len;
    int dirfd; /* the folder opened for a long path, else -1 */
} dgram_addr;

static xipc_err dgram_addr_make(dgram_addr *a, const char *path)
{
    memset(&a->sun, 0, sizeof(a->sun));
    a->sun.sun_family = AF_UNIX;
    a->dirfd = -1;
    size_t n = strlen(path);
    if (n < sizeof(a->sun.sun_path)) {
        memcpy(a->sun.sun_path, path, n + 1);
    } else {
        const char *slash = strrchr(path, '/');
        if (slash == NULL || slash == path || strlen(slash) > 64)
            return XIPC_EINVAL;
        char dir[PATH_MAX];
        size_t dlen = (size_t)(slash - path);
        if (dlen >= sizeof(dir))
            return XIPC_EINVAL;
        memcpy(dir, path, dlen);
        dir[dlen] = '\0';
        a->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (a->dirfd < 0)
            return xipc__posix_err(errno);
        snprintf(a->sun.sun_path, sizeof(a->sun.sun_path), "/proc/self/fd/%d%s",
                 a->dirfd, slash);
        n = strlen(a->sun.sun_path);
    }
    a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    return XIPC_OK;
}

static void dgram_addr_done(dgram_addr *a)
{
    if (a->dirfd >= 0)
        close(a->dirfd);
    a->dirfd = -1;
}

/* ---- sockets ---------------------------------------------------------------- */

/* Ask for the largest send buffer; returns what the kernel granted. */
static int dgram_sndbuf_max(int fd)
{
    int want = INT_MAX / 2, got = 0;
    socklen_t sl = sizeof(got);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
    if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got, &sl) != 0)
        got = 0;
    return got;
}

uint32_t xipc_plat_dgram_limit(void)
{
    static _Atomic uint32_t limit;
    uint32_t v = limit;
    if (v != 0)
        return v;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int got = dgram_sndbuf_max(fd);
    close(fd);
    if (got <= DGRAM_SNDBUF_SLACK)
        return 0;
    v = (uint32_t)(got - DGRAM_SNDBUF_SLACK);
    if (v > DGRAM_HARD_MAX)
        v = DGRAM_HARD_MAX;
    limit = v;
    return v;
}

xipc_err xipc_plat_dgram_bind(intptr_t *h, const char *path, uint32_t max_msg)
{
    dgram_addr a;
    xipc_err rv = dgram_addr_make(&a, path);
    if (rv != XIPC_OK)
        return rv;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rv = xipc__posix_err(errno);
        dgram_addr_done(&a);
        return rv;
    }
    /* Linux gives the socket file the mode of the socket's inode minus the
     * umask: 0600 from the first moment; chmod below fixes a stricter umask */
    fchmod(fd, 0600);
    int rcv = max_msg > INT_MAX / 4 ? INT_MAX / 2 : (int)max_msg * 2 + 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    if (bind(fd, (struct sockaddr *)&a.sun, a.len) != 0) {
        rv = xipc__posix_err(errno);
        close(fd);
        dgram_addr_done(&a);
        return rv;
    }
    if (chmod(path, 0600) != 0) {
        rv = xipc__posix_err(errno);
        unlink(path);
        close(fd);
        dgram_addr_done(&a);
        return rv;
    }
    dgram_addr_done(&a);
    *h = fd;
    return XIPC_OK;
}

xipc_err xipc_plat_dgram_connect(intptr_t *h, const char *path)
{
    dgram_addr a;
    xipc_err rv = dgram_addr_make(&a, path);
    if (rv != XIPC_OK)
        return rv;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rv = xipc__posix_err(errno);
    } else {
        dgram_sndbuf_max(fd);
        if (connect(fd, (struct sockaddr *)&a.sun, a.len) != 0) {
            rv = xipc__posix_err(errno);
            close(fd);
        } else {
            *h = fd;
        }
    }
    dgram_addr_done(&a);
    return rv;
}

xipc_err xipc_plat_dgram_send(intptr_t h, const void *buf, size_t len)
{
    ssize_t n;
    do
        n = send((int)h, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n >= 0)
        return XIPC_OK;
    /* the first send after the receiver went is ECONNREFUSED, the next
     * ones ENOTCONN (the kernel dissolved the association) */
    if (errno == ENOTCONN || errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
        xipc__set_syserr(errno);
        return errno == ENOTCONN ? XIPC_ECONNREFUSED : XIPC_EBUSY; /* full */
    }
    return xipc__posix_err(errno);
}

int xipc_plat_dgram_live(const char *path)
{
    dgram_addr a;
    if (dgram_addr_make(&a, path) != XIPC_OK)
        return 0;
    int live = 1; /* what cannot be proved stale is kept */
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        if (connect(fd, (struct sockaddr *)&a.sun, a.len) != 0 &&
            (errno == ECONNREFUSED || errno == ENOENT))
            live = 0;
        close(fd);
    }
    dgram_addr_done(&a);
    return live;
}

/* One attempt without waiting; XIPC_ETIMEDOUT when nothing is queued. */
static xipc_err dgram_try_recv(int fd, void *buf, size_t cap, size_t max,
                               size_t *len)
{
    ssize_t n;
    if (cap < max) {
        do
            n = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        if (n >= 0 && (size_t)n > cap) {
            *len = (size_t)n;
            return XIPC_EMSGSIZE; /* still queued */
        }
        if (n < 0)
            return xipc__posix_err(errno); /* nothing queued: XIPC_ETIMEDOUT */
    }
    do
        n = recv(fd, buf, cap, MSG_TRUNC | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return xipc__posix_err(errno); /* nothing queued: XIPC_ETIMEDOUT */
    *len = (size_t)n;
    return (size_t)n > cap ? XIPC_EPROTO : XIPC_OK; /* cut: it is gone */
}

xipc_err xipc_plat_dgram_recv(intptr_t h, void *buf, size_t cap, size_t max,
                              size_t *len, int timeout_ms)
{
    xipc_deadline d = xipc__deadline(timeout_ms);
    for (;;) {
        xipc_err rv = dgram_try_recv((int)h, buf, cap, max, len);
        if (rv == XIPC_ETIMEDOUT)
            rv = xipc__posix_wait((int)h, POLLIN, &d);
        else
            return rv;
        if (rv != XIPC_OK)
            return rv;
    }
}

void xipc_plat_dgram_unlink(const char *path)
{
    unlink(path);
}

void xipc_plat_dgram_close(intptr_t h)
{
    if (h >= 0)
        close((int)h);
}
