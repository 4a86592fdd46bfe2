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

static int tcp_host_char(char c, int v6)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        c == '.' || c == '-')
        return 1;
    return v6 && (c == ':' || c == '%' || c == '_');
}

xipc_err xipc__tcp_parse(const char *rest, xipc_tcp_addr *a)
{
    const char *h = rest, *colon;
    size_t hl;
    a->v6 = rest[0] == '[';
    if (a->v6) {
        const char *close = strchr(rest, ']');
        if (close == NULL || close[1] != ':')
            return XIPC_EINVAL;
        h = rest + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(rest, ':');
        if (colon == NULL)
            return XIPC_EINVAL;
        hl = (size_t)(colon - rest);
    }
    if (hl == 0 || hl >= sizeof(a->host))
        return XIPC_EINVAL;
    for (size_t i = 0; i < hl; i++)
        if (!tcp_host_char(h[i], a->v6))
            return XIPC_EINVAL;
    memcpy(a->host, h, hl);
    a->host[hl] = '\0';
    const char *p = colon + 1;
    if (*p == '\0' || strlen(p) > 5)
        return XIPC_EINVAL;
    unsigned long port = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return XIPC_EINVAL;
        port = port * 10 + (unsigned long)(*p - '0');
    }
    if (port > 65535)
        return XIPC_EINVAL;
    a->port = (uint16_t)port;
    return XIPC_OK;
}

void xipc__tcp_url(char *buf, size_t cap, const char *scheme,
                   const xipc_tcp_addr *a, uint16_t port)
{
    snprintf(buf, cap, a->v6 ? "%s://[%s]:%u" : "%s://%s:%u", scheme, a->host,
             (unsigned)port);
}

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
};
