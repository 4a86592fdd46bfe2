/*
 * xipc_send_ex(XIPC_SEND_MORE) and xipc_flush (include/xipc/xipc.h,
 * src/transport/stream.h): the stream transports hold flagged messages,
 * up to XIPC_STREAM_CORK_MAX bytes of frames in all, and write them out
 * with the next send without the flag, xipc_flush or xipc_close; other
 * transports send at once.
 *
 *   stream_more_test [STRESS_MESSAGES]    (default 200000 per transport)
 *
 * Both ends live in this process (listen, dial from a thread, accept).
 * The stream kinds: unix:// with a path and with an abstract @name,
 * tcp://127.0.0.1:0 (the bound URL read with xipc_sock_url), pipe://.
 * Every message is identified by a sequence number: its length and its
 * bytes are functions of it, so each receive checks order and content.
 *
 * The cases, each with a comment saying what it proves:
 *  1 held until a plain send           6 shm:// and mq://: the flag is a no-op
 *  2 held until xipc_flush             7 bad arguments
 *  3 written when the cork is full     8 timeouts: nothing lost, nothing twice
 *  4 a message larger than the cork    9 stress: random sizes, flags, flushes
 *  5 close flushes (also on a full socket, in the background)
 * and the sent counter counts a held message once (1, 2, 7, 8, 9).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/frame.h"       /* XIPC_FRAME_HDR */
#include "transport/stream.h" /* XIPC_STREAM_CORK_MAX */
#include "test.h"

#define SM_BIG (100u << 10) /* case 4: larger than the cork */
#define SM_CAP (SM_BIG + 64) /* receive buffers: larger than any message */
#define SM_ANY_MAX 3000u     /* sm_any_len: 0..3000 bytes */

static const char *const sm_streams[] = {"unix", "unix-abstract", "tcp", "pipe"};
#define SM_NSTREAMS (sizeof(sm_streams) / sizeof(sm_streams[0]))

static int sm_seq;                /* makes URLs unique */
static uint8_t sm_txbuf[SM_CAP];  /* the sending thread's (always main) */
static uint8_t sm_rxbuf[SM_CAP];  /* main's receive buffer */

/* ---- messages ---------------------------------------------------------------- */

static uint64_t sm_mix(uint64_t x) /* splitmix64 */
{
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

/* Message @p seq has @p len bytes of a pattern seeded by @p seq. With
 * @p check, compare @p p with it instead of writing it: 1 when equal. */
static int sm_pattern(uint8_t *p, uint32_t seq, size_t len, int check)
{
    uint64_t x = sm_mix(seq);
    for (size_t i = 0; i < len; i += 8) {
        x = sm_mix(x);
        size_t k = len - i < 8 ? len - i : 8;
        if (!check)
            memcpy(p + i, &x, k);
        else if (memcmp(p + i, &x, k) != 0)
            return 0;
    }
    return 1;
}

/* Message lengths, by sequence number. */
typedef size_t (*sm_len_fn)(uint32_t seq);

static size_t sm_small_len(uint32_t seq) /* 0..200, every length */
{
    return (seq * 37u) % 201u;
}

static size_t sm_any_len(uint32_t seq) /* 0..3000, scattered */
{
    return (size_t)(sm_mix(seq ^ 0x5eedu) % (SM_ANY_MAX + 1));
}

static size_t sm_len64(uint32_t seq)
{
    return 64;
}

static xipc_err sm_send(xipc_sock *s, uint32_t seq, size_t len, unsigned flags,
                        int timeout_ms)
{
    sm_pattern(sm_txbuf, seq, len, 0);
    return xipc_send_ex(s, sm_txbuf, len, flags, timeout_ms);
}

/* The @p n bytes received in @p buf are message @p seq of @p len bytes. */
static void sm_check(uint8_t *buf, size_t n, uint32_t seq, size_t len)
{
    if (n != len || !sm_pattern(buf, seq, len, 1))
        XT_FAIL("message %u: %zu bytes, want %zu%s", seq, n, len,
                n == len ? ", other contents" : "");
}

/* The next message on @p s arrives within @p timeout_ms and is message
 * @p seq of @p len bytes, byte for byte. @p buf: SM_CAP bytes. */
static void sm_expect(xipc_sock *s, uint8_t *buf, uint32_t seq, size_t len,
                      int timeout_ms)
{
    size_t n = 0;
    xipc_err rv = xipc_recv(s, buf, SM_CAP, &n, timeout_ms);
    if (rv != XIPC_OK)
        XT_FAIL("message %u (%zu bytes): got %s", seq, len, xipc_err_name(rv));
    sm_check(buf, n, seq, len);
}

/* Nothing is readable on @p s: a poll and a short wait both time out. */
static void sm_nothing(xipc_sock *s)
{
    size_t n;
    XT_ERR(xipc_recv(s, sm_rxbuf, SM_CAP, &n, 0), XIPC_ETIMEDOUT);
    XT_ERR(xipc_recv(s, sm_rxbuf, SM_CAP, &n, 20), XIPC_ETIMEDOUT);
}

static void sm_expect_counts(xipc_sock *tx, xipc_sock *rx, uint64_t sent,
                             uint64_t received)
{
    xipc_stats st;
    XT_OK(xipc_stats_get(tx, &st));
    XT_EQ(st.sent, sent);
    XT_OK(xipc_stats_get(rx, &st));
    XT_EQ(st.received, received);
}

/* ---- endpoints ------------------------------------------------------------- */

/* A listener, the dialled end (tx: sends) and the accepted end (rx). */
typedef struct sm_pair {
    xipc_sock *l, *tx, *rx;
} sm_pair;

typedef struct sm_dial {
    const char *url;
    xipc_sock *s;
    xipc_err rv;
} sm_dial;

static void *sm_dial_main(void *arg)
{
    sm_dial *d = arg;
    d->rv = xipc_dial(&d->s, d->url, NULL, 5000);
    return NULL;
}

/* A connected pair of @p kind (one of sm_streams, or "shm"). */
static sm_pair sm_open(const char *kind)
{
    char url[XIPC_STREAM_URL_MAX];
    int id = sm_seq++, pid = (int)getpid();
    if (strcmp(kind, "unix") == 0)
        snprintf(url, sizeof(url), "unix:///tmp/xipc-more-%d-%d.sock", pid, id);
    else if (strcmp(kind, "unix-abstract") == 0)
        snprintf(url, sizeof(url), "unix://@xipc-more-%d-%d", pid, id);
    else if (strcmp(kind, "tcp") == 0)
        snprintf(url, sizeof(url), "tcp://127.0.0.1:0");
    else
        snprintf(url, sizeof(url), "%s://xipc-more-%d-%d", kind, pid, id);
    sm_pair p;
    XT_OK(xipc_listen(&p.l, url, NULL));
    XT_OK(xipc_sock_url(p.l, url, sizeof(url))); /* tcp: the bound port */
    /* dial from a thread: shm:// dial waits for the accept */
    sm_dial d = {url, NULL, XIPC_EINVAL};
    pthread_t th;
    XT_ASSERT(pthread_create(&th, NULL, sm_dial_main, &d) == 0);
    XT_OK(xipc_accept(p.l, &p.rx, 5000));
    XT_ASSERT(pthread_join(th, NULL) == 0);
    XT_OK(d.rv);
    p.tx = d.s;
    return p;
}

static void sm_close(sm_pair *p)
{
    xipc_close(p->tx);
    xipc_close(p->rx);
    xipc_close(p->l);
}

/* ---- a receiving thread ------------------------------------------------------ */

/* Receives messages first .. first+count-1 in order (each within
 * timeout_ms), then, with want_closed, XIPC_ECLOSED. Fails the run on
 * anything else. got: how many arrived so far. */
typedef struct sm_reader {
    xipc_sock *s;
    uint32_t first, count;
    sm_len_fn len;
    int timeout_ms, want_closed;
    atomic_uint got;
    pthread_t th;
} sm_reader;

static void *sm_reader_main(void *arg)
{
    sm_reader *r = arg;
    uint8_t *buf = malloc(SM_CAP);
    XT_ASSERT(buf != NULL);
    for (uint32_t i = 0; i < r->count; i++) {
        uint32_t seq = r->first + i;
        sm_expect(r->s, buf, seq, r->len(seq), r->timeout_ms);
        atomic_store(&r->got, i + 1);
    }
    if (r->want_closed) {
        size_t n;
        XT_ERR(xipc_recv(r->s, buf, SM_CAP, &n, r->timeout_ms), XIPC_ECLOSED);
    }
    free(buf);
    return NULL;
}

static void sm_reader_start(sm_reader *r, xipc_sock *s, uint32_t first,
                            uint32_t count, sm_len_fn len, int timeout_ms,
                            int want_closed)
{
    r->s = s;
    r->first = first;
    r->count = count;
    r->len = len;
    r->timeout_ms = timeout_ms;
    r->want_closed = want_closed;
    atomic_init(&r->got, 0);
    XT_ASSERT(pthread_create(&r->th, NULL, sm_reader_main, r) == 0);
}

/* Wait up to @p ms for the reader to have @p want messages: 1 if it has. */
static int sm_reader_wait(sm_reader *r, uint32_t want, int ms)
{
    uint64_t end = xipc_plat_now_ns() + (uint64_t)ms * 1000000u;
    while (atomic_load(&r->got) < want && xipc_plat_now_ns() < end)
        xipc_plat_sleep_us(1000);
    return atomic_load(&r->got) >= want;
}

static void sm_reader_join(sm_reader *r)
{
    XT_ASSERT(pthread_join(r->th, NULL) == 0);
    XT_EQ(atomic_load(&r->got), r->count);
}

/* ---- cases 1 and 2: held until a plain send / until xipc_flush ----------- */

/*
 * 500 flagged messages (0..200 bytes, 52 KiB of frames: all fit the cork)
 * are accepted at timeout 0 and held: the receiver sees nothing, not even
 * after waiting. Then one plain send (case 1) or xipc_flush (case 2)
 * delivers all of them, in order, byte for byte, each once. The sent
 * counter counts each held message once: when it is taken, not again when
 * it is written. xipc_flush with nothing held (before, and after) is OK.
 */
static void test_held(const char *kind, int by_flush)
{
    enum { N = 500 };
    sm_pair p = sm_open(kind);
    if (by_flush)
        XT_OK(xipc_flush(p.tx, 0)); /* nothing held yet */
    size_t frames = 0;
    for (uint32_t i = 0; i < N; i++) {
        XT_OK(sm_send(p.tx, i, sm_small_len(i), XIPC_SEND_MORE, 0));
        frames += XIPC_FRAME_HDR + sm_small_len(i);
    }
    XT_ASSERT(frames <= XIPC_STREAM_CORK_MAX); /* the premise: all are held */
    sm_nothing(p.rx);
    sm_expect_counts(p.tx, p.rx, N, 0);
    if (by_flush)
        XT_OK(xipc_flush(p.tx, 5000));
    else
        XT_OK(sm_send(p.tx, N, 77, 0, 5000));
    uint32_t total = by_flush ? N : N + 1;
    for (uint32_t i = 0; i < total; i++)
        sm_expect(p.rx, sm_rxbuf, i, i < N ? sm_small_len(i) : 77, 1000);
    sm_nothing(p.rx);
    sm_expect_counts(p.tx, p.rx, total, total);
    XT_OK(xipc_flush(p.tx, 0)); /* nothing held any more */
    sm_nothing(p.rx);
    sm_expect_counts(p.tx, p.rx, total, total);
    sm_close(&p);
}

/* ---- case 3: written when the cork is full ---------------------------------- */

/*
 * 3000 flagged 64-byte messages and no flush: since at most 64 KiB of
 * frames may be held (963 of 68 bytes), at least 3000 - 963 = 2037 (more
 * than the first 900) must reach the receiver by themselves, in order,
 * within 2 s. Then xipc_flush delivers the rest.
 */
static void test_cork_full(const char *kind)
{
    enum { N = 3000 };
    uint32_t max_held = XIPC_STREAM_CORK_MAX / (XIPC_FRAME_HDR + 64);
    sm_pair p = sm_open(kind);
    sm_reader r;
    sm_reader_start(&r, p.rx, 0, N, sm_len64, 10000, 0);
    for (uint32_t i = 0; i < N; i++)
        XT_OK(sm_send(p.tx, i, 64, XIPC_SEND_MORE, 5000));
    if (!sm_reader_wait(&r, N - max_held, 2000))
        XT_FAIL("%s: %u of %u flagged messages arrived without a flush, want >= %u",
                kind, atomic_load(&r.got), N, N - max_held);
    XT_OK(xipc_flush(p.tx, 5000));
    sm_reader_join(&r);
    sm_nothing(p.rx);
    sm_close(&p);
}

/* ---- case 4: a message larger than the cork ---------------------------------- */

static size_t sm_big_len(uint32_t seq)
{
    return seq == 10 || seq == 11 ? SM_BIG : sm_small_len(seq);
}

/*
 * 10 small flagged messages are held; then a 100 KiB one with the flag
 * (it cannot be held): the held ones go out before it, and it at once —
 * all 11 arrive in order with no flush. A second large flagged message,
 * with nothing held, also goes out at once.
 */
static void test_big(const char *kind)
{
    sm_pair p = sm_open(kind);
    for (uint32_t i = 0; i < 10; i++)
        XT_OK(sm_send(p.tx, i, sm_big_len(i), XIPC_SEND_MORE, 0));
    sm_nothing(p.rx);
    sm_reader r;
    sm_reader_start(&r, p.rx, 0, 12, sm_big_len, 2000, 0);
    XT_OK(sm_send(p.tx, 10, SM_BIG, XIPC_SEND_MORE, 5000));
    XT_ASSERT(sm_reader_wait(&r, 11, 5000));
    XT_OK(sm_send(p.tx, 11, SM_BIG, XIPC_SEND_MORE, 5000));
    sm_reader_join(&r);
    sm_nothing(p.rx);
    sm_close(&p);
}

/* ---- a log of the messages a connection must deliver -------------------------- */

/* The sequence numbers whose send returned XIPC_OK, in order; next: how
 * many of them the receiver has checked. */
typedef struct sm_log {
    uint32_t *seq;
    size_t n, cap, next;
} sm_log;

static void sm_log_add(sm_log *g, uint32_t seq)
{
    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 1024;
        g->seq = realloc(g->seq, g->cap * sizeof(*g->seq));
        XT_ASSERT(g->seq != NULL);
    }
    g->seq[g->n++] = seq;
}

/* Send message *@p seq (sm_any_len bytes); log it when the send says
 * XIPC_OK. Every attempt takes a fresh number, so a message that timed out
 * and was delivered anyway shows up as an unexpected one. */
static xipc_err sm_log_send(sm_log *g, xipc_sock *s, uint32_t *seq, unsigned flags,
                            int timeout_ms)
{
    uint32_t q = (*seq)++;
    xipc_err rv = sm_send(s, q, sm_any_len(q), flags, timeout_ms);
    if (rv == XIPC_OK)
        sm_log_add(g, q);
    else if (rv != XIPC_ETIMEDOUT)
        XT_FAIL("message %u: send got %s", q, xipc_err_name(rv));
    return rv;
}

/* Plain sends at timeout 0 until one times out: the socket is full. */
static void sm_fill_socket(sm_log *g, xipc_sock *s, uint32_t *seq)
{
    while (sm_log_send(g, s, seq, 0, 0) == XIPC_OK)
        ;
}

/* Receive @p n more logged messages, in the logged order. */
static void sm_log_drain(sm_log *g, xipc_sock *s, size_t n)
{
    for (size_t end = g->next + n; g->next < end; g->next++)
        sm_expect(s, sm_rxbuf, g->seq[g->next], sm_any_len(g->seq[g->next]), 5000);
}

/* ---- case 5: close flushes ------------------------------------------------------ */

/*
 * 100 held messages, then xipc_close of the sender: the receiver gets all
 * 100, then XIPC_ECLOSED. Then the same behind a full socket, where close
 * cannot write at once and finishes in the background: every message the
 * sender was told went (fillers and held ones) arrives, then XIPC_ECLOSED.
 * And with the receiver closed, held messages fail where they are written.
 */
static void test_close(const char *kind)
{
    sm_pair p = sm_open(kind);
    for (uint32_t i = 0; i < 100; i++)
        XT_OK(sm_send(p.tx, i, sm_small_len(i), XIPC_SEND_MORE, 0));
    sm_nothing(p.rx);
    xipc_close(p.tx);
    p.tx = NULL;
    for (uint32_t i = 0; i < 100; i++)
        sm_expect(p.rx, sm_rxbuf, i, sm_small_len(i), 2000);
    size_t n;
    XT_ERR(xipc_recv(p.rx, sm_rxbuf, SM_CAP, &n, 2000), XIPC_ECLOSED);
    sm_close(&p);

    p = sm_open(kind);
    sm_log g = {0};
    uint32_t seq = 0;
    sm_fill_socket(&g, p.tx, &seq);
    /* held: the full socket does not refuse them; only once the cork is
     * full may one time out (then it is not sent: not logged) */
    size_t held_from = g.n;
    for (int i = 0; i < 100; i++)
        sm_log_send(&g, p.tx, &seq, XIPC_SEND_MORE, 0);
    XT_ASSERT(g.n - held_from >= 10);
    xipc_close(p.tx);
    p.tx = NULL;
    sm_log_drain(&g, p.rx, g.n);
    XT_ERR(xipc_recv(p.rx, sm_rxbuf, SM_CAP, &n, 5000), XIPC_ECLOSED);
    free(g.seq);
    sm_close(&p);

    /* the peer gone: the call that writes held messages out reports
     * XIPC_ECLOSED (tcp:// may take a write or two to learn it), and so
     * does every call after it */
    p = sm_open(kind);
    xipc_close(p.rx);
    p.rx = NULL;
    xipc_err rv = sm_send(p.tx, 0, 10, XIPC_SEND_MORE, 0);
    if (rv == XIPC_OK)
        rv = xipc_flush(p.tx, 1000);
    for (uint32_t i = 1; rv == XIPC_OK && i < 100 && strcmp(kind, "tcp") == 0; i++) {
        xipc_plat_sleep_us(1000);
        rv = sm_send(p.tx, i, 10, 0, 1000);
    }
    XT_ERR(rv, XIPC_ECLOSED);
    XT_ERR(sm_send(p.tx, 0, 10, XIPC_SEND_MORE, 0), XIPC_ECLOSED);
    XT_ERR(xipc_flush(p.tx, 0), XIPC_ECLOSED);
    sm_close(&p);
}

/* ---- case 6: shm:// and mq://, where the flag is a no-op -------------------------- */

/*
 * shm://: each flagged message can be received at once, before any flush
 * (timeout 1000); xipc_flush, with nothing to do, returns XIPC_OK; the
 * sent counter counts each message once. mq:// the same, when the system
 * has message queues; its receiver cannot send with the flag either.
 */
static void test_no_cork(void)
{
    sm_pair p = sm_open("shm");
    for (uint32_t i = 0; i < 100; i++) {
        XT_OK(sm_send(p.tx, i, sm_small_len(i), XIPC_SEND_MORE, 1000));
        sm_expect(p.rx, sm_rxbuf, i, sm_small_len(i), 1000);
    }
    XT_OK(xipc_flush(p.tx, 0));
    sm_nothing(p.rx);
    sm_expect_counts(p.tx, p.rx, 100, 100);
    sm_close(&p);

    char url[96];
    snprintf(url, sizeof(url), "mq://xipc-more-%d", (int)getpid());
    xipc_sock *r, *s;
    xipc_err rv = xipc_listen(&r, url, NULL);
    if (rv != XIPC_OK) {
        printf("  mq:// skipped: listen gives %s\n", xipc_err_name(rv));
        return;
    }
    XT_OK(xipc_dial(&s, url, NULL, 1000));
    for (uint32_t i = 0; i < 20; i++) { /* more than the queue's depth (10) */
        XT_OK(sm_send(s, i, sm_small_len(i), XIPC_SEND_MORE, 1000));
        sm_expect(r, sm_rxbuf, i, sm_small_len(i), 1000);
    }
    XT_OK(xipc_flush(s, 0));
    XT_ERR(xipc_send_ex(r, "x", 1, XIPC_SEND_MORE, 0), XIPC_ENOTSUP);
    sm_nothing(r);
    sm_expect_counts(s, r, 20, 20);
    xipc_close(s);
    xipc_close(r);
}

/* ---- case 7: bad arguments ---------------------------------------------------------- */

/*
 * Unknown flags, a listener, NULL, a timeout below -1, a NULL buffer with
 * a length, a message over max_msg: each refused (XIPC_EINVAL, or
 * XIPC_EMSGSIZE), and none of them holds, sends or counts anything —
 * after them a flush delivers only the one valid message (an empty one
 * from a NULL buffer). The flag check is the same on shm://.
 */
static void test_bad_args(const char *kind)
{
    sm_pair p = sm_open(kind);
    const unsigned bad_flags[] = {2, ~0u, XIPC_SEND_MORE | 2, 1u << 31};
    for (size_t i = 0; i < sizeof(bad_flags) / sizeof(bad_flags[0]); i++)
        XT_ERR(xipc_send_ex(p.tx, "x", 1, bad_flags[i], 0), XIPC_EINVAL);
    XT_ERR(xipc_send_ex(p.l, "x", 1, 0, 0), XIPC_EINVAL);
    XT_ERR(xipc_send_ex(p.l, "x", 1, XIPC_SEND_MORE, 0), XIPC_EINVAL);
    XT_ERR(xipc_flush(p.l, 0), XIPC_EINVAL);
    XT_ERR(xipc_send_ex(NULL, "x", 1, XIPC_SEND_MORE, 0), XIPC_EINVAL);
    XT_ERR(xipc_flush(NULL, 0), XIPC_EINVAL);
    XT_ERR(xipc_send_ex(p.tx, "x", 1, XIPC_SEND_MORE, -2), XIPC_EINVAL);
    XT_ERR(xipc_send_ex(p.tx, "x", 1, 0, -2), XIPC_EINVAL);
    XT_ERR(xipc_flush(p.tx, -2), XIPC_EINVAL);
    XT_ERR(xipc_send_ex(p.tx, NULL, 1, XIPC_SEND_MORE, 0), XIPC_EINVAL);
    XT_ERR(xipc_send_ex(p.tx, NULL, 1, 0, 0), XIPC_EINVAL);
    size_t over = strcmp(kind, "shm") == 0 ? (1u << 20) : (16u << 20) + 1;
    uint8_t *huge = calloc(1, over);
    XT_ASSERT(huge != NULL);
    XT_ERR(xipc_send_ex(p.tx, huge, over, XIPC_SEND_MORE, 0), XIPC_EMSGSIZE);
    free(huge);
    sm_expect_counts(p.tx, p.rx, 0, 0);
    XT_OK(xipc_send_ex(p.tx, NULL, 0, XIPC_SEND_MORE, 0)); /* empty: valid */
    XT_OK(xipc_flush(p.tx, -1));
    size_t n = 1;
    XT_OK(xipc_recv(p.rx, sm_rxbuf, SM_CAP, &n, 1000));
    XT_EQ(n, 0);
    sm_nothing(p.rx);
    sm_expect_counts(p.tx, p.rx, 1, 1);
    sm_close(&p);
}

/* ---- case 8: timeouts with a peer that does not read --------------------------------- */

typedef struct sm_flusher {
    xipc_sock *s;
    xipc_err rv;
} sm_flusher;

static void *sm_flusher_main(void *arg)
{
    sm_flusher *f = arg;
    f->rv = xipc_flush(f->s, 5000);
    return NULL;
}

/* Receive every logged message left while another thread writes out what
 * the sender holds with xipc_flush(5000), which must say XIPC_OK. */
static void sm_drain_flushing(sm_log *g, sm_pair *p)
{
    sm_flusher f = {p->tx, XIPC_EINVAL};
    pthread_t th;
    XT_ASSERT(pthread_create(&th, NULL, sm_flusher_main, &f) == 0);
    sm_log_drain(g, p->rx, g->n - g->next);
    XT_ASSERT(pthread_join(th, NULL) == 0);
    XT_OK(f.rv);
}

/*
 * Each round: fill the socket with plain sends at timeout 0 until one
 * times out; let the receiver read a few (0, 1, 3... of them: some room);
 * flagged messages A.. at timeout 0 (held; once the cork is full, one may
 * time out: then it is not sent); a plain B at timeout 0, which either
 * goes (XIPC_OK, perhaps in part: committed) or is taken back
 * (XIPC_ETIMEDOUT). Then xipc_flush(5000) on another thread while the
 * receiver drains: it must get exactly the messages whose send said
 * XIPC_OK, in order — every filler, each A once, B once if and only if it
 * said XIPC_OK — and then a plain C next, and nothing after it.
 */
static void test_timeouts(const char *kind)
{
    static const int reads[] = {0, 0, 1, 3, 0, 10, 2, 0, 30, 1, 5, 0};
    int b_ok = 0, b_late = 0, a_late = 0;
    sm_pair p = sm_open(kind);
    sm_log g = {0};
    uint32_t seq = 0;
    for (size_t round = 0; round < sizeof(reads) / sizeof(reads[0]); round++) {
        sm_fill_socket(&g, p.tx, &seq);
        size_t left = g.n - g.next;
        sm_log_drain(&g, p.rx, (size_t)reads[round] < left ? (size_t)reads[round] : left);
        /* A..: up to 80 flagged messages of 0..3000 bytes (> 64 KiB in all) */
        size_t held_from = g.n;
        for (int i = 0; i < (int)(round * 7 % 80) + 1; i++)
            if (sm_log_send(&g, p.tx, &seq, XIPC_SEND_MORE, 0) != XIPC_OK)
                a_late++;
        XT_ASSERT(g.n > held_from); /* the first one is always held */
        xipc_err b = sm_log_send(&g, p.tx, &seq, 0, 0);
        if (reads[round] == 0 && strcmp(kind, "tcp") != 0)
            XT_ERR(b, XIPC_ETIMEDOUT); /* full, nobody read: not a byte of B went */
        if (b == XIPC_OK)
            b_ok++;
        else
            b_late++;
        sm_drain_flushing(&g, &p);
        XT_OK(sm_log_send(&g, p.tx, &seq, 0, 1000)); /* C */
        sm_log_drain(&g, p.rx, 1);
        sm_nothing(p.rx);
    }
    sm_expect_counts(p.tx, p.rx, g.n, g.n);
    printf("  %s: %zu messages; B sent %d, timed out %d; flagged timed out %d\n",
           kind, g.n, b_ok, b_late, a_late);
    free(g.seq);
    sm_close(&p);
}

/*
 * Case 8, partial writes: the sender's socket buffer is made tiny
 * (SO_SNDBUF through xipc_sock_fd), so that nearly every write at timeout
 * 0 goes in part. A seeded sequence of flagged and plain sends and
 * xipc_flush calls, all at timeout 0, with the receiver taking what has
 * arrived (timeout 0) now and then; at the end a flush on another thread
 * while it drains. It must get exactly the messages whose send said
 * XIPC_OK, in order, byte for byte: a partly written frame is finished,
 * never repeated, and a taken-back one never appears.
 */
static void test_partial(const char *kind)
{
    enum { STEPS = 20000 };
    sm_pair p = sm_open(kind);
    intptr_t fd;
    XT_OK(xipc_sock_fd(p.tx, &fd));
    int small = 4096;
    XT_ASSERT(setsockopt((int)fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)) == 0);
    sm_log g = {0};
    uint32_t seq = 0, late = 0, flush_late = 0;
    uint64_t rng = 0xfeed + (uint64_t)strlen(kind);
    for (int step = 0; step < STEPS; step++) {
        uint64_t x = rng = sm_mix(rng);
        unsigned op = (unsigned)(x % 100);
        if (op < 60)
            late += sm_log_send(&g, p.tx, &seq, XIPC_SEND_MORE, 0) != XIPC_OK;
        else if (op < 85)
            late += sm_log_send(&g, p.tx, &seq, 0, 0) != XIPC_OK;
        else if (op < 95) {
            xipc_err rv = xipc_flush(p.tx, 0);
            XT_ASSERT(rv == XIPC_OK || rv == XIPC_ETIMEDOUT);
            flush_late += rv == XIPC_ETIMEDOUT;
        }
        if ((x >> 8) % 100 < 30) { /* the receiver takes what has arrived */
            size_t n;
            while (g.next < g.n &&
                   xipc_recv(p.rx, sm_rxbuf, SM_CAP, &n, 0) == XIPC_OK) {
                uint32_t q = g.seq[g.next++];
                sm_check(sm_rxbuf, n, q, sm_any_len(q));
            }
        }
    }
    sm_drain_flushing(&g, &p);
    sm_nothing(p.rx);
    sm_expect_counts(p.tx, p.rx, g.n, g.n);
    printf("  %s: %zu messages; %u sends and %u flushes timed out\n", kind, g.n,
           late, flush_late);
    free(g.seq);
    sm_close(&p);
}

/* ---- case 9: stress ------------------------------------------------------------------- */

/*
 * @p n messages of 0..3000 bytes, each sent with or without the flag, at
 * timeout 0 or 10 s (a timed-out one is sent again: it must not have been
 * delivered), with xipc_flush now and then; the end is a flush or just
 * close. A reader thread checks each message's length and bytes in order,
 * then XIPC_ECLOSED; the sent counter equals n.
 */
static void test_stress(const char *kind, uint32_t n)
{
    sm_pair p = sm_open(kind);
    sm_reader r;
    sm_reader_start(&r, p.rx, 0, n, sm_any_len, 10000, 1);
    uint64_t rng = 0x1234 + (uint64_t)strlen(kind);
    uint32_t retries = 0, flushes = 0;
    for (uint32_t seq = 0; seq < n;) {
        uint64_t x = rng = sm_mix(rng);
        unsigned flags = x % 100 < 70 ? XIPC_SEND_MORE : 0;
        int timeout = (x >> 8) % 100 < 10 ? 0 : 10000;
        xipc_err rv = sm_send(p.tx, seq, sm_any_len(seq), flags, timeout);
        if (rv == XIPC_OK)
            seq++;
        else if (rv == XIPC_ETIMEDOUT && timeout == 0)
            retries++;
        else
            XT_FAIL("message %u: send got %s", seq, xipc_err_name(rv));
        if ((x >> 16) % 100 < 3) {
            rv = xipc_flush(p.tx, timeout);
            XT_ASSERT(rv == XIPC_OK || (rv == XIPC_ETIMEDOUT && timeout == 0));
            flushes++;
        }
    }
    xipc_stats st;
    XT_OK(xipc_stats_get(p.tx, &st));
    XT_EQ(st.sent, n);
    if (rng & 1)
        XT_OK(xipc_flush(p.tx, 10000));
    xipc_close(p.tx); /* flushes whatever is still held */
    p.tx = NULL;
    sm_reader_join(&r);
    printf("  %s: %u messages, %u sends timed out and were repeated, %u flushes\n",
           kind, n, retries, flushes);
    sm_close(&p);
}

/* ---- main ------------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    uint32_t stress_n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 200000;
    setvbuf(stdout, NULL, _IONBF, 0);

    test_bad_args("unix");
    test_bad_args("shm");
    printf("7 bad arguments ok\n");
    test_no_cork();
    printf("6 shm://, mq://: no-op ok\n");
    for (size_t i = 0; i < SM_NSTREAMS; i++) {
        const char *k = sm_streams[i];
        test_held(k, 0);
        printf("1 %s: held until a plain send ok\n", k);
        test_held(k, 1);
        printf("2 %s: held until xipc_flush ok\n", k);
        test_cork_full(k);
        printf("3 %s: written when the cork is full ok\n", k);
        test_big(k);
        printf("4 %s: larger than the cork ok\n", k);
        test_close(k);
        printf("5 %s: close flushes ok\n", k);
        test_timeouts(k);
        test_partial(k);
        printf("8 %s: timeouts ok\n", k);
    }
    test_stress("unix", stress_n);
    test_stress("tcp", stress_n);
    printf("9 stress ok\n");
    printf("stream_more_test ok\n");
    return 0;
}
