/* The endpoint API: argument checks, then dispatch to the transport. */
#include <string.h>

#include "core/opts.h"
#include "core/transport.h"

extern const xipc_tran xipc_shm_tran;

static const xipc_tran *const sock_trans[] = {
    &xipc_shm_tran,
};

const xipc_tran *xipc__tran_find(const char *scheme)
{
    for (size_t i = 0; i < sizeof(sock_trans) / sizeof(sock_trans[0]); i++)
        if (strcmp(sock_trans[i]->scheme, scheme) == 0)
            return sock_trans[i];
    return NULL;
}

static xipc_err sock_prepare(const char *url, const xipc_opts *opts,
                             xipc_url *u, xipc_opts *o, const xipc_tran **t)
{
    xipc_err rv = xipc__url_parse(u, url);
    if (rv != XIPC_OK)
        return rv;
    rv = xipc__opts_resolve(o, opts);
    if (rv != XIPC_OK)
        return rv;
    *t = xipc__tran_find(u->scheme);
    return *t == NULL ? XIPC_ENOTSUP : XIPC_OK;
}

xipc_err xipc_listen(xipc_sock **out, const char *url, const xipc_opts *opts)
{
    xipc_url u;
    xipc_opts o;
    const xipc_tran *t;
    if (out == NULL)
        return XIPC_EINVAL;
    *out = NULL;
    xipc_err rv = sock_prepare(url, opts, &u, &o, &t);
    if (rv != XIPC_OK)
        return rv;
    if (t->listen == NULL)
        return XIPC_ENOTSUP;
    return t->listen(out, &u, &o);
}

xipc_err xipc_dial(xipc_sock **out, const char *url, const xipc_opts *opts,
                   int timeout_ms)
{
    xipc_url u;
    xipc_opts o;
    const xipc_tran *t;
    if (out == NULL || timeout_ms < -1)
        return XIPC_EINVAL;
    *out = NULL;
    xipc_err rv = sock_prepare(url, opts, &u, &o, &t);
    if (rv != XIPC_OK)
        return rv;
    if (t->dial == NULL)
        return XIPC_ENOTSUP;
    return t->dial(out, &u, &o, timeout_ms);
}

xipc_err xipc_accept(xipc_sock *l, xipc_sock **out, int timeout_ms)
{
    if (l == NULL || out == NULL || !l->listener || timeout_ms < -1)
        return XIPC_EINVAL;
    *out = NULL;
    if (l->tran->accept == NULL)
        return XIPC_ENOTSUP;
    return l->tran->accept(l, out, timeout_ms);
}

/* A connection with the operation @p op, checked. */
#define SOCK_CONN_CHECK(s, op)                                                 \
    do {                                                                       \
        if ((s) == NULL || (s)->listener)                                      \
            return XIPC_EINVAL;                                                \
        if ((s)->tran->op == NULL)                                             \
            return XIPC_ENOTSUP;                                               \
    } while (0)

xipc_err xipc_send(xipc_sock *s, const void *buf, size_t len, int timeout_ms)
{
    SOCK_CONN_CHECK(s, send);
    if ((buf == NULL && len != 0) || timeout_ms < -1)
        return XIPC_EINVAL;
    return s->tran->send(s, buf, len, timeout_ms);
}

xipc_err xipc_recv(xipc_sock *s, void *buf, size_t cap, size_t *len,
                   int timeout_ms)
{
    SOCK_CONN_CHECK(s, recv);
    if ((buf == NULL && cap != 0) || len == NULL || timeout_ms < -1)
        return XIPC_EINVAL;
    return s->tran->recv(s, buf, cap, len, timeout_ms);
}

xipc_err xipc_reserve(xipc_sock *s, size_t len, void **buf, int timeout_ms)
{
    SOCK_CONN_CHECK(s, reserve);
    if (buf == NULL || timeout_ms < -1)
        return XIPC_EINVAL;
    return s->tran->reserve(s, len, buf, timeout_ms);
}

xipc_err xipc_commit(xipc_sock *s, size_t len)
{
    SOCK_CONN_CHECK(s, commit);
    return s->tran->commit(s, len);
}

xipc_err xipc_peek(xipc_sock *s, const void **buf, size_t *len, int timeout_ms)
{
    SOCK_CONN_CHECK(s, peek);
    if (buf == NULL || len == NULL || timeout_ms < -1)
        return XIPC_EINVAL;
    return s->tran->peek(s, buf, len, timeout_ms);
}

xipc_err xipc_release(xipc_sock *s)
{
    SOCK_CONN_CHECK(s, release);
    return s->tran->release(s);
}

xipc_err xipc_peer_pid(xipc_sock *s, uint32_t *pid)
{
    SOCK_CONN_CHECK(s, peer_pid);
    if (pid == NULL)
        return XIPC_EINVAL;
    return s->tran->peer_pid(s, pid);
}

void xipc_close(xipc_sock *s)
{
    if (s != NULL)
        s->tran->close(s);
}
