/*
 * The addresses of unix:// and tcp:// (and tls+tcp://) as written after
 * "://", parsed in one place for the transports and the RPC layer.
 * Input is untrusted.
 */
#ifndef XIPC_CORE_ADDR_H
#define XIPC_CORE_ADDR_H

#include <stddef.h>
#include <stdint.h>

#include "xipc/xipc.h"

/* The longest Unix socket path or abstract name (sun_path less its NUL). */
#define XIPC_UNIX_PATH_MAX 107

/*
 * "/abs/path" or "@name" (abstract namespace): @p path points into
 * @p rest, after the '@' for an abstract name.
 */
xipc_err xipc__unix_parse(const char *rest, const char **path, int *abstract);

/*
 * "HOST:PORT" or "[V6]:PORT": the host letters, digits, '.', '-' (and ':',
 * '%', '_' in brackets), the port 0..65535.
 */
typedef struct xipc_tcp_addr {
    char host[256];
    uint16_t port;
    int v6; /* written in brackets */
} xipc_tcp_addr;

xipc_err xipc__tcp_parse(const char *rest, xipc_tcp_addr *a);

/* "SCHEME://HOST:PORT" (brackets for a v6 host) with port @p port. */
void xipc__tcp_url(char *buf, size_t cap, const char *scheme,
                   const xipc_tcp_addr *a, uint16_t port);

#endif
