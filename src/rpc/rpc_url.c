/* RPC URL classification (see rpc_url.h). Input is untrusted. */
#include <stdio.h>
#include <string.h>

#include "core/url.h"
#include "rpc/rpc_url.h"

/* "/abs/path" or "@name", at most 107 bytes (the socket address limit). */
static xipc_err rpc_url_unix(xipc_rpc_url *u, const char *rest)
{
    u->abstract = rest[0] == '@';
    const char *p = u->abstract ? rest + 1 : rest;
    size_t n = strlen(p);
    if (n == 0 || n > 107 || (!u->abstract && rest[0] != '/'))
        return XIPC_EINVAL;
    memcpy(u->path, p, n + 1);
    return XIPC_OK;
}

static int rpc_url_host_char(char c, int v6)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        c == '.' || c == '-')
        return 1;
    return v6 && (c == ':' || c == '%' || c == '_');
}

/* "host:port" or "[v6]:port"; port 0..65535 (0: any, listeners only). */
static xipc_err rpc_url_tcp(xipc_rpc_url *u, const char *rest)
{
    const char *h = rest, *colon;
    size_t hl;
    u->v6 = rest[0] == '[';
    if (u->v6) {
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
    if (hl == 0 || hl >= sizeof(u->host))
        return XIPC_EINVAL;
    for (size_t i = 0; i < hl; i++)
        if (!rpc_url_host_char(h[i], u->v6))
            return XIPC_EINVAL;
    memcpy(u->host, h, hl);
    u->host[hl] = '\0';
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
    u->port = (uint16_t)port;
    return XIPC_OK;
}

xipc_err xipc__rpc_url_parse(xipc_rpc_url *u, const char *text)
{
    xipc_url url;
    memset(u, 0, sizeof(*u));
    xipc_err rv = xipc__url_parse(&url, text);
    if (rv != XIPC_OK)
        return rv;
    if (strcmp(url.scheme, "unix") == 0) {
        u->kind = XIPC_RPC_URL_UNIX;
        return rpc_url_unix(u, url.rest);
    }
    if (strcmp(url.scheme, "tcp") == 0) {
        u->kind = XIPC_RPC_URL_TCP;
        return rpc_url_tcp(u, url.rest);
    }
    u->kind = XIPC_RPC_URL_MESSAGE;
    return XIPC_OK;
}

void xipc__rpc_url_format(const xipc_rpc_url *u, uint16_t port, char *buf,
                          size_t cap)
{
    if (u->kind == XIPC_RPC_URL_UNIX)
        snprintf(buf, cap, "unix://%s%s", u->abstract ? "@" : "", u->path);
    else if (u->kind == XIPC_RPC_URL_TCP)
        snprintf(buf, cap, u->v6 ? "tcp://[%s]:%u" : "tcp://%s:%u", u->host,
                 (unsigned)port);
    else if (cap > 0)
        buf[0] = '\0';
}
