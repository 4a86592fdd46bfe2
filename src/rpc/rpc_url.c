/* RPC URL classification (see rpc_url.h). Input is untrusted. */
#include <stdio.h>
#include <string.h>

#include "core/addr.h"
#include "core/url.h"
#include "rpc/rpc_url.h"

static xipc_err rpc_url_unix(xipc_rpc_url *u, const char *rest)
{
    const char *p;
    xipc_err rv = xipc__unix_parse(rest, &p, &u->abstract);
    if (rv == XIPC_OK)
        snprintf(u->path, sizeof(u->path), "%s", p);
    return rv;
}

static xipc_err rpc_url_tcp(xipc_rpc_url *u, const char *rest)
{
    xipc_tcp_addr a;
    xipc_err rv = xipc__tcp_parse(rest, &a);
    if (rv == XIPC_OK) {
        memcpy(u->host, a.host, sizeof(u->host));
        u->port = a.port;
        u->v6 = a.v6;
    }
    return rv;
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
