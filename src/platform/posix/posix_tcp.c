/* TCP over IPv4 and IPv6. */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "platform/posix/posix.h"

static xipc_err tcp_resolve(const char *host, uint16_t port, int passive,
                            struct addrinfo **res)
{
    char svc[8];
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    snprintf(svc, sizeof(svc), "%u", (unsigned)port);
    int rc = getaddrinfo(host[0] ? host : NULL, svc, &hints, res);
    if (rc == EAI_SYSTEM)
        return xipc__posix_err(errno);
    if (rc == EAI_MEMORY)
        return XIPC_ENOMEM;
    return rc == 0 ? XIPC_OK : XIPC_ECONNREFUSED; /* unknown host */
}

static void tcp_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

xipc_err xipc_plat_tcp_listen(const char *host, uint16_t port, int backlog,
                              xipc_plat_sock *out, uint16_t *bound)
{
    struct addrinfo *res;
    xipc_err rv = tcp_resolve(host, port, 1, &res);
    if (rv != XIPC_OK)
        return rv == XIPC_ECONNREFUSED ? XIPC_EINVAL : rv;
    rv = XIPC_EINVAL;
    for (struct addrinfo *a = res; a != NULL; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                        a->ai_protocol);
        if (fd < 0) {
            rv = xipc__posix_err(errno);
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, backlog) != 0) {
            rv = xipc__posix_err(errno);
            close(fd);
            continue;
        }
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        getsockname(fd, (struct sockaddr *)&ss, &sl);
        *bound = ntohs(ss.ss_family == AF_INET6
                           ? ((struct sockaddr_in6 *)&ss)->sin6_port
                           : ((struct sockaddr_in *)&ss)->sin_port);
        *out = fd;
        rv = XIPC_OK;
        break;
    }
    freeaddrinfo(res);
    return rv;
}

xipc_err xipc_plat_tcp_dial(const char *host, uint16_t port, int timeout_ms,
                            xipc_plat_sock *out)
{
    struct addrinfo *res;
    xipc_err rv = tcp_resolve(host, port, 0, &res);
    if (rv != XIPC_OK)
        return rv;
    xipc_deadline d = xipc__deadline(timeout_ms);
    rv = XIPC_ECONNREFUSED;
    for (struct addrinfo *a = res; a != NULL; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                        a->ai_protocol);
        if (fd < 0) {
            rv = xipc__posix_err(errno);
            continue;
        }
        rv = xipc__posix_connect(fd, a->ai_addr, (unsigned)a->ai_addrlen, &d);
        if (rv == XIPC_OK) {
            tcp_nodelay(fd);
            *out = fd;
            break;
        }
        close(fd);
        if (rv == XIPC_ETIMEDOUT)
            break;
    }
    freeaddrinfo(res);
    return rv;
}
