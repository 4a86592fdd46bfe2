/*
 * Broadcast ring: one publisher, many subscribers, a seqlock per slot.
 *
 * Publisher, message seq into slot i = seq % slots:
 *   stamp = BUSY(seq) (relaxed); fence(release)   -- before any payload byte
 *   write len and payload
 *   stamp = DONE(seq) (release); head = seq + 1 (release)
 *   fence(seq_cst); if waiting: waiting = 0, data_seq++, futex_wake
 * Subscriber, message seq:
 *   head (acquire) > seq, else wait
 *   st = stamp (acquire); st == DONE(seq): read len and payload
 *   fence(acquire); stamp == st still? then the bytes read are message seq
 *   st newer than DONE(seq): lapped -> XIPC_EOVERRUN
 *
 * Wake-up (no lost wake-ups, one load on the publisher's fast path):
 *   sleeper: seq = load(data_seq); store(waiting, 1); fence(seq_cst);
 *            re-check head; futex_wait(data_seq, seq)      (each slice)
 *   waker:   store(head); fence(seq_cst);
 *            if load(waiting) && exchange(waiting, 0):
 *                data_seq++, futex_wake(data_seq)         (wakes them all)
 * The fences make one side see the other's store. A sleeper that missed
 * the exchange either set its flag after it (and then sees the new head)
 * or finds data_seq changed and does not sleep. `waiting` is a flag that
 * the waker clears rather than a count of sleepers: a subscriber killed
 * asleep leaves at most one extra wake-up behind, where a count would stay
 * non-zero and cost the publisher a futex call on every message (measured:
 * 7 ns -> 340 ns per message). data_seq and waiting live on the signals
 * page, the one thing subscribers may write (bcast_layout.h): a hostile
 * one can only wake sleepers for nothing or let them sleep out a slice.
 */
#include <string.h>

#include "ring/bcast.h"
#include "ring/wait.h"

#define BCAST_NOT_READY XIPC_WAIT_NOT_READY

typedef xipc_deadline bcast_deadline;

/* Read a field another process may change under us exactly once. */
static uint32_t bcast_rd32(const uint32_t *p)
{
    return *(const volatile uint32_t *)p;
}

static uint64_t bcast_rd64(const uint64_t *p)
{
    return *(const volatile uint64_t *)p;
}

static xipc_bcast_slot *bcast_slot(const xipc_bcast *b, uint64_t seq)
{
    return (xipc_bcast_slot *)(b->data + (seq & (b->slots - 1)) * b->slot_size);
}

uint64_t xipc_bcast_seg_size(uint32_t slots, uint32_t slot_size)
{
    return XIPC_BCAST_DATA_OFF + (uint64_t)slots * slot_size;
}

void xipc_bcast_format(void *base, uint32_t slots, uint32_t slot_size,
                       uint32_t pub_pid)
{
    xipc_bcast_hdr *h = (xipc_bcast_hdr *)base;
    memset(h, 0, sizeof(*h));
    h->version = XIPC_BCAST_VERSION;
    h->total_size = xipc_bcast_seg_size(slots, slot_size);
    h->slot_count = slots;
    h->slot_size = slot_size;
    h->data_off = XIPC_BCAST_DATA_OFF;
    h->creator_bits = (uint32_t)(sizeof(void *) * 8);
    h->pub_pid = pub_pid;
    atomic_store_explicit(&h->head, 0, memory_order_relaxed);
    __atomic_store_n(&h->magic, XIPC_BCAST_MAGIC, __ATOMIC_RELEASE);
}

xipc_err xipc_bcast_attach(xipc_bcast *b, void *base, uint64_t seg_size, void *sig,
                           xipc_bcast_role role, uint32_t spin_us,
                           xipc_plat_proc *peer)
{
    memset(b, 0, sizeof(*b));
    if (seg_size < XIPC_BCAST_DATA_OFF)
        return XIPC_EPROTO;
    xipc_bcast_hdr *h = (xipc_bcast_hdr *)base;
    uint32_t magic = __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE);
    if (magic == 0)
        return XIPC_EBUSY; /* the publisher is still writing the header */
    /* every fixed field is read once into a private copy, then checked */
    uint64_t slots = bcast_rd32(&h->slot_count);
    uint64_t size = bcast_rd32(&h->slot_size);
    uint64_t total = bcast_rd64(&h->total_size);
    uint64_t off = bcast_rd64(&h->data_off);
    if (magic != XIPC_BCAST_MAGIC || bcast_rd32(&h->version) != XIPC_BCAST_VERSION)
        return XIPC_EPROTO;
    if (slots < XIPC_BCAST_MIN_SLOTS || slots > XIPC_BCAST_MAX_SLOTS ||
        (slots & (slots - 1)) != 0)
        return XIPC_EPROTO;
    if (size < XIPC_BCAST_MIN_SLOT || size > XIPC_BCAST_MAX_SLOT || size % 64 != 0)
        return XIPC_EPROTO;
    /* slots * size < 2^44: no overflow */
    if (off != XIPC_BCAST_DATA_OFF || total != seg_size ||
        total != off + slots * size)
        return XIPC_EPROTO;
    if (role == XIPC_BCAST_SUBSCRIBER && bcast_rd32(&h->pub_pid) == 0)
        return XIPC_EPROTO;
    uint64_t head = atomic_load_explicit(&h->head, memory_order_acquire);
    if (head > XIPC_BCAST_SEQ_MAX)
        return XIPC_EPROTO;
    if (sig == NULL || (uintptr_t)sig % 64 != 0)
        return XIPC_EINVAL;
    b->hdr = h;
    b->sig = sig;
    b->data = (uint8_t *)base + off;
    b->slots = slots;
    b->slot_size = size;
    b->next = head; /* a subscriber sees what is published from now on */
    b->seen = head;
    b->spin_us = spin_us;
    b->role = role;
    b->peer = peer;
    return XIPC_OK;
}

uint32_t xipc_bcast_pub_pid(const xipc_bcast *b)
{
    return bcast_rd32(&b->hdr->pub_pid);
}

int xipc_bcast_closed(const xipc_bcast *b)
{
    return atomic_load_explicit(&b->hdr->closed, memory_order_acquire) != 0;
}

static xipc_err bcast_fail(xipc_bcast *b)
{
    b->broken = XIPC_EPROTO;
    b->pending = 0;
    return XIPC_EPROTO;
}

/* ---- publisher -------------------------------------------------------------- */

xipc_err xipc_bcast_reserve(xipc_bcast *b, size_t len, void **buf)
{
    if (b->role != XIPC_BCAST_PUBLISHER || b->pending)
        return XIPC_ESTATE;
    if ((uint64_t)len > xipc_bcast_max_msg(b->slot_size))
        return XIPC_EMSGSIZE;
    xipc_bcast_slot *s = bcast_slot(b, b->next);
    atomic_store_explicit(&s->stamp, XIPC_BCAST_BUSY(b->next), memory_order_relaxed);
    /* the busy stamp is visible before any byte of the new payload */
    atomic_thread_fence(memory_order_release);
    b->pending = 1;
    b->pend_len = (uint32_t)len;
    *buf = s + 1;
    return XIPC_OK;
}

xipc_err xipc_bcast_commit(xipc_bcast *b, size_t len)
{
    if (b->role != XIPC_BCAST_PUBLISHER || !b->pending)
        return XIPC_ESTATE;
    if ((uint64_t)len > b->pend_len)
        return XIPC_EINVAL;
    xipc_bcast_hdr *h = b->hdr;
    xipc_bcast_slot *s = bcast_slot(b, b->next);
    s->len = (uint32_t)len;
    atomic_store_explicit(&s->stamp, XIPC_BCAST_DONE(b->next), memory_order_release);
    b->next++;
    b->pending = 0;
    atomic_store_explicit(&h->head, b->next, memory_order_release);
    atomic_thread_fence(memory_order_seq_cst);
    xipc_bcast_sig *g = b->sig;
    if (atomic_load_explicit(&g->waiting, memory_order_relaxed) &&
        atomic_exchange_explicit(&g->waiting, 0, memory_order_seq_cst)) {
        atomic_fetch_add_explicit(&g->data_seq, 1, memory_order_release);
        xipc_plat_futex_wake((uint32_t *)&g->data_seq);
    }
    return XIPC_OK;
}

xipc_err xipc_bcast_send(xipc_bcast *b, const void *buf, size_t len)
{
    void *dst;
    xipc_err rv = xipc_bcast_reserve(b, len, &dst);
    if (rv != XIPC_OK)
        return rv;
    if (len > 0)
        memcpy(dst, buf, len);
    return xipc_bcast_commit(b, len);
}

void xipc_bcast_close(xipc_bcast *b)
{
    xipc_bcast_hdr *h = b->hdr;
    if (h == NULL || b->role != XIPC_BCAST_PUBLISHER)
        return;
    atomic_store_explicit(&h->closed, 1, memory_order_release);
    atomic_thread_fence(memory_order_seq_cst);
    atomic_fetch_add_explicit(&b->sig->data_seq, 1, memory_order_release);
    xipc_plat_futex_wake((uint32_t *)&b->sig->data_seq);
}

/* ---- subscriber: waiting ---------------------------------------------------- */

/* Read and check the head: it only grows and stays below SEQ_MAX. */
static xipc_err bcast_load_head(xipc_bcast *b)
{
    uint64_t head = atomic_load_explicit(&b->hdr->head, memory_order_acquire);
    if (head < b->seen || head > XIPC_BCAST_SEQ_MAX)
        return bcast_fail(b);
    b->seen = head;
    return XIPC_OK;
}

/* Is message `next` published? */
static xipc_err bcast_poll(xipc_bcast *b)
{
    if (bcast_load_head(b) != XIPC_OK)
        return XIPC_EPROTO;
    if (b->seen != b->next)
        return XIPC_OK;
    if (!xipc_bcast_closed(b))
        return BCAST_NOT_READY;
    /* closed: a message published before the flag is still delivered */
    if (bcast_load_head(b) != XIPC_OK)
        return XIPC_EPROTO;
    return b->seen != b->next ? XIPC_OK : XIPC_ECLOSED;
}

static xipc_err bcast_sleep(xipc_bcast *b, bcast_deadline *d)
{
    xipc_bcast_sig *h = b->sig; /* another subscriber may write these */
    xipc_err rv;
    xipc_wait_storm storm = {0, 0};
    int woke = 0;
    for (;;) {
        uint32_t seq = atomic_load_explicit(&h->data_seq, memory_order_acquire);
        atomic_store_explicit(&h->waiting, 1, memory_order_relaxed);
        atomic_thread_fence(memory_order_seq_cst);
        rv = bcast_poll(b);
        if (rv != BCAST_NOT_READY)
            break;
        /* not ready means the head has not moved: whatever woke us
         * brought nothing (wait.h) */
        xipc__storm_note(&storm, woke, 0);
        if (b->peer != NULL && !xipc_plat_proc_alive(b->peer)) {
            /* the publisher died: what it published is still readable */
            rv = bcast_poll(b);
            if (rv == BCAST_NOT_READY)
                rv = XIPC_ECLOSED;
            break;
        }
        uint32_t slice;
        if ((rv = xipc__deadline_slice(d, XIPC_WAIT_SLICE_US, &slice)) != XIPC_OK)
            break;
        /* woken for nothing many times in a row: a storm (wait.h) */
        slice = xipc__storm_pause(&storm, slice);
        woke = slice > 0 && xipc_plat_futex_wait((uint32_t *)&h->data_seq, seq,
                                                 slice) != XIPC_ETIMEDOUT;
    }
    /* `waiting` stays set: another subscriber may sleep under it */
    return rv;
}

/* Wait until message `next` is published: spin first, then sleep. */
static xipc_err bcast_poll_any(void *arg)
{
    return bcast_poll(arg);
}

static xipc_err bcast_wait(xipc_bcast *b, bcast_deadline *d)
{
    xipc_err rv = bcast_poll(b);
    if (rv != BCAST_NOT_READY || d->poll)
        return rv;
    rv = xipc__spin(bcast_poll_any, b, b->spin_us, d);
    return rv != BCAST_NOT_READY ? rv : bcast_sleep(b, d);
}

/* ---- subscriber: reading ------------------------------------------------------ */

/*
 * Lapped at `next`: continue with the oldest message still present,
 * head - slots (at least next + 1), and report how many were skipped.
 */
static xipc_err bcast_overrun(xipc_bcast *b, size_t *len)
{
    uint64_t head = b->seen;
    uint64_t oldest = head > b->slots ? head - b->slots : 0;
    if (oldest <= b->next)
        oldest = b->next + 1; /* <= head: next < head when lapped */
    b->last_lost = oldest - b->next;
    b->next = oldest;
    b->pending = 0;
    *len = b->last_lost > (uint64_t)SIZE_MAX ? SIZE_MAX : (size_t)b->last_lost;
    return XIPC_EOVERRUN;
}

/*
 * The slot of `next` holds stamp @p st instead of DONE(next). Honest only
 * when st belongs to a later message of the same slot that the publisher
 * has reached (seq <= head, read after the stamp); anything else is EPROTO.
 */
static xipc_err bcast_check_newer(xipc_bcast *b, uint64_t st)
{
    if (st < XIPC_BCAST_DONE(b->next))
        return bcast_fail(b); /* older than a published message can be */
    if (bcast_load_head(b) != XIPC_OK)
        return XIPC_EPROTO;
    uint64_t seq = (st - 1) / 2;
    if (((seq ^ b->next) & (b->slots - 1)) != 0 || seq > b->seen)
        return bcast_fail(b);
    return XIPC_OK;
}

xipc_err xipc_bcast_peek(xipc_bcast *b, const void **buf, size_t *len,
                         int timeout_ms)
{
    if (b->broken)
        return b->broken;
    if (b->role != XIPC_BCAST_SUBSCRIBER)
        return XIPC_ESTATE;
    if (b->pending) {
        /* peeked before and not released: the same message again */
        *buf = bcast_slot(b, b->next) + 1;
        *len = b->pend_len;
        return XIPC_OK;
    }
    bcast_deadline d = xipc__deadline(timeout_ms);
    xipc_err rv = bcast_wait(b, &d);
    if (rv != XIPC_OK)
        return rv;
    if (b->seen - b->next > b->slots)
        return bcast_overrun(b, len); /* next + slots was published */
    xipc_bcast_slot *s = bcast_slot(b, b->next);
    uint64_t st = atomic_load_explicit(&s->stamp, memory_order_acquire);
    if (st != XIPC_BCAST_DONE(b->next)) {
        if (bcast_check_newer(b, st) != XIPC_OK)
            return XIPC_EPROTO;
        return bcast_overrun(b, len);
    }
    uint32_t n = bcast_rd32(&s->len);
    if ((uint64_t)n > xipc_bcast_max_msg(b->slot_size)) {
        /* a torn read of a slot being rewritten, or garbage */
        atomic_thread_fence(memory_order_acquire);
        st = atomic_load_explicit(&s->stamp, memory_order_relaxed);
        if (st == XIPC_BCAST_DONE(b->next) || bcast_check_newer(b, st) != XIPC_OK)
            return bcast_fail(b);
        return bcast_overrun(b, len);
    }
    b->pending = 1;
    b->pend_len = n;
    *buf = s + 1;
    *len = n;
    return XIPC_OK;
}

xipc_err xipc_bcast_release(xipc_bcast *b)
{
    if (b->broken)
        return b->broken;
    if (b->role != XIPC_BCAST_SUBSCRIBER || !b->pending)
        return XIPC_ESTATE;
    xipc_bcast_slot *s = bcast_slot(b, b->next);
    /* everything read from the slot is ordered before this re-check */
    atomic_thread_fence(memory_order_acquire);
    uint64_t st = atomic_load_explicit(&s->stamp, memory_order_relaxed);
    b->pending = 0;
    if (st == XIPC_BCAST_DONE(b->next)) {
        b->next++;
        return XIPC_OK;
    }
    /* overwritten while the caller read it: that message is lost */
    if (bcast_check_newer(b, st) != XIPC_OK)
        return XIPC_EPROTO;
    b->next++;
    b->last_lost = 1;
    return XIPC_EOVERRUN;
}

xipc_err xipc_bcast_recv(xipc_bcast *b, void *buf, size_t cap, size_t *len,
                         int timeout_ms)
{
    const void *src;
    size_t n;
    xipc_err rv = xipc_bcast_peek(b, &src, &n, timeout_ms);
    if (rv != XIPC_OK) {
        if (rv == XIPC_EOVERRUN)
            *len = n; /* messages lost */
        return rv;
    }
    if (n <= cap) {
        if (n > 0)
            memcpy(buf, src, n);
    } else {
        /* too large: it stays next, unless it was overwritten already */
        xipc_bcast_slot *s = bcast_slot(b, b->next);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&s->stamp, memory_order_relaxed) ==
            XIPC_BCAST_DONE(b->next)) {
            *len = n;
            return XIPC_EMSGSIZE;
        }
        /* overwritten: release reports it; nothing was copied */
        rv = xipc_bcast_release(b);
        if (rv == XIPC_OK)
            return bcast_fail(b); /* the stamp went back: a lie */
        if (rv == XIPC_EOVERRUN)
            *len = 1;
        return rv;
    }
    rv = xipc_bcast_release(b);
    *len = rv == XIPC_EOVERRUN ? 1 : n;
    return rv;
}
