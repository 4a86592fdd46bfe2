/*
 * tls+tcp://HOST:PORT — a message channel over TLS over TCP: the frames of
 * stream.c travel inside the TLS stream. Host and port follow tcp://
 * (xipc__tcp_parse). Options, verification rules and error texts:
 * docs/tls.md. This file is what both ports share; the TLS library sits
 * behind transport/tls.h (OpenSSL in posix/tls.c, Schannel in
 * win32/tls.c).
 */
#include <stdlib.h>
#include <string.h>

#include "core/detail.h"
#include "transport/tls.h"

extern const xipc_tran xipc_tls_tran;

#define TLS_HANDSHAKE_MS 10000 /* what accept gives a client's handshake */
#define TLS_LINGER_MS 30000    /* finishing a committed record after close */

const char *xipc__tls_hint(const xipc_tls_conn *t)
{
    return t->cert_asked
               ? "; the server asked for a client certificate and none was set (tls_cert)"
               : "";
}

void *xipc__tls_conn_alloc(size_t size, xipc_plat_sock fd)
{
    xipc_tls_conn *t = calloc(1, size);
    if (t == NULL)
        return NULL;
    if (xipc_plat_mutex_init(&t->lock) != XIPC_OK) {
        free(t);
        return NULL;
    }
    t->fd = fd;
    return t;
}

void xipc__tls_conn_base_free(xipc_tls_conn *t)
{
    xipc_plat_mutex_fini(&t->lock);
    free(t);
}

/* ---- the stream layer's I/O ---------------------------------------------------- */

/*
 * Gather the buffers into chunks of one record each (a frame's header and
 * a small payload go out as one record). A chunk the library has begun to
 * write is committed: it counts as sent and is finished first by the next
 * call (or by close).
 */
static xipc_err tls_sendv(void *ctx, xipc_plat_sock fd, const xipc_plat_iov *iov,
                          int n, size_t *sent, xipc_deadline *d)
{
    xipc_tls_conn *t = ctx;
    *sent = 0;
    xipc_err rv = xipc__tls_flush(t, d);
    int i = 0;
    size_t off = 0;
    while (rv == XIPC_OK) {
        size_t cap, m = 0;
        uint8_t *dst = xipc__tls_chunk(t, &cap);
        while (i < n && m < cap) {
            size_t take = iov[i].len - off;
            if (take > cap - m)
                take = cap - m;
            memcpy(dst + m, (const uint8_t *)iov[i].base + off, take);
            m += take;
            off += take;
            if (off == iov[i].len) {
                i++;
                off = 0;
            }
        }
        if (m == 0)
            break;
        rv = xipc__tls_put(t, m, d);
        if (rv == XIPC_OK || rv == XIPC_ETIMEDOUT)
            *sent += m;
    }
    return rv;
}

static void tls_linger(void *arg)
{
    xipc_tls_conn *t = arg;
    xipc_deadline d = xipc__deadline(TLS_LINGER_MS);
    if (xipc__tls_flush(t, &d) != XIPC_OK)
        t->fatal = 1;
    xipc__tls_finish(t);
}

static void tls_io_close(void *ctx, xipc_plat_sock fd)
{
    xipc_tls_conn *t = ctx;
    if (!t->fatal) {
        /* a chunk counted as sent: finish it in the background */
        xipc_deadline now = xipc__deadline(0);
        xipc_err rv = xipc__tls_flush(t, &now);
        if (rv == XIPC_ETIMEDOUT && xipc_plat_thread_detached(tls_linger, t) == XIPC_OK)
            return;
        if (rv != XIPC_OK)
            t->fatal = 1;
    }
    xipc__tls_finish(t);
}

static const xipc_stream_io tls_io = {
    .sendv = tls_sendv,
    .recv = xipc__tls_recv,
    .close = tls_io_close,
};

/*
 * Run the handshake on connected socket @p fd (taken over) by @p d and
 * wrap it into a stream connection. @p name: NULL on the server side; the
 * name to check (and send) on the client side.
 */
static xipc_err tls_wrap(xipc_sock **out, xipc_tls_cfg *cfg, xipc_plat_sock fd,
                         uint32_t max_msg, const char *url, const char *name,
                         int verify, xipc_deadline *d)
{
    xipc_tls_conn *t;
    xipc_err rv = xipc__tls_connect(&t, cfg, fd, name, verify, d);
    if (rv != XIPC_OK) {
        xipc_plat_sock_close(fd);
        return rv;
    }
    rv = xipc__stream_new(out, &xipc_tls_tran, fd, max_msg, url);
    if (rv != XIPC_OK) {
        xipc__tls_conn_free(t); /* the stream closed the socket */
        return rv;
    }
    xipc__stream_set_io(*out, &tls_io, t);
    return XIPC_OK;
}

/* ---- the transport ------------------------------------------------------------- */

/* A TCP listener and the TLS settings its connections share. */
typedef struct tls_listener {
    xipc_stream_listener base; /* first: the stream operations take it */
    xipc_tls_cfg *cfg;
} tls_listener;

static void tls_close(xipc_sock *s)
{
    if (s->listener)
        xipc__tls_cfg_free(((tls_listener *)s)->cfg);
    xipc__stream_close(s);
}

static xipc_err tls_listen(xipc_sock **out, const xipc_url *url, const xipc_opts *opts)
{
    xipc_tcp_addr a;
    xipc__clear_detail();
    if (xipc__tcp_parse(url->rest, &a) != XIPC_OK)
        return XIPC_EINVAL;
    /* a backend that cannot listen says so before the options are judged */
    xipc_err rv = xipc__tls_can_listen();
    if (rv != XIPC_OK)
        return rv;
    if (opts->tls_cert == NULL) {
        xipc__set_detail("a tls+tcp listener needs tls_cert");
        return XIPC_EINVAL;
    }
    tls_listener *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return XIPC_ENOMEM;
    l->base.sock.tran = &xipc_tls_tran;
    l->base.sock.listener = 1;
    l->base.fd = XIPC_PLAT_SOCK_NONE;
    l->base.max_msg = xipc__stream_max(opts);
    rv = xipc__tls_cfg_new(&l->cfg, opts, 1);
    uint16_t bound = 0;
    if (rv == XIPC_OK)
        rv = xipc_plat_tcp_listen(a.host, a.port, (int)opts->backlog, &l->base.fd, &bound);
    if (rv != XIPC_OK) {
        tls_close(&l->base.sock);
        return rv;
    }
    xipc__tcp_url(l->base.url, sizeof(l->base.url), "tls+tcp", &a, bound);
    *out = &l->base.sock;
    return XIPC_OK;
}

/*
 * The accept timeout bounds the wait for a TCP connection; the client's
 * handshake then gets TLS_HANDSHAKE_MS of its own, so that accept with a
 * short timeout (an event loop's 0, a server's polling loop) never drops a
 * client that is merely slower than the poll, and a client that never
 * speaks holds accept 10 s at most.
 */
static xipc_err tls_accept(xipc_sock *ls, xipc_sock **out, int timeout_ms)
{
    tls_listener *l = (tls_listener *)ls;
    xipc_plat_sock fd;
    xipc__clear_detail();
    xipc_err rv = xipc_plat_sock_accept(l->base.fd, timeout_ms, &fd);
    if (rv != XIPC_OK)
        return rv;
    xipc_deadline d = xipc__deadline(TLS_HANDSHAKE_MS);
    rv = tls_wrap(out, l->cfg, fd, l->base.max_msg, l->base.url, NULL, 0, &d);
    if (rv == XIPC_ETIMEDOUT) {
        xipc__set_detail("no TLS handshake from the client within %d ms",
                         TLS_HANDSHAKE_MS);
        rv = XIPC_ETLS;
    }
    return rv;
}

static xipc_err tls_dial(xipc_sock **out, const xipc_url *url,
                         const xipc_opts *opts, int timeout_ms)
{
    xipc_tcp_addr a;
    xipc__clear_detail();
    if (xipc__tcp_parse(url->rest, &a) != XIPC_OK || a.port == 0)
        return XIPC_EINVAL;
    const char *name = opts->tls_server_name != NULL ? opts->tls_server_name : a.host;
    if (name[0] == '\0' || strlen(name) > 255)
        return XIPC_EINVAL;
    if (opts->tls_cert == NULL && opts->tls_key != NULL) {
        xipc__set_detail("tls_key %s given without tls_cert", opts->tls_key);
        return XIPC_EINVAL;
    }
    xipc_deadline d = xipc__deadline(timeout_ms);
    xipc_tls_cfg *cfg;
    xipc_err rv = xipc__tls_cfg_new(&cfg, opts, 0);
    if (rv != XIPC_OK)
        return rv;
    xipc_plat_sock fd;
    rv = xipc_plat_tcp_dial(a.host, a.port, xipc__deadline_left_ms(&d), &fd);
    if (rv == XIPC_OK) {
        char full[XIPC_STREAM_URL_MAX];
        xipc__tcp_url(full, sizeof(full), "tls+tcp", &a, a.port);
        rv = tls_wrap(out, cfg, fd, xipc__stream_max(opts), full, name,
                      (int)opts->tls_verify, &d);
        if (rv == XIPC_ETIMEDOUT)
            xipc__set_detail("TLS handshake not finished within the dial timeout");
    }
    xipc__tls_cfg_free(cfg); /* the connection holds its own reference */
    return rv;
}

const xipc_tran xipc_tls_tran = {
    .scheme = "tls+tcp",
    .listen = tls_listen,
    .dial = tls_dial,
    .accept = tls_accept,
    .send = xipc__stream_send,
    .send_ex = xipc__stream_send_ex,
    .flush = xipc__stream_flush,
    .recv = xipc__stream_recv,
    .reserve = xipc__stream_reserve,
    .commit = xipc__stream_commit,
    .peek = xipc__stream_peek,
    .release = xipc__stream_release,
    .peer_pid = xipc__stream_peer_pid,
    .peer_uid = xipc__stream_peer_uid, /* XIPC_ENOTSUP: TCP peers have none */
    .fd = xipc__stream_fd,
    .url = xipc__stream_url,
    .close = tls_close,
};
