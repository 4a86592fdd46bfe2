/*
 * pubsub://NAME — publish/subscribe over shared memory. The publisher
 * (xipc_listen) writes each message once into a broadcast ring
 * (src/ring/bcast.h); every subscriber (xipc_dial) reads it in place.
 *
 * What a subscriber gets, and why it cannot disturb the others
 * (docs/SECURITY.md): the publisher listens on a Unix message socket at
 * <rundir>/pubsub/NAME; a thread of its own hands each subscriber that
 * connects two descriptors and hangs up:
 *  - the ring: a memfd sealed against resizing and, after the
 *    publisher's own mapping, against every new writable mapping
 *    (F_SEAL_FUTURE_WRITE). A subscriber maps it read-only and refuses
 *    one without that seal, so no subscriber can move the head, close the
 *    stream or write a slot, and none can shrink it under the others;
 *  - the signals page (data_seq, waiting: the wake-up words), the one
 *    thing subscribers write. A hostile subscriber can make sleepers wake
 *    for nothing (a storm costs bounded CPU, wait.h) or sleep out a slice
 *    (10 ms), never make them read a wrong message.
 * A subscriber watches the publisher through a pidfd of the pid the
 * kernel gave for the socket (SO_PEERCRED), not one written in memory.
 *
 * Both ends are connections (sock.listener = 0) with a table each: the
 * publisher's has send/reserve/commit, the subscriber's recv/peek/release;
 * the operations an end lacks are NULL, so the generic layer answers
 * XIPC_ENOTSUP. The publisher never blocks; a lapped subscriber gets
 * XIPC_EOVERRUN with the count of lost messages (also added to its
 * stats.lost). docs/pubsub.md has the whole story.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/transport.h"
#include "ring/bcast.h"
#include "ring/wait.h"
#include "transport/named_sock.h"
#include "transport/pubsub_layout.h"

#define PUBSUB_PATH_MAX XIPC_NAMED_SOCK_MAX
#define PUBSUB_POLL_MS 50 /* the hand-out thread looks at its stop flag */
/* A dial waits this long for the hand-out at least, even with a shorter
 * timeout: the publisher's thread answers at once, but is a thread. */
#define PUBSUB_HANDOUT_MS 1000

typedef struct pubsub_sock {
    xipc_sock sock;
    xipc_plat_shm seg; /* the ring */
    xipc_plat_shm sig; /* the signals page */
    xipc_bcast bc;
    xipc_plat_proc peer; /* subscriber: the publisher's process */
    /* publisher: the rendezvous socket and the thread that hands out */
    xipc_plat_sock fd;
    xipc_plat_thread thread;
    int thread_started;
    _Atomic int stop;
    char path[PUBSUB_PATH_MAX];
    char pidfile[PUBSUB_PATH_MAX + 8];
    char name[XIPC_NAME_MAX + 1];
} pubsub_sock;

extern const xipc_tran xipc_pubsub_tran;
static const xipc_tran pubsub_sub_tran;

static pubsub_sock *pubsub_alloc(const xipc_tran *t, const char *name)
{
    pubsub_sock *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->sock.tran = t;
    p->sock.listener = 0;
    p->seg.handle = -1;
    p->sig.handle = -1;
    p->peer.handle = -1;
    p->fd = XIPC_PLAT_SOCK_NONE;
    snprintf(p->name, sizeof(p->name), "%.64s", name);
    return p;
}

static void pubsub_free(pubsub_sock *p)
{
    xipc_plat_proc_close(&p->peer);
    xipc_plat_shm_unmap(&p->seg);
    xipc_plat_shm_unmap(&p->sig);
    free(p);
}

/* ---- publisher ------------------------------------------------------------- */

/* Hand a subscriber the ring and the signals page, then hang up: the
 * publisher keeps nothing per subscriber. */
static void pubsub_hand_out(pubsub_sock *p, xipc_plat_sock c)
{
    xipc_pubsub_hello ring = {XIPC_PUBSUB_MAGIC, XIPC_BCAST_VERSION, XIPC_PUBSUB_RING,
                              (uint32_t)(sizeof(void *) * 8), p->seg.size};
    xipc_pubsub_hello sig = {XIPC_PUBSUB_MAGIC, XIPC_BCAST_VERSION, XIPC_PUBSUB_SIGNALS,
                             (uint32_t)(sizeof(void *) * 8), p->sig.size};
    /* a fresh socket's buffer takes two small messages at once; if not,
     * the subscriber sees the hang-up and says so */
    if (xipc_plat_sock_send_handle(c, &ring, sizeof(ring), p->seg.handle) == XIPC_OK)
        xipc_plat_sock_send_handle(c, &sig, sizeof(sig), p->sig.handle);
    xipc_plat_sock_close(c);
}

static void pubsub_thread_main(void *arg)
{
    pubsub_sock *p = arg;
    while (!atomic_load(&p->stop)) {
        xipc_plat_sock c;
        while (xipc_plat_sock_accept(p->fd, 0, &c) == XIPC_OK)
            pubsub_hand_out(p, c);
        if (xipc_plat_sock_wait_any(&p->fd, 1, PUBSUB_POLL_MS) == XIPC_ESYS)
            xipc_plat_sleep_us(PUBSUB_POLL_MS * 1000u); /* out of descriptors */
    }
}

static xipc_err pubsub_listen(xipc_sock **out, const xipc_url *url,
                              const xipc_opts *opts)
{
    uint64_t size = xipc_bcast_seg_size(opts->pub_slots, opts->pub_slot_size);
    if (size > (uint64_t)SIZE_MAX / 2)
        return XIPC_ENOMEM;
    pubsub_sock *p = pubsub_alloc(&xipc_pubsub_tran, url->rest);
    if (p == NULL)
        return XIPC_ENOMEM;
    xipc_err rv = xipc__named_sock_path("pubsub", url->rest, p->path, sizeof(p->path));
    /* the ring: writable through this mapping only (F_SEAL_FUTURE_WRITE) */
    if (rv == XIPC_OK)
        rv = xipc_plat_shm_anon(&p->seg, (size_t)size, 1);
    if (rv == XIPC_OK)
        rv = xipc_plat_shm_anon(&p->sig, XIPC_PUBSUB_SIG_SIZE, 0);
    if (rv == XIPC_OK) {
        xipc_bcast_format(p->seg.base, opts->pub_slots, opts->pub_slot_size,
                          xipc_plat_getpid());
        rv = xipc_bcast_attach(&p->bc, p->seg.base, p->seg.size, p->sig.base,
                               XIPC_BCAST_PUBLISHER, opts->spin_us, NULL);
    }
    /* a stale socket file (its publisher died) is replaced */
    if (rv == XIPC_OK)
        rv = xipc_plat_msgsock_listen(p->path, (int)opts->backlog, &p->fd);
    if (rv == XIPC_OK) {
        rv = xipc_plat_thread_create(&p->thread, pubsub_thread_main, p);
        p->thread_started = rv == XIPC_OK;
        if (rv != XIPC_OK) {
            xipc_plat_sock_close(p->fd);
            xipc_plat_unlink(p->path);
        }
    }
    if (rv != XIPC_OK) {
        pubsub_free(p);
        return rv;
    }
    snprintf(p->pidfile, sizeof(p->pidfile), "%s.pid", p->path);
    xipc_plat_pidfile_write(p->pidfile); /* for xipc_endpoints: failure is harmless */
    *out = &p->sock;
    return XIPC_OK;
}

static xipc_err pubsub_send(xipc_sock *s, const void *buf, size_t len,
                            int timeout_ms)
{
    (void)timeout_ms; /* never waits */
    return xipc_bcast_send(&((pubsub_sock *)s)->bc, buf, len);
}

static xipc_err pubsub_reserve(xipc_sock *s, size_t len, void **buf,
                               int timeout_ms)
{
    (void)timeout_ms;
    return xipc_bcast_reserve(&((pubsub_sock *)s)->bc, len, buf);
}

static xipc_err pubsub_commit(xipc_sock *s, size_t len)
{
    return xipc_bcast_commit(&((pubsub_sock *)s)->bc, len);
}

/* ---- subscriber ------------------------------------------------------------ */

/*
 * Take one of the publisher's messages: a hello of kind @p what with its
 * descriptor, waiting up to the deadline. The segment is mapped read-only
 * for the ring, which must then carry F_SEAL_FUTURE_WRITE (nobody but the
 * publisher can write it), read-write for the signals page.
 */
static xipc_err pubsub_take(xipc_plat_sock fd, uint32_t what, xipc_plat_shm *m,
                            xipc_deadline *d)
{
    for (;;) {
        xipc_pubsub_hello h;
        size_t n;
        intptr_t hd;
        xipc_err rv = xipc_plat_sock_recv_handle(fd, &h, sizeof(h), &n, &hd);
        if (rv == XIPC_OK) {
            int ring = what == XIPC_PUBSUB_RING;
            if (n != sizeof(h) || hd < 0 || h.magic != XIPC_PUBSUB_MAGIC ||
                h.version != XIPC_BCAST_VERSION || h.what != what ||
                h.size > (uint64_t)SIZE_MAX / 2 ||
                (ring ? h.size < XIPC_BCAST_DATA_OFF : h.size != XIPC_PUBSUB_SIG_SIZE)) {
                xipc_plat_handle_close(hd);
                return XIPC_EPROTO;
            }
            return xipc_plat_shm_adopt(m, hd, (size_t)h.size, !ring);
        }
        if (rv == XIPC_ECLOSED)
            return XIPC_ECONNREFUSED; /* the publisher went meanwhile */
        uint32_t slice;
        if (rv != XIPC_ETIMEDOUT || (rv = xipc__deadline_slice(d, &slice)) != XIPC_OK)
            return rv;
        rv = xipc_plat_sock_wait(fd, 0, (int)((slice + 999u) / 1000u));
        if (rv != XIPC_OK && rv != XIPC_ETIMEDOUT)
            return rv;
    }
}

static xipc_err pubsub_dial(xipc_sock **out, const xipc_url *url,
                            const xipc_opts *opts, int timeout_ms)
{
    pubsub_sock *p = pubsub_alloc(&pubsub_sub_tran, url->rest);
    if (p == NULL)
        return XIPC_ENOMEM;
    xipc_deadline d = xipc__deadline(timeout_ms < 0                  ? -1
                                     : timeout_ms < PUBSUB_HANDOUT_MS ? PUBSUB_HANDOUT_MS
                                                                      : timeout_ms);
    xipc_err rv = xipc__named_sock_path("pubsub", url->rest, p->path, sizeof(p->path));
    xipc_plat_sock fd = XIPC_PLAT_SOCK_NONE;
    if (rv == XIPC_OK)
        rv = xipc_plat_msgsock_dial(p->path, timeout_ms, &fd);
    uint32_t pid = 0, uid = 0;
    if (rv == XIPC_OK && (xipc_plat_sock_peer(fd, &pid, &uid) != XIPC_OK ||
                          uid != xipc_plat_getuid()))
        rv = XIPC_EPERM; /* our private folder holds only our sockets */
    if (rv == XIPC_OK)
        rv = pubsub_take(fd, XIPC_PUBSUB_RING, &p->seg, &d);
    if (rv == XIPC_OK)
        rv = pubsub_take(fd, XIPC_PUBSUB_SIGNALS, &p->sig, &d);
    xipc_plat_sock_close(fd);
    if (rv == XIPC_OK) {
        xipc_plat_proc_open(&p->peer, pid); /* from the kernel, not the ring */
        rv = xipc_bcast_attach(&p->bc, p->seg.base, p->seg.size, p->sig.base,
                               XIPC_BCAST_SUBSCRIBER, opts->spin_us, &p->peer);
    }
    /* a publisher closing right now */
    if (rv == XIPC_OK && (xipc_bcast_closed(&p->bc) || !xipc_plat_proc_alive(&p->peer)))
        rv = XIPC_ECONNREFUSED;
    if (rv != XIPC_OK) {
        pubsub_free(p);
        return rv;
    }
    *out = &p->sock;
    return XIPC_OK;
}

/* Count what an XIPC_EOVERRUN reported. */
static xipc_err pubsub_lost(pubsub_sock *p, xipc_err rv)
{
    if (rv == XIPC_EOVERRUN)
        p->sock.stats.lost += p->bc.last_lost;
    return rv;
}

static xipc_err pubsub_recv(xipc_sock *s, void *buf, size_t cap, size_t *len,
                            int timeout_ms)
{
    pubsub_sock *p = (pubsub_sock *)s;
    return pubsub_lost(p, xipc_bcast_recv(&p->bc, buf, cap, len, timeout_ms));
}

static xipc_err pubsub_peek(xipc_sock *s, const void **buf, size_t *len,
                            int timeout_ms)
{
    pubsub_sock *p = (pubsub_sock *)s;
    return pubsub_lost(p, xipc_bcast_peek(&p->bc, buf, len, timeout_ms));
}

static xipc_err pubsub_release(xipc_sock *s)
{
    pubsub_sock *p = (pubsub_sock *)s;
    return pubsub_lost(p, xipc_bcast_release(&p->bc));
}

/* ---- both ------------------------------------------------------------------ */

static xipc_err pubsub_peer_pid(xipc_sock *s, uint32_t *pid)
{
    /* a subscriber's peer is the publisher; a publisher has many peers */
    *pid = ((pubsub_sock *)s)->peer.pid;
    return XIPC_OK;
}

static xipc_err pubsub_url(xipc_sock *s, char *buf, size_t cap)
{
    return xipc__url_format(buf, cap, "pubsub", ((pubsub_sock *)s)->name);
}

static void pubsub_close(xipc_sock *s)
{
    pubsub_sock *p = (pubsub_sock *)s;
    if (p->bc.role == XIPC_BCAST_PUBLISHER && p->bc.hdr != NULL) {
        /* no new subscriber first, then the end of the stream */
        atomic_store(&p->stop, 1);
        if (p->thread_started)
            xipc_plat_thread_join(&p->thread);
        xipc_plat_sock_close(p->fd);
        xipc_plat_unlink(p->path);
        xipc_plat_unlink(p->pidfile);
        xipc_bcast_close(&p->bc);
    }
    pubsub_free(p);
}

/* ---- listing (xipc_endpoints) --------------------------------------------- */

static xipc_err pubsub_list(void (*fn)(const xipc_endpoint_info *, void *),
                            void *arg)
{
    return xipc__named_sock_list("pubsub", "pubsub", "pubsub", fn, arg);
}

const xipc_tran xipc_pubsub_tran = {
    .scheme = "pubsub",
    .listen = pubsub_listen,
    .dial = pubsub_dial,
    .send = pubsub_send,
    .reserve = pubsub_reserve,
    .commit = pubsub_commit,
    .peer_pid = pubsub_peer_pid,
    .url = pubsub_url,
    .close = pubsub_close,
    .list = pubsub_list,
};

static const xipc_tran pubsub_sub_tran = {
    .scheme = "pubsub",
    .listen = pubsub_listen,
    .dial = pubsub_dial,
    .recv = pubsub_recv,
    .peek = pubsub_peek,
    .release = pubsub_release,
    .peer_pid = pubsub_peer_pid,
    .url = pubsub_url,
    .close = pubsub_close,
};
