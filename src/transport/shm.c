/*
 * shm://NAME — a message channel over shared memory: one sealed segment
 * per connection holding two SPSC rings, handed over a Unix message socket
 * that then stays open to tell each side whether the other lives (see
 * shm_layout.h for the handshake, docs/SECURITY.md for what it defends).
 *
 * What comes from the peer, and how it is trusted:
 *  - the offer message: copied, checked once (shm_take);
 *  - the segment: refused unless sealed against resizing and exactly the
 *    size the offer implies (xipc_plat_shm_adopt), so it can never shrink
 *    under our mapping; its header is checked once, then never read again;
 *  - the rings' headers: xipc_ring_attach copies capacity and placement
 *    once; after that a producer re-validates tail at each use and a
 *    consumer reads only record headers, each checked (ring.c);
 *  - who the peer is and whether it lives: from the kernel only (the
 *    connection socket: SO_PEERCRED, hang-up).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pidfile.h"
#include "core/transport.h"
#include "ring/ring.h"
#include "ring/wait.h"
#include "transport/named_sock.h"
#include "transport/shm_layout.h"

#define SHM_PATH_MAX XIPC_NAMED_SOCK_MAX
/* An accepted connection has this long to deliver its offer (a client
 * sends it right after connecting); until then it waits parked, so a
 * slow or silent one never holds up the others. */
#define SHM_OFFER_MS 1000u

typedef struct shm_parked {
    xipc_plat_sock fd;
    uint64_t until_ns; /* dropped after this */
} shm_parked;

typedef struct shm_listener {
    xipc_sock sock;
    xipc_plat_sock fd;   /* the rendezvous socket */
    shm_parked *parked;  /* accepted, offer not read yet; oldest first */
    uint32_t nparked, cap_parked;
    xipc_plat_sock *waitset; /* fd and the parked ones, for waiting */
    char path[SHM_PATH_MAX];
    char pidfile[SHM_PATH_MAX + 8];
    char name[XIPC_NAME_MAX + 1];
    xipc_opts opts;
} shm_listener;

typedef struct shm_conn {
    xipc_sock sock;
    xipc_plat_shm seg;
    xipc_ring tx, rx;
    xipc_plat_proc peer; /* the connection socket: the peer's life and pid */
    uint32_t peer_uid;
    char name[XIPC_NAME_MAX + 1];
} shm_conn;

extern const xipc_tran xipc_shm_tran;

static int shm_cap_ok(uint64_t cap)
{
    return cap >= 4096 && cap <= (1u << 30) && (cap & (cap - 1)) == 0;
}

/* ---- connections ------------------------------------------------------------ */

static shm_conn *shm_conn_alloc(const char *name)
{
    shm_conn *c = calloc(1, sizeof(*c));
    if (c != NULL) {
        c->sock.tran = &xipc_shm_tran;
        c->seg.handle = -1;
        c->peer.handle = -1;
        snprintf(c->name, sizeof(c->name), "%.64s", name);
    }
    return c;
}

static void shm_conn_free(shm_conn *c)
{
    xipc_plat_proc_close(&c->peer);
    xipc_plat_shm_unmap(&c->seg);
    free(c);
}

static xipc_err shm_conn_attach(shm_conn *c, int client, uint32_t spin_us)
{
    void *base = c->seg.base;
    uint64_t size = c->seg.size;
    xipc_err rv = xipc_ring_attach(client ? &c->tx : &c->rx, base, size, XIPC_CONN_RING0_OFF,
                                   client ? XIPC_RING_PRODUCER : XIPC_RING_CONSUMER,
                                   spin_us, &c->peer);
    if (rv == XIPC_OK)
        rv = xipc_ring_attach(client ? &c->rx : &c->tx, base, size, XIPC_CONN_RING1_OFF,
                              client ? XIPC_RING_CONSUMER : XIPC_RING_PRODUCER,
                              spin_us, &c->peer);
    return rv;
}

/* Client: header and rings of a new segment. */
static void shm_conn_format(xipc_plat_shm *seg, uint64_t cap)
{
    xipc_conn_hdr *h = (xipc_conn_hdr *)seg->base;
    h->magic = XIPC_CONN_MAGIC;
    h->version = XIPC_SHM_VERSION;
    h->total_size = seg->size;
    h->ring_capacity = cap;
    h->creator_bits = (uint32_t)(sizeof(void *) * 8);
    h->ring_off[0] = XIPC_CONN_RING0_OFF;
    h->ring_off[1] = XIPC_CONN_RING1_OFF;
    uint8_t *b = (uint8_t *)seg->base;
    xipc_ring_format((xipc_ring_hdr *)(b + XIPC_CONN_RING0_OFF), cap, XIPC_CONN_DATA_OFF);
    xipc_ring_format((xipc_ring_hdr *)(b + XIPC_CONN_RING1_OFF), cap,
                     XIPC_CONN_DATA_OFF + cap);
}

/* Server: the header the client wrote, checked once against what the
 * offer said and the segment's real size; never read again. */
static int shm_hdr_ok(const xipc_plat_shm *seg, uint64_t cap)
{
    xipc_conn_hdr h;
    memcpy(&h, seg->base, sizeof(h)); /* one copy: the client may change it */
    return h.magic == XIPC_CONN_MAGIC && h.version == XIPC_SHM_VERSION &&
           h.total_size == seg->size && h.ring_capacity == cap &&
           h.ring_off[0] == XIPC_CONN_RING0_OFF && h.ring_off[1] == XIPC_CONN_RING1_OFF;
}

/* ---- listening ---------------------------------------------------------------- */

static xipc_err shm_listen(xipc_sock **out, const xipc_url *url,
                           const xipc_opts *opts)
{
    shm_listener *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return XIPC_ENOMEM;
    l->sock.tran = &xipc_shm_tran;
    l->sock.listener = 1;
    l->opts = *opts;
    l->fd = XIPC_PLAT_SOCK_NONE;
    snprintf(l->name, sizeof(l->name), "%.64s", url->rest);
    l->cap_parked = opts->backlog;
    l->parked = calloc(l->cap_parked, sizeof(*l->parked));
    l->waitset = calloc(l->cap_parked + 1, sizeof(*l->waitset));
    xipc_err rv = l->parked != NULL && l->waitset != NULL ? XIPC_OK : XIPC_ENOMEM;
    if (rv == XIPC_OK)
        rv = xipc__named_sock_path("shm", url->rest, l->path, sizeof(l->path));
    /* a stale socket file (its listener died) is replaced; Linux queues
     * one connection more than listen()'s backlog */
    if (rv == XIPC_OK)
        rv = xipc_plat_msgsock_listen(l->path, (int)opts->backlog - 1, &l->fd);
    if (rv != XIPC_OK) {
        free(l->parked);
        free(l->waitset);
        free(l);
        return rv;
    }
    snprintf(l->pidfile, sizeof(l->pidfile), "%s.pid", l->path);
    xipc__pidfile_write(l->pidfile); /* for xipc_endpoints: failure is harmless */
    *out = &l->sock;
    return XIPC_OK;
}

/*
 * Server: take the offer of connection @p fd. XIPC_ETIMEDOUT: not there
 * yet (@p fd stays parked). Otherwise @p fd is used up: a connection on
 * XIPC_OK, else it was closed (a refused or vanished client).
 */
static xipc_err shm_take(shm_listener *l, xipc_plat_sock fd, shm_conn **out)
{
    xipc_shm_offer o;
    size_t n;
    intptr_t h;
    xipc_err rv = xipc_plat_sock_recv_handle(fd, &o, sizeof(o), &n, &h);
    if (rv == XIPC_ETIMEDOUT)
        return rv;
    uint32_t pid = 0, uid = UINT32_MAX;
    if (rv == XIPC_OK && (n != sizeof(o) || h < 0 || o.magic != XIPC_OFFER_MAGIC ||
                          o.version != XIPC_SHM_VERSION || !shm_cap_ok(o.ring_capacity) ||
                          xipc_plat_sock_peer(fd, &pid, &uid) != XIPC_OK ||
                          uid != xipc_plat_getuid()))
        rv = XIPC_EPROTO; /* not an offer, or not from our own user */
    shm_conn *c = NULL;
    if (rv == XIPC_OK && (c = shm_conn_alloc(l->name)) == NULL)
        rv = XIPC_ENOMEM;
    if (rv == XIPC_OK) {
        rv = xipc_plat_shm_adopt(&c->seg, h, XIPC_CONN_DATA_OFF + 2 * o.ring_capacity, 1);
        h = -1; /* taken */
        if (rv == XIPC_OK && !shm_hdr_ok(&c->seg, o.ring_capacity))
            rv = XIPC_EPROTO;
    }
    if (rv == XIPC_OK) {
        xipc_plat_proc_watch(&c->peer, fd, pid);
        fd = XIPC_PLAT_SOCK_NONE; /* the connection's now */
        c->peer_uid = uid;
        rv = shm_conn_attach(c, 0, l->opts.spin_us);
    }
    xipc_plat_handle_close(h);
    xipc_plat_sock_close(fd);
    if (rv != XIPC_OK) {
        if (c != NULL)
            shm_conn_free(c);
        return rv;
    }
    *out = c;
    return XIPC_OK;
}

/* Accept the connections the kernel has queued, while there is room. */
static xipc_err shm_park_new(shm_listener *l)
{
    while (l->nparked < l->cap_parked) {
        xipc_plat_sock fd;
        xipc_err rv = xipc_plat_sock_accept(l->fd, 0, &fd);
        if (rv == XIPC_ETIMEDOUT)
            return XIPC_OK;
        if (rv != XIPC_OK)
            return rv; /* out of descriptors: the caller says so */
        shm_parked *p = &l->parked[l->nparked++];
        p->fd = fd;
        p->until_ns = xipc_plat_now_ns() + (uint64_t)SHM_OFFER_MS * 1000000u;
    }
    return XIPC_OK;
}

static void shm_unpark(shm_listener *l, uint32_t i)
{
    memmove(&l->parked[i], &l->parked[i + 1], (l->nparked - i - 1) * sizeof(l->parked[0]));
    l->nparked--;
}

/* The oldest parked connection whose offer is good. XIPC_ETIMEDOUT: none
 * ready; the bad, vanished and overdue ones are dropped on the way. */
static xipc_err shm_take_parked(shm_listener *l, shm_conn **out)
{
    uint64_t now = 0;
    for (uint32_t i = 0; i < l->nparked;) {
        xipc_plat_sock fd = l->parked[i].fd;
        xipc_err rv = shm_take(l, fd, out);
        if (rv == XIPC_ETIMEDOUT) {
            if (now == 0)
                now = xipc_plat_now_ns();
            if (now < l->parked[i].until_ns) {
                i++;
                continue;
            }
            xipc_plat_sock_close(fd); /* silent too long */
        }
        shm_unpark(l, i);
        if (rv == XIPC_OK)
            return XIPC_OK;
        if (rv == XIPC_ENOMEM)
            return rv;
    }
    return XIPC_ETIMEDOUT;
}

static xipc_err shm_accept(xipc_sock *ls, xipc_sock **out, int timeout_ms)
{
    shm_listener *l = (shm_listener *)ls;
    xipc_deadline deadline = xipc__deadline(timeout_ms);
    for (;;) {
        xipc_err prv = shm_park_new(l);
        shm_conn *c = NULL;
        xipc_err rv = shm_take_parked(l, &c);
        if (rv == XIPC_OK) {
            *out = &c->sock;
            return XIPC_OK;
        }
        if (rv != XIPC_ETIMEDOUT)
            return rv;
        if (prv != XIPC_OK && l->nparked == 0)
            return prv; /* nothing parked to wait for: say why */
        uint32_t slice;
        if (timeout_ms == 0 || xipc__deadline_slice(&deadline, XIPC_WAIT_SLICE_US, &slice) != XIPC_OK)
            return XIPC_ETIMEDOUT;
        /* new connections, and offers of the parked ones; a slice at most,
         * so that an overdue parked one is dropped in time */
        unsigned n = 0;
        if (l->nparked < l->cap_parked)
            l->waitset[n++] = l->fd;
        for (uint32_t i = 0; i < l->nparked; i++)
            l->waitset[n++] = l->parked[i].fd;
        int ms = (int)((slice + 999u) / 1000u);
        if (n == 0)
            xipc_plat_sleep_us(slice); /* cannot happen: cap_parked >= 1 */
        else if ((rv = xipc_plat_sock_wait_any(l->waitset, n, ms)) != XIPC_OK &&
                 rv != XIPC_ETIMEDOUT)
            return rv;
    }
}

/* ---- dialling ----------------------------------------------------------------- */

static xipc_err shm_dial(xipc_sock **out, const xipc_url *url,
                         const xipc_opts *opts, int timeout_ms)
{
    char path[SHM_PATH_MAX];
    xipc_err rv = xipc__named_sock_path("shm", url->rest, path, sizeof(path));
    if (rv != XIPC_OK)
        return rv;
    shm_conn *c = shm_conn_alloc(url->rest);
    if (c == NULL)
        return XIPC_ENOMEM;
    uint64_t cap = opts->ring_capacity;
    /* the segment is complete and sealed before anyone can see it */
    rv = xipc_plat_shm_anon(&c->seg, (size_t)(XIPC_CONN_DATA_OFF + 2 * cap), 0);
    if (rv == XIPC_OK)
        shm_conn_format(&c->seg, cap);
    xipc_plat_sock fd = XIPC_PLAT_SOCK_NONE;
    if (rv == XIPC_OK)
        rv = xipc_plat_msgsock_dial(path, timeout_ms, &fd);
    uint32_t pid = 0, uid = 0;
    if (rv == XIPC_OK && xipc_plat_sock_peer(fd, &pid, &uid) != XIPC_OK)
        rv = XIPC_ECONNREFUSED; /* the listener died as we connected: Windows
                                   cannot name a dead pipe server's process */
    else if (rv == XIPC_OK && uid != xipc_plat_getuid())
        rv = XIPC_EPERM; /* our private folder holds only our sockets */
    if (rv == XIPC_OK) {
        xipc_shm_offer o = {XIPC_OFFER_MAGIC, XIPC_SHM_VERSION,
                            (uint32_t)(sizeof(void *) * 8), 0, cap};
        /* a fresh socket's buffer takes one small message at once */
        rv = xipc_plat_sock_send_handle(fd, &o, sizeof(o), c->seg.handle);
        if (rv == XIPC_EBUSY)
            rv = XIPC_ESYS;
        if (rv == XIPC_ECLOSED)
            rv = XIPC_ECONNREFUSED; /* the listener closed meanwhile */
    }
    /* like a TCP connect into the backlog: done once the offer is queued;
     * the kernel holds the segment for the listener until it accepts */
    xipc_plat_handle_close(c->seg.handle);
    c->seg.handle = -1;
    if (rv == XIPC_OK) {
        xipc_plat_proc_watch(&c->peer, fd, pid);
        fd = XIPC_PLAT_SOCK_NONE;
        c->peer_uid = uid;
        rv = shm_conn_attach(c, 1, opts->spin_us);
    }
    xipc_plat_sock_close(fd);
    if (rv != XIPC_OK) {
        shm_conn_free(c);
        return rv;
    }
    *out = &c->sock;
    return XIPC_OK;
}

/* ---- data path ----------------------------------------------------------- */

static xipc_err shm_send(xipc_sock *s, const void *buf, size_t len, int timeout_ms)
{
    return xipc_ring_send(&((shm_conn *)s)->tx, buf, len, timeout_ms);
}

static xipc_err shm_recv(xipc_sock *s, void *buf, size_t cap, size_t *len,
                         int timeout_ms)
{
    return xipc_ring_recv(&((shm_conn *)s)->rx, buf, cap, len, timeout_ms);
}

static xipc_err shm_reserve(xipc_sock *s, size_t len, void **buf, int timeout_ms)
{
    return xipc_ring_reserve(&((shm_conn *)s)->tx, len, buf, timeout_ms);
}

static xipc_err shm_commit(xipc_sock *s, size_t len)
{
    return xipc_ring_commit(&((shm_conn *)s)->tx, len);
}

static xipc_err shm_peek(xipc_sock *s, const void **buf, size_t *len, int timeout_ms)
{
    return xipc_ring_peek(&((shm_conn *)s)->rx, buf, len, timeout_ms);
}

static xipc_err shm_release(xipc_sock *s)
{
    return xipc_ring_release(&((shm_conn *)s)->rx);
}

/* Both from the kernel (SO_PEERCRED on the connection socket): the peer
 * is always our own user, since the listener refuses others. */
static xipc_err shm_peer_uid(xipc_sock *s, uint32_t *uid)
{
    *uid = ((shm_conn *)s)->peer_uid;
    return XIPC_OK;
}

static xipc_err shm_peer_pid(xipc_sock *s, uint32_t *pid)
{
    *pid = ((shm_conn *)s)->peer.pid;
    return XIPC_OK;
}

static xipc_err shm_url(xipc_sock *s, char *buf, size_t cap)
{
    const char *name = s->listener ? ((shm_listener *)s)->name : ((shm_conn *)s)->name;
    return xipc__url_format(buf, cap, "shm", name);
}

/*
 * A listener closing: the kernel refuses the connections still queued, so
 * their clients see the socket hang up (XIPC_ECLOSED, after what the
 * listener never read). A connection closing: the rings are marked
 * closed, then the socket goes, and with it the peer's view of us.
 */
static void shm_close(xipc_sock *s)
{
    if (s->listener) {
        shm_listener *l = (shm_listener *)s;
        xipc_plat_sock_close(l->fd);
        for (uint32_t i = 0; i < l->nparked; i++)
            xipc_plat_sock_close(l->parked[i].fd);
        xipc_plat_unlink(l->path);
        xipc_plat_unlink(l->pidfile);
        free(l->parked);
        free(l->waitset);
        free(l);
        return;
    }
    shm_conn *c = (shm_conn *)s;
    xipc_ring_close(&c->tx);
    xipc_ring_close(&c->rx);
    shm_conn_free(c);
}

/* ---- listing (xipc_endpoints) --------------------------------------------- */

static xipc_err shm_list(void (*fn)(const xipc_endpoint_info *, void *), void *arg)
{
    return xipc__named_sock_list("shm", "shm", "shm listener", fn, arg);
}

const xipc_tran xipc_shm_tran = {
    .scheme = "shm",
    .listen = shm_listen,
    .dial = shm_dial,
    .accept = shm_accept,
    .send = shm_send,
    .recv = shm_recv,
    .reserve = shm_reserve,
    .commit = shm_commit,
    .peek = shm_peek,
    .release = shm_release,
    .peer_pid = shm_peer_pid,
    .peer_uid = shm_peer_uid,
    .url = shm_url,
    .close = shm_close,
    .list = shm_list,
};
