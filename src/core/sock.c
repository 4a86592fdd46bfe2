/* The endpoint API: argument checks, then dispatch to the transport. */
#include <stdio.h>
#include <string.h>

#include "core/detail.h"
#include "core/opts.h"
#include "core/transport.h"

#define XIPC_TRAN(name) extern const xipc_tran xipc_##name##_tran;
#include "core/tran_list.h"
#undef XIPC_TRAN

static const xipc_tran *const sock_trans[] = {
#define XIPC_TRAN(name) &xipc_##name##_tran,
#include "core/tran_list.h"
#undef XIPC_TRAN
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
    xipc__clear_detail(); /* what this listen or dial finds, nothing older */
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

/* Count successes of the data calls. */
static xipc_err sock_count(xipc_err rv, uint64_t *counter)
{
    if (rv == XIPC_OK)
        (*counter)++;
    return rv;
}

xipc_err xipc_send(xipc_sock *s, const void *buf, size_t len, int timeout_ms)
{
    SOCK_CONN_CHECK(s, send);
    if ((buf == NULL && len != 0) || timeout_ms < -1)
        return XIPC_EINVAL;
    return sock_count(s->tran->send(s, buf, len, timeout_ms), &s->stats.sent);
}

xipc_err xipc_send_ex(xipc_sock *s, const void *buf, size_t len, unsigned flags,
                      int timeout_ms)
{
    SOCK_CONN_CHECK(s, send);
    if ((buf == NULL && len != 0) || timeout_ms < -1 ||
        (flags & ~(unsigned)XIPC_SEND_MORE) != 0)
        return XIPC_EINVAL;
    if (s->tran->send_ex == NULL)
        return xipc_send(s, buf, len, timeout_ms);
    return sock_count(s->tran->send_ex(s, buf, len, flags, timeout_ms), &s->stats.sent);
}

xipc_err xipc_flush(xipc_sock *s, int timeout_ms)
{
    SOCK_CONN_CHECK(s, send);
    if (timeout_ms < -1)
        return XIPC_EINVAL;
    return s->tran->flush != NULL ? s->tran->flush(s, timeout_ms) : XIPC_OK;
}

xipc_err xipc_recv(xipc_sock *s, void *buf, size_t cap, size_t *len,
                   int timeout_ms)
{
    SOCK_CONN_CHECK(s, recv);
    if ((buf == NULL && cap != 0) || len == NULL || timeout_ms < -1)
        return XIPC_EINVAL;
    return sock_count(s->tran->recv(s, buf, cap, len, timeout_ms),
                      &s->stats.received);
}

xipc_err xipc_send_prio(xipc_sock *s, const void *buf, size_t len,
                        unsigned prio, int timeout_ms)
{
    SOCK_CONN_CHECK(s, send);
    if ((buf == NULL && len != 0) || timeout_ms < -1)
        return XIPC_EINVAL;
    if (s->tran->send_prio == NULL)
        return prio == 0 ? xipc_send(s, buf, len, timeout_ms) : XIPC_ENOTSUP;
    return sock_count(s->tran->send_prio(s, buf, len, prio, timeout_ms),
                      &s->stats.sent);
}

xipc_err xipc_recv_prio(xipc_sock *s, void *buf, size_t cap, size_t *len,
                        unsigned *prio, int timeout_ms)
{
    SOCK_CONN_CHECK(s, recv);
    if ((buf == NULL && cap != 0) || len == NULL || prio == NULL || timeout_ms < -1)
        return XIPC_EINVAL;
    *prio = 0;
    if (s->tran->recv_prio == NULL)
        return xipc_recv(s, buf, cap, len, timeout_ms);
    return sock_count(s->tran->recv_prio(s, buf, cap, len, prio, timeout_ms),
                      &s->stats.received);
}

xipc_err xipc_stats_get(xipc_sock *s, xipc_stats *st)
{
    if (s == NULL || st == NULL)
        return XIPC_EINVAL;
    *st = s->stats;
    return XIPC_OK;
}

xipc_err xipc_sock_fd(xipc_sock *s, intptr_t *fd)
{
    if (s == NULL || fd == NULL)
        return XIPC_EINVAL;
    if (s->tran->fd == NULL)
        return XIPC_ENOTSUP;
    return s->tran->fd(s, fd);
}

xipc_err xipc_sock_url(xipc_sock *s, char *buf, size_t cap)
{
    if (s == NULL || buf == NULL || cap == 0)
        return XIPC_EINVAL;
    if (s->tran->url == NULL)
        return XIPC_ENOTSUP;
    return s->tran->url(s, buf, cap);
}

xipc_err xipc__url_format(char *buf, size_t cap, const char *scheme,
                          const char *rest)
{
    int n = snprintf(buf, cap, "%s://%s", scheme, rest);
    return n < 0 || (size_t)n >= cap ? XIPC_EMSGSIZE : XIPC_OK;
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
    return sock_count(s->tran->commit(s, len), &s->stats.sent);
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
    return sock_count(s->tran->release(s), &s->stats.received);
}

xipc_err xipc_peer_pid(xipc_sock *s, uint32_t *pid)
{
    SOCK_CONN_CHECK(s, peer_pid);
    if (pid == NULL)
        return XIPC_EINVAL;
    return s->tran->peer_pid(s, pid);
}

xipc_err xipc_peer_uid(xipc_sock *s, uint32_t *uid)
{
    SOCK_CONN_CHECK(s, peer_uid);
    if (uid == NULL)
        return XIPC_EINVAL;
    return s->tran->peer_uid(s, uid);
}

void xipc_close(xipc_sock *s)
{
    if (s != NULL)
        s->tran->close(s);
}
