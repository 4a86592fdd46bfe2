/* RPC connections in stream mode and message mode (see rpc_conn.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc_conn.h"
#include "rpc/rpc_wire.h"

/* Message mode's receive buffer starts at CONN_RX_MIN bytes (a typical
 * call fits) and doubles as a message needs; stream mode's follows the
 * same rules in the transport (stream_raw.c). A send buffer over
 * CONN_CHUNK is not kept, nor does a stream-mode read ask for more than
 * that beyond max_msg. */
#define CONN_RX_MIN 1024u
#define CONN_CHUNK (64u << 10)

static xipc_err conn_new(xipc_rpc_conn **out, const xipc_rpc_limits *lim)
{
    xipc_rpc_conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return XIPC_ENOMEM;
    if (xipc_plat_mutex_init(&c->send_mu) != XIPC_OK) {
        free(c);
        return XIPC_ENOMEM;
    }
    c->fd = XIPC_PLAT_SOCK_NONE;
    c->lim = *lim;
    atomic_init(&c->broken, 0);
    atomic_init(&c->held, 0);
    xipc__rpc_scan_init(&c->scan, lim->max_depth, lim->max_msg);
    *out = c;
    return XIPC_OK;
}

/* @p c's peer is the user @p uid. */
static void conn_peer_uid(xipc_rpc_conn *c, uint32_t uid)
{
    c->peer.kind = XIPC_RPC_PEER_UID;
    memcpy(c->peer.addr, &uid, sizeof(uid));
}

/* @p c's peer is the remote address of socket @p fd, if it has one. */
static void conn_peer_addr(xipc_rpc_conn *c, xipc_plat_sock fd)
{
    uint8_t addr[16];
    int n = xipc_plat_sock_peer_addr(fd, addr);
    if (n == 4) {
        c->peer.kind = XIPC_RPC_PEER_IPV4;
        memcpy(c->peer.addr, addr, 4);
    } else if (n == 16) {
        c->peer.kind = XIPC_RPC_PEER_IPV6;
        memcpy(c->peer.addr, addr, 8);
    }
}

/*
 * Who is at the other end (c->peer, c->peer_pid), asked once: the user id
 * where the channel has one (unix://, pipe://, shm://), else the remote
 * address of its socket (tcp://, tls+tcp://), else unknown. The one place
 * where a channel's identity enters the RPC layer: a transport that
 * learns its peer's uid supplies it through xipc_peer_uid and nothing
 * here changes.
 */
static void conn_identify(xipc_rpc_conn *c)
{
    uint32_t uid = 0;
    intptr_t fd;
    memset(&c->peer, 0, sizeof(c->peer));
    if (xipc_peer_pid(c->sock, &c->peer_pid) != XIPC_OK)
        c->peer_pid = 0;
    if (xipc_peer_uid(c->sock, &uid) == XIPC_OK)
        conn_peer_uid(c, uid);
    else if (xipc_sock_fd(c->sock, &fd) == XIPC_OK)
        conn_peer_addr(c, (xipc_plat_sock)fd);
}

/* Wrap an xipc connection (closed on failure): stream mode when its
 * transport has a byte face. */
static xipc_err conn_from_sock(xipc_rpc_conn **out, xipc_sock *s,
                               const xipc_rpc_limits *lim)
{
    xipc_rpc_conn *c;
    intptr_t fd;
    xipc_err rv = conn_new(&c, lim);
    if (rv != XIPC_OK) {
        xipc_close(s);
        return rv;
    }
    c->sock = s;
    c->raw = xipc__raw(s);
    if (c->raw != NULL && xipc_sock_fd(s, &fd) == XIPC_OK) {
        c->stream = 1;
        c->fd = (xipc_plat_sock)fd;
    } else {
        c->raw = NULL;
    }
    conn_identify(c);
    *out = c;
    return XIPC_OK;
}

/* The endpoint options of message mode. The transport's own limits
 * (max_msg, ring_capacity) apply as well as the RPC layer's. */
static xipc_err conn_sock_opts(xipc_opts *o, const xipc_opts *given,
                               const xipc_rpc_limits *lim)
{
    (void)lim;
    if (given != NULL) {
        if (given->magic != XIPC_OPTS_MAGIC || given->size != sizeof(*given))
            return XIPC_EINVAL;
        *o = *given;
    } else {
        xipc_opts_init(o);
    }
    return XIPC_OK;
}

xipc_err xipc__rpc_conn_dial(xipc_rpc_conn **out, const char *url,
                             const xipc_rpc_limits *lim,
                             const xipc_opts *sock_opts, int timeout_ms)
{
    xipc_opts o;
    xipc_sock *s;
    xipc_err rv;
    if ((rv = conn_sock_opts(&o, sock_opts, lim)) != XIPC_OK ||
        (rv = xipc_dial(&s, url, &o, timeout_ms)) != XIPC_OK)
        return rv;
    return conn_from_sock(out, s, lim);
}

void xipc__rpc_conn_break(xipc_rpc_conn *c, xipc_err why)
{
    int none = 0;
    atomic_compare_exchange_strong(&c->broken, &none, (int)why);
}

/* Free the send buffer; c->send_mu held. @return the bytes freed */
static size_t conn_tx_free(xipc_rpc_conn *c)
{
    size_t n = c->tx_cap;
    free(c->tx);
    c->tx = NULL;
    c->tx_cap = 0;
    atomic_fetch_sub(&c->held, n);
    return n;
}

/* Gather the pieces into c->tx (message mode sends one buffer). */
static xipc_err conn_gather(xipc_rpc_conn *c, const xipc_plat_iov *iov, int n,
                            size_t total)
{
    if (total > c->tx_cap) {
        uint8_t *p = realloc(c->tx, total);
        if (p == NULL)
            return XIPC_ENOMEM;
        atomic_fetch_add(&c->held, total - c->tx_cap);
        c->tx = p;
        c->tx_cap = total;
    }
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        if (iov[i].len > 0)
            memcpy(c->tx + off, iov[i].base, iov[i].len);
        off += iov[i].len;
    }
    return XIPC_OK;
}

/* Stream mode: write @p iov; with @p before_wait, try without waiting
 * first and call it before waiting for the rest. */
static xipc_err conn_send_stream(xipc_rpc_conn *c, const xipc_plat_iov *iov, int n,
                                 int timeout_ms, void (*before_wait)(void *), void *arg)
{
    size_t sent = 0;
    xipc_err rv = c->raw->sendv(c->sock, iov, n, &sent, before_wait != NULL ? 0 : timeout_ms);
    if (rv == XIPC_ETIMEDOUT && before_wait != NULL && timeout_ms != 0) {
        before_wait(arg);
        rv = c->raw->sendv(c->sock, iov, n, &sent, timeout_ms);
    }
    if (rv == XIPC_ETIMEDOUT && sent > 0) {
        xipc__rpc_conn_break(c, XIPC_ECLOSED);
        rv = XIPC_ECLOSED;
    } else if (rv != XIPC_OK && rv != XIPC_ETIMEDOUT) {
        xipc__rpc_conn_break(c, XIPC_ECLOSED);
    }
    return rv;
}

/* Message mode: send @p buf as one message, @p before_wait as above. A
 * stream-backed transport (pipe://) may take part of it at once and hold
 * the rest: that rest is flushed before returning. */
static xipc_err conn_send_message(xipc_rpc_conn *c, const void *buf, size_t len,
                                  int timeout_ms, void (*before_wait)(void *), void *arg)
{
    if (before_wait == NULL)
        return xipc_send(c->sock, buf, len, timeout_ms);
    xipc_err rv = xipc_send(c->sock, buf, len, 0);
    if (rv == XIPC_ETIMEDOUT && timeout_ms != 0) {
        before_wait(arg);
        return xipc_send(c->sock, buf, len, timeout_ms);
    }
    if (rv == XIPC_OK && xipc_flush(c->sock, 0) == XIPC_ETIMEDOUT) {
        before_wait(arg);
        rv = xipc_flush(c->sock, timeout_ms);
        if (rv == XIPC_ETIMEDOUT) /* the peer cannot find the next start */
            rv = XIPC_ECLOSED;
    }
    return rv;
}

xipc_err xipc__rpc_conn_sendv_or(xipc_rpc_conn *c, const xipc_plat_iov *iov, int n,
                                 int timeout_ms, void (*before_wait)(void *), void *arg)
{
    size_t total = 0;
    if (n < 1 || n > 8)
        return XIPC_EINVAL;
    for (int i = 0; i < n; i++)
        total += iov[i].len;
    xipc_err rv = (xipc_err)atomic_load(&c->broken);
    if (rv != XIPC_OK)
        return rv;
    if (before_wait == NULL || !xipc_plat_mutex_trylock(&c->send_mu)) {
        if (before_wait != NULL) { /* another thread is sending: wait */
            before_wait(arg);
            before_wait = NULL;
        }
        xipc_plat_mutex_lock(&c->send_mu);
    }
    if (c->stream) {
        rv = conn_send_stream(c, iov, n, timeout_ms, before_wait, arg);
    } else if (n == 1) {
        rv = conn_send_message(c, iov[0].base, iov[0].len, timeout_ms, before_wait, arg);
    } else {
        rv = conn_gather(c, iov, n, total);
        if (rv == XIPC_OK)
            rv = conn_send_message(c, c->tx, total, timeout_ms, before_wait, arg);
        if (c->tx_cap > CONN_CHUNK) /* do not hold on to a large buffer */
            conn_tx_free(c);
    }
    if (!c->stream && (rv == XIPC_ECLOSED || rv == XIPC_EPROTO))
        xipc__rpc_conn_break(c, rv);
    xipc_plat_mutex_unlock(&c->send_mu);
    return rv;
}

xipc_err xipc__rpc_conn_sendv(xipc_rpc_conn *c, const xipc_plat_iov *iov,
                              int n, int timeout_ms)
{
    return xipc__rpc_conn_sendv_or(c, iov, n, timeout_ms, NULL, NULL);
}

/* Resize the receive buffer to @p cap bytes (0: free it). */
static xipc_err conn_rx_resize(xipc_rpc_conn *c, size_t cap)
{
    uint8_t *p = NULL;
    if (cap == 0) {
        free(c->rx);
    } else if ((p = realloc(c->rx, cap)) == NULL) {
        return XIPC_ENOMEM;
    }
    if (cap > c->rx_cap)
        atomic_fetch_add(&c->held, cap - c->rx_cap);
    else
        atomic_fetch_sub(&c->held, c->rx_cap - cap);
    c->rx = p;
    c->rx_cap = cap;
    return XIPC_OK;
}

/* Receiving ends for @p why: keep the first bytes of the message. */
static xipc_err conn_fault(xipc_rpc_conn *c, int why, const uint8_t *p, size_t n)
{
    c->fault = why;
    c->fault_len = n < sizeof(c->fault_pre) ? n : sizeof(c->fault_pre);
    if (c->fault_len > 0)
        memcpy(c->fault_pre, p, c->fault_len);
    return XIPC_EPROTO;
}

/* Stream mode: c->rx_cap follows the transport's buffer. */
static void conn_rx_mirror(xipc_rpc_conn *c)
{
    size_t cap = c->raw->held(c->sock);
    if (cap > c->rx_cap)
        atomic_fetch_add(&c->held, cap - c->rx_cap);
    else
        atomic_fetch_sub(&c->held, c->rx_cap - cap);
    c->rx_cap = cap;
}

static xipc_err conn_recv_stream(xipc_rpc_conn *c, const uint8_t **msg,
                                 size_t *len, int timeout_ms)
{
    for (;;) {
        const uint8_t *buf;
        size_t n, vlen = 0;
        c->raw->buffered(c->sock, &buf, &n);
        if (n > 0 && xipc__rpc_scan(&c->scan, buf, n, &vlen) != XIPC_OK)
            return conn_fault(c, c->scan.why, buf, n);
        if (vlen > 0) {
            *msg = buf;
            *len = vlen;
            c->raw->consume(c->sock, vlen);
            xipc__rpc_scan_init(&c->scan, c->lim.max_depth, c->lim.max_msg);
            return XIPC_OK;
        }
        /* the scanner has refused anything beyond max_msg: this bounds
         * the buffer to max_msg plus one read */
        xipc_err rv = c->raw->more(c->sock, (size_t)c->lim.max_msg + CONN_CHUNK, timeout_ms);
        conn_rx_mirror(c);
        if (rv != XIPC_OK)
            return rv;
    }
}

/* A message over max_msg waits in the channel: keep its first bytes. */
static xipc_err conn_too_large(xipc_rpc_conn *c)
{
    const void *p;
    size_t n;
    if (xipc_peek(c->sock, &p, &n, 0) != XIPC_OK)
        return conn_fault(c, XIPC_RPC_SCAN_TOO_LARGE, NULL, 0);
    conn_fault(c, XIPC_RPC_SCAN_TOO_LARGE, p, n);
    xipc_release(c->sock);
    return XIPC_EPROTO;
}

size_t xipc__rpc_conn_trim(xipc_rpc_conn *c)
{
    size_t freed = 0;
    /* an idle connection holds no buffer: a thousand of them cost their
     * sockets only, and one large message is not paid for until the
     * connection closes */
    if (c->stream) {
        freed = c->raw->trim(c->sock);
        conn_rx_mirror(c);
    } else if (c->rx_cap > 0) {
        freed = c->rx_cap;
        conn_rx_resize(c, 0);
    }
    if (xipc_plat_mutex_trylock(&c->send_mu)) { /* else a sender uses it */
        if (c->tx_cap > 0)
            freed += conn_tx_free(c);
        xipc_plat_mutex_unlock(&c->send_mu);
    }
    return freed;
}

static xipc_err conn_recv_message(xipc_rpc_conn *c, const uint8_t **msg,
                                  size_t *len, int timeout_ms)
{
    for (;;) {
        size_t n = 0;
        int why;
        xipc_err rv = xipc_recv(c->sock, c->rx, c->rx_cap, &n, timeout_ms);
        if (rv == XIPC_EMSGSIZE) {
            if (n > c->lim.max_msg)
                return conn_too_large(c);
            size_t cap = c->rx_cap ? c->rx_cap : CONN_RX_MIN;
            while (cap < n)
                cap *= 2;
            if ((rv = conn_rx_resize(c, cap)) != XIPC_OK)
                return rv;
            continue;
        }
        if (rv != XIPC_OK)
            return rv;
        if (n > c->lim.max_msg)
            return conn_fault(c, XIPC_RPC_SCAN_TOO_LARGE, c->rx, n);
        if (xipc__rpc_scan_check(c->rx, n, c->lim.max_depth, &why) != XIPC_OK)
            return conn_fault(c, why, c->rx, n);
        *msg = c->rx;
        *len = n;
        return XIPC_OK;
    }
}

xipc_err xipc__rpc_conn_recv(xipc_rpc_conn *c, const uint8_t **msg,
                             size_t *len, int timeout_ms)
{
    xipc_err rv = (xipc_err)atomic_load(&c->broken);
    if (rv != XIPC_OK)
        return rv;
    /* a receive error stops the receiver, not the senders: responses to
     * what was received before can still go out */
    if (c->stream)
        return conn_recv_stream(c, msg, len, timeout_ms);
    return conn_recv_message(c, msg, len, timeout_ms);
}

void xipc__rpc_conn_close(xipc_rpc_conn *c)
{
    if (c == NULL)
        return;
    xipc_close(c->sock);
    xipc_plat_mutex_fini(&c->send_mu);
    free(c->rx);
    free(c->tx);
    free(c);
}

xipc_err xipc__rpc_listen(xipc_rpc_listener **out, const char *url,
                          const xipc_rpc_limits *lim,
                          const xipc_opts *sock_opts)
{
    xipc_opts o;
    xipc_err rv = conn_sock_opts(&o, sock_opts, lim);
    if (rv != XIPC_OK)
        return rv;
    xipc_rpc_listener *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return XIPC_ENOMEM;
    l->lim = *lim;
    if ((rv = xipc_listen(&l->sock, url, &o)) != XIPC_OK) {
        free(l);
        return rv;
    }
    l->stream = xipc__raw(l->sock) != NULL;
    if (xipc_sock_url(l->sock, l->url, sizeof(l->url)) != XIPC_OK)
        snprintf(l->url, sizeof(l->url), "%s", url);
    *out = l;
    return XIPC_OK;
}

xipc_err xipc__rpc_accept(xipc_rpc_listener *l, xipc_rpc_conn **out,
                          int timeout_ms)
{
    xipc_sock *s;
    xipc_err rv = xipc_accept(l->sock, &s, timeout_ms);
    if (rv != XIPC_OK)
        return rv;
    return conn_from_sock(out, s, &l->lim);
}

void xipc__rpc_listener_close(xipc_rpc_listener *l)
{
    if (l == NULL)
        return;
    xipc_close(l->sock);
    free(l);
}

xipc_err xipc__rpc_call_out(xipc_rpc_call_out *o, int type, uint32_t msgid,
                            const char *method, const void *params, size_t len)
{
    static const uint8_t empty = 0x90; /* [] */
    xipc_mp_buf b;
    xipc_mp_buf_init_fixed(&b, o->hdr, sizeof(o->hdr));
    xipc_err rv = xipc__rpc_write_call_hdr(&b, type, msgid, method, strlen(method));
    if (rv != XIPC_OK)
        return rv;
    if (params == NULL) {
        params = &empty;
        len = 1;
    }
    o->iov[0] = (xipc_plat_iov){b.data, b.len};
    o->iov[1] = (xipc_plat_iov){params, len};
    return XIPC_OK;
}
