/*
 * Shared-memory SPSC ring: reserve/commit on the producer end,
 * peek/release on the consumer end, spin-then-futex waiting.
 *
 * Wake-up protocol (no lost wake-ups, one load on the fast path):
 *   sleeper: seq = load(seq_word); store(waiting, 1); fence(seq_cst);
 *            re-check the condition; futex_wait(seq_word, seq)
 *   waker:   store(position); fence(seq_cst);
 *            if load(waiting): seq_word++, futex_wake(seq_word)
 * The two fences make sure one side sees the other's store.
 */
#include <string.h>

#include "ring/ring.h"
#include "ring/wait.h"

#define RING_NOT_READY XIPC_WAIT_NOT_READY

typedef xipc_deadline ring_deadline;

static uint64_t ring_align8(uint64_t n)
{
    return (n + 7u) & ~(uint64_t)7u;
}

void xipc_ring_format(xipc_ring_hdr *hdr, uint64_t cap, uint64_t data_off)
{
    memset(hdr, 0, sizeof(*hdr));
    hdr->magic = XIPC_RING_MAGIC;
    hdr->version = XIPC_RING_VERSION;
    hdr->capacity = cap;
    hdr->data_off = data_off;
    atomic_store_explicit(&hdr->head, 0, memory_order_relaxed);
    atomic_store_explicit(&hdr->tail, 0, memory_order_relaxed);
}

xipc_err xipc_ring_attach(xipc_ring *r, void *base, uint64_t seg_size,
                          uint64_t hdr_off, xipc_ring_role role,
                          uint32_t spin_us, xipc_plat_proc *peer)
{
    memset(r, 0, sizeof(*r));
    if (hdr_off % 64 != 0 || hdr_off > seg_size ||
        seg_size - hdr_off < sizeof(xipc_ring_hdr))
        return XIPC_EPROTO;
    xipc_ring_hdr *h = (xipc_ring_hdr *)((uint8_t *)base + hdr_off);
    uint64_t cap = h->capacity, off = h->data_off;
    if (h->magic != XIPC_RING_MAGIC || h->version != XIPC_RING_VERSION)
        return XIPC_EPROTO;
    if (cap < 4096 || (cap & (cap - 1)) != 0 || off % 64 != 0 ||
        off > seg_size || seg_size - off < cap)
        return XIPC_EPROTO;
    /* the data area must not overlap the header */
    if (off < hdr_off + sizeof(*h) && hdr_off < off + cap)
        return XIPC_EPROTO;
    r->hdr = h;
    r->data = (uint8_t *)base + off;
    r->cap = cap;
    r->role = role;
    r->spin_us = spin_us;
    r->peer = peer;
    if (role == XIPC_RING_PRODUCER) {
        r->pos = atomic_load_explicit(&h->head, memory_order_acquire);
        r->seen = atomic_load_explicit(&h->tail, memory_order_acquire);
    } else {
        r->pos = atomic_load_explicit(&h->tail, memory_order_acquire);
        r->seen = atomic_load_explicit(&h->head, memory_order_acquire);
    }
    if (r->pos % 8 != 0 || r->seen % 8 != 0)
        return XIPC_EPROTO;
    uint64_t used = role == XIPC_RING_PRODUCER ? r->pos - r->seen : r->seen - r->pos;
    uint64_t first = role == XIPC_RING_PRODUCER ? r->seen : r->pos;
    uint64_t last = role == XIPC_RING_PRODUCER ? r->pos : r->seen;
    if (first > last || used > cap)
        return XIPC_EPROTO;
    return XIPC_OK;
}

static xipc_err ring_fail(xipc_ring *r)
{
    r->broken = XIPC_EPROTO;
    return XIPC_EPROTO;
}

/* The tag of the record header at position @p pos: the commit word. */
static _Atomic uint32_t *ring_tag(xipc_ring *r, uint64_t pos)
{
    return (_Atomic uint32_t *)(r->data + (pos & (r->cap - 1)) +
                                offsetof(xipc_rec_hdr, tag));
}

/* Consumer: is there a record? The tag at the tail says; peek checks the
 * record itself. */
static xipc_err ring_poll_data(xipc_ring *r)
{
    xipc_ring_hdr *h = r->hdr;
    if (atomic_load_explicit(ring_tag(r, r->pos), memory_order_acquire) != XIPC_REC_NONE)
        return XIPC_OK;
    if (!atomic_load_explicit(&h->prod_closed, memory_order_acquire))
        return RING_NOT_READY;
    if (atomic_load_explicit(ring_tag(r, r->pos), memory_order_acquire) != XIPC_REC_NONE)
        return XIPC_OK;
    return XIPC_ECLOSED;
}

/* Producer: are @p need bytes free? Validates the consumer's tail. */
static xipc_err ring_poll_space(xipc_ring *r, uint64_t need)
{
    xipc_ring_hdr *h = r->hdr;
    if (atomic_load_explicit(&h->cons_closed, memory_order_acquire))
        return XIPC_ECLOSED;
    if (r->peer != NULL && atomic_load_explicit(&r->peer->dead, memory_order_relaxed))
        return XIPC_ECLOSED; /* the receiving side already saw it die */
    if (r->cap - (r->pos - r->seen) >= need)
        return XIPC_OK; /* the cached tail is enough: no shared read */
    uint64_t tail = atomic_load_explicit(&h->tail, memory_order_acquire);
    if (tail > r->pos || r->pos - tail > r->cap || tail % 8 != 0)
        return ring_fail(r);
    r->seen = tail;
    return r->cap - (r->pos - tail) >= need ? XIPC_OK : RING_NOT_READY;
}

static xipc_err ring_poll(xipc_ring *r, uint64_t need)
{
    return r->role == XIPC_RING_CONSUMER ? ring_poll_data(r)
                                         : ring_poll_space(r, need);
}

static xipc_err ring_sleep(xipc_ring *r, uint64_t need, ring_deadline *d)
{
    xipc_ring_hdr *h = r->hdr;
    int cons = r->role == XIPC_RING_CONSUMER;
    _Atomic uint32_t *waiting = cons ? &h->cons_waiting : &h->prod_waiting;
    _Atomic uint32_t *seqw = cons ? &h->data_seq : &h->space_seq;
    xipc_err rv;
    xipc_wait_storm storm = {0, 0};
    uint64_t seen = r->seen; /* the peer's position: moved means news */
    int woke = 0;
    for (;;) {
        uint32_t seq = atomic_load_explicit(seqw, memory_order_acquire);
        atomic_store_explicit(waiting, 1, memory_order_relaxed);
        atomic_thread_fence(memory_order_seq_cst);
        rv = ring_poll(r, need);
        if (rv != RING_NOT_READY)
            break;
        xipc__storm_note(&storm, woke, r->seen != seen);
        seen = r->seen;
        if (r->peer != NULL && !xipc_plat_proc_alive(r->peer)) {
            rv = ring_poll(r, need);
            if (rv == RING_NOT_READY)
                rv = XIPC_ECLOSED;
            break;
        }
        uint32_t slice;
        if ((rv = xipc__deadline_slice(d, XIPC_WAIT_SLICE_US, &slice)) != XIPC_OK)
            break;
        /* woken for nothing many times in a row: a storm (wait.h) */
        slice = xipc__storm_pause(&storm, slice);
        woke = slice > 0 &&
               xipc_plat_futex_wait((uint32_t *)seqw, seq, slice) != XIPC_ETIMEDOUT;
    }
    atomic_store_explicit(waiting, 0, memory_order_relaxed);
    return rv;
}

/* Wait until ring_poll() is ready, spinning first, then sleeping. */
typedef struct ring_want {
    xipc_ring *r;
    uint64_t need;
} ring_want;

static xipc_err ring_poll_want(void *arg)
{
    ring_want *w = arg;
    return ring_poll(w->r, w->need);
}

static xipc_err ring_wait(xipc_ring *r, uint64_t need, ring_deadline *d)
{
    xipc_err rv = ring_poll(r, need);
    if (rv != RING_NOT_READY || d->poll)
        return rv;
    ring_want w = {r, need};
    rv = xipc__spin(ring_poll_want, &w, r->spin_us, d);
    return rv != RING_NOT_READY ? rv : ring_sleep(r, need, d);
}

/* Publish our position and wake the other side if it sleeps. */
static void ring_publish(xipc_ring *r)
{
    xipc_ring_hdr *h = r->hdr;
    int prod = r->role == XIPC_RING_PRODUCER;
    atomic_store_explicit(prod ? &h->head : &h->tail, r->pos,
                          memory_order_release);
    atomic_thread_fence(memory_order_seq_cst);
    _Atomic uint32_t *waiting = prod ? &h->cons_waiting : &h->prod_waiting;
    if (atomic_load_explicit(waiting, memory_order_relaxed)) {
        _Atomic uint32_t *seqw = prod ? &h->data_seq : &h->space_seq;
        atomic_fetch_add_explicit(seqw, 1, memory_order_release);
        xipc_plat_futex_wake((uint32_t *)seqw);
    }
}

/* Producer: write the record of @p rec bytes at r->pos, whose payload is
 * in place, and publish it. Its successor's tag is emptied first, and the
 * record's tag is stored last: a consumer polling the tag sees either
 * nothing or the whole record, never a stale header from an earlier lap
 * (or payload bytes that look like one). */
static void ring_put_rec(xipc_ring *r, uint64_t rec, uint32_t len, uint32_t tag)
{
    atomic_store_explicit(ring_tag(r, r->pos + rec), XIPC_REC_NONE, memory_order_relaxed);
    memcpy(r->data + (r->pos & (r->cap - 1)), &len, sizeof(len));
    atomic_store_explicit(ring_tag(r, r->pos), tag, memory_order_release);
    r->pos += rec;
    ring_publish(r);
}

xipc_err xipc_ring_reserve(xipc_ring *r, size_t len, void **buf, int timeout_ms)
{
    if (r->broken)
        return r->broken;
    if (r->role != XIPC_RING_PRODUCER || r->pending)
        return XIPC_ESTATE;
    if ((uint64_t)len > xipc_ring_max_msg(r->cap))
        return XIPC_EMSGSIZE;
    ring_deadline d = xipc__deadline(timeout_ms);
    uint64_t rec = ring_align8(XIPC_REC_HDR + (uint64_t)len);
    uint64_t idx = r->pos & (r->cap - 1);
    uint64_t to_end = r->cap - idx;
    xipc_err rv;
    /* each record also needs the empty header after it (ring_put_rec) */
    if (rec > to_end) {
        /* fill the end with a PAD record; the message starts at 0 */
        if ((rv = ring_wait(r, to_end + XIPC_REC_HDR, &d)) != XIPC_OK)
            return rv;
        ring_put_rec(r, to_end, (uint32_t)(to_end - XIPC_REC_HDR), XIPC_REC_PAD);
        idx = 0;
    }
    if ((rv = ring_wait(r, rec + XIPC_REC_HDR, &d)) != XIPC_OK)
        return rv;
    r->pending = rec;
    r->pend_max = len;
    *buf = r->data + idx + XIPC_REC_HDR;
    return XIPC_OK;
}

xipc_err xipc_ring_commit(xipc_ring *r, size_t len)
{
    if (r->broken)
        return r->broken;
    if (r->role != XIPC_RING_PRODUCER || r->pending == 0)
        return XIPC_ESTATE;
    if ((uint64_t)len > r->pend_max)
        return XIPC_EINVAL;
    r->pending = 0;
    ring_put_rec(r, ring_align8(XIPC_REC_HDR + (uint64_t)len), (uint32_t)len, XIPC_REC_MSG);
    return XIPC_OK;
}

xipc_err xipc_ring_send(xipc_ring *r, const void *buf, size_t len, int timeout_ms)
{
    void *dst;
    xipc_err rv = xipc_ring_reserve(r, len, &dst, timeout_ms);
    if (rv != XIPC_OK)
        return rv;
    if (len > 0)
        memcpy(dst, buf, len);
    return xipc_ring_commit(r, len);
}

xipc_err xipc_ring_peek(xipc_ring *r, const void **buf, size_t *len,
                        int timeout_ms)
{
    if (r->broken)
        return r->broken;
    if (r->role != XIPC_RING_CONSUMER)
        return XIPC_ESTATE;
    ring_deadline d = xipc__deadline(timeout_ms);
    for (;;) {
        uint64_t idx = r->pos & (r->cap - 1);
        uint64_t to_end = r->cap - idx;
        xipc_rec_hdr rh;
        if (r->pending) {
            /* peeked before and not released: the same record again; the
             * length was validated then, re-validate what we re-read */
            memcpy(&rh, r->data + idx, sizeof(rh));
            if (ring_align8(XIPC_REC_HDR + (uint64_t)rh.len) != r->pending ||
                rh.tag != XIPC_REC_MSG)
                return ring_fail(r);
            *buf = r->data + idx + XIPC_REC_HDR;
            *len = rh.len;
            return XIPC_OK;
        }
        xipc_err rv = ring_wait(r, 1, &d);
        if (rv != XIPC_OK)
            return rv;
        /* the tag was seen with acquire: the length and payload are there */
        memcpy(&rh, r->data + idx, sizeof(rh));
        if (rh.tag == XIPC_REC_PAD) {
            /* a PAD at 0 is never needed (every record fits there), and
             * would let a hostile producer keep this loop going forever */
            if ((uint64_t)rh.len != to_end - XIPC_REC_HDR || idx == 0)
                return ring_fail(r);
            r->pos += to_end;
            ring_publish(r);
            continue;
        }
        if (rh.tag != XIPC_REC_MSG || (uint64_t)rh.len > xipc_ring_max_msg(r->cap))
            return ring_fail(r);
        uint64_t rec = ring_align8(XIPC_REC_HDR + (uint64_t)rh.len);
        if (rec > to_end)
            return ring_fail(r);
        r->pending = rec;
        *buf = r->data + idx + XIPC_REC_HDR;
        *len = rh.len;
        return XIPC_OK;
    }
}

xipc_err xipc_ring_release(xipc_ring *r)
{
    if (r->broken)
        return r->broken;
    if (r->role != XIPC_RING_CONSUMER || r->pending == 0)
        return XIPC_ESTATE;
    r->pos += r->pending;
    r->pending = 0;
    ring_publish(r);
    return XIPC_OK;
}

xipc_err xipc_ring_recv(xipc_ring *r, void *buf, size_t cap, size_t *len,
                        int timeout_ms)
{
    const void *src;
    size_t n;
    xipc_err rv = xipc_ring_peek(r, &src, &n, timeout_ms);
    if (rv != XIPC_OK)
        return rv;
    *len = n;
    if (n > cap)
        return XIPC_EMSGSIZE; /* stays queued; the caller learns the size */
    if (n > 0)
        memcpy(buf, src, n);
    return xipc_ring_release(r);
}

void xipc_ring_close(xipc_ring *r)
{
    xipc_ring_hdr *h = r->hdr;
    if (h == NULL)
        return;
    atomic_store_explicit(r->role == XIPC_RING_PRODUCER ? &h->prod_closed
                                                        : &h->cons_closed,
                          1, memory_order_release);
    atomic_thread_fence(memory_order_seq_cst);
    atomic_fetch_add_explicit(&h->data_seq, 1, memory_order_release);
    atomic_fetch_add_explicit(&h->space_seq, 1, memory_order_release);
    xipc_plat_futex_wake((uint32_t *)&h->data_seq);
    xipc_plat_futex_wake((uint32_t *)&h->space_seq);
}
