/*
 * The byte-stream face of a stream connection (core/transport.h): bare
 * bytes through the same socket, I/O layer (plain or TLS) and receive
 * buffer as the frames of stream.c, for a protocol that finds its own
 * message ends (MessagePack-RPC's stream mode).
 *
 * The receive buffer follows what arrives: it starts at RAW_RX_MIN bytes
 * (a typical call fits), a read wants at least half of rx_want free (less:
 * the buffer doubles), and a read that fills the free room doubles rx_want
 * up to RAW_CHUNK, so a busy connection reads in large pieces while one
 * that sent a byte holds RAW_RX_MIN. Trimming starts it over.
 */
#include <stdlib.h>

#include "transport/stream.h"

#define RAW_RX_MIN 1024u
#define RAW_CHUNK (64u << 10)

static xipc_err raw_sendv(xipc_sock *s, const xipc_plat_iov *iov, int n, size_t *sent,
                          int timeout_ms)
{
    xipc_stream *c = (xipc_stream *)s;
    if (c->broken)
        return c->broken;
    if (n < 1 || n > XIPC_RAW_IOV_MAX)
        return XIPC_EINVAL;
    xipc_plat_iov rest[XIPC_RAW_IOV_MAX];
    int m = 0;
    size_t skip = *sent;
    for (int i = 0; i < n; i++) { /* the pieces not written yet */
        if (skip >= iov[i].len) {
            skip -= iov[i].len;
            continue;
        }
        rest[m].base = (const uint8_t *)iov[i].base + skip;
        rest[m++].len = iov[i].len - skip;
        skip = 0;
    }
    xipc_deadline d = xipc__deadline(timeout_ms);
    size_t more = 0;
    xipc_err rv = m == 0 ? XIPC_OK : c->io->sendv(c->io_ctx, c->fd, rest, m, &more, &d);
    *sent += more;
    if (rv == XIPC_OK)
        XIPC_SOCK_COUNT(s, sent);
    else if (rv != XIPC_ETIMEDOUT)
        c->broken = rv;
    return rv;
}

static void raw_buffered(xipc_sock *s, const uint8_t **buf, size_t *len)
{
    xipc_stream *c = (xipc_stream *)s;
    *buf = c->rx != NULL ? c->rx + c->rx_beg : NULL; /* none before the first read */
    *len = c->rx_end - c->rx_beg;
}

static xipc_err raw_more(xipc_sock *s, size_t max, int timeout_ms)
{
    xipc_stream *c = (xipc_stream *)s;
    if (c->rx_want == 0)
        c->rx_want = RAW_RX_MIN;
    size_t have = c->rx_end - c->rx_beg;
    xipc_err rv = xipc__stream_rx_room(c, have + c->rx_want / 2, RAW_RX_MIN, max);
    if (rv != XIPC_OK)
        return rv;
    xipc_deadline d = xipc__deadline(timeout_ms);
    size_t got, room = c->rx_cap - c->rx_end;
    rv = c->io->recv(c->io_ctx, c->fd, c->rx + c->rx_end, room, &got, &d);
    if (rv == XIPC_OK) {
        c->rx_end += got;
        if (got == room && c->rx_want < RAW_CHUNK) /* more is likely waiting */
            c->rx_want *= 2;
    }
    /* not sticky: the end of the peer's input does not end our output
     * (answers to what came before still go out) */
    return rv;
}

static void raw_consume(xipc_sock *s, size_t n)
{
    xipc_stream *c = (xipc_stream *)s;
    c->rx_beg += n;
    if (c->rx_beg == c->rx_end)
        c->rx_beg = c->rx_end = 0;
    XIPC_SOCK_COUNT(s, received);
}

static size_t raw_trim(xipc_sock *s)
{
    xipc_stream *c = (xipc_stream *)s;
    size_t freed = c->rx_cap;
    if (freed == 0 || c->rx_beg != c->rx_end)
        return 0;
    free(c->rx);
    c->rx = NULL;
    c->rx_cap = c->rx_beg = c->rx_end = 0;
    c->rx_want = RAW_RX_MIN;
    return freed;
}

static size_t raw_held(xipc_sock *s)
{
    return ((xipc_stream *)s)->rx_cap;
}

const xipc_raw_ops xipc__stream_raw = {
    .sendv = raw_sendv,
    .buffered = raw_buffered,
    .more = raw_more,
    .consume = raw_consume,
    .trim = raw_trim,
    .held = raw_held,
};
