/*
 * shm://NAME — a message channel over shared memory: one segment per
 * connection holding two SPSC rings (see shm_layout.h for the handshake).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/transport.h"
#include "ring/ring.h"
#include "ring/wait.h"
#include "transport/shm_layout.h"

#define SHM_OBJ_MAX 160

typedef struct shm_listener {
    xipc_sock sock;
    xipc_plat_shm ctl;
    char obj[SHM_OBJ_MAX]; /* "/xipc.<uid>.NAME" */
    char name[XIPC_NAME_MAX + 1];
    xipc_opts opts;
} shm_listener;

typedef struct shm_conn {
    xipc_sock sock;
    xipc_plat_shm seg;
    xipc_ring tx, rx;
    xipc_plat_proc peer;
    char name[XIPC_NAME_MAX + 1];
    /* client only: the control segment and our offer in it */
    xipc_plat_shm ctl;
    uint32_t slot, id;
    char obj[SHM_OBJ_MAX];
} shm_conn;

extern const xipc_tran xipc_shm_tran;

static _Atomic uint32_t shm_next_id = 1;

static xipc_ctl_hdr *shm_ctl(xipc_plat_shm *m)
{
    return (xipc_ctl_hdr *)m->base;
}

static xipc_ctl_slot *shm_slot(xipc_plat_shm *m, uint32_t i)
{
    return (xipc_ctl_slot *)((uint8_t *)m->base + sizeof(xipc_ctl_hdr)) + i;
}

static void shm_ctl_obj(char *buf, const char *name)
{
    snprintf(buf, SHM_OBJ_MAX, "/xipc.%u.%.64s", (unsigned)xipc_plat_getuid(), name);
}

static void shm_conn_obj(char *buf, const char *ctl_obj, uint32_t pid, uint32_t id)
{
    snprintf(buf, SHM_OBJ_MAX, "%.96s@%u.%u", ctl_obj, (unsigned)pid, (unsigned)id);
}

/* ---- control segment ------------------------------------------------------ */

/* Check a control segment mapped from another process. */
static xipc_err shm_ctl_check(xipc_plat_shm *m)
{
    if (m->size < sizeof(xipc_ctl_hdr))
        return XIPC_EPROTO;
    xipc_ctl_hdr *h = shm_ctl(m);
    /* published complete (xipc_plat_shm_publish): no half-written state */
    uint32_t magic = __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE);
    if (magic != XIPC_CTL_MAGIC || h->version != XIPC_SHM_VERSION)
        return XIPC_EPROTO;
    uint32_t n = h->backlog;
    if (n == 0 || n > 1024 || h->total_size != m->size ||
        m->size != sizeof(xipc_ctl_hdr) + (size_t)n * sizeof(xipc_ctl_slot))
        return XIPC_EPROTO;
    return XIPC_OK;
}

static int shm_ctl_live(xipc_plat_shm *m)
{
    xipc_ctl_hdr *h = shm_ctl(m);
    return !atomic_load(&h->closed) && xipc_plat_pid_alive(atomic_load(&h->listener_pid));
}

/*
 * Remove the offers left for a previous listener of NAME: it is gone (or
 * we could not be listening), so nobody will ever accept them. Runs
 * before our control header is published, so no offer to us exists yet.
 */
static void shm_reclaim_one(const char *obj, void *arg)
{
    size_t plen = strlen((const char *)arg);
    unsigned pid, id;
    char tail;
    if (sscanf(obj + plen, "%u.%u%c", &pid, &id, &tail) == 2)
        xipc_plat_shm_unlink(obj);
}

static void shm_reclaim(const char *ctl_obj)
{
    char prefix[SHM_OBJ_MAX];
    snprintf(prefix, sizeof(prefix), "%.96s@", ctl_obj);
    (void)xipc_plat_shm_list(prefix, shm_reclaim_one, prefix); /* best effort */
}

typedef struct shm_ctl_init {
    uint32_t backlog;
} shm_ctl_init;

static void shm_ctl_format(void *base, size_t size, void *arg)
{
    xipc_ctl_hdr *h = base;
    h->magic = XIPC_CTL_MAGIC;
    h->version = XIPC_SHM_VERSION;
    h->total_size = size;
    h->creator_bits = (uint32_t)(sizeof(void *) * 8);
    h->backlog = ((shm_ctl_init *)arg)->backlog;
    atomic_store(&h->listener_pid, xipc_plat_getpid());
}

static xipc_err shm_listen(xipc_sock **out, const xipc_url *url,
                           const xipc_opts *opts)
{
    if (xipc__name_check(url->rest) != XIPC_OK)
        return XIPC_EINVAL;
    shm_listener *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return XIPC_ENOMEM;
    l->sock.tran = &xipc_shm_tran;
    l->sock.listener = 1;
    l->opts = *opts;
    shm_ctl_obj(l->obj, url->rest);
    snprintf(l->name, sizeof(l->name), "%.64s", url->rest);
    size_t size = sizeof(xipc_ctl_hdr) + (size_t)opts->backlog * sizeof(xipc_ctl_slot);
    shm_ctl_init init = {opts->backlog};
    /* offers left for a previous listener of NAME go first: nobody can
     * offer to us before our control segment is published below */
    shm_reclaim(l->obj);
    xipc_err rv = XIPC_EADDRINUSE;
    for (int attempt = 0; attempt < 4 && rv == XIPC_EADDRINUSE; attempt++) {
        rv = xipc_plat_shm_publish(&l->ctl, l->obj, size, shm_ctl_format, &init);
        if (rv != XIPC_EADDRINUSE)
            break;
        /* the name exists: reclaim it if its listener is gone */
        xipc_plat_shm old;
        xipc_err orv = xipc_plat_shm_open(&old, l->obj);
        if (orv == XIPC_ENOENT)
            continue; /* vanished meanwhile */
        if (orv == XIPC_EPERM) {
            rv = XIPC_EPERM; /* someone else's object under our name */
            break;
        }
        int live = 0;
        if (orv == XIPC_OK) {
            live = shm_ctl_check(&old) == XIPC_OK && shm_ctl_live(&old);
            xipc_plat_shm_unmap(&old);
        }
        if (live) {
            rv = XIPC_EADDRINUSE;
            break;
        }
        xipc_plat_shm_unlink(l->obj);
        shm_reclaim(l->obj); /* the dead listener's offers */
    }
    if (rv != XIPC_OK) {
        free(l);
        return rv;
    }
    *out = &l->sock;
    return XIPC_OK;
}

/* ---- connections ------------------------------------------------------------ */

static xipc_err shm_conn_attach(shm_conn *c, int client, uint32_t spin_us)
{
    xipc_conn_hdr *h = (xipc_conn_hdr *)c->seg.base;
    uint64_t size = c->seg.size;
    xipc_err rv = xipc_ring_attach(client ? &c->tx : &c->rx, c->seg.base, size,
                                   h->ring_off[0],
                                   client ? XIPC_RING_PRODUCER : XIPC_RING_CONSUMER,
                                   spin_us, &c->peer);
    if (rv == XIPC_OK)
        rv = xipc_ring_attach(client ? &c->rx : &c->tx, c->seg.base, size,
                              h->ring_off[1],
                              client ? XIPC_RING_CONSUMER : XIPC_RING_PRODUCER,
                              spin_us, &c->peer);
    return rv;
}

static shm_conn *shm_conn_alloc(void)
{
    shm_conn *c = calloc(1, sizeof(*c));
    if (c != NULL) {
        c->sock.tran = &xipc_shm_tran;
        c->peer.handle = -1;
    }
    return c;
}

static void shm_conn_free(shm_conn *c)
{
    xipc_plat_proc_close(&c->peer);
    xipc_plat_shm_unmap(&c->seg);
    free(c);
}

/* Listener side: open, check and accept the segment a client offered. */
static xipc_err shm_adopt(shm_listener *l, uint32_t pid, uint32_t id,
                          shm_conn **out)
{
    char obj[SHM_OBJ_MAX];
    shm_conn_obj(obj, l->obj, pid, id);
    shm_conn *c = shm_conn_alloc();
    if (c == NULL)
        return XIPC_ENOMEM;
    xipc_err rv = xipc_plat_shm_open(&c->seg, obj);
    if (rv != XIPC_EPERM)
        xipc_plat_shm_unlink(obj); /* mapped or garbage: the name goes now */
    if (rv != XIPC_OK) {
        free(c);
        return rv;
    }
    xipc_conn_hdr *h = (xipc_conn_hdr *)c->seg.base;
    uint64_t cap = c->seg.size >= XIPC_CONN_DATA_OFF ? h->ring_capacity : 0;
    if (cap < 4096 || cap > (1u << 30) || (cap & (cap - 1)) != 0 ||
        h->magic != XIPC_CONN_MAGIC || h->version != XIPC_SHM_VERSION ||
        h->total_size != c->seg.size ||
        c->seg.size != XIPC_CONN_DATA_OFF + 2 * cap ||
        h->ring_off[0] != XIPC_CONN_RING0_OFF ||
        h->ring_off[1] != XIPC_CONN_RING1_OFF || atomic_load(&h->client_pid) != pid) {
        shm_conn_free(c);
        return XIPC_EPROTO;
    }
    snprintf(c->name, sizeof(c->name), "%s", l->name);
    /* a client that sent, closed and exited before the accept is still
     * accepted: its messages are delivered, then XIPC_ECLOSED */
    xipc_plat_proc_open(&c->peer, pid);
    rv = shm_conn_attach(c, 0, l->opts.spin_us);
    if (rv != XIPC_OK) {
        shm_conn_free(c);
        return rv;
    }
    atomic_store(&h->server_pid, xipc_plat_getpid());
    uint32_t expect = XIPC_CONN_OFFERED;
    if (!atomic_compare_exchange_strong(&h->state, &expect, XIPC_CONN_ACCEPTED)) {
        shm_conn_free(c); /* the client gave up */
        return XIPC_ECLOSED;
    }
    xipc_plat_futex_wake((uint32_t *)&h->state);
    *out = c;
    return XIPC_OK;
}

/* A claim whose client died: remove the segment it may have made. */
static void shm_drop_claim(shm_listener *l, xipc_ctl_slot *s, uint64_t w)
{
    char obj[SHM_OBJ_MAX];
    shm_conn_obj(obj, l->obj, XIPC_SLOT_PID(w), s->conn_id);
    if (atomic_compare_exchange_strong(&s->word, &w, 0))
        xipc_plat_shm_unlink(obj);
}

static xipc_err shm_accept(xipc_sock *ls, xipc_sock **out, int timeout_ms)
{
    shm_listener *l = (shm_listener *)ls;
    xipc_ctl_hdr *h = shm_ctl(&l->ctl);
    xipc_deadline deadline = xipc__deadline(timeout_ms);
    for (;;) {
        uint32_t seq = atomic_load(&h->req_seq);
        for (uint32_t i = 0; i < l->opts.backlog; i++) {
            xipc_ctl_slot *s = shm_slot(&l->ctl, i);
            uint64_t w = atomic_load(&s->word);
            uint32_t pid = XIPC_SLOT_PID(w);
            if (XIPC_SLOT_STATE(w) == XIPC_SLOT_CLAIMED && !xipc_plat_pid_alive(pid)) {
                shm_drop_claim(l, s, w); /* died while making its offer */
                continue;
            }
            if (XIPC_SLOT_STATE(w) != XIPC_SLOT_PENDING ||
                !atomic_compare_exchange_strong(&s->word, &w,
                                                XIPC_SLOT_WORD(pid, XIPC_SLOT_TAKEN)))
                continue;
            uint32_t id = s->conn_id;
            atomic_store(&s->word, 0);
            shm_conn *c;
            if (shm_adopt(l, pid, id, &c) == XIPC_OK) {
                *out = &c->sock;
                return XIPC_OK;
            }
            /* a bad or withdrawn request: skip it and go on */
        }
        uint32_t slice;
        if (timeout_ms == 0 || xipc__deadline_slice(&deadline, &slice) != XIPC_OK)
            return XIPC_ETIMEDOUT;
        xipc_plat_futex_wait((uint32_t *)&h->req_seq, seq, slice);
    }
}

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
    atomic_store(&h->client_pid, xipc_plat_getpid());
    atomic_store(&h->state, XIPC_CONN_OFFERED);
}

/*
 * Client: take a free slot for request @p id (state CLAIMED, our pid in
 * it) before the offer's segment exists, so that a client killed while
 * making the segment leaves a slot that names it: the listener removes
 * both (shm_accept, shm_refuse_pending).
 */
static xipc_err shm_claim(xipc_plat_shm *ctl, uint32_t id, xipc_deadline *deadline,
                          uint32_t *slot_out)
{
    xipc_ctl_hdr *h = shm_ctl(ctl);
    uint64_t mine = XIPC_SLOT_WORD(xipc_plat_getpid(), XIPC_SLOT_CLAIMED);
    for (;;) {
        for (uint32_t i = 0; i < h->backlog; i++) {
            xipc_ctl_slot *s = shm_slot(ctl, i);
            uint64_t w = 0;
            if (!atomic_compare_exchange_strong(&s->word, &w, mine))
                continue;
            s->conn_id = id;
            *slot_out = i;
            return XIPC_OK;
        }
        uint32_t slice;
        if (!shm_ctl_live(ctl))
            return XIPC_ECONNREFUSED;
        if (xipc__deadline_slice(deadline, &slice) != XIPC_OK)
            return XIPC_ETIMEDOUT;
        xipc_plat_sleep_us(slice < 1000 ? slice : 1000); /* backlog full */
    }
}

/* Client: the segment is ready; queue the request and wake the listener. */
static void shm_offer(xipc_plat_shm *ctl, uint32_t slot, int ready)
{
    xipc_ctl_hdr *h = shm_ctl(ctl);
    xipc_ctl_slot *s = shm_slot(ctl, slot);
    if (!ready) {
        atomic_store(&s->word, 0);
        return;
    }
    atomic_store(&s->word, XIPC_SLOT_WORD(xipc_plat_getpid(), XIPC_SLOT_PENDING));
    atomic_fetch_add(&h->req_seq, 1);
    xipc_plat_futex_wake((uint32_t *)&h->req_seq);
}

/*
 * Client, at close or failure: an offer not accepted yet stays queued for
 * a live listener (what was sent is delivered after the accept, as with
 * TCP); an offer to a listener that is gone is withdrawn.
 */
static void shm_withdraw(shm_conn *c, int always)
{
    xipc_conn_hdr *h = (xipc_conn_hdr *)c->seg.base;
    uint32_t expect = XIPC_CONN_OFFERED;
    if ((always || !shm_ctl_live(&c->ctl)) &&
        atomic_compare_exchange_strong(&h->state, &expect, XIPC_CONN_ABANDONED)) {
        xipc_ctl_slot *s = shm_slot(&c->ctl, c->slot);
        uint64_t w = XIPC_SLOT_WORD(xipc_plat_getpid(), XIPC_SLOT_PENDING);
        if (s->conn_id == c->id)
            atomic_compare_exchange_strong(&s->word, &w, 0);
        xipc_plat_shm_unlink(c->obj);
    }
    xipc_plat_shm_unmap(&c->ctl);
}

static xipc_err shm_open_ctl(xipc_plat_shm *ctl, const char *obj)
{
    xipc_err rv = xipc_plat_shm_open(ctl, obj);
    if (rv == XIPC_ENOENT)
        return XIPC_ECONNREFUSED;
    if (rv != XIPC_OK)
        return rv;
    rv = shm_ctl_check(ctl);
    if (rv == XIPC_OK && !shm_ctl_live(ctl))
        rv = XIPC_ECONNREFUSED;
    if (rv != XIPC_OK)
        xipc_plat_shm_unmap(ctl);
    return rv;
}

static xipc_err shm_dial(xipc_sock **out, const xipc_url *url,
                         const xipc_opts *opts, int timeout_ms)
{
    if (xipc__name_check(url->rest) != XIPC_OK)
        return XIPC_EINVAL;
    xipc_deadline deadline = xipc__deadline(timeout_ms);
    char ctl_obj[SHM_OBJ_MAX];
    shm_ctl_obj(ctl_obj, url->rest);
    xipc_plat_shm ctl;
    xipc_err rv = shm_open_ctl(&ctl, ctl_obj);
    if (rv != XIPC_OK)
        return rv;
    shm_conn *c = shm_conn_alloc();
    if (c == NULL) {
        xipc_plat_shm_unmap(&ctl);
        return XIPC_ENOMEM;
    }
    snprintf(c->name, sizeof(c->name), "%.64s", url->rest);
    c->id = atomic_fetch_add(&shm_next_id, 1);
    uint64_t cap = opts->ring_capacity;
    shm_conn_obj(c->obj, ctl_obj, xipc_plat_getpid(), c->id);
    /* like a TCP connect into the backlog: done once the offer is queued;
     * the listener maps it when it accepts */
    rv = shm_claim(&ctl, c->id, &deadline, &c->slot);
    if (rv == XIPC_OK) {
        rv = xipc_plat_shm_create(&c->seg, c->obj, (size_t)(XIPC_CONN_DATA_OFF + 2 * cap));
        if (rv == XIPC_OK)
            shm_conn_format(&c->seg, cap);
        shm_offer(&ctl, c->slot, rv == XIPC_OK);
    }
    if (rv == XIPC_OK) {
        c->ctl = ctl;
        xipc_plat_proc_open(&c->peer, atomic_load(&shm_ctl(&ctl)->listener_pid));
        rv = shm_conn_attach(c, 1, opts->spin_us);
        if (rv != XIPC_OK)
            shm_withdraw(c, 1);
    } else {
        xipc_plat_shm_unmap(&ctl);
    }
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

/* Both segments of a connection are checked to belong to our user when
 * opened (xipc_plat_shm_open): the peer can only be our own user. */
static xipc_err shm_peer_uid(xipc_sock *s, uint32_t *uid)
{
    (void)s;
    *uid = xipc_plat_getuid();
    return XIPC_OK;
}

static xipc_err shm_peer_pid(xipc_sock *s, uint32_t *pid)
{
    *pid = ((shm_conn *)s)->peer.pid;
    return XIPC_OK;
}

/* Listener closing: every offer still queued is closed, as a refused
 * connection, so its client's calls end with XIPC_ECLOSED. */
static void shm_refuse_pending(shm_listener *l)
{
    for (uint32_t i = 0; i < l->opts.backlog; i++) {
        xipc_ctl_slot *s = shm_slot(&l->ctl, i);
        uint64_t w = atomic_load(&s->word);
        uint32_t pid = XIPC_SLOT_PID(w);
        if (XIPC_SLOT_STATE(w) == XIPC_SLOT_CLAIMED && !xipc_plat_pid_alive(pid))
            shm_drop_claim(l, s, w);
        if (XIPC_SLOT_STATE(w) != XIPC_SLOT_PENDING ||
            !atomic_compare_exchange_strong(&s->word, &w,
                                            XIPC_SLOT_WORD(pid, XIPC_SLOT_TAKEN)))
            continue;
        char obj[SHM_OBJ_MAX];
        shm_conn_obj(obj, l->obj, pid, s->conn_id);
        atomic_store(&s->word, 0);
        xipc_plat_shm seg;
        if (xipc_plat_shm_open(&seg, obj) != XIPC_OK)
            continue;
        xipc_plat_shm_unlink(obj);
        xipc_conn_hdr *h = (xipc_conn_hdr *)seg.base;
        uint32_t expect = XIPC_CONN_OFFERED;
        if (seg.size == h->total_size && seg.size >= XIPC_CONN_DATA_OFF &&
            atomic_compare_exchange_strong(&h->state, &expect, XIPC_CONN_ABANDONED)) {
            xipc_ring tx, rx; /* the server's ends, closed at once */
            if (xipc_ring_attach(&rx, seg.base, seg.size, XIPC_CONN_RING0_OFF,
                                 XIPC_RING_CONSUMER, 0, NULL) == XIPC_OK)
                xipc_ring_close(&rx);
            if (xipc_ring_attach(&tx, seg.base, seg.size, XIPC_CONN_RING1_OFF,
                                 XIPC_RING_PRODUCER, 0, NULL) == XIPC_OK)
                xipc_ring_close(&tx);
        }
        xipc_plat_shm_unmap(&seg);
    }
}

static xipc_err shm_url(xipc_sock *s, char *buf, size_t cap)
{
    const char *name = s->listener ? ((shm_listener *)s)->name : ((shm_conn *)s)->name;
    return xipc__url_format(buf, cap, "shm", name);
}

static void shm_close(xipc_sock *s)
{
    if (s->listener) {
        shm_listener *l = (shm_listener *)s;
        xipc_ctl_hdr *h = shm_ctl(&l->ctl);
        atomic_store(&h->closed, 1);
        shm_refuse_pending(l);
        atomic_fetch_add(&h->req_seq, 1);
        xipc_plat_futex_wake((uint32_t *)&h->req_seq);
        xipc_plat_shm_unlink(l->obj);
        xipc_plat_shm_unmap(&l->ctl);
        free(l);
        return;
    }
    shm_conn *c = (shm_conn *)s;
    xipc_ring_close(&c->tx);
    xipc_ring_close(&c->rx);
    if (c->ctl.base != NULL)
        shm_withdraw(c, 0);
    shm_conn_free(c);
}

/* ---- listing (xipc_endpoints) --------------------------------------------- */

typedef struct shm_ls {
    void (*fn)(const xipc_endpoint_info *, void *);
    void *arg;
    size_t plen; /* strlen("/xipc.<uid>.") */
} shm_ls;

/* Decimal digits up to @p end (exclusive) into @p out; 0 when not that. */
static int shm_ls_num(const char *p, const char *end, uint32_t *out)
{
    uint64_t v = 0;
    if (p == end || end - p > 10)
        return 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *out = (uint32_t)v;
    return v <= UINT32_MAX;
}

/* A control segment: its listener, from a checked copy of the header. */
static void shm_ls_listener(shm_ls *ls, const char *obj, xipc_endpoint_info *e)
{
    xipc_ctl_hdr h;
    size_t got;
    uint64_t size;
    memset(&h, 0, sizeof(h));
    if (xipc_plat_shm_read_head(obj, &h, sizeof(h), &got, &size) != XIPC_OK)
        return; /* gone, or not ours */
    e->kind = "shm listener";
    xipc_plat_shm copy = {&h, (size_t)size, -1};
    if (got == sizeof(h) && size <= SIZE_MAX && shm_ctl_check(&copy) == XIPC_OK) {
        e->pid = atomic_load(&h.listener_pid);
        e->alive = !atomic_load(&h.closed) && xipc_plat_pid_alive(e->pid);
    }
    ls->fn(e, ls->arg);
}

/* A pending offer "NAME@<pid>.<id>": the client's pid, when its header
 * (if already written) agrees. */
static void shm_ls_offer(shm_ls *ls, const char *obj, const char *at,
                         xipc_endpoint_info *e)
{
    const char *dot = strchr(at + 1, '.');
    uint32_t pid, id;
    if (dot == NULL || !shm_ls_num(at + 1, dot, &pid) ||
        !shm_ls_num(dot + 1, dot + strlen(dot), &id))
        return; /* not an offer's name */
    xipc_conn_hdr h;
    size_t got;
    uint64_t size;
    memset(&h, 0, sizeof(h));
    if (xipc_plat_shm_read_head(obj, &h, sizeof(h), &got, &size) != XIPC_OK)
        return; /* accepted (unlinked) meanwhile, or not ours */
    e->kind = "shm offer";
    int fresh = h.magic == 0; /* being created: nothing written yet */
    if (fresh || (got == sizeof(h) && size == h.total_size &&
                  h.magic == XIPC_CONN_MAGIC && h.version == XIPC_SHM_VERSION &&
                  atomic_load(&h.client_pid) == pid)) {
        e->pid = pid;
        e->alive = (fresh || atomic_load(&h.state) == XIPC_CONN_OFFERED) &&
                   xipc_plat_pid_alive(pid);
    }
    ls->fn(e, ls->arg);
}

static void shm_ls_one(const char *obj, void *arg)
{
    shm_ls *ls = arg;
    const char *rest = obj + ls->plen;
    char name[XIPC_NAME_MAX + 1];
    const char *at = strchr(rest, '@');
    size_t n = at != NULL ? (size_t)(at - rest) : strlen(rest);
    if (n > XIPC_NAME_MAX)
        return;
    memcpy(name, rest, n);
    name[n] = '\0';
    xipc_endpoint_info e = {.pid = 0};
    /* pubsub's "NAME#pub" and anything else fail the name check */
    if (xipc__name_check(name) != XIPC_OK ||
        xipc__url_format(e.url, sizeof(e.url), "shm", name) != XIPC_OK)
        return;
    if (at != NULL)
        shm_ls_offer(ls, obj, at, &e);
    else
        shm_ls_listener(ls, obj, &e);
}

static xipc_err shm_list(void (*fn)(const xipc_endpoint_info *, void *), void *arg)
{
    char prefix[SHM_OBJ_MAX];
    int n = snprintf(prefix, sizeof(prefix), "/xipc.%u.", (unsigned)xipc_plat_getuid());
    shm_ls ls = {fn, arg, (size_t)n};
    return xipc_plat_shm_list(prefix, shm_ls_one, &ls);
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
