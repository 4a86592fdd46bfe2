/*
 * The 64-bit helper's side (xipc_inspect_serve): each request is answered
 * by the platform layer directly — never by the helper fallback of
 * inspect.c, so a helper that cannot reach an address either says so
 * (XIPC_ENOTSUP) instead of starting a helper of its own.
 */
#include <stdlib.h>
#include <string.h>

#include "core/detail.h"
#include "core/platform.h"
#include "inspect/inspect_helper.h"
#include "inspect/inspect_wire.h"

#define SERVE_WAIT -1 /* the caller closes the channel when it is done */

typedef struct serve_ctx {
    xipc_sock *s;
    xipc_err sent; /* the first failed send; later modules are dropped */
} serve_ctx;

/* 'E': the end of an answer, with @p rv and the detail of this thread. */
static xipc_err serve_end(xipc_sock *s, xipc_err rv)
{
    uint8_t m[INSPECT_END_HDR + INSPECT_DETAIL_MAX];
    const char *d = rv != XIPC_OK ? xipc_last_detail() : "";
    size_t n = strlen(d);
    if (n > INSPECT_DETAIL_MAX)
        n = INSPECT_DETAIL_MAX;
    inspect_put_kind(m, 'E');
    inspect_put32(m + 4, (uint32_t)rv);
    memcpy(m + INSPECT_END_HDR, d, n);
    return xipc_send(s, m, INSPECT_END_HDR + n, SERVE_WAIT);
}

static void serve_module(const xipc_module_info *mi, void *arg)
{
    serve_ctx *c = arg;
    uint8_t m[INSPECT_MOD_HDR + INSPECT_PATH_MAX];
    size_t n = strlen(mi->path);
    if (c->sent != XIPC_OK || n == 0 || n > INSPECT_PATH_MAX)
        return; /* a path this long is not a file the caller could open */
    inspect_put_kind(m, 'M');
    inspect_put32(m + 4, mi->bits);
    inspect_put64(m + 8, mi->base);
    inspect_put64(m + 16, mi->size);
    memcpy(m + INSPECT_MOD_HDR, mi->path, n);
    c->sent = xipc_send(c->s, m, INSPECT_MOD_HDR + n, SERVE_WAIT);
}

static xipc_err serve_peek(xipc_sock *s, uint32_t pid, uint64_t addr, uint32_t len)
{
    uint8_t *m = malloc(1 + (size_t)len);
    if (m == NULL)
        return serve_end(s, XIPC_ENOMEM);
    size_t got = 0;
    xipc_err rv = XIPC_EINVAL;
    if (len == 0 || len > INSPECT_CHUNK || addr + len - 1 < addr)
        xipc__set_detail("64-bit helper: a read of %u bytes at 0x%llx is malformed",
                         (unsigned)len, (unsigned long long)addr);
    else if (xipc__inspect_beyond(addr, len)) /* a helper that is not 64-bit */
        rv = XIPC_ENOTSUP;
    else
        rv = xipc_plat_peek(pid, addr, m + 1, len, &got);
    xipc_err sent = XIPC_OK;
    if (rv == XIPC_OK) {
        m[0] = 'D';
        sent = xipc_send(s, m, 1 + got, SERVE_WAIT);
    }
    free(m);
    return sent != XIPC_OK ? sent : serve_end(s, rv);
}

xipc_err xipc_inspect_serve(xipc_sock *s)
{
    if (s == NULL)
        return XIPC_EINVAL;
    for (;;) {
        uint8_t q[INSPECT_REQ_LEN];
        size_t n;
        xipc_err rv = xipc_recv(s, q, sizeof(q), &n, SERVE_WAIT);
        if (rv == XIPC_ECLOSED)
            return XIPC_OK;
        if (rv != XIPC_OK)
            return rv == XIPC_EMSGSIZE ? XIPC_EPROTO : rv;
        if (n != INSPECT_REQ_LEN || q[1] != 0 || q[2] != 0 || q[3] != 0)
            return XIPC_EPROTO;
        uint32_t pid = inspect_get32(q + 4);
        uint64_t addr = inspect_get64(q + 8);
        uint32_t len = inspect_get32(q + 16);
        if (q[0] == 'P') {
            rv = serve_peek(s, pid, addr, len);
        } else if (q[0] == 'M' && addr == 0 && len == 0) {
            serve_ctx c = {s, XIPC_OK};
            xipc_err lr = xipc_plat_modules(pid, serve_module, &c);
            rv = c.sent != XIPC_OK ? c.sent : serve_end(s, lr);
        } else {
            return XIPC_EPROTO;
        }
        if (rv != XIPC_OK)
            return rv;
    }
}
