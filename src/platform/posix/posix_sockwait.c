/* Waiting on sockets without doing I/O (for layers such as TLS that do
 * their own through non-blocking calls, and shm://'s rendezvous). */
#include <errno.h>
#include <poll.h>

#include "platform/posix/posix_sock.h"

xipc_err xipc_plat_sock_wait(xipc_plat_sock s, int want_write, int timeout_ms)
{
    return xipc__posix_wait((int)s, want_write ? POLLOUT : POLLIN,
                            xipc__posix_deadline(timeout_ms));
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
