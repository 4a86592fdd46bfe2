/*
 * pubsub://NAME — publish/subscribe over shared memory. The publisher
 * (xipc_listen) creates one broadcast ring (src/ring/bcast.h) in the
 * segment "/xipc.<uid>.NAME#pub" and writes each message once; every
 * subscriber (xipc_dial) maps the same segment and reads it in place. '#'
 * cannot appear in NAME, so the name collides with no shm:// object.
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

#define PUBSUB_OBJ_MAX 96
#define PUBSUB_BUSY_MS 1000 /* longest wait for a header being written */

typedef struct pubsub_sock {
    xipc_sock sock;
    xipc_plat_shm seg;
    xipc_bcast bc;
    xipc_plat_proc peer; /* subscriber: the publisher's process */
    char name[XIPC_NAME_MAX + 1];
    char obj[PUBSUB_OBJ_MAX]; /* "/xipc.<uid>.NAME#pub" */
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
    p->peer.handle = -1;
    snprintf(p->name, sizeof(p->name), "%s", name);
    snprintf(p->obj, sizeof(p->obj), "/xipc.%u.%s#pub",
             (unsigned)xipc_plat_getuid(), p->name);
    return p;
}

static void pubsub_free(pubsub_sock *p)
{
    xipc_plat_proc_close(&p->peer);
    xipc_plat_shm_unmap(&p->seg);
    free(p);
}

/* Does a segment found under our name belong to a live publisher? */
static int pubsub_seg_live(xipc_plat_shm *m)
{
    if (m->size < sizeof(xipc_bcast_hdr))
        return 0;
    xipc_bcast_hdr *h = (xipc_bcast_hdr *)m->base;
    uint32_t magic = __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE);
    uint32_t pid = *(volatile uint32_t *)&h->pub_pid;
    /* published complete (xipc_plat_shm_publish): a zero header is garbage */
    if (magic != XIPC_BCAST_MAGIC)
        return 0;
    return !atomic_load(&h->closed) && xipc_plat_pid_alive(pid);
}

typedef struct pubsub_init {
    uint32_t slots, slot_size;
} pubsub_init;

static void pubsub_format(void *base, size_t size, void *arg)
{
    pubsub_init *in = arg;
    (void)size;
    xipc_bcast_format(base, in->slots, in->slot_size, xipc_plat_getpid());
}

/* Publish the formatted segment; reclaim one left by a dead publisher. */
static xipc_err pubsub_create(pubsub_sock *p, size_t size, pubsub_init *in)
{
    xipc_err rv = XIPC_EADDRINUSE;
    for (int attempt = 0; attempt < 4 && rv == XIPC_EADDRINUSE; attempt++) {
        rv = xipc_plat_shm_publish(&p->seg, p->obj, size, pubsub_format, in);
        if (rv != XIPC_EADDRINUSE)
            break;
        xipc_plat_shm old;
        xipc_err orv = xipc_plat_shm_open(&old, p->obj);
        if (orv == XIPC_ENOENT)
            continue; /* vanished meanwhile */
        if (orv == XIPC_EPERM)
            return XIPC_EPERM; /* someone else's object under our name */
        int live = 0;
        if (orv == XIPC_OK) {
            live = pubsub_seg_live(&old);
            xipc_plat_shm_unmap(&old);
        }
        if (live)
            return XIPC_EADDRINUSE;
        xipc_plat_shm_unlink(p->obj);
    }
    return rv;
}

static xipc_err pubsub_listen(xipc_sock **out, const xipc_url *url,
                              const xipc_opts *opts)
{
    if (xipc__name_check(url->rest) != XIPC_OK)
        return XIPC_EINVAL;
    uint64_t size = xipc_bcast_seg_size(opts->pub_slots, opts->pub_slot_size);
    if (size > (uint64_t)SIZE_MAX / 2)
        return XIPC_ENOMEM;
    pubsub_sock *p = pubsub_alloc(&xipc_pubsub_tran, url->rest);
    if (p == NULL)
        return XIPC_ENOMEM;
    pubsub_init in = {opts->pub_slots, opts->pub_slot_size};
    xipc_err rv = pubsub_create(p, (size_t)size, &in);
    if (rv != XIPC_OK) {
        free(p);
        return rv;
    }
    rv = xipc_bcast_attach(&p->bc, p->seg.base, p->seg.size,
                           XIPC_BCAST_PUBLISHER, opts->spin_us, NULL);
    if (rv != XIPC_OK) {
        xipc_plat_shm_unlink(p->obj);
        pubsub_free(p);
        return rv;
    }
    *out = &p->sock;
    return XIPC_OK;
}

/* Map and check the publisher's segment; wait while its header is young. */
static xipc_err pubsub_attach(pubsub_sock *p, const xipc_opts *opts,
                              int timeout_ms)
{
    uint64_t now = xipc_plat_now_ns();
    uint64_t busy_end = now + (uint64_t)PUBSUB_BUSY_MS * 1000000u;
    if (timeout_ms >= 0 && timeout_ms < PUBSUB_BUSY_MS)
        busy_end = now + (uint64_t)timeout_ms * 1000000u;
    for (;;) {
        xipc_err rv = xipc_plat_shm_open(&p->seg, p->obj);
        if (rv == XIPC_ENOENT)
            return XIPC_ECONNREFUSED;
        if (rv != XIPC_OK)
            return rv;
        rv = xipc_bcast_attach(&p->bc, p->seg.base, p->seg.size,
                               XIPC_BCAST_SUBSCRIBER, opts->spin_us, &p->peer);
        if (rv != XIPC_EBUSY)
            return rv;
        xipc_plat_shm_unmap(&p->seg);
        if (xipc_plat_now_ns() >= busy_end)
            return XIPC_ECONNREFUSED;
        xipc_plat_sleep_us(200);
    }
}

static xipc_err pubsub_dial(xipc_sock **out, const xipc_url *url,
                            const xipc_opts *opts, int timeout_ms)
{
    if (xipc__name_check(url->rest) != XIPC_OK)
        return XIPC_EINVAL;
    pubsub_sock *p = pubsub_alloc(&pubsub_sub_tran, url->rest);
    if (p == NULL)
        return XIPC_ENOMEM;
    xipc_err rv = pubsub_attach(p, opts, timeout_ms);
    if (rv == XIPC_OK) {
        xipc_plat_proc_open(&p->peer, xipc_bcast_pub_pid(&p->bc));
        /* a segment left by a dead publisher, or one closing right now */
        if (xipc_bcast_closed(&p->bc) || !xipc_plat_proc_alive(&p->peer))
            rv = XIPC_ECONNREFUSED;
    }
    if (rv != XIPC_OK) {
        pubsub_free(p);
        return rv;
    }
    *out = &p->sock;
    return XIPC_OK;
}

/* ---- publisher ------------------------------------------------------------- */

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
        /* the name first: while it exists the segment looks live, so no
         * new publisher can reclaim it and lose its own to our unlink */
        xipc_plat_shm_unlink(p->obj);
        xipc_bcast_close(&p->bc);
    }
    pubsub_free(p);
}

/* ---- listing (xipc_endpoints) --------------------------------------------- */

typedef struct pubsub_ls {
    void (*fn)(const xipc_endpoint_info *, void *);
    void *arg;
    size_t plen; /* strlen("/xipc.<uid>.") */
} pubsub_ls;

/* "/xipc.<uid>.NAME#pub": its publisher, from a checked copy of the header. */
static void pubsub_ls_one(const char *obj, void *arg)
{
    pubsub_ls *ls = arg;
    const char *rest = obj + ls->plen;
    size_t n = strlen(rest);
    char name[XIPC_NAME_MAX + 1];
    if (n < 5 || n - 4 > XIPC_NAME_MAX || strcmp(rest + n - 4, "#pub") != 0)
        return;
    memcpy(name, rest, n - 4);
    name[n - 4] = '\0';
    xipc_endpoint_info e = {.kind = "pubsub"};
    if (xipc__name_check(name) != XIPC_OK ||
        xipc__url_format(e.url, sizeof(e.url), "pubsub", name) != XIPC_OK)
        return;
    union {
        xipc_bcast_hdr h;
        uint8_t bytes[XIPC_BCAST_DATA_OFF];
    } copy;
    size_t got;
    uint64_t size;
    memset(&copy, 0, sizeof(copy));
    if (xipc_plat_shm_read_head(obj, &copy, sizeof(copy), &got, &size) != XIPC_OK)
        return; /* gone, or not ours */
    xipc_bcast b; /* attached to the copy: the checks of a subscriber */
    if (got == sizeof(copy) &&
        xipc_bcast_attach(&b, &copy, size, XIPC_BCAST_SUBSCRIBER, 0, NULL) == XIPC_OK) {
        e.pid = xipc_bcast_pub_pid(&b);
        e.alive = !xipc_bcast_closed(&b) && xipc_plat_pid_alive(e.pid);
    }
    ls->fn(&e, ls->arg);
}

static xipc_err pubsub_list(void (*fn)(const xipc_endpoint_info *, void *),
                            void *arg)
{
    char prefix[PUBSUB_OBJ_MAX];
    int n = snprintf(prefix, sizeof(prefix), "/xipc.%u.", (unsigned)xipc_plat_getuid());
    pubsub_ls ls = {fn, arg, (size_t)n};
    return xipc_plat_shm_list(prefix, pubsub_ls_one, &ls);
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
