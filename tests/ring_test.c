/*
 * The shared-memory SPSC ring (src/ring/ring.h), in one process: the
 * segment is a plain heap block of exactly the size the ring needs (so a
 * sanitizer build catches any access outside it), both ends attached with
 * no peer process.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "ring/ring.h"
#include "test.h"

#define RT_HDR_OFF 192u  /* header somewhere inside the segment */
#define RT_DATA_OFF 512u /* data area after it */

typedef struct rt_seg {
    uint8_t *base;
    uint64_t size;
    uint64_t cap;
    xipc_ring_hdr *hdr;
    uint8_t *data;
    xipc_ring prod, cons;
} rt_seg;

/* A fresh zeroed segment with a formatted ring and both ends attached. */
static void rt_seg_new(rt_seg *s, uint64_t cap, uint32_t spin_us)
{
    memset(s, 0, sizeof(*s));
    s->size = RT_DATA_OFF + cap;
    s->cap = cap;
    s->base = aligned_alloc(64, (size_t)s->size);
    XT_ASSERT(s->base != NULL);
    memset(s->base, 0, (size_t)s->size);
    s->hdr = (xipc_ring_hdr *)(s->base + RT_HDR_OFF);
    s->data = s->base + RT_DATA_OFF;
    xipc_ring_format(s->hdr, cap, RT_DATA_OFF);
    XT_OK(xipc_ring_attach(&s->prod, s->base, s->size, RT_HDR_OFF,
                           XIPC_RING_PRODUCER, spin_us, NULL));
    XT_OK(xipc_ring_attach(&s->cons, s->base, s->size, RT_HDR_OFF,
                           XIPC_RING_CONSUMER, spin_us, NULL));
}

static void rt_seg_free(rt_seg *s)
{
    free(s->base);
    s->base = NULL;
}

static uint64_t rt_head(rt_seg *s)
{
    return atomic_load(&s->hdr->head);
}

static uint64_t rt_tail(rt_seg *s)
{
    return atomic_load(&s->hdr->tail);
}

static uint64_t rt_align8(uint64_t n)
{
    return (n + 7u) & ~(uint64_t)7u;
}

static uint64_t rt_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void rt_sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Byte @p j of message number @p seq. */
static uint8_t rt_pat(uint64_t seq, size_t j)
{
    uint64_t x = seq * 0x9e3779b97f4a7c15ull + (uint64_t)j * 0x2545f4914f6cdd1dull;
    return (uint8_t)(x >> 56 ^ x >> 29 ^ j);
}

static void rt_fill(uint8_t *p, uint64_t seq, size_t len)
{
    for (size_t j = 0; j < len; j++)
        p[j] = rt_pat(seq, j);
}

static void rt_check(const uint8_t *p, uint64_t seq, size_t len)
{
    for (size_t j = 0; j < len; j++)
        if (p[j] != rt_pat(seq, j))
            XT_FAIL("message %llu byte %u of %u: 0x%02x, want 0x%02x",
                    (unsigned long long)seq, (unsigned)j, (unsigned)len,
                    p[j], rt_pat(seq, j));
}

static uint64_t rt_rng(uint64_t *st)
{
    uint64_t x = *st;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *st = x;
    return x * 0x2545f4914f6cdd1dull;
}

/* Send message @p seq of @p len bytes with the pattern. */
static xipc_err rt_send(rt_seg *s, uint64_t seq, size_t len, int timeout_ms)
{
    static uint8_t buf[1u << 17];
    XT_ASSERT(len <= sizeof(buf));
    rt_fill(buf, seq, len);
    return xipc_ring_send(&s->prod, buf, len, timeout_ms);
}

/* Receive and check message @p seq of @p len bytes. */
static void rt_recv(rt_seg *s, uint64_t seq, size_t len)
{
    static uint8_t buf[1u << 17];
    size_t got = (size_t)-1;
    XT_OK(xipc_ring_recv(&s->cons, buf, sizeof(buf), &got, 0));
    XT_EQ(got, len);
    rt_check(buf, seq, got);
}

/* ---- empty ring, roles --------------------------------------------------- */

static void rt_test_empty(void)
{
    rt_seg s;
    rt_seg_new(&s, 4096, 0);
    const void *p;
    size_t len = 12345;
    uint8_t buf[16];
    XT_ERR(xipc_ring_peek(&s.cons, &p, &len, 0), XIPC_ETIMEDOUT);
    XT_ERR(xipc_ring_recv(&s.cons, buf, sizeof(buf), &len, 0), XIPC_ETIMEDOUT);
    uint64_t t0 = rt_now_ns();
    XT_ERR(xipc_ring_peek(&s.cons, &p, &len, 50), XIPC_ETIMEDOUT);
    uint64_t waited = rt_now_ns() - t0;
    if (waited < 40u * 1000000u)
        XT_FAIL("peek(50 ms) gave up after %llu us", (unsigned long long)(waited / 1000));
    /* nothing moved */
    XT_EQ(rt_head(&s), 0);
    XT_EQ(rt_tail(&s), 0);
    /* the wrong end */
    void *w;
    XT_ERR(xipc_ring_peek(&s.prod, &p, &len, 0), XIPC_ESTATE);
    XT_ERR(xipc_ring_release(&s.prod), XIPC_ESTATE);
    XT_ERR(xipc_ring_recv(&s.prod, buf, sizeof(buf), &len, 0), XIPC_ESTATE);
    XT_ERR(xipc_ring_reserve(&s.cons, 8, &w, 0), XIPC_ESTATE);
    XT_ERR(xipc_ring_send(&s.cons, buf, 8, 0), XIPC_ESTATE);
    XT_ERR(xipc_ring_commit(&s.cons, 0), XIPC_ESTATE);
    /* and the ring still works */
    XT_OK(rt_send(&s, 1, 5, 0));
    rt_recv(&s, 1, 5);
    rt_seg_free(&s);
}

/* ---- message sizes ------------------------------------------------------- */

static void rt_test_sizes(void)
{
    rt_seg s;
    const uint64_t cap = 4096;
    rt_seg_new(&s, cap, 0);
    const size_t max = (size_t)xipc_ring_max_msg(cap);
    XT_EQ(max, cap - 16); /* its record and the empty header after it */
    const size_t sizes[] = {0, 1, 7, 8, 9, 15, 16, 17, 100, 1000};
    uint64_t seq = 0;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint64_t h0 = rt_head(&s);
        XT_OK(rt_send(&s, ++seq, sizes[i], 0));
        /* one record: 8 bytes of header, the payload, padding to 8 */
        XT_EQ(rt_head(&s) - h0, rt_align8(8 + sizes[i]));
        rt_recv(&s, seq, sizes[i]);
        XT_EQ(rt_tail(&s), rt_head(&s));
    }
    /* a receive buffer of exactly the message's size */
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint8_t buf[1000];
        size_t got = 0;
        XT_OK(rt_send(&s, ++seq, sizes[i], 0));
        XT_OK(xipc_ring_recv(&s.cons, sizes[i] ? buf : NULL, sizes[i], &got, 0));
        XT_EQ(got, sizes[i]);
        rt_check(buf, seq, got);
    }
    /* too large, ever: refused, nothing published */
    uint64_t h0 = rt_head(&s);
    XT_ERR(rt_send(&s, ++seq, max + 1, 0), XIPC_EMSGSIZE);
    XT_ERR(rt_send(&s, seq, max + 1, -1), XIPC_EMSGSIZE);
    XT_ERR(rt_send(&s, seq, (size_t)cap, 0), XIPC_EMSGSIZE);
    void *w;
    XT_ERR(xipc_ring_reserve(&s.prod, max + 1, &w, 0), XIPC_EMSGSIZE);
    XT_ERR(xipc_ring_reserve(&s.prod, SIZE_MAX, &w, 0), XIPC_EMSGSIZE);
    XT_ERR(xipc_ring_reserve(&s.prod, SIZE_MAX - 7, &w, 0), XIPC_EMSGSIZE);
    XT_EQ(rt_head(&s), h0);
    rt_seg_free(&s);

    /* the largest message and the empty header after it fill a fresh
     * ring exactly */
    rt_seg_new(&s, cap, 0);
    XT_OK(rt_send(&s, 77, max, 0));
    XT_EQ(rt_head(&s), cap - 8);
    /* full: not even an empty message fits */
    XT_ERR(rt_send(&s, 78, 0, 0), XIPC_ETIMEDOUT);
    rt_recv(&s, 77, max);
    XT_EQ(rt_tail(&s), cap - 8);
    /* the 8 bytes left before the end become a PAD, then the message needs
     * the whole ring: the reader passes the pad first */
    XT_ERR(rt_send(&s, 79, max, 0), XIPC_ETIMEDOUT);
    XT_EQ(rt_head(&s), cap);
    const void *p;
    size_t len;
    XT_ERR(xipc_ring_peek(&s.cons, &p, &len, 0), XIPC_ETIMEDOUT);
    XT_EQ(rt_tail(&s), cap);
    XT_OK(rt_send(&s, 79, max, 0));
    rt_recv(&s, 79, max);
    XT_EQ(rt_tail(&s), 2 * cap - 8);

    /* the largest message when the write position is not at 0: the end is
     * padded, then it needs the whole ring, so the reader must pass the
     * pad first */
    XT_OK(rt_send(&s, 80, 100, 0));
    rt_recv(&s, 80, 100);
    XT_ERR(rt_send(&s, 81, max, 0), XIPC_ETIMEDOUT);
    XT_ERR(xipc_ring_peek(&s.cons, &p, &len, 0), XIPC_ETIMEDOUT);
    XT_EQ(rt_tail(&s), rt_head(&s));
    XT_EQ(rt_head(&s) % cap, 0);
    XT_OK(rt_send(&s, 81, max, 0));
    rt_recv(&s, 81, max);
    rt_seg_free(&s);

    /* a bigger ring: the largest message of 64 KiB - 16 */
    rt_seg_new(&s, 1u << 16, 0);
    XT_OK(rt_send(&s, 90, (1u << 16) - 16, 0));
    XT_ERR(rt_send(&s, 91, (1u << 16) - 15, 0), XIPC_EMSGSIZE);
    rt_recv(&s, 90, (1u << 16) - 16);
    rt_seg_free(&s);
}

/* ---- wrap-around --------------------------------------------------------- */

#define RT_Q 1024 /* more than can be in a 4 KiB ring (8 bytes each at least) */

static void rt_test_wrap(void)
{
    rt_seg s;
    const uint64_t cap = 4096;
    rt_seg_new(&s, cap, 0);
    uint64_t q_seq[RT_Q];
    size_t q_len[RT_Q];
    size_t q_first = 0, q_n = 0;
    uint64_t rng = 0x1234567887654321ull;
    uint64_t next_seq = 1, want_seq = 1;
    size_t next_len = 0;
    int have_next = 0;
    uint64_t laps = 0, round = 0, pads = 0;
    while (laps < 300 || round < 3000) {
        round++;
        /* send until the ring is full */
        for (;;) {
            if (!have_next) {
                uint64_t r = rt_rng(&rng);
                switch (r % 4) {
                case 0: next_len = (size_t)(r >> 8) % 16; break;
                case 1: next_len = (size_t)(r >> 8) % 200; break;
                case 2: next_len = (size_t)(r >> 8) % 1500; break;
                default: next_len = (size_t)(r >> 8) % (size_t)(xipc_ring_max_msg(cap) + 1); break;
                }
                have_next = 1;
            }
            uint64_t h0 = rt_head(&s);
            xipc_err rv = rt_send(&s, next_seq, next_len, 0);
            if (rv == XIPC_ETIMEDOUT)
                break;
            XT_OK(rv);
            if (rt_head(&s) - h0 != rt_align8(8 + next_len))
                pads++;
            if ((h0 / cap) != (rt_head(&s) / cap))
                laps++;
            XT_ASSERT(q_n < RT_Q);
            q_seq[(q_first + q_n) % RT_Q] = next_seq;
            q_len[(q_first + q_n) % RT_Q] = next_len;
            q_n++;
            next_seq++;
            have_next = 0;
        }
        XT_ASSERT(rt_head(&s) - rt_tail(&s) <= cap);
        /* receive some (at least one when there is any) */
        if (q_n == 0) {
            /* a message larger than the room before the end padded the
             * end, then found no room after it: the reader passes the pad */
            const void *p;
            size_t len;
            XT_ERR(xipc_ring_peek(&s.cons, &p, &len, 0), XIPC_ETIMEDOUT);
            XT_EQ(rt_tail(&s), rt_head(&s));
            XT_EQ(rt_head(&s) % cap, 0);
            continue;
        }
        size_t k = 1 + (size_t)(rt_rng(&rng) % q_n);
        for (size_t i = 0; i < k; i++) {
            XT_EQ(q_seq[q_first], want_seq);
            if (rt_rng(&rng) & 1) {
                rt_recv(&s, q_seq[q_first], q_len[q_first]);
            } else {
                const void *p;
                size_t len = 0;
                XT_OK(xipc_ring_peek(&s.cons, &p, &len, 0));
                XT_EQ(len, q_len[q_first]);
                rt_check(p, q_seq[q_first], len);
                XT_OK(xipc_ring_release(&s.cons));
            }
            want_seq++;
            q_first = (q_first + 1) % RT_Q;
            q_n--;
        }
    }
    /* drain */
    while (q_n) {
        rt_recv(&s, q_seq[q_first], q_len[q_first]);
        q_first = (q_first + 1) % RT_Q;
        q_n--;
    }
    const void *p;
    size_t len;
    XT_ERR(xipc_ring_peek(&s.cons, &p, &len, 0), XIPC_ETIMEDOUT);
    XT_EQ(rt_head(&s), rt_tail(&s));
    XT_ASSERT(laps >= 300);
    XT_ASSERT(pads > 0);
    XT_ASSERT(rt_head(&s) >= 300 * cap);
    printf("  wrap: %llu messages, %llu laps, %llu padded ends\n",
           (unsigned long long)(next_seq - 1), (unsigned long long)laps,
           (unsigned long long)pads);
    rt_seg_free(&s);
}

/* ---- full ring ----------------------------------------------------------- */

static void rt_test_full(void)
{
    rt_seg s;
    const uint64_t cap = 4096;
    rt_seg_new(&s, cap, 0);
    /* 56-byte messages take 64 bytes each: 63 fit, as the empty header
     * after the last must fit too */
    uint64_t n = 0;
    while (rt_send(&s, n, 56, 0) == XIPC_OK)
        n++;
    XT_EQ(n, cap / 64 - 1);
    XT_EQ(rt_head(&s), cap - 64);
    /* empty messages take 8 bytes: 7 more, then 8 bytes are left */
    uint64_t e = 0;
    while (rt_send(&s, n + e, 0, 0) == XIPC_OK)
        e++;
    XT_EQ(e, 7);
    XT_EQ(rt_head(&s), cap - 8);
    XT_ERR(rt_send(&s, n + e, 56, 0), XIPC_ETIMEDOUT);
    XT_ERR(rt_send(&s, n + e, 0, 0), XIPC_ETIMEDOUT);
    XT_ERR(rt_send(&s, n + e, 56, 20), XIPC_ETIMEDOUT);
    void *w;
    XT_ERR(xipc_ring_reserve(&s.prod, 0, &w, 0), XIPC_ETIMEDOUT);
    XT_EQ(rt_head(&s), cap - 8);
    /* a timed-out reservation leaves none open */
    XT_ERR(xipc_ring_commit(&s.prod, 0), XIPC_ESTATE);
    /* one out: the 8 bytes at the end become a PAD, and the message needs
     * 72 bytes at 0; two out, one in */
    rt_recv(&s, 0, 56);
    XT_ERR(rt_send(&s, n + e, 56, 0), XIPC_ETIMEDOUT);
    XT_EQ(rt_head(&s), cap);
    rt_recv(&s, 1, 56);
    XT_OK(rt_send(&s, n + e, 56, 0));
    XT_ERR(rt_send(&s, n + e + 1, 56, 0), XIPC_ETIMEDOUT);
    for (uint64_t i = 2; i < n; i++)
        rt_recv(&s, i, 56);
    for (uint64_t i = n; i < n + e; i++)
        rt_recv(&s, i, 0);
    rt_recv(&s, n + e, 56);
    const void *p;
    size_t len;
    XT_ERR(xipc_ring_peek(&s.cons, &p, &len, 0), XIPC_ETIMEDOUT);
    rt_seg_free(&s);
}

/* ---- receive buffer too small -------------------------------------------- */

static void rt_test_small_buffer(void)
{
    rt_seg s;
    rt_seg_new(&s, 4096, 0);
    XT_OK(rt_send(&s, 5, 100, 0));
    XT_OK(rt_send(&s, 6, 3, 0));
    uint8_t buf[100];
    memset(buf, 0xee, sizeof(buf));
    size_t len = 0;
    XT_ERR(xipc_ring_recv(&s.cons, buf, 99, &len, 0), XIPC_EMSGSIZE);
    XT_EQ(len, 100);
    len = 0;
    XT_ERR(xipc_ring_recv(&s.cons, NULL, 0, &len, 0), XIPC_EMSGSIZE);
    XT_EQ(len, 100);
    len = 0;
    XT_ERR(xipc_ring_recv(&s.cons, buf, 1, &len, -1), XIPC_EMSGSIZE);
    XT_EQ(len, 100);
    /* nothing consumed */
    XT_EQ(rt_tail(&s), 0);
    /* the message is still there, then the next one */
    XT_OK(xipc_ring_recv(&s.cons, buf, sizeof(buf), &len, 0));
    XT_EQ(len, 100);
    rt_check(buf, 5, len);
    XT_ERR(xipc_ring_recv(&s.cons, buf, 2, &len, 0), XIPC_EMSGSIZE);
    XT_EQ(len, 3);
    rt_recv(&s, 6, 3);
    /* an empty message fits a zero-byte buffer */
    XT_OK(rt_send(&s, 7, 0, 0));
    len = 99;
    XT_OK(xipc_ring_recv(&s.cons, NULL, 0, &len, 0));
    XT_EQ(len, 0);
    XT_EQ(rt_tail(&s), rt_head(&s));
    rt_seg_free(&s);
}

/* ---- zero-copy ----------------------------------------------------------- */

static void rt_test_zero_copy(void)
{
    rt_seg s;
    rt_seg_new(&s, 4096, 0);
    void *w = NULL, *w2 = NULL;
    const void *p, *p2;
    size_t len, len2;

    /* nothing open */
    XT_ERR(xipc_ring_commit(&s.prod, 0), XIPC_ESTATE);
    XT_ERR(xipc_ring_release(&s.cons), XIPC_ESTATE);

    /* reserve 100, write 40, commit 40 */
    XT_OK(xipc_ring_reserve(&s.prod, 100, &w, 0));
    XT_ASSERT(w != NULL);
    XT_ASSERT((uint8_t *)w >= s.data && (uint8_t *)w + 100 <= s.data + s.cap);
    XT_EQ(((uintptr_t)w) % 8, 0);
    /* a second reservation while one is open */
    XT_ERR(xipc_ring_reserve(&s.prod, 10, &w2, 0), XIPC_ESTATE);
    XT_ERR(rt_send(&s, 1, 10, 0), XIPC_ESTATE);
    /* not published before the commit */
    XT_EQ(rt_head(&s), 0);
    XT_ERR(xipc_ring_peek(&s.cons, &p, &len, 0), XIPC_ETIMEDOUT);
    rt_fill(w, 10, 40);
    /* longer than reserved */
    XT_ERR(xipc_ring_commit(&s.prod, 101), XIPC_EINVAL);
    XT_EQ(rt_head(&s), 0);
    XT_OK(xipc_ring_commit(&s.prod, 40));
    XT_EQ(rt_head(&s), 48);
    XT_ERR(xipc_ring_commit(&s.prod, 40), XIPC_ESTATE);

    /* reserve the whole remaining length and commit it all */
    XT_OK(xipc_ring_reserve(&s.prod, 33, &w, 0));
    rt_fill(w, 11, 33);
    XT_OK(xipc_ring_commit(&s.prod, 33));
    /* reserve, commit nothing: an empty message */
    XT_OK(xipc_ring_reserve(&s.prod, 500, &w, 0));
    XT_OK(xipc_ring_commit(&s.prod, 0));
    /* reserve 0 */
    XT_OK(xipc_ring_reserve(&s.prod, 0, &w, 0));
    XT_OK(xipc_ring_commit(&s.prod, 0));
    XT_EQ(rt_head(&s), 48 + 48 + 8 + 8);

    /* peek twice: the same message */
    XT_OK(xipc_ring_peek(&s.cons, &p, &len, 0));
    XT_EQ(len, 40);
    rt_check(p, 10, len);
    XT_OK(xipc_ring_peek(&s.cons, &p2, &len2, 0));
    XT_ASSERT(p2 == p);
    XT_EQ(len2, 40);
    XT_EQ(rt_tail(&s), 0);
    XT_OK(xipc_ring_release(&s.cons));
    XT_EQ(rt_tail(&s), 48);
    XT_ERR(xipc_ring_release(&s.cons), XIPC_ESTATE);
    /* peek then recv: recv gets the peeked one */
    XT_OK(xipc_ring_peek(&s.cons, &p, &len, 0));
    XT_EQ(len, 33);
    rt_recv(&s, 11, 33);
    XT_OK(xipc_ring_peek(&s.cons, &p, &len, 0));
    XT_EQ(len, 0);
    XT_OK(xipc_ring_release(&s.cons));
    XT_OK(xipc_ring_peek(&s.cons, &p, &len, 0));
    XT_EQ(len, 0);
    XT_OK(xipc_ring_release(&s.cons));
    XT_ERR(xipc_ring_peek(&s.cons, &p, &len, 0), XIPC_ETIMEDOUT);
    XT_ERR(xipc_ring_release(&s.cons), XIPC_ESTATE);
    XT_EQ(rt_tail(&s), rt_head(&s));

    /* a reservation that does not fit before the end: the end is padded
     * and the message starts at 0, once the reader has passed the pad */
    uint64_t idx = rt_head(&s) % s.cap;
    XT_ASSERT(idx != 0);
    size_t big = (size_t)(s.cap - idx); /* record of 8 + big > room to end */
    XT_ERR(xipc_ring_reserve(&s.prod, big, &w, 0), XIPC_ETIMEDOUT);
    XT_EQ(rt_head(&s), s.cap); /* the pad is published */
    XT_ERR(xipc_ring_peek(&s.cons, &p, &len, 0), XIPC_ETIMEDOUT);
    XT_EQ(rt_tail(&s), s.cap); /* and skipped */
    XT_OK(xipc_ring_reserve(&s.prod, big, &w, 0));
    XT_ASSERT((uint8_t *)w == s.data + 8);
    rt_fill(w, 12, 5);
    XT_OK(xipc_ring_commit(&s.prod, 5));
    rt_recv(&s, 12, 5);
    rt_seg_free(&s);
}

/* ---- closing ------------------------------------------------------------- */

static void rt_test_close(void)
{
    rt_seg s;
    const void *p;
    size_t len;
    uint8_t buf[64];

    /* messages sent before the producer closed are delivered first */
    rt_seg_new(&s, 4096, 0);
    XT_OK(rt_send(&s, 1, 10, 0));
    XT_OK(rt_send(&s, 2, 0, 0));
    XT_OK(rt_send(&s, 3, 64, 0));
    xipc_ring_close(&s.prod);
    rt_recv(&s, 1, 10);
    XT_OK(xipc_ring_peek(&s.cons, &p, &len, -1));
    XT_EQ(len, 0);
    XT_OK(xipc_ring_release(&s.cons));
    XT_OK(xipc_ring_recv(&s.cons, buf, sizeof(buf), &len, -1));
    XT_EQ(len, 64);
    rt_check(buf, 3, 64);
    XT_ERR(xipc_ring_recv(&s.cons, buf, sizeof(buf), &len, 0), XIPC_ECLOSED);
    XT_ERR(xipc_ring_recv(&s.cons, buf, sizeof(buf), &len, 50), XIPC_ECLOSED);
    XT_ERR(xipc_ring_peek(&s.cons, &p, &len, -1), XIPC_ECLOSED);
    XT_ERR(xipc_ring_peek(&s.cons, &p, &len, 0), XIPC_ECLOSED);
    rt_seg_free(&s);

    /* a pad at the end, then close: the reader skips it, then ECLOSED */
    rt_seg_new(&s, 4096, 0);
    XT_OK(rt_send(&s, 1, 100, 0));
    rt_recv(&s, 1, 100);
    XT_ERR(rt_send(&s, 2, 4080, 0), XIPC_ETIMEDOUT); /* wrote the pad */
    XT_EQ(rt_head(&s), 4096);
    xipc_ring_close(&s.prod);
    XT_ERR(xipc_ring_peek(&s.cons, &p, &len, 0), XIPC_ECLOSED);
    XT_EQ(rt_tail(&s), 4096);
    rt_seg_free(&s);

    /* the producer learns the consumer closed, with room or without */
    rt_seg_new(&s, 4096, 0);
    XT_OK(rt_send(&s, 1, 10, 0));
    xipc_ring_close(&s.cons);
    uint64_t h0 = rt_head(&s);
    XT_ERR(rt_send(&s, 2, 10, 0), XIPC_ECLOSED);
    XT_ERR(rt_send(&s, 2, 10, -1), XIPC_ECLOSED);
    void *w;
    XT_ERR(xipc_ring_reserve(&s.prod, 0, &w, 100), XIPC_ECLOSED);
    XT_EQ(rt_head(&s), h0);
    rt_seg_free(&s);

    rt_seg_new(&s, 4096, 0);
    while (rt_send(&s, 1, 1000, 0) == XIPC_OK)
        ;
    xipc_ring_close(&s.cons);
    XT_ERR(rt_send(&s, 2, 1000, -1), XIPC_ECLOSED);
    XT_ERR(rt_send(&s, 2, 0, 0), XIPC_ECLOSED);
    rt_seg_free(&s);
}

/* A thread that runs one blocking call (no timeout) on a ring end. */
typedef struct rt_blocker {
    rt_seg *s;
    int producer;
    xipc_err rv;
    atomic_int started;
    atomic_int done;
} rt_blocker;

static void *rt_blocker_main(void *arg)
{
    rt_blocker *b = arg;
    atomic_store(&b->started, 1);
    if (b->producer) {
        b->rv = rt_send(b->s, 999, 1000, -1);
    } else {
        const void *p;
        size_t len;
        b->rv = xipc_ring_peek(&b->s->cons, &p, &len, -1);
        if (b->rv == XIPC_OK)
            b->rv = len == 33 ? xipc_ring_release(&b->s->cons) : XIPC_EPROTO;
    }
    atomic_store(&b->done, 1);
    return NULL;
}

static void rt_blocker_start(rt_blocker *b, pthread_t *t, rt_seg *s, int producer)
{
    memset(b, 0, sizeof(*b));
    b->s = s;
    b->producer = producer;
    b->rv = XIPC_EINTR;
    XT_EQ(pthread_create(t, NULL, rt_blocker_main, b), 0);
    while (!atomic_load(&b->started))
        rt_sleep_ms(1);
    rt_sleep_ms(30); /* most likely asleep by now; correct either way */
}

/* A blocked call wakes up for data, room or close (no lost wake-up). */
static void rt_test_wakeups(void)
{
    rt_seg s;
    rt_blocker b;
    pthread_t t;

    /* a sleeping reader gets a message */
    rt_seg_new(&s, 4096, 5);
    rt_blocker_start(&b, &t, &s, 0);
    XT_OK(rt_send(&s, 1, 33, 0));
    XT_EQ(pthread_join(t, NULL), 0);
    XT_OK(b.rv);
    XT_EQ(rt_tail(&s), rt_head(&s));
    /* a sleeping reader learns the writer closed */
    rt_blocker_start(&b, &t, &s, 0);
    xipc_ring_close(&s.prod);
    XT_EQ(pthread_join(t, NULL), 0);
    XT_ERR(b.rv, XIPC_ECLOSED);
    rt_seg_free(&s);

    /* a sleeping writer on a full ring gets room */
    rt_seg_new(&s, 4096, 5);
    while (rt_send(&s, 1, 1000, 0) == XIPC_OK)
        ;
    rt_blocker_start(&b, &t, &s, 1);
    XT_EQ(atomic_load(&b.done), 0); /* it cannot have sent: no room */
    /* the first message out leaves room for the PAD at the end (64 bytes
     * and the empty header after it), the second for the message at 0 */
    rt_recv(&s, 1, 1000);
    rt_sleep_ms(30);
    XT_EQ(atomic_load(&b.done), 0);
    rt_recv(&s, 1, 1000);
    XT_EQ(pthread_join(t, NULL), 0);
    XT_OK(b.rv);
    /* a sleeping writer learns the reader closed */
    rt_blocker_start(&b, &t, &s, 1);
    XT_EQ(atomic_load(&b.done), 0);
    xipc_ring_close(&s.cons);
    XT_EQ(pthread_join(t, NULL), 0);
    XT_ERR(b.rv, XIPC_ECLOSED);
    rt_seg_free(&s);
}

/* ---- two threads --------------------------------------------------------- */

#define RT_MT_COUNT 2000000u
#define RT_MT_SEED 0x0123456789abcdefull

typedef struct rt_mt {
    rt_seg *s;
    uint64_t sum; /* FNV-1a over every byte of every message */
    uint64_t count;
    xipc_err rv;
    char why[160];
} rt_mt;

static uint64_t rt_fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* Message @p seq: its length (0..300) and bytes. The first 8 bytes (or
 * fewer) carry the sequence number, the rest a pattern. */
static size_t rt_mt_msg(uint64_t *rng, uint64_t seq, uint8_t *out)
{
    size_t len = (size_t)(rt_rng(rng) % 301);
    uint8_t sb[8];
    for (int i = 0; i < 8; i++)
        sb[i] = (uint8_t)(seq >> (8 * i));
    for (size_t j = 0; j < len; j++)
        out[j] = j < 8 ? sb[j] : rt_pat(seq, j);
    return len;
}

static void *rt_mt_producer(void *arg)
{
    rt_mt *m = arg;
    uint64_t rng = RT_MT_SEED, sum = 0xcbf29ce484222325ull;
    uint8_t buf[301];
    for (uint64_t seq = 0; seq < RT_MT_COUNT; seq++) {
        size_t len = rt_mt_msg(&rng, seq, buf);
        xipc_err rv;
        if (seq % 3 == 0) {
            void *w;
            rv = xipc_ring_reserve(&m->s->prod, 300, &w, -1);
            if (rv == XIPC_OK) {
                memcpy(w, buf, len);
                rv = xipc_ring_commit(&m->s->prod, len);
            }
        } else {
            rv = xipc_ring_send(&m->s->prod, buf, len, -1);
        }
        if (rv != XIPC_OK) {
            m->rv = rv;
            snprintf(m->why, sizeof(m->why), "send %llu: %s",
                     (unsigned long long)seq, xipc_err_name(rv));
            break;
        }
        sum = rt_fnv(sum, buf, len);
        m->count++;
    }
    m->sum = sum;
    xipc_ring_close(&m->s->prod);
    return NULL;
}

static void *rt_mt_consumer(void *arg)
{
    rt_mt *m = arg;
    uint64_t rng = RT_MT_SEED, sum = 0xcbf29ce484222325ull;
    uint8_t want[301], got[301];
    for (uint64_t seq = 0;; seq++) {
        size_t wlen = seq < RT_MT_COUNT ? rt_mt_msg(&rng, seq, want) : 0;
        size_t len = 0;
        const uint8_t *p;
        xipc_err rv;
        if (seq % 5 == 0) {
            const void *vp;
            rv = xipc_ring_peek(&m->s->cons, &vp, &len, -1);
            p = vp;
        } else {
            rv = xipc_ring_recv(&m->s->cons, got, sizeof(got), &len, -1);
            p = got;
        }
        if (seq == RT_MT_COUNT) {
            if (rv != XIPC_ECLOSED) {
                m->rv = rv == XIPC_OK ? XIPC_EPROTO : rv;
                snprintf(m->why, sizeof(m->why),
                         "after the last message: %s, want ECLOSED",
                         xipc_err_name(rv));
            }
            break;
        }
        if (rv != XIPC_OK) {
            m->rv = rv;
            snprintf(m->why, sizeof(m->why), "recv %llu: %s",
                     (unsigned long long)seq, xipc_err_name(rv));
            break;
        }
        if (len != wlen || memcmp(p, want, len) != 0) {
            m->rv = XIPC_EPROTO;
            snprintf(m->why, sizeof(m->why),
                     "message %llu: %u bytes, want %u, or content differs",
                     (unsigned long long)seq, (unsigned)len, (unsigned)wlen);
            break;
        }
        sum = rt_fnv(sum, p, len);
        if (seq % 5 == 0 && (rv = xipc_ring_release(&m->s->cons)) != XIPC_OK) {
            m->rv = rv;
            snprintf(m->why, sizeof(m->why), "release %llu: %s",
                     (unsigned long long)seq, xipc_err_name(rv));
            break;
        }
        m->count++;
    }
    m->sum = sum;
    return NULL;
}

static void rt_test_threads(void)
{
    rt_seg s;
    rt_seg_new(&s, 1u << 16, 50);
    rt_mt prod = {&s, 0, 0, XIPC_OK, ""}, cons = {&s, 0, 0, XIPC_OK, ""};
    pthread_t tp, tc;
    uint64_t t0 = rt_now_ns();
    XT_EQ(pthread_create(&tc, NULL, rt_mt_consumer, &cons), 0);
    XT_EQ(pthread_create(&tp, NULL, rt_mt_producer, &prod), 0);
    XT_EQ(pthread_join(tp, NULL), 0);
    XT_EQ(pthread_join(tc, NULL), 0);
    uint64_t dt = rt_now_ns() - t0;
    if (prod.rv != XIPC_OK)
        XT_FAIL("producer: %s", prod.why);
    if (cons.rv != XIPC_OK)
        XT_FAIL("consumer: %s", cons.why);
    XT_EQ(prod.count, RT_MT_COUNT);
    XT_EQ(cons.count, RT_MT_COUNT);
    XT_ASSERT(prod.sum == cons.sum);
    XT_EQ(rt_head(&s), rt_tail(&s));
    XT_ASSERT(rt_head(&s) > 100u * (1u << 16));
    printf("  threads: %u messages, %llu bytes of records in %.2f s\n",
           RT_MT_COUNT, (unsigned long long)rt_head(&s), (double)dt / 1e9);
    rt_seg_free(&s);
}

/* ---- attach refuses bad headers ------------------------------------------ */

#define RT_ASEG 16384u

/* Attach both roles to a header at @p hdr_off, expect @p want for each. */
static void rt_attach_expect(uint8_t *base, uint64_t seg, uint64_t hdr_off,
                             xipc_err want, const char *why)
{
    xipc_ring r;
    for (int role = 0; role < 2; role++) {
        xipc_err rv = xipc_ring_attach(&r, base, seg, hdr_off,
                                       role ? XIPC_RING_CONSUMER : XIPC_RING_PRODUCER,
                                       0, NULL);
        if (rv != want)
            XT_FAIL("attach (%s) as %s: %s, want %s", why,
                    role ? "consumer" : "producer", xipc_err_name(rv),
                    xipc_err_name(want));
    }
}

static void rt_test_attach(void)
{
    uint8_t *base = aligned_alloc(64, RT_ASEG);
    XT_ASSERT(base != NULL);
    const uint64_t H = 4096; /* header offset */
    xipc_ring_hdr *h = (xipc_ring_hdr *)(base + H);
#define RT_FRESH(cap, off)                                                     \
    do {                                                                       \
        memset(base, 0, RT_ASEG);                                              \
        xipc_ring_format(h, (cap), (off));                                     \
    } while (0)

    /* good ones: data right after the header, data right before it */
    RT_FRESH(4096, H + 256);
    rt_attach_expect(base, RT_ASEG, H, XIPC_OK, "data after header");
    RT_FRESH(4096, 0);
    rt_attach_expect(base, RT_ASEG, H, XIPC_OK, "data before header");
    RT_FRESH(8192, RT_ASEG - 8192);
    rt_attach_expect(base, RT_ASEG, H, XIPC_OK, "data ends at segment end");
    xipc_ring r;
    XT_OK(xipc_ring_attach(&r, base, RT_ASEG, H, XIPC_RING_CONSUMER, 0, NULL));
    XT_ASSERT(r.data == base + RT_ASEG - 8192);
    XT_EQ(r.cap, 8192);

    /* magic and version */
    RT_FRESH(4096, 0);
    h->magic ^= 1;
    rt_attach_expect(base, RT_ASEG, H, XIPC_EPROTO, "wrong magic");
    RT_FRESH(4096, 0);
    h->magic = 0;
    rt_attach_expect(base, RT_ASEG, H, XIPC_EPROTO, "zero magic");
    RT_FRESH(4096, 0);
    h->version = XIPC_RING_VERSION + 1;
    rt_attach_expect(base, RT_ASEG, H, XIPC_EPROTO, "version + 1");
    RT_FRESH(4096, 0);
    h->version = 0;
    rt_attach_expect(base, RT_ASEG, H, XIPC_EPROTO, "version 0");

    /* capacity */
    const uint64_t bad_caps[] = {0, 1, 8, 2048, 4095, 5000, 4096 + 64, 12288,
                                 (uint64_t)1 << 63, UINT64_MAX};
    for (size_t i = 0; i < sizeof(bad_caps) / sizeof(bad_caps[0]); i++) {
        RT_FRESH(bad_caps[i], 0);
        rt_attach_expect(base, RT_ASEG, H, XIPC_EPROTO, "bad capacity");
    }

    /* data area outside the segment */
    RT_FRESH(4096, RT_ASEG - 4096 + 64);
    rt_attach_expect(base, RT_ASEG, H, XIPC_EPROTO, "data past the end");
    RT_FRESH(16384, 0);
    rt_attach_expect(base, RT_ASEG, H, XIPC_EPROTO, "data covers the whole segment");
    RT_FRESH(32768, 0);
    rt_attach_expect(base, RT_ASEG, H, XIPC_EPROTO, "data larger than segment");
    RT_FRESH(4096, RT_ASEG);
    rt_attach_expect(base, RT_ASEG, H, XIPC_EPROTO, "data at segment end");
    RT_FRESH(4096, UINT64_MAX - 63);
    rt_attach_expect(base, RT_ASEG, H, XIPC_EPROTO, "data offset huge");
    RT_FRESH(4096, UINT64_MAX - 4095 - 63);
    rt_attach_expect(base, RT_ASEG, H, XIPC_EPROTO, "data offset wraps");
    RT_FRESH((uint64_t)1 << 62, (uint64_t)1 << 62);
    rt_attach_expect(base, RT_ASEG, H, XIPC_EPROTO, "offset + cap wraps");
    RT_FRESH(4096, 32);
    rt_attach_expect(base, RT_ASEG, H, XIPC_EPROTO, "data not 64-aligned");

    /* data overlapping the header */
    RT_FRESH(4096, H);
    rt_attach_expect(base, RT_ASEG, H, XIPC_EPROTO, "data on the header");
    RT_FRESH(4096, H + 192);
    rt_attach_expect(base, RT_ASEG, H, XIPC_EPROTO, "data on header's end");
    RT_FRESH(4096, 64);
    rt_attach_expect(base, RT_ASEG, H, XIPC_EPROTO, "data over header start");
    RT_FRESH(8192, 0);
    rt_attach_expect(base, RT_ASEG, H, XIPC_EPROTO, "data around header");

    /* the header's own position */
    RT_FRESH(4096, 0);
    rt_attach_expect(base, RT_ASEG, H + 8, XIPC_EPROTO, "header misaligned");
    rt_attach_expect(base, RT_ASEG, RT_ASEG, XIPC_EPROTO, "header at end");
    rt_attach_expect(base, RT_ASEG, RT_ASEG - 192, XIPC_EPROTO, "header cut");
    rt_attach_expect(base, RT_ASEG, UINT64_MAX - 63, XIPC_EPROTO, "header huge");
    rt_attach_expect(base, 200, 0, XIPC_EPROTO, "segment smaller than header");

    /* positions already hostile at attach time */
    RT_FRESH(4096, 0);
    atomic_store(&h->head, 4);
    rt_attach_expect(base, RT_ASEG, H, XIPC_EPROTO, "head not 8-aligned");
    RT_FRESH(4096, 0);
    atomic_store(&h->head, 64);
    atomic_store(&h->tail, 68);
    rt_attach_expect(base, RT_ASEG, H, XIPC_EPROTO, "tail not 8-aligned");
    RT_FRESH(4096, 0);
    atomic_store(&h->head, 64);
    atomic_store(&h->tail, 128);
    rt_attach_expect(base, RT_ASEG, H, XIPC_EPROTO, "tail beyond head");
    RT_FRESH(4096, 0);
    atomic_store(&h->head, 4096 + 8);
    rt_attach_expect(base, RT_ASEG, H, XIPC_EPROTO, "head beyond tail + cap");
    RT_FRESH(4096, 0);
    atomic_store(&h->head, (uint64_t)1 << 40);
    atomic_store(&h->tail, ((uint64_t)1 << 40) - 4096);
    rt_attach_expect(base, RT_ASEG, H, XIPC_OK, "full ring far along");
#undef RT_FRESH
    free(base);
}

/* ---- a hostile producer -------------------------------------------------- */

static void rt_put_rec(rt_seg *s, uint64_t idx, uint32_t len, uint32_t tag)
{
    xipc_rec_hdr rh = {len, tag};
    memcpy(s->data + idx, &rh, sizeof(rh));
}

/* The consumer is broken for good: every call says EPROTO. */
static void rt_expect_broken_consumer(rt_seg *s, const char *why)
{
    const void *p;
    size_t len;
    uint8_t buf[16];
    for (int i = 0; i < 2; i++) {
        xipc_err rv = xipc_ring_peek(&s->cons, &p, &len, 0);
        if (rv != XIPC_EPROTO)
            XT_FAIL("%s: peek #%d: %s, want EPROTO", why, i + 1, xipc_err_name(rv));
    }
    XT_ERR(xipc_ring_peek(&s->cons, &p, &len, -1), XIPC_EPROTO);
    XT_ERR(xipc_ring_recv(&s->cons, buf, sizeof(buf), &len, 0), XIPC_EPROTO);
    XT_ERR(xipc_ring_release(&s->cons), XIPC_EPROTO);
}

/* The consumer goes by the record headers alone (header polling): after
 * attach it never reads head, so a head that lies neither delivers a
 * message nor breaks the ring; the records are checked (below). */
static void rt_test_hostile_head(void)
{
    rt_seg s;
    const uint64_t cap = 4096;
    const uint64_t lies[] = {0, 4, 17, 8 + cap, cap * 5, UINT64_MAX - 7};
    for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
        rt_seg_new(&s, cap, 0);
        XT_OK(rt_send(&s, 1, 20, 0));
        rt_recv(&s, 1, 20);
        atomic_store(&s.hdr->head, lies[i]);
        const void *p;
        size_t len;
        /* nothing was written: nothing to read, whatever head says */
        XT_ERR(xipc_ring_peek(&s.cons, &p, &len, 0), XIPC_ETIMEDOUT);
        /* what is written arrives, in order */
        XT_OK(rt_send(&s, 2, 100, 0));
        XT_OK(rt_send(&s, 3, 0, 0));
        rt_recv(&s, 2, 100);
        rt_recv(&s, 3, 0);
        XT_ERR(xipc_ring_peek(&s.cons, &p, &len, 0), XIPC_ETIMEDOUT);
        rt_seg_free(&s);
    }
}

static void rt_test_hostile_record(void)
{
    rt_seg s;
    const uint64_t cap = 4096;

    const void *p;
    size_t len;

    /* a length larger than what was sent: the consumer reads records, not
     * head, so it cannot tell (the producer could as well have sent 100
     * bytes); it gets a message of that length from inside the area */
    rt_seg_new(&s, cap, 0);
    XT_OK(rt_send(&s, 1, 16, 0)); /* record of 24 bytes */
    rt_put_rec(&s, 0, 100, XIPC_REC_MSG);
    XT_OK(xipc_ring_peek(&s.cons, &p, &len, 0));
    XT_EQ(len, 100);
    XT_ASSERT((const uint8_t *)p == s.data + 8);
    XT_OK(xipc_ring_release(&s.cons));
    XT_EQ(rt_tail(&s), 112);
    rt_seg_free(&s);

    /* a length larger than any message */
    const uint32_t huge[] = {(uint32_t)cap - 15, (uint32_t)cap - 7, (uint32_t)cap,
                             0x80000000u, UINT32_MAX, UINT32_MAX - 7};
    for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
        rt_seg_new(&s, cap, 0);
        XT_OK(rt_send(&s, 1, 16, 0));
        rt_put_rec(&s, 0, huge[i], XIPC_REC_MSG);
        rt_expect_broken_consumer(&s, "len larger than a message");
        rt_seg_free(&s);
    }

    /* the empty tag: nothing there yet, even with a length; ECLOSED once
     * the producer closes */
    rt_seg_new(&s, cap, 0);
    XT_OK(rt_send(&s, 1, 16, 0));
    rt_put_rec(&s, 0, 16, XIPC_REC_NONE);
    XT_ERR(xipc_ring_peek(&s.cons, &p, &len, 0), XIPC_ETIMEDOUT);
    XT_ERR(xipc_ring_peek(&s.cons, &p, &len, 20), XIPC_ETIMEDOUT);
    xipc_ring_close(&s.prod);
    XT_ERR(xipc_ring_peek(&s.cons, &p, &len, -1), XIPC_ECLOSED);
    rt_seg_free(&s);

    /* unknown tags */
    const uint32_t tags[] = {1, XIPC_REC_MSG ^ 0x100, XIPC_REC_PAD + 1, UINT32_MAX};
    for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
        rt_seg_new(&s, cap, 0);
        XT_OK(rt_send(&s, 1, 16, 0));
        rt_put_rec(&s, 0, 16, tags[i]);
        rt_expect_broken_consumer(&s, "unknown tag");
        rt_seg_free(&s);
    }

    /* a PAD whose length is not the rest of the area */
    rt_seg_new(&s, cap, 0);
    XT_OK(rt_send(&s, 1, 16, 0));
    rt_put_rec(&s, 0, 16, XIPC_REC_PAD);
    rt_expect_broken_consumer(&s, "PAD len 16 at 0");
    rt_seg_free(&s);
    rt_seg_new(&s, cap, 0);
    XT_OK(rt_send(&s, 1, 16, 0));
    rt_put_rec(&s, 0, (uint32_t)cap, XIPC_REC_PAD);
    rt_expect_broken_consumer(&s, "PAD len cap at 0");
    rt_seg_free(&s);
    /* a PAD at 0 of the length of the whole area: never written (every
     * record fits at 0), and were it taken the consumer would pass it
     * lap after lap without end */
    rt_seg_new(&s, cap, 0);
    XT_OK(rt_send(&s, 1, 16, 0));
    rt_put_rec(&s, 0, (uint32_t)cap - 8, XIPC_REC_PAD);
    rt_expect_broken_consumer(&s, "PAD of the whole area at 0");
    rt_seg_free(&s);
    /* a PAD near the end with a wrong length */
    rt_seg_new(&s, cap, 0);
    XT_OK(rt_send(&s, 1, cap - 16 - 8, 0)); /* up to cap - 16 */
    rt_recv(&s, 1, cap - 16 - 8);
    XT_EQ(rt_tail(&s), cap - 16);
    rt_put_rec(&s, cap - 16, 16, XIPC_REC_PAD); /* should be 8 */
    rt_expect_broken_consumer(&s, "PAD len 16 with 16 to the end");
    rt_seg_free(&s);
    /* the same with the right length passes */
    rt_seg_new(&s, cap, 0);
    XT_OK(rt_send(&s, 1, cap - 16 - 8, 0));
    rt_recv(&s, 1, cap - 16 - 8);
    rt_put_rec(&s, 0, 0, XIPC_REC_NONE); /* as a producer empties it first */
    rt_put_rec(&s, cap - 16, 8, XIPC_REC_PAD);
    XT_ERR(xipc_ring_peek(&s.cons, &p, &len, 0), XIPC_ETIMEDOUT);
    XT_EQ(rt_tail(&s), cap);
    rt_seg_free(&s);

    /* a message record that runs past the end of the area */
    rt_seg_new(&s, cap, 0);
    XT_OK(rt_send(&s, 1, cap - 16 - 8, 0));
    rt_recv(&s, 1, cap - 16 - 8);
    rt_put_rec(&s, cap - 16, 100, XIPC_REC_MSG);
    rt_expect_broken_consumer(&s, "record across the end");
    rt_seg_free(&s);

    /* a record changed between two peeks of it */
    rt_seg_new(&s, cap, 0);
    XT_OK(rt_send(&s, 1, 16, 0));
    XT_OK(rt_send(&s, 2, 100, 0));
    XT_OK(xipc_ring_peek(&s.cons, &p, &len, 0));
    XT_EQ(len, 16);
    rt_put_rec(&s, 0, 100, XIPC_REC_MSG);
    rt_expect_broken_consumer(&s, "record changed after peek");
    rt_seg_free(&s);
    rt_seg_new(&s, cap, 0);
    XT_OK(rt_send(&s, 1, 16, 0));
    XT_OK(xipc_ring_peek(&s.cons, &p, &len, 0));
    rt_put_rec(&s, 0, 16, XIPC_REC_PAD);
    rt_expect_broken_consumer(&s, "tag changed after peek");
    rt_seg_free(&s);
}

/* The producer is broken for good: every call says EPROTO. */
static void rt_expect_broken_producer(rt_seg *s, const char *why)
{
    void *w;
    for (int i = 0; i < 2; i++) {
        xipc_err rv = xipc_ring_reserve(&s->prod, 8, &w, 0);
        if (rv != XIPC_EPROTO)
            XT_FAIL("%s: reserve #%d: %s, want EPROTO", why, i + 1,
                    xipc_err_name(rv));
    }
    XT_ERR(xipc_ring_reserve(&s->prod, 8, &w, -1), XIPC_EPROTO);
    XT_ERR(rt_send(s, 0, 8, 0), XIPC_EPROTO);
    XT_ERR(xipc_ring_commit(&s->prod, 0), XIPC_EPROTO);
}

/* Fill the ring until not even an empty message fits, so that the next
 * reservation must read the consumer's tail. */
static void rt_fill_ring(rt_seg *s)
{
    uint64_t n = 0;
    while (rt_send(s, n, 1000, 0) == XIPC_OK)
        n++;
    XT_ASSERT(n > 0);
    while (rt_send(s, n, 0, 0) == XIPC_OK)
        n++;
    XT_EQ(rt_head(s) - rt_tail(s), s->cap - 8); /* and the empty header */
}

static void rt_test_hostile_tail(void)
{
    rt_seg s;
    const uint64_t cap = 4096;

    /* tail beyond head */
    rt_seg_new(&s, cap, 0);
    rt_fill_ring(&s);
    uint64_t head = rt_head(&s);
    atomic_store(&s.hdr->tail, head + 8);
    rt_expect_broken_producer(&s, "tail beyond head");
    /* sticky: a sane tail again does not repair it */
    atomic_store(&s.hdr->tail, head);
    rt_expect_broken_producer(&s, "after repair");
    XT_EQ(rt_head(&s), head);
    rt_seg_free(&s);

    /* tail far beyond head */
    rt_seg_new(&s, cap, 0);
    rt_fill_ring(&s);
    atomic_store(&s.hdr->tail, UINT64_MAX - 7);
    rt_expect_broken_producer(&s, "tail huge");
    rt_seg_free(&s);

    /* tail more than a capacity behind head */
    rt_seg_new(&s, cap, 0);
    for (int i = 0; i < 10; i++) {
        XT_OK(rt_send(&s, (uint64_t)i, 1000, 0));
        rt_recv(&s, (uint64_t)i, 1000);
    }
    rt_fill_ring(&s);
    head = rt_head(&s);
    XT_ASSERT(head > 2 * cap);
    atomic_store(&s.hdr->tail, head - cap - 8);
    rt_expect_broken_producer(&s, "tail < head - cap");
    rt_seg_free(&s);

    rt_seg_new(&s, cap, 0);
    for (int i = 0; i < 10; i++) {
        XT_OK(rt_send(&s, (uint64_t)i, 1000, 0));
        rt_recv(&s, (uint64_t)i, 1000);
    }
    rt_fill_ring(&s);
    atomic_store(&s.hdr->tail, 0);
    rt_expect_broken_producer(&s, "tail back to 0");
    rt_seg_free(&s);
}

/* A tail that is not 8-aligned: no honest consumer writes one (records are
 * 8-aligned), xipc_ring_attach refuses it, and the consumer end refuses a
 * head that is not 8-aligned; the running producer must refuse it too. */
static void rt_test_hostile_tail_unaligned(void)
{
    rt_seg s;
    const uint64_t tails[] = {4, 1001, 1004, 2047};
    for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
        XT_ASSERT(tails[i] % 8 != 0);
        rt_seg_new(&s, 4096, 0);
        rt_fill_ring(&s);
        atomic_store(&s.hdr->tail, tails[i]);
        rt_expect_broken_producer(&s, "tail not 8-aligned");
        rt_seg_free(&s);
    }
}

int main(void)
{
    printf("ring_test (pointer width %u bits)\n", (unsigned)(sizeof(void *) * 8));
    rt_test_empty();
    rt_test_sizes();
    rt_test_wrap();
    rt_test_full();
    rt_test_small_buffer();
    rt_test_zero_copy();
    rt_test_close();
    rt_test_wakeups();
    rt_test_attach();
    rt_test_hostile_head();
    rt_test_hostile_record();
    rt_test_hostile_tail();
    rt_test_threads();
    rt_test_hostile_tail_unaligned();
    printf("ring_test ok\n");
    return 0;
}
