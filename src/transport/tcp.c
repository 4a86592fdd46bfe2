/*
 * tcp://HOST:PORT — a message channel over TCP, IPv4 or IPv6
 * ("tcp://[::1]:PORT"). Port 0 on a listener picks a free port, which
 * xipc_sock_url() reports. TCP_NODELAY on both ends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/stream.h"

extern const xipc_tran xipc_tcp_tran;

static xipc_err tcp_listen(xipc_sock **out, const xipc_url *url, const xipc_opts *opts)
{
    xipc_tcp_addr a;
    if (xipc__tcp_parse(url->rest, &a) != XIPC_OK)
        return XIPC_EINVAL;
    xipc_stream_listener *l = xipc__stream_listener_new(&xipc_tcp_tran, opts);
    if (l == NULL)
        return XIPC_ENOMEM;
    uint16_t bound = 0;
    xipc_err rv = xipc_plat_tcp_listen(a.host, a.port, (int)opts->backlog, &l->fd, &bound);
    if (rv != XIPC_OK) {
        xipc__stream_close(&l->sock);
        return rv;
    }
    xipc__tcp_url(l->url, sizeof(l->url), "tcp", &a, bound);
    *out = &l->sock;
    return XIPC_OK;
}

static xipc_err tcp_dial(xipc_sock **out, const xipc_url *url,
                         const xipc_opts *opts, int timeout_ms)
{
    xipc_tcp_addr a;
    if (xipc__tcp_parse(url->rest, &a) != XIPC_OK || a.port == 0)
        return XIPC_EINVAL;
    xipc_plat_sock fd;
    xipc_err rv = xipc_plat_tcp_dial(a.host, a.port, timeout_ms, &fd);
    if (rv != XIPC_OK)
        return rv;
    char full[XIPC_STREAM_URL_MAX];
    xipc__tcp_url(full, sizeof(full), "tcp", &a, a.port);
    return xipc__stream_new(out, &xipc_tcp_tran, fd, xipc__stream_max(opts), full);
}

const xipc_tran xipc_tcp_tran = {
    .scheme = "tcp",
    .listen = tcp_listen,
    .dial = tcp_dial,
    XIPC_STREAM_OPS,
    .raw = &xipc__stream_raw,
};
