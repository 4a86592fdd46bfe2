/*
 * libFuzzer target: the shared-memory ring readers (src/ring) fed a
 * hostile segment: the SPSC ring (ring.c) and the broadcast ring
 * (bcast.c).
 *
 * The segment is an exactly sized heap block (AddressSanitizer sees any
 * access outside it). Input: [ctl][ops...]. ctl picks the ring kind and
 * the geometry, and whether the attach itself faces a hostile header.
 * Then the input is a program of operations, each taking its arguments
 * from the bytes that follow: legitimate sends by an honest producer or
 * publisher attached in the same process, reads by the consumer or
 * subscriber (peek, repeated peek, release, recv into exactly sized
 * buffers) — all with timeout 0 — and hostile writes into the segment:
 * head, tail, close flags, wait flags, the fixed header line, record
 * headers, slot stamps and lengths, payload bytes.
 *
 * Checks: the reader never returns bytes outside its data area nor a
 * length beyond the largest message; its errors are among those
 * documented, and XIPC_EPROTO is sticky. As long as no hostile write has
 * happened, the reader must return exactly what the honest writer sent
 * (broadcast: exactly the documented XIPC_EOVERRUN counts).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>

#include "fuzz.h"
#include "ring/bcast.h"
#include "ring/ring.h"

#define RING_FZ_OPS 256

static uint8_t ring_fz_byte(uint64_t seq, uint64_t k)
{
    return (uint8_t)(seq * 31u + k * 7u + 1u);
}

static void *ring_fz_alloc(size_t n)
{
    void *p = aligned_alloc(64, n); /* n is a multiple of 64 */
    FZ_CHECK(p != NULL);
    memset(p, 0, n);
    return p;
}

/* ---- SPSC ring -------------------------------------------------------------- */

#define SPSC_HDR_OFF 0u
#define SPSC_DATA_OFF 256u

typedef struct spsc_fz {
    uint8_t *seg;
    uint8_t *data; /* the data area as the consumer attached it */
    uint64_t seg_size, cap;
    xipc_ring prod, cons;
    int prod_ok, cons_ok;
    int hostile;       /* a hostile write happened: no exact expectations */
    int cons_broken;   /* the consumer returned XIPC_EPROTO */
    /* messages sent and not yet received (honest mode): seq and length */
    uint64_t q_seq[RING_FZ_OPS], q_len[RING_FZ_OPS];
    size_t q_head, q_tail;
    uint64_t sent;
    int peeked;        /* the consumer has a peeked record */
} spsc_fz;

/* A message the consumer returned is inside the data area and fits. */
static void spsc_fz_check_span(const spsc_fz *z, const void *p, size_t n)
{
    const uint8_t *b = p;
    FZ_CHECK(b >= z->data && b <= z->data + z->cap);
    FZ_CHECK(n <= xipc_ring_max_msg(z->cap));
    FZ_CHECK((uint64_t)(z->data + z->cap - b) >= n);
}

/* The consumer returned message (@p p, @p n): in honest mode it must be
 * the oldest one sent. */
static void spsc_fz_expect_msg(spsc_fz *z, const uint8_t *p, size_t n, int consume)
{
    if (z->hostile)
        return;
    FZ_CHECK(z->q_head != z->q_tail);
    uint64_t seq = z->q_seq[z->q_head], want = z->q_len[z->q_head];
    FZ_CHECK(n == want);
    for (size_t k = 0; k < n; k++)
        FZ_CHECK(p[k] == ring_fz_byte(seq, k));
    if (consume)
        z->q_head++;
}

static void spsc_fz_read_err(spsc_fz *z, xipc_err rv)
{
    if (rv == XIPC_EPROTO) {
        FZ_CHECK(z->hostile);
        z->cons_broken = 1;
        return;
    }
    FZ_CHECK(!z->cons_broken);
    if (rv == XIPC_ETIMEDOUT) {
        FZ_CHECK(z->hostile || z->q_head == z->q_tail);
        return;
    }
    FZ_CHECK(rv == XIPC_ECLOSED && z->hostile); /* prod_closed is hostile here */
}

static void spsc_fz_op(spsc_fz *z, fz_in *in)
{
    xipc_ring_hdr *h = (xipc_ring_hdr *)(z->seg + SPSC_HDR_OFF);
    uint8_t op = fz_u8(in);
    switch (op % 12) {
    case 0:
    case 1: { /* honest send */
        size_t len = fz_u16(in) % (xipc_ring_max_msg(z->cap) + 2);
        if (!z->prod_ok)
            return;
        void *dst;
        xipc_err rv = xipc_ring_reserve(&z->prod, len, &dst, 0);
        if (rv == XIPC_OK) {
            for (size_t k = 0; k < len; k++)
                ((uint8_t *)dst)[k] = ring_fz_byte(z->sent, k);
            FZ_CHECK(xipc_ring_commit(&z->prod, len) == XIPC_OK);
            if (!z->hostile) {
                FZ_CHECK(z->q_tail < RING_FZ_OPS);
                z->q_seq[z->q_tail] = z->sent;
                z->q_len[z->q_tail++] = len;
            }
            z->sent++;
        } else if (rv == XIPC_EMSGSIZE) {
            FZ_CHECK(len > xipc_ring_max_msg(z->cap));
        } else if (rv == XIPC_EPROTO) {
            FZ_CHECK(z->hostile); /* a hostile tail */
        } else {
            FZ_CHECK(rv == XIPC_ETIMEDOUT || (rv == XIPC_ECLOSED && z->hostile));
        }
        return;
    }
    case 2: /* peek */
    case 3: {
        if (!z->cons_ok)
            return;
        const void *p;
        size_t n;
        xipc_err rv = xipc_ring_peek(&z->cons, &p, &n, 0);
        if (rv == XIPC_OK) {
            FZ_CHECK(!z->cons_broken);
            spsc_fz_check_span(z, p, n);
            spsc_fz_expect_msg(z, p, n, 0);
            volatile uint8_t sum = 0; /* touch every byte */
            for (size_t k = 0; k < n; k++)
                sum ^= ((const uint8_t *)p)[k];
            (void)sum;
            z->peeked = 1;
        } else {
            spsc_fz_read_err(z, rv);
        }
        return;
    }
    case 4: { /* release */
        if (!z->cons_ok)
            return;
        xipc_err rv = xipc_ring_release(&z->cons);
        if (rv == XIPC_OK) {
            FZ_CHECK(z->peeked && !z->cons_broken);
            if (!z->hostile)
                z->q_head++;
            z->peeked = 0;
        } else if (rv == XIPC_ESTATE) {
            FZ_CHECK(!z->peeked && !z->cons_broken);
        } else {
            FZ_CHECK(rv == XIPC_EPROTO && z->cons_broken);
        }
        return;
    }
    case 5:
    case 6: { /* recv into an exactly sized buffer */
        size_t cap = fz_u16(in) % (xipc_ring_max_msg(z->cap) + 1);
        if (!z->cons_ok)
            return;
        uint8_t *buf = malloc(cap ? cap : 1);
        FZ_CHECK(buf != NULL);
        size_t n = 0;
        xipc_err rv = xipc_ring_recv(&z->cons, buf, cap, &n, 0);
        if (rv == XIPC_OK) {
            FZ_CHECK(!z->cons_broken && n <= cap);
            spsc_fz_expect_msg(z, buf, n, 1);
            z->peeked = 0;
        } else if (rv == XIPC_EMSGSIZE) {
            FZ_CHECK(n > cap && n <= xipc_ring_max_msg(z->cap));
            FZ_CHECK(z->hostile || (z->q_head != z->q_tail && n == z->q_len[z->q_head]));
            z->peeked = 1; /* stays queued, as peeked */
        } else {
            spsc_fz_read_err(z, rv);
        }
        free(buf);
        return;
    }
    case 7: { /* hostile head: anywhere, near the truth, or ahead of the
                 reader (a hostile producer knows where the reader is) */
        uint64_t v = fz_u64(in);
        uint64_t head = atomic_load(&h->head);
        if (op & 0x80)
            head = v;
        else if (op & 0x40)
            head = z->cons.pos + (v & 0xffff);
        else
            head += (int8_t)(v & 0xff);
        atomic_store(&h->head, head);
        z->hostile = 1;
        return;
    }
    case 8: { /* hostile tail (the producer's reader) */
        uint64_t v = fz_u64(in);
        uint64_t tail = atomic_load(&h->tail);
        atomic_store(&h->tail, (op & 0x80) ? v : tail + (int8_t)(v & 0xff));
        z->hostile = 1;
        return;
    }
    case 9: { /* hostile bytes in the data area: record headers, payload */
        uint32_t off = fz_u16(in) % (uint32_t)z->cap;
        size_t n;
        const uint8_t *b = fz_bytes(in, 16, &n);
        if ((op & 0x40) && z->cons_ok) /* where the reader looks next */
            off = (uint32_t)(z->cons.pos & (z->cap - 1));
        if ((op & 0x80) && n >= 8) { /* a plausible record header */
            uint32_t rh[2] = {(uint32_t)b[0] | (uint32_t)b[1] << 8,
                              (b[2] & 1) ? XIPC_REC_PAD : XIPC_REC_MSG};
            off &= ~7u;
            memcpy(z->data + off, rh, 8);
        } else {
            if (n > z->cap - off)
                n = z->cap - off;
            memcpy(z->data + off, b, n);
        }
        z->hostile = 1;
        return;
    }
    case 10: { /* hostile signal words */
        uint32_t v = fz_u32(in);
        atomic_store(&h->prod_closed, v & 1);
        atomic_store(&h->cons_closed, (v >> 1) & 1);
        atomic_store(&h->cons_waiting, (v >> 2) & 1);
        atomic_store(&h->prod_waiting, (v >> 3) & 1);
        atomic_store(&h->data_seq, v);
        z->hostile = 1;
        return;
    }
    default: /* hostile fixed line: the handles must not read it again */
        h->capacity = fz_u64(in);
        h->data_off = fz_u64(in);
        h->magic = fz_u32(in);
        z->hostile = 1;
        return;
    }
}

static void spsc_fz_run(fz_in *in, uint8_t ctl)
{
    static spsc_fz z; /* large: not on the stack */
    memset(&z, 0, sizeof(z));
    z.cap = (ctl & 2) ? 8192 : 4096;
    z.seg_size = SPSC_DATA_OFF + z.cap;
    z.seg = ring_fz_alloc(z.seg_size);
    xipc_ring_format((xipc_ring_hdr *)(z.seg + SPSC_HDR_OFF), z.cap, SPSC_DATA_OFF);
    if (ctl & 4) {
        /* a hostile header before anyone attaches: 40 bytes on the fixed
         * line, the head line or the tail line */
        static const uint32_t line[4] = {0, 64, 128, 128};
        size_t n;
        const uint8_t *b = fz_bytes(in, 40, &n);
        memcpy(z.seg + SPSC_HDR_OFF + line[(ctl >> 3) & 3], b, n);
        z.hostile = 1;
    }
    /* the consumer attaches first, as a listener would */
    z.cons_ok = xipc_ring_attach(&z.cons, z.seg, z.seg_size, SPSC_HDR_OFF,
                                 XIPC_RING_CONSUMER, 0, NULL) == XIPC_OK;
    z.prod_ok = xipc_ring_attach(&z.prod, z.seg, z.seg_size, SPSC_HDR_OFF,
                                 XIPC_RING_PRODUCER, 0, NULL) == XIPC_OK;
    FZ_CHECK(z.hostile || (z.cons_ok && z.prod_ok));
    z.data = z.seg + SPSC_DATA_OFF;
    if (z.cons_ok) { /* what the attach accepted lies inside the segment */
        FZ_CHECK(z.cons.data >= z.seg && z.cons.cap <= z.seg_size &&
                 (uint64_t)(z.cons.data - z.seg) <= z.seg_size - z.cons.cap);
        FZ_CHECK(z.hostile || (z.cons.data == z.data && z.cons.cap == z.cap));
        z.data = z.cons.data;
        z.cap = z.cons.cap;
    }
    /* a producer that sees another geometry than the consumer stays out */
    if (z.prod_ok && (z.prod.data != z.data || z.prod.cap != z.cap))
        z.prod_ok = 0;
    for (int i = 0; i < RING_FZ_OPS && fz_left(in) > 0; i++)
        spsc_fz_op(&z, in);
    if (z.cons_ok)
        xipc_ring_close(&z.cons);
    if (z.prod_ok)
        xipc_ring_close(&z.prod);
    free(z.seg);
}

/* ---- broadcast ring ---------------------------------------------------------- */

typedef struct bcast_fz {
    uint8_t *seg;
    uint64_t seg_size, slots, slot_size;
    xipc_bcast pub, sub;
    int pub_ok, sub_ok;
    int hostile;
    int sub_broken;
    uint64_t published;   /* honest mode: messages published */
    uint64_t expect;      /* honest mode: the subscriber's next seq */
    uint64_t lens[RING_FZ_OPS];
    int peeked;
    xipc_bcast_sig sig; /* the signals page (another mapping in pubsub://) */
} bcast_fz;

static void bcast_fz_check_span(const bcast_fz *z, const void *p, size_t n)
{
    const uint8_t *b = p, *data = z->seg + XIPC_BCAST_DATA_OFF;
    FZ_CHECK(n <= xipc_bcast_max_msg(z->slot_size));
    FZ_CHECK(b >= data + XIPC_BCAST_SLOT_HDR && b < data + z->slots * z->slot_size);
    uint64_t in_slot = (uint64_t)(b - data) % z->slot_size;
    FZ_CHECK(in_slot == XIPC_BCAST_SLOT_HDR);
}

/* Honest mode: what the next peek must return. */
static xipc_err bcast_fz_want(const bcast_fz *z, uint64_t *lost)
{
    if (z->published == z->expect)
        return XIPC_ETIMEDOUT;
    if (z->published - z->expect > z->slots) {
        *lost = z->published - z->slots - z->expect;
        return XIPC_EOVERRUN;
    }
    return XIPC_OK;
}

static void bcast_fz_msg(bcast_fz *z, const uint8_t *p, size_t n)
{
    if (z->hostile)
        return;
    FZ_CHECK(n == z->lens[z->expect]);
    for (size_t k = 0; k < n; k++)
        FZ_CHECK(p[k] == ring_fz_byte(z->expect, k));
}

static void bcast_fz_err(bcast_fz *z, xipc_err rv, size_t n)
{
    if (rv == XIPC_EPROTO) {
        FZ_CHECK(z->hostile);
        z->sub_broken = 1;
        z->peeked = 0;
        return;
    }
    FZ_CHECK(!z->sub_broken);
    if (z->hostile) {
        FZ_CHECK(rv == XIPC_ETIMEDOUT || rv == XIPC_ECLOSED || rv == XIPC_EOVERRUN);
        if (rv == XIPC_EOVERRUN)
            z->peeked = 0;
        return;
    }
    uint64_t lost = 0;
    xipc_err want = bcast_fz_want(z, &lost);
    FZ_CHECK(rv == want);
    if (rv == XIPC_EOVERRUN) {
        FZ_CHECK(n == lost && lost == z->sub.last_lost);
        z->expect += lost;
    }
}

static void bcast_fz_op(bcast_fz *z, fz_in *in)
{
    xipc_bcast_hdr *h = (xipc_bcast_hdr *)z->seg;
    uint8_t op = fz_u8(in);
    switch (op % 12) {
    case 0:
    case 1: { /* honest publish */
        size_t len = fz_u16(in) % (xipc_bcast_max_msg(z->slot_size) + 2);
        if (!z->pub_ok)
            return;
        void *dst;
        xipc_err rv = xipc_bcast_reserve(&z->pub, len, &dst);
        if (rv == XIPC_EMSGSIZE) {
            FZ_CHECK(len > xipc_bcast_max_msg(z->slot_size));
            return;
        }
        FZ_CHECK(rv == XIPC_OK);
        uint64_t seq = z->pub.next;
        for (size_t k = 0; k < len; k++)
            ((uint8_t *)dst)[k] = ring_fz_byte(seq, k);
        FZ_CHECK(xipc_bcast_commit(&z->pub, len) == XIPC_OK);
        if (!z->hostile) {
            FZ_CHECK(seq == z->published && seq < RING_FZ_OPS);
            z->lens[seq] = len;
            z->published++;
        }
        return;
    }
    case 2:
    case 3: { /* peek, sometimes twice */
        if (!z->sub_ok)
            return;
        const void *p;
        size_t n = 0;
        xipc_err rv = xipc_bcast_peek(&z->sub, &p, &n, 0);
        if (rv == XIPC_OK) {
            FZ_CHECK(!z->sub_broken);
            bcast_fz_check_span(z, p, n);
            if (!z->hostile && !z->peeked) {
                uint64_t lost;
                FZ_CHECK(bcast_fz_want(z, &lost) == XIPC_OK);
            }
            /* a peeked message the publisher overwrote since: torn bytes */
            if (!z->peeked || (!z->hostile && z->published <= z->expect + z->slots))
                bcast_fz_msg(z, p, n);
            volatile uint8_t sum = 0;
            for (size_t k = 0; k < n; k++)
                sum ^= ((const uint8_t *)p)[k];
            (void)sum;
            z->peeked = 1;
        } else {
            FZ_CHECK(!z->peeked || z->hostile || rv == XIPC_EPROTO);
            bcast_fz_err(z, rv, n);
        }
        return;
    }
    case 4: { /* release */
        if (!z->sub_ok)
            return;
        xipc_err rv = xipc_bcast_release(&z->sub);
        if (rv == XIPC_ESTATE) {
            FZ_CHECK(!z->peeked && !z->sub_broken);
            return;
        }
        if (rv == XIPC_EPROTO) {
            FZ_CHECK(z->hostile);
            z->sub_broken = 1;
            z->peeked = 0;
            return;
        }
        FZ_CHECK(z->peeked && !z->sub_broken);
        z->peeked = 0;
        if (!z->hostile) {
            /* overwritten while peeked: the publisher reached expect + slots */
            int lapped = z->published > z->expect + z->slots;
            FZ_CHECK(rv == (lapped ? XIPC_EOVERRUN : XIPC_OK));
            z->expect++;
        } else {
            FZ_CHECK(rv == XIPC_OK || rv == XIPC_EOVERRUN);
        }
        return;
    }
    case 5:
    case 6: { /* recv into an exactly sized buffer */
        size_t cap = fz_u16(in) % (xipc_bcast_max_msg(z->slot_size) + 1);
        if (!z->sub_ok)
            return;
        uint8_t *buf = malloc(cap ? cap : 1);
        FZ_CHECK(buf != NULL);
        size_t n = 0;
        int was_peeked = z->peeked;
        xipc_err rv = xipc_bcast_recv(&z->sub, buf, cap, &n, 0);
        if (rv == XIPC_OK) {
            FZ_CHECK(!z->sub_broken && n <= cap);
            if (!z->hostile) {
                uint64_t lost;
                FZ_CHECK(was_peeked || bcast_fz_want(z, &lost) == XIPC_OK);
                FZ_CHECK(z->published <= z->expect + z->slots); /* not lapped */
                bcast_fz_msg(z, buf, n);
                z->expect++;
            }
            z->peeked = 0;
        } else if (rv == XIPC_EMSGSIZE) {
            FZ_CHECK(!z->sub_broken && n > cap &&
                     n <= xipc_bcast_max_msg(z->slot_size));
            FZ_CHECK(z->hostile || n == z->lens[z->expect]);
            z->peeked = 1;
        } else if (rv == XIPC_EOVERRUN && was_peeked) {
            /* the peeked message was overwritten: one lost */
            FZ_CHECK(n == 1);
            FZ_CHECK(z->hostile || z->published > z->expect + z->slots);
            if (!z->hostile)
                z->expect++;
            z->peeked = 0;
        } else {
            FZ_CHECK(!was_peeked || z->hostile || rv == XIPC_EPROTO);
            bcast_fz_err(z, rv, n);
        }
        free(buf);
        return;
    }
    case 7: { /* hostile head */
        uint64_t v = fz_u64(in);
        uint64_t head = atomic_load(&h->head);
        atomic_store(&h->head, (op & 0x80) ? v : head + (int8_t)(v & 0xff));
        z->hostile = 1;
        return;
    }
    case 8: { /* hostile stamp: near a real sequence number or anything */
        uint64_t slot = fz_u8(in) % z->slots;
        uint64_t v = fz_u64(in);
        xipc_bcast_slot *s = (xipc_bcast_slot *)(z->seg + XIPC_BCAST_DATA_OFF +
                                                 slot * z->slot_size);
        uint64_t seq = atomic_load(&h->head) + (int8_t)(v & 0xff);
        atomic_store(&s->stamp, (op & 0x80) ? v
                                : (v & 0x100) ? XIPC_BCAST_DONE(seq)
                                              : XIPC_BCAST_BUSY(seq));
        z->hostile = 1;
        return;
    }
    case 9: { /* hostile slot length */
        uint64_t slot = fz_u8(in) % z->slots;
        xipc_bcast_slot *s = (xipc_bcast_slot *)(z->seg + XIPC_BCAST_DATA_OFF +
                                                 slot * z->slot_size);
        s->len = (op & 0x80) ? fz_u32(in) : fz_u16(in) % (uint32_t)(z->slot_size + 8);
        z->hostile = 1;
        return;
    }
    case 10: { /* hostile payload bytes anywhere in the slots */
        uint64_t area = z->slots * z->slot_size;
        uint64_t off = fz_u16(in) % area;
        size_t n;
        const uint8_t *b = fz_bytes(in, 16, &n);
        if (n > area - off)
            n = (size_t)(area - off);
        memcpy(z->seg + XIPC_BCAST_DATA_OFF + off, b, n);
        z->hostile = 1;
        return;
    }
    default: { /* hostile header words: closed, waiting, the fixed line */
        uint32_t v = fz_u32(in);
        atomic_store(&h->closed, v & 1);
        atomic_store(&z->sig.waiting, (v >> 1) & 1);
        atomic_store(&z->sig.data_seq, v);
        if (v & 4) {
            h->slot_count = fz_u32(in);
            h->slot_size = fz_u32(in);
            h->total_size = fz_u64(in);
        }
        z->hostile = 1;
        return;
    }
    }
}

static void bcast_fz_run(fz_in *in, uint8_t ctl)
{
    static const uint32_t geo[4][2] = {{2, 64}, {4, 64}, {8, 128}, {2, 256}};
    static bcast_fz z;
    memset(&z, 0, sizeof(z));
    z.slots = geo[(ctl >> 1) & 3][0];
    z.slot_size = geo[(ctl >> 1) & 3][1];
    z.seg_size = xipc_bcast_seg_size((uint32_t)z.slots, (uint32_t)z.slot_size);
    z.seg = ring_fz_alloc(z.seg_size);
    xipc_bcast_format(z.seg, (uint32_t)z.slots, (uint32_t)z.slot_size, 1);
    if (ctl & 8) {
        size_t n;
        const uint8_t *b = fz_bytes(in, 40, &n);
        memcpy(z.seg + (ctl & 16 ? 0 : 64), b, n);
        z.hostile = 1;
    }
    z.pub_ok = xipc_bcast_attach(&z.pub, z.seg, z.seg_size, &z.sig, XIPC_BCAST_PUBLISHER,
                                 0, NULL) == XIPC_OK;
    xipc_err rv = xipc_bcast_attach(&z.sub, z.seg, z.seg_size, &z.sig,
                                    XIPC_BCAST_SUBSCRIBER, 0, NULL);
    z.sub_ok = rv == XIPC_OK;
    FZ_CHECK(z.hostile || (z.pub_ok && z.sub_ok));
    FZ_CHECK(rv == XIPC_OK || rv == XIPC_EPROTO || rv == XIPC_EBUSY);
    if (z.sub_ok) {
        /* the geometry the attach accepted is the one of the segment */
        FZ_CHECK(z.sub.slots == z.slots && z.sub.slot_size == z.slot_size);
        FZ_CHECK(z.sub.data == z.seg + XIPC_BCAST_DATA_OFF);
    }
    if (z.pub_ok && z.pub.next != 0)
        z.pub_ok = 0; /* a hostile head: the honest publisher stays out */
    if (z.sub_ok && z.sub.next != 0)
        z.hostile = 1;
    for (int i = 0; i < RING_FZ_OPS && fz_left(in) > 0; i++)
        bcast_fz_op(&z, in);
    if (z.pub_ok)
        xipc_bcast_close(&z.pub);
    free(z.seg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size, 0};
    uint8_t ctl = fz_u8(&in);
    if (ctl & 1)
        bcast_fz_run(&in, ctl);
    else
        spsc_fz_run(&in, ctl);
    return 0;
}
