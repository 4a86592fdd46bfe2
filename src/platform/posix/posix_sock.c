/* Stream sockets for the POSIX port: I/O with timeouts, accept, peer ids. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/platform.h"
#include "platform/posix/posix.h"

xipc_err xipc__posix_wait(int fd, short events, xipc_deadline *d)
{
    for (;;) {
        struct pollfd p = {fd, events, 0};
        int n = poll(&p, 1, xipc__deadline_left_ms(d));
        if (n > 0)
            return XIPC_OK; /* ready, or an error the next call reports */
        if (n == 0)
            return XIPC_ETIMEDOUT;
        if (errno != EINTR)
            return xipc__posix_err(errno);
    }
}

xipc_err xipc_plat_sock_accept(xipc_plat_sock l, int timeout_ms,
                               xipc_plat_sock *out)
{
    xipc_deadline d = xipc__deadline(timeout_ms);
    for (;;) {
        int fd = accept4((int)l, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd >= 0) {
            /* blocking I/O with poll for timeouts: the fast path of a
             * recv with timeout -1 is one system call */
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
            int one = 1; /* TCP only; fails harmlessly on Unix sockets */
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            *out = fd;
            return XIPC_OK;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) /* out of descriptors, ... */
            return xipc__posix_err(errno);
        if (timeout_ms == 0)
            return XIPC_ETIMEDOUT;
        xipc_err rv = xipc__posix_wait((int)l, POLLIN, &d);
        if (rv != XIPC_OK)
            return rv;
    }
}

xipc_err xipc_plat_sock_sendv(xipc_plat_sock s, const xipc_plat_iov *iov,
                              int n, size_t *sent, int timeout_ms)
{
    struct iovec v[8];
    if (n < 1 || n > 8)
        return XIPC_EINVAL;
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        v[i].iov_base = (void *)iov[i].base;
        v[i].iov_len = iov[i].len;
        total += iov[i].len;
    }
    xipc_deadline d = xipc__deadline(timeout_ms);
    int flags = MSG_NOSIGNAL | (timeout_ms < 0 ? 0 : MSG_DONTWAIT);
    struct iovec *cur = v;
    int cnt = n;
    size_t done = 0;
    *sent = 0;
    while (done < total) {
        struct msghdr mh = {0};
        mh.msg_iov = cur;
        mh.msg_iovlen = (size_t)cnt;
        ssize_t k = sendmsg((int)s, &mh, flags);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return xipc__posix_err(errno);
            xipc_err rv = timeout_ms == 0 ? XIPC_ETIMEDOUT
                                          : xipc__posix_wait((int)s, POLLOUT, &d);
            if (rv != XIPC_OK)
                return rv;
            continue;
        }
        done += (size_t)k;
        *sent = done;
        while (cnt > 0 && (size_t)k >= cur->iov_len) {
            k -= (ssize_t)cur->iov_len;
            cur++;
            cnt--;
        }
        if (cnt > 0) {
            cur->iov_base = (uint8_t *)cur->iov_base + k;
            cur->iov_len -= (size_t)k;
        }
    }
    return XIPC_OK;
}

xipc_err xipc_plat_sock_recv(xipc_plat_sock s, void *buf, size_t cap,
                             size_t *got, int timeout_ms)
{
    xipc_deadline d = xipc__deadline(timeout_ms);
    int flags = timeout_ms < 0 ? 0 : MSG_DONTWAIT;
    for (;;) {
        ssize_t k = recv((int)s, buf, cap, flags);
        if (k > 0) {
            *got = (size_t)k;
            return XIPC_OK;
        }
        if (k == 0)
            return XIPC_ECLOSED;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return xipc__posix_err(errno);
        if (timeout_ms == 0)
            return XIPC_ETIMEDOUT;
        xipc_err rv = xipc__posix_wait((int)s, POLLIN, &d);
        if (rv != XIPC_OK)
            return rv;
    }
}

void xipc_plat_sock_close(xipc_plat_sock s)
{
    if (s >= 0)
        close((int)s);
}

/* ---- handles over Unix message sockets ------------------------------------ */

xipc_err xipc_plat_sock_send_handle(xipc_plat_sock s, const void *buf, size_t len,
                                    intptr_t h)
{
    struct iovec iov = {(void *)buf, len};
    union { /* aligned for struct cmsghdr */
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } cm;
    struct msghdr m;
    memset(&m, 0, sizeof(m));
    memset(&cm, 0, sizeof(cm));
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    if (h >= 0) {
        int fd = (int)h;
        m.msg_control = cm.buf;
        m.msg_controllen = sizeof(cm.buf);
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    ssize_t n;
    do
        n = sendmsg((int)s, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)len)
        return XIPC_OK;
    if (n >= 0)
        return XIPC_ESYS; /* a message socket never sends part of one */
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return XIPC_EBUSY;
    return xipc__posix_err(errno);
}

/* Close every descriptor an SCM_RIGHTS message brought. */
static void sock_close_rights(struct msghdr *m)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
            c->cmsg_len < CMSG_LEN(0))
            continue;
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            close(fd);
        }
    }
}

xipc_err xipc_plat_sock_recv_handle(xipc_plat_sock s, void *buf, size_t cap,
                                    size_t *len, intptr_t *h)
{
    struct iovec iov = {buf, cap};
    union { /* room for more than one: a message with two is seen and refused */
        char buf[CMSG_SPACE(4 * sizeof(int))];
        struct cmsghdr align;
    } cm;
    struct msghdr m;
    memset(&m, 0, sizeof(m));
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = cm.buf;
    m.msg_controllen = sizeof(cm.buf);
    *h = -1;
    *len = 0;
    ssize_t n;
    do
        n = recvmsg((int)s, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return xipc__posix_err(errno); /* nothing queued: XIPC_ETIMEDOUT */
    if (n == 0 && m.msg_controllen == 0)
        return XIPC_ECLOSED; /* end of stream: nothing, not even a message */
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    int bad = (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
    if (c != NULL && !bad) {
        bad = c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
              c->cmsg_len != CMSG_LEN(sizeof(int)) || CMSG_NXTHDR(&m, c) != NULL;
    }
    if (bad) {
        sock_close_rights(&m);
        return XIPC_EPROTO;
    }
    if (c != NULL) {
        int fd;
        memcpy(&fd, CMSG_DATA(c), sizeof(int));
        *h = fd;
    }
    *len = (size_t)n;
    return XIPC_OK;
}

void xipc_plat_handle_close(intptr_t h)
{
    if (h >= 0)
        close((int)h);
}

xipc_err xipc_plat_sock_peer(xipc_plat_sock s, uint32_t *pid, uint32_t *uid)
{
    struct ucred cr;
    socklen_t len = sizeof(cr);
    if (getsockopt((int)s, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0)
        return xipc__posix_err(errno);
    if (cr.pid <= 0)
        return XIPC_ENOTSUP; /* not a Unix socket */
    *pid = (uint32_t)cr.pid;
    *uid = (uint32_t)cr.uid;
    return XIPC_OK;
}

int xipc_plat_sock_peer_addr(xipc_plat_sock s, uint8_t addr[16])
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    memset(&ss, 0, sizeof(ss));
    if (s == XIPC_PLAT_SOCK_NONE || getpeername((int)s, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
        memcpy(addr, &in->sin_addr, 4);
        return 4;
    }
    if (ss.ss_family == AF_INET6) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
        if (memcmp(&in6->sin6_addr, mapped, sizeof(mapped)) == 0) {
            memcpy(addr, (const uint8_t *)&in6->sin6_addr + 12, 4);
            return 4;
        }
        memcpy(addr, &in6->sin6_addr, 16);
        return 16;
    }
    return 0;
}

/* ---- waiting without I/O (TLS, shm://'s rendezvous) ---------------------- */

xipc_err xipc_plat_sock_wait(xipc_plat_sock s, int want_write, int timeout_ms)
{
    xipc_deadline d = xipc__deadline(timeout_ms);
    return xipc__posix_wait((int)s, want_write ? POLLOUT : POLLIN, &d);
}

xipc_err xipc_plat_sock_wait_any(const xipc_plat_sock *s, unsigned n, int timeout_ms)
{
    struct pollfd p[1025];
    if (n == 0 || n > sizeof(p) / sizeof(p[0]))
        return XIPC_EINVAL;
    for (unsigned i = 0; i < n; i++) {
        p[i].fd = (int)s[i];
        p[i].events = POLLIN;
        p[i].revents = 0;
    }
    int rc = poll(p, n, timeout_ms < 0 ? -1 : timeout_ms);
    if (rc == 0)
        return XIPC_ETIMEDOUT;
    if (rc < 0 && errno != EINTR)
        return xipc__posix_err(errno);
    return XIPC_OK; /* ready, or a signal: the caller looks and waits again */
}

int xipc_plat_sock_file(const char *path)
{
    return xipc_plat_file_kind(path) == XIPC_PLAT_FILE_SOCK;
}
