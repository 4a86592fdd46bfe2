/* Addresses of unix:// and tcp:// (see addr.h). */
#include <stdio.h>
#include <string.h>

#include "core/addr.h"

xipc_err xipc__unix_parse(const char *rest, const char **path, int *abstract)
{
    *abstract = rest[0] == '@';
    *path = *abstract ? rest + 1 : rest;
    size_t n = strlen(*path);
    if (n == 0 || n > XIPC_UNIX_PATH_MAX || (!*abstract && rest[0] != '/'))
        return XIPC_EINVAL;
    return XIPC_OK;
}

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

