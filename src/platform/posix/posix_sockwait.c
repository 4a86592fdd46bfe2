/* Waiting on a stream socket without doing I/O (for layers such as TLS
 * that do their own through non-blocking calls). */
#include <poll.h>

#include "platform/posix/posix_sock.h"

xipc_err xipc_plat_sock_wait(xipc_plat_sock s, int want_write, int timeout_ms)
{
    return xipc__posix_wait((int)s, want_write ? POLLOUT : POLLIN,
                            xipc__posix_deadline(timeout_ms));
}
