/* Message channel over a byte-stream socket: see stream.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/frame.h"
#include "core/opts.h"
#include "transport/stream.h"

#define STREAM_RX_MIN (64u << 10)
#define STREAM_RX_KEEP (1u << 20) /* an empty buffer larger than this is freed */
#define STREAM_NO_PEEK UINT32_MAX
#define XIPC_STREAM_LINGER_MS 30000

/* ---- the plain socket (the default I/O) ------------------------------------- */

static xipc_err stream_plain_sendv(void *ctx, xipc_plat_sock fd,
                                   const xipc_plat_iov *iov, int n,
                                   size_t *sent, xipc_deadline *d)
{
    return xipc_plat_sock_sendv(fd, iov, n, sent, xipc__deadline_left_ms(d));
}

static xipc_err stream_plain_recv(void *ctx, xipc_plat_sock fd, void *buf,
                                  size_t cap, size_t *got, xipc_deadline *d)
{
    return xipc_plat_sock_recv(fd, buf, cap, got, xipc__deadline_left_ms(d));
}

static void stream_plain_close(void *ctx, xipc_plat_sock fd)
{
    xipc_plat_sock_close(fd);
}

static const xipc_stream_io stream_plain_io = {
    .sendv = stream_plain_sendv,
    .recv = stream_plain_recv,
    .close = stream_plain_close,
};

uint32_t xipc__stream_max(const xipc_opts *opts)
{
    return opts->max_msg != 0 ? opts->max_msg : XIPC_STREAM_MAX_MSG;
}

xipc_err xipc__stream_new(xipc_sock **out, const xipc_tran *tran,
                          xipc_plat_sock fd, uint32_t max_msg, const char *url)
{
    xipc_stream *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        xipc_plat_sock_close(fd);
        return XIPC_ENOMEM;
    }
    c->sock.tran = tran;
    c->fd = fd;
    c->io = &stream_plain_io;
    c->max_msg = max_msg;
    c->rx_peeked = STREAM_NO_PEEK;
    if (xipc_plat_sock_peer(fd, &c->peer_pid, &c->peer_uid) == XIPC_OK)
        c->has_peer_uid = 1;
    else
        c->peer_pid = 0;
    snprintf(c->url, sizeof(c->url), "%s", url);
    *out = &c->sock;
    return XIPC_OK;
}

void xipc__stream_set_io(xipc_sock *s, const xipc_stream_io *io, void *ctx)
{
    xipc_stream *c = (xipc_stream *)s;
    c->io = io;
    c->io_ctx = ctx;
}

xipc_stream_listener *xipc__stream_listener_new(const xipc_tran *tran,
                                                const xipc_opts *opts)
{
    xipc_stream_listener *l = calloc(1, sizeof(*l));
    if (l != NULL) {
        l->sock.tran = tran;
        l->sock.listener = 1;
        l->fd = XIPC_PLAT_SOCK_NONE;
        l->max_msg = xipc__stream_max(opts);
    }
    return l;
}

/* ---- input ----------------------------------------------------------------- */

xipc_err xipc__stream_rx_room(xipc_stream *c, size_t need, size_t min, size_t max)
{
    if (c->rx_beg > 0 && need > c->rx_cap - c->rx_beg) {
        memmove(c->rx, c->rx + c->rx_beg, c->rx_end - c->rx_beg);
        c->rx_end -= c->rx_beg;
        c->rx_beg = 0;
    }
    if (need <= c->rx_cap)
        return XIPC_OK;
    size_t cap = c->rx_cap ? c->rx_cap : min;
    while (cap < need && cap < max)
        cap = cap > max / 2 ? max : cap * 2;
    if (cap <= c->rx_cap)
        return XIPC_OK; /* at max: what fits */
    uint8_t *p = realloc(c->rx, cap);
    if (p == NULL)
        return XIPC_ENOMEM;
    c->rx = p;
    c->rx_cap = cap;
    return XIPC_OK;
}

/* Buffer at least @p need bytes; reads as much as the buffer takes. The
 * buffer is compacted only before a read, when what is left of it is a
 * partial frame: never per message. */
static xipc_err stream_fill(xipc_stream *c, size_t need, xipc_deadline *d)
{
    xipc_err rv = XIPC_OK;
    while (rv == XIPC_OK && c->rx_end - c->rx_beg < need) {
        rv = xipc__stream_rx_room(c, need < STREAM_RX_MIN ? STREAM_RX_MIN : need,
                                  STREAM_RX_MIN, SIZE_MAX);
        if (rv != XIPC_OK)
            break;
        size_t got;
        rv = c->io->recv(c->io_ctx, c->fd, c->rx + c->rx_end,
                         c->rx_cap - c->rx_end, &got, d);
        if (rv == XIPC_OK)
            c->rx_end += got;
    }
    if (rv == XIPC_ECLOSED || (rv != XIPC_OK && rv != XIPC_ETIMEDOUT && rv != XIPC_ENOMEM))
        c->broken = rv == XIPC_ECLOSED ? XIPC_ECLOSED : rv;
    return rv;
}

/* Have the next whole frame buffered; its payload length in @p len. */
static xipc_err stream_frame(xipc_stream *c, uint32_t *len, int timeout_ms)
{
    if (c->broken)
        return c->broken;
    xipc_deadline d = xipc__deadline(timeout_ms);
    xipc_err rv = stream_fill(c, XIPC_FRAME_HDR, &d);
    if (rv != XIPC_OK)
        return rv;
    if (xipc__frame_len(c->rx + c->rx_beg, c->max_msg, len) != XIPC_OK) {
        c->broken = XIPC_EPROTO; /* a frame larger than we accept */
        return XIPC_EPROTO;
    }
    return stream_fill(c, XIPC_FRAME_HDR + (size_t)*len, &d);
}

/*
 * The frame is read. An empty buffer grown past STREAM_RX_KEEP by a large
 * message is given back: an idle connection keeps no peak-sized buffer
 * (a peer that sent 15 MiB once would pin 16 MiB for the connection's
 * life). Below it the buffer stays, so the usual sizes never reallocate.
 */
static void stream_consume(xipc_stream *c, uint32_t len)
{
    c->rx_beg += XIPC_FRAME_HDR + (size_t)len;
    if (c->rx_beg == c->rx_end) {
        c->rx_beg = c->rx_end = 0;
        if (c->rx_cap > STREAM_RX_KEEP) {
            free(c->rx);
            c->rx = NULL;
            c->rx_cap = 0;
        }
    }
    c->rx_peeked = STREAM_NO_PEEK;
}

xipc_err xipc__stream_recv(xipc_sock *s, void *buf, size_t cap, size_t *len,
                           int timeout_ms)
{
    xipc_stream *c = (xipc_stream *)s;
    uint32_t n = 0;
    xipc_err rv = stream_frame(c, &n, timeout_ms);
    if (rv != XIPC_OK)
        return rv;
    *len = n;
    if (n > cap)
        return XIPC_EMSGSIZE; /* stays buffered */
    if (n > 0)
        memcpy(buf, c->rx + c->rx_beg + XIPC_FRAME_HDR, n);
    stream_consume(c, n);
    return XIPC_OK;
}

xipc_err xipc__stream_peek(xipc_sock *s, const void **buf, size_t *len, int timeout_ms)
{
    xipc_stream *c = (xipc_stream *)s;
    uint32_t n = 0;
    xipc_err rv = stream_frame(c, &n, timeout_ms);
    if (rv != XIPC_OK)
        return rv;
    c->rx_peeked = n;
    *buf = c->rx + c->rx_beg + XIPC_FRAME_HDR;
    *len = n;
    return XIPC_OK;
}

xipc_err xipc__stream_release(xipc_sock *s)
{
    xipc_stream *c = (xipc_stream *)s;
    if (c->rx_peeked == STREAM_NO_PEEK)
        return XIPC_ESTATE;
    stream_consume(c, c->rx_peeked);
    return XIPC_OK;
}

/* ---- output ---------------------------------------------------------------- */

static xipc_err stream_tx_room(xipc_stream *c, size_t need)
{
    if (need <= c->tx_cap)
        return XIPC_OK;
    size_t cap = c->tx_cap ? c->tx_cap : 4096;
    while (cap < need)
        cap *= 2;
    uint8_t *p = realloc(c->tx, cap);
    if (p == NULL)
        return XIPC_ENOMEM;
    c->tx = p;
    c->tx_cap = cap;
    return XIPC_OK;
}

/* Write what tx holds: frames corked with XIPC_SEND_MORE, and the rest of
 * a frame a timeout interrupted. */
static xipc_err stream_flush(xipc_stream *c, xipc_deadline *d)
{
    if (c->tx_off == c->tx_len)
        return XIPC_OK;
    xipc_plat_iov v = {c->tx + c->tx_off, c->tx_len - c->tx_off};
    size_t sent = 0;
    xipc_err rv = c->io->sendv(c->io_ctx, c->fd, &v, 1, &sent, d);
    c->tx_off += sent;
    if (rv == XIPC_OK)
        c->tx_off = c->tx_len = 0;
    else if (rv != XIPC_ETIMEDOUT)
        c->broken = rv;
    return rv;
}

/* Write one frame; keep what a timeout left unsent. */
static xipc_err stream_write(xipc_stream *c, const uint8_t *hdr, const void *buf,
                             size_t len, xipc_deadline *d)
{
    xipc_plat_iov v[2] = {{hdr, XIPC_FRAME_HDR}, {buf, len}};
    size_t sent = 0, total = XIPC_FRAME_HDR + len;
    xipc_err rv = c->io->sendv(c->io_ctx, c->fd, v, 2, &sent, d);
    if (rv == XIPC_OK)
        return XIPC_OK;
    if (rv != XIPC_ETIMEDOUT) {
        c->broken = rv;
        return rv;
    }
    if (sent == 0)
        return XIPC_ETIMEDOUT;
    /* committed: keep the rest, finished before the next send (tx is
     * empty here: the flush before this write emptied it) */
    size_t rest = total - sent;
    if ((rv = stream_tx_room(c, rest)) != XIPC_OK) {
        c->broken = rv;
        return rv;
    }
    size_t from_hdr = sent < XIPC_FRAME_HDR ? XIPC_FRAME_HDR - sent : 0;
    memcpy(c->tx, hdr + (XIPC_FRAME_HDR - from_hdr), from_hdr);
    memcpy(c->tx + from_hdr, (const uint8_t *)buf + (len - (rest - from_hdr)),
           rest - from_hdr);
    c->tx_off = 0;
    c->tx_len = rest;
    return XIPC_OK;
}

/* Append frame @p hdr + @p buf to the unsent bytes in tx. */
static xipc_err stream_append(xipc_stream *c, const uint8_t *hdr, const void *buf,
                              size_t len)
{
    if (c->tx_off > 0) { /* what was sent leaves room at the front */
        memmove(c->tx, c->tx + c->tx_off, c->tx_len - c->tx_off);
        c->tx_len -= c->tx_off;
        c->tx_off = 0;
    }
    xipc_err rv = stream_tx_room(c, c->tx_len + XIPC_FRAME_HDR + len);
    if (rv != XIPC_OK)
        return rv;
    memcpy(c->tx + c->tx_len, hdr, XIPC_FRAME_HDR);
    if (len > 0)
        memcpy(c->tx + c->tx_len + XIPC_FRAME_HDR, buf, len);
    c->tx_len += XIPC_FRAME_HDR + len;
    return XIPC_OK;
}

xipc_err xipc__stream_send_ex(xipc_sock *s, const void *buf, size_t len, unsigned flags,
                              int timeout_ms)
{
    xipc_stream *c = (xipc_stream *)s;
    if (c->broken)
        return c->broken;
    if (len > c->max_msg)
        return XIPC_EMSGSIZE;
    if (c->reserved)
        return XIPC_ESTATE;
    xipc_deadline d = xipc__deadline(timeout_ms);
    uint8_t hdr[XIPC_FRAME_HDR];
    xipc__frame_put(hdr, (uint32_t)len);
    size_t held = c->tx_len - c->tx_off;
    xipc_err rv;
    if (held > 0 && held + XIPC_FRAME_HDR + len > XIPC_STREAM_CORK_MAX) {
        if ((rv = stream_flush(c, &d)) != XIPC_OK) /* no room: out with them */
            return rv;
        held = 0;
    }
    if (XIPC_FRAME_HDR + len > XIPC_STREAM_CORK_MAX ||
        ((flags & XIPC_SEND_MORE) == 0 && held == 0))
        return stream_write(c, hdr, buf, len, &d); /* at once, nothing held */
    /* corked (written later), or joining the held frames in one write */
    if ((rv = stream_append(c, hdr, buf, len)) != XIPC_OK)
        return rv;
    if (flags & XIPC_SEND_MORE)
        return XIPC_OK;
    size_t frame_at = c->tx_len - XIPC_FRAME_HDR - len;
    rv = stream_flush(c, &d);
    if (rv != XIPC_ETIMEDOUT || c->tx_off > frame_at)
        return rv == XIPC_ETIMEDOUT ? XIPC_OK : rv; /* some of it went: committed */
    c->tx_len = frame_at; /* not a byte of this frame went out: take it back */
    if (c->tx_off == c->tx_len)
        c->tx_off = c->tx_len = 0;
    return XIPC_ETIMEDOUT;
}

xipc_err xipc__stream_send(xipc_sock *s, const void *buf, size_t len, int timeout_ms)
{
    return xipc__stream_send_ex(s, buf, len, 0, timeout_ms);
}

xipc_err xipc__stream_flush(xipc_sock *s, int timeout_ms)
{
    xipc_stream *c = (xipc_stream *)s;
    if (c->broken)
        return c->broken;
    xipc_deadline d = xipc__deadline(timeout_ms);
    return stream_flush(c, &d);
}

xipc_err xipc__stream_reserve(xipc_sock *s, size_t len, void **buf, int timeout_ms)
{
    xipc_stream *c = (xipc_stream *)s;
    if (c->broken)
        return c->broken;
    if (c->reserved)
        return XIPC_ESTATE;
    if (len > c->max_msg)
        return XIPC_EMSGSIZE;
    xipc_deadline d = xipc__deadline(timeout_ms);
    xipc_err rv = stream_flush(c, &d);
    if (rv == XIPC_OK)
        rv = stream_tx_room(c, XIPC_FRAME_HDR + len);
    if (rv != XIPC_OK)
        return rv;
    c->reserved = len + 1;
    c->reserve_timeout = timeout_ms;
    *buf = c->tx + XIPC_FRAME_HDR;
    return XIPC_OK;
}

xipc_err xipc__stream_commit(xipc_sock *s, size_t len)
{
    xipc_stream *c = (xipc_stream *)s;
    if (c->reserved == 0)
        return XIPC_ESTATE;
    if (len > c->reserved - 1)
        return XIPC_EINVAL;
    c->reserved = 0;
    if (c->broken)
        return c->broken;
    xipc__frame_put(c->tx, (uint32_t)len);
    xipc_deadline d = xipc__deadline(c->reserve_timeout);
    xipc_plat_iov v = {c->tx, XIPC_FRAME_HDR + len};
    size_t sent = 0;
    xipc_err rv = c->io->sendv(c->io_ctx, c->fd, &v, 1, &sent, &d);
    if (rv == XIPC_ETIMEDOUT && sent > 0) {
        c->tx_off = sent; /* the rest stays in tx, sent before the next */
        c->tx_len = XIPC_FRAME_HDR + len;
        return XIPC_OK;
    }
    if (rv != XIPC_OK && rv != XIPC_ETIMEDOUT)
        c->broken = rv;
    return rv;
}

/* ---- the rest -------------------------------------------------------------- */

void xipc__stream_listener_allow(xipc_stream_listener *l, const xipc_opts *opts)
{
    l->check_uid = 1;
    l->allow_uid_count = opts->allow_uid_count;
    memcpy(l->allow_uid, opts->allow_uid, sizeof(l->allow_uid));
    if (l->allow_uid_count == 0) { /* the default: our own user only */
        l->allow_uid[0] = xipc_plat_getuid();
        l->allow_uid_count = 1;
    }
}

/* Is the peer on @p fd in the listener's allow list? */
static int stream_allowed(const xipc_stream_listener *l, xipc_plat_sock fd)
{
    uint32_t pid, uid;
    if (!l->check_uid)
        return 1;
    if (xipc_plat_sock_peer(fd, &pid, &uid) != XIPC_OK)
        return 0;
    for (uint32_t i = 0; i < l->allow_uid_count; i++)
        if (l->allow_uid[i] == uid)
            return 1;
    return 0;
}

xipc_err xipc__stream_accept(xipc_sock *ls, xipc_sock **out, int timeout_ms)
{
    xipc_stream_listener *l = (xipc_stream_listener *)ls;
    xipc_deadline d = xipc__deadline(timeout_ms);
    for (;;) {
        xipc_plat_sock fd;
        xipc_err rv = xipc_plat_sock_accept(l->fd, xipc__deadline_left_ms(&d), &fd);
        if (rv != XIPC_OK)
            return rv;
        if (stream_allowed(l, fd))
            return xipc__stream_new(out, ls->tran, fd, l->max_msg, l->url);
        xipc_plat_sock_close(fd); /* not on the list: the peer sees ECLOSED */
        ls->stats.refused++;
    }
}

xipc_err xipc__stream_peer_uid(xipc_sock *s, uint32_t *uid)
{
    xipc_stream *c = (xipc_stream *)s;
    if (!c->has_peer_uid)
        return XIPC_ENOTSUP;
    *uid = c->peer_uid;
    return XIPC_OK;
}

xipc_err xipc__stream_peer_pid(xipc_sock *s, uint32_t *pid)
{
    *pid = ((xipc_stream *)s)->peer_pid;
    return XIPC_OK;
}

xipc_err xipc__stream_fd(xipc_sock *s, intptr_t *fd)
{
    *fd = s->listener ? ((xipc_stream_listener *)s)->fd : ((xipc_stream *)s)->fd;
    return XIPC_OK;
}

xipc_err xipc__stream_url(xipc_sock *s, char *buf, size_t cap)
{
    const char *url = s->listener ? ((xipc_stream_listener *)s)->url
                                  : ((xipc_stream *)s)->url;
    size_t n = strlen(url);
    if (n >= cap)
        return XIPC_EMSGSIZE;
    memcpy(buf, url, n + 1);
    return XIPC_OK;
}

static void stream_free(xipc_stream *c)
{
    c->io->close(c->io_ctx, c->fd);
    free(c->rx);
    free(c->tx);
    free(c);
}

static void stream_linger(void *arg)
{
    xipc_stream *c = arg;
    xipc_deadline d = xipc__deadline(XIPC_STREAM_LINGER_MS);
    stream_flush(c, &d);
    stream_free(c);
}

void xipc__stream_close(xipc_sock *s)
{
    if (s->listener) {
        xipc_stream_listener *l = (xipc_stream_listener *)s;
        xipc_plat_sock_close(l->fd);
        if (l->path[0])
            xipc_plat_unlink(l->path);
        if (l->pidfile[0])
            xipc_plat_unlink(l->pidfile);
        free(l);
        return;
    }
    xipc_stream *c = (xipc_stream *)s;
    if (c->tx_off < c->tx_len && !c->broken) {
        xipc_deadline d = xipc__deadline(0);
        /* a frame a timeout interrupted was promised to the peer: finish
         * it in the background, as the kernel does with its own buffers */
        if (stream_flush(c, &d) == XIPC_ETIMEDOUT &&
            xipc_plat_thread_detached(stream_linger, c) == XIPC_OK)
            return;
    }
    stream_free(c);
}
