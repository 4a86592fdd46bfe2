/*
 * Local datagram sockets (AF_UNIX, SOCK_DGRAM) and private folders for the
 * POSIX port: what mailslot:// is made of.
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

#include "core/platform.h"

/* Bytes the kernel refuses to use of a send buffer for one datagram. */
#define DGRAM_SNDBUF_SLACK 32
/* A ceiling whatever the buffers allow: bigger datagrams need large
 * physically contiguous kernel allocations that fail on a busy host. */
#define DGRAM_HARD_MAX (4u << 20)

static xipc_err dgram_syserr(int code)
{
    xipc__set_syserr(code);
    switch (code) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case ENOBUFS:
        return XIPC_EBUSY;
    case ECONNREFUSED:
        return XIPC_ECONNREFUSED;
    case ENOENT:
    case ENOTDIR:
        return XIPC_ENOENT;
    case EADDRINUSE:
    case EEXIST:
        return XIPC_EADDRINUSE;
    case EMSGSIZE:
        return XIPC_EMSGSIZE;
    case EACCES:
    case EPERM:
        return XIPC_EPERM;
    case ENOMEM:
        return XIPC_ENOMEM;
    default:
        return XIPC_ESYS;
    }
}

/* ---- private folders ------------------------------------------------------ */

xipc_err xipc_plat_dir_list(const char *path,
                            void (*fn)(const char *name, void *arg), void *arg)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ELOOP ? XIPC_EPERM : dgram_syserr(errno);
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & 077) != 0) {
        close(fd);
        return XIPC_EPERM; /* planted by someone else, or open to others */
    }
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        int e = errno;
        close(fd);
        return dgram_syserr(e);
    }
    /* readdir returns NULL both at the end and on an error (EOVERFLOW,
     * EIO...): only errno tells them apart */
    int err = 0;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (e == NULL) {
            err = errno;
            break;
        }
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        fn(e->d_name, arg);
    }
    closedir(d);
    return err != 0 ? dgram_syserr(err) : XIPC_OK;
}

void xipc_plat_dir_remove(const char *path)
{
    rmdir(path); /* ENOTEMPTY: someone still uses it */
}

/* A folder counts as settled when it has not changed for this long: far
 * more than the granularity of file times (a clock tick, 1-10 ms). */
#define DGRAM_SETTLED_NS 50000000LL

xipc_err xipc_plat_dir_stamp(const char *path, uint64_t stamp[2], int *settled)
{
    struct stat st;
    struct timespec now;
    if (stat(path, &st) != 0)
        return dgram_syserr(errno);
    clock_gettime(CLOCK_REALTIME, &now);
    long long mt = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    long long nt = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
    stamp[0] = (uint64_t)mt;
    stamp[1] = (uint64_t)st.st_ino ^ ((uint64_t)st.st_dev << 48);
    *settled = nt - mt >= DGRAM_SETTLED_NS;
    return XIPC_OK;
}

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
            return dgram_syserr(errno);
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
        rv = dgram_syserr(errno);
        dgram_addr_done(&a);
        return rv;
    }
    /* Linux gives the socket file the mode of the socket's inode minus the
     * umask: 0600 from the first moment; chmod below fixes a stricter umask */
    fchmod(fd, 0600);
    int rcv = max_msg > INT_MAX / 4 ? INT_MAX / 2 : (int)max_msg * 2 + 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    if (bind(fd, (struct sockaddr *)&a.sun, a.len) != 0) {
        rv = dgram_syserr(errno);
        close(fd);
        dgram_addr_done(&a);
        return rv;
    }
    if (chmod(path, 0600) != 0) {
        rv = dgram_syserr(errno);
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
        rv = dgram_syserr(errno);
    } else {
        dgram_sndbuf_max(fd);
        if (connect(fd, (struct sockaddr *)&a.sun, a.len) != 0) {
            rv = dgram_syserr(errno);
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
    return errno == ENOTCONN ? (xipc__set_syserr(errno), XIPC_ECONNREFUSED)
                             : dgram_syserr(errno);
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

static uint64_t dgram_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
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
            return errno == EAGAIN || errno == EWOULDBLOCK ? XIPC_ETIMEDOUT
                                                           : dgram_syserr(errno);
    }
    do
        n = recv(fd, buf, cap, MSG_TRUNC | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? XIPC_ETIMEDOUT
                                                       : dgram_syserr(errno);
    *len = (size_t)n;
    return (size_t)n > cap ? XIPC_EPROTO : XIPC_OK; /* cut: it is gone */
}

xipc_err xipc_plat_dgram_recv(intptr_t h, void *buf, size_t cap, size_t max,
                              size_t *len, int timeout_ms)
{
    int fd = (int)h;
    uint64_t deadline = timeout_ms < 0 ? UINT64_MAX : dgram_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        xipc_err rv = dgram_try_recv(fd, buf, cap, max, len);
        if (rv != XIPC_ETIMEDOUT)
            return rv;
        int wait = -1;
        if (timeout_ms >= 0) {
            uint64_t now = dgram_now_ms();
            if (now >= deadline)
                return XIPC_ETIMEDOUT;
            uint64_t left = deadline - now;
            wait = left > INT_MAX ? INT_MAX : (int)left;
        }
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, wait) < 0 && errno != EINTR)
            return dgram_syserr(errno);
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
