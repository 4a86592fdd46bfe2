/*
 * Crash tests of the one-way transports: mailslot:// and mq://.
 *
 * Two kinds of round, chosen at random:
 *
 *   kill the writer   we are the server (mailslot) or the receiver (mq); a
 *                     forked victim writes until it is killed; we read and
 *                     check every message. A reader has no single peer, so
 *                     nothing "returns ECLOSED" here: we drain what is
 *                     queued once the victim is gone.
 *   kill the reader   the victim is the server / receiver and checks what
 *                     it reads; we write until the kill, and our write must
 *                     return XIPC_ECLOSED within 1 s (a mailslot write
 *                     never blocks: the first write that finds no live
 *                     server; an mq write blocks on a full queue and
 *                     watches its receiver).
 *
 * Checks: every message whole (checksum, length); mq is reliable, so per
 * priority the sequence numbers are consecutive and every message whose
 * send returned OK arrives; a mailslot may lose messages (a full queue),
 * so there sequence numbers must only increase. After each round a new
 * writer (after a killed writer) or a new server/receiver on the same
 * name (after a killed reader, reclaiming what it left) exchanges a
 * message.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "fault.h"

#define DG_STREAMS 3 /* mq: priorities 0..2 carry streams 0..2 */

typedef fault_round_cfg dg_cfg;

static int is_mq(void)
{
    return strcmp(F.scheme, "mq") == 0;
}

static size_t dg_max(void)
{
    return is_mq() ? 4096 : 65536;
}

/* Sequence bookkeeping of a reader: per stream, the next number. */
typedef struct dg_seq {
    uint64_t next[DG_STREAMS + 1];
    uint64_t got[DG_STREAMS + 1];
} dg_seq;

/*
 * Check one received message: whole, and in order (mq: exactly the next
 * of its priority's stream; mailslot: later than the last). 0 or -1 with
 * the reason in @p why.
 */
static int dg_check(dg_seq *q, const void *p, size_t n, unsigned prio, uint32_t round,
                    char *why, size_t cap)
{
    uint32_t stream = is_mq() ? prio : 0;
    uint64_t seq;
    if (stream > DG_STREAMS) {
        snprintf(why, cap, "priority %u never sent", prio);
        return -1;
    }
    if (fault_msg_check(p, n, round, stream, &seq, why, cap) != 0)
        return -1;
    if (seq < q->next[stream] || (is_mq() && seq != q->next[stream])) {
        snprintf(why, cap, "%s: stream %u sequence number %llu, want %s%llu",
                 seq < q->next[stream] ? "duplicate or reordered" : "gap", (unsigned)stream,
                 (unsigned long long)seq, is_mq() ? "" : ">= ",
                 (unsigned long long)q->next[stream]);
        return -1;
    }
    F.lost += seq - q->next[stream];
    q->next[stream] = seq + 1;
    q->got[stream]++;
    return 0;
}

static xipc_err dg_send(xipc_sock *s, fault_rng *r, uint8_t *buf, uint32_t round,
                        uint64_t *seqs, fault_slot *sl)
{
    uint32_t stream = is_mq() ? (uint32_t)(fault_rand(r) % DG_STREAMS) : 0;
    size_t n = fault_size(r, dg_max());
    fault_msg_make(buf, n, round, stream, seqs[stream]);
    if (sl != NULL) {
        atomic_fetch_add(&sl->sent_try[stream], 1);
        atomic_store(&sl->phase, n > 16384 ? PH_LARGE : PH_SEND);
    }
    xipc_err rv = xipc_send_prio(s, buf, n, stream, FAULT_TIMEOUT);
    if (rv == XIPC_OK) {
        seqs[stream]++;
        if (sl != NULL)
            atomic_fetch_add(&sl->sent_ok[stream], 1);
    }
    return rv;
}

static xipc_err dg_dial_retry(xipc_sock **s, const char *url, uint64_t give_up)
{
    xipc_opts o;
    fault_opts(&o);
    for (;;) {
        xipc_err rv = xipc_dial(s, url, &o, FAULT_TIMEOUT);
        if (rv != XIPC_ECONNREFUSED || fault_now() > give_up)
            return rv;
        fault_sleep_us(200);
    }
}

/* ---- children ---------------------------------------------------------------- */

/* Victim writer: write until killed. */
static int dg_writer_main(const dg_cfg *c, fault_slot *sl)
{
    fault_rng r;
    fault_rng_seed(&r, c->seed);
    uint8_t *buf = malloc(dg_max());
    uint64_t seqs[DG_STREAMS + 1] = {0};
    xipc_sock *s;
    atomic_store(&sl->phase, PH_CONNECT);
    xipc_err rv = dg_dial_retry(&s, c->url, fault_now() + 5000000000ull);
    if (rv != XIPC_OK || buf == NULL)
        fault_vfail(sl, "writer dial %s: %s", c->url, xipc_err_name(rv));
    atomic_store(&sl->ready, 1);
    for (;;) {
        if ((rv = dg_send(s, &r, buf, c->round, seqs, sl)) != XIPC_OK)
            fault_vfail(sl, "writer send: %s", xipc_err_name(rv));
        if (fault_rand(&r) % 8 == 0) { /* let the reader catch up and sleep */
            atomic_store(&sl->phase, PH_IDLE);
            fault_sleep_us((uint32_t)fault_range(&r, 1, 300));
        }
    }
}

/* Victim reader: read and check until killed. */
static int dg_reader_main(const dg_cfg *c, fault_slot *sl)
{
    fault_rng r;
    fault_rng_seed(&r, c->seed);
    uint8_t *buf = malloc(dg_max());
    dg_seq q;
    memset(&q, 0, sizeof(q));
    char why[200];
    xipc_sock *s;
    xipc_opts o;
    fault_opts(&o);
    atomic_store(&sl->phase, PH_CONNECT);
    xipc_err rv = xipc_listen(&s, c->url, &o);
    if (rv != XIPC_OK || buf == NULL)
        fault_vfail(sl, "reader listen %s: %s", c->url, xipc_err_name(rv));
    atomic_store(&sl->ready, 1);
    for (;;) {
        size_t n;
        unsigned prio;
        atomic_store(&sl->phase, PH_RECV);
        rv = xipc_recv_prio(s, buf, dg_max(), &n, &prio, FAULT_TIMEOUT);
        if (rv != XIPC_OK)
            fault_vfail(sl, "reader recv: %s", xipc_err_name(rv));
        if (dg_check(&q, buf, n, prio, c->round, why, sizeof(why)) != 0)
            fault_vfail(sl, "reader: %s", why);
        atomic_fetch_add(&sl->verified, 1);
        if (fault_rand(&r) % 16 == 0) { /* let the writer fill the queue */
            atomic_store(&sl->phase, PH_IDLE);
            fault_sleep_us((uint32_t)fault_range(&r, 1, 2000));
        }
    }
}

/* The new writer after a kill: one message, stream 2 at priority 2 (mq). */
static int dg_helper_main(const dg_cfg *c, fault_slot *sl)
{
    uint8_t buf[1024];
    xipc_sock *s;
    xipc_err rv = dg_dial_retry(&s, c->url, fault_now() + 5000000000ull);
    if (rv != XIPC_OK)
        fault_vfail(sl, "new writer dial %s: %s", c->url, xipc_err_name(rv));
    uint32_t stream = is_mq() ? 2 : 0;
    fault_msg_make(buf, sizeof(buf), c->round + 0x40000000u, stream, 0);
    if ((rv = xipc_send_prio(s, buf, sizeof(buf), stream, FAULT_TIMEOUT)) != XIPC_OK)
        fault_vfail(sl, "new writer send: %s", xipc_err_name(rv));
    xipc_close(s);
    return 0;
}

/*
 * The children's modes:
 *   victim dg-writer SLOT SCHEME ROUND SEED URL   write until killed
 *   victim dg-reader SLOT SCHEME ROUND SEED URL   read until killed
 *   helper dg-writer SLOT SCHEME ROUND SEED URL   the new writer: one message
 */
int fault_dgram_role(int argc, char **argv, fault_slot *sl)
{
    dg_cfg c;
    fault_round_args(&c, argc, argv, sl);
    if (!strcmp(argv[1], "helper"))
        return dg_helper_main(&c, sl);
    if (!strcmp(argv[2], "dg-reader"))
        return dg_reader_main(&c, sl);
    return dg_writer_main(&c, sl);
}

/* ---- the test process ----------------------------------------------------------- */

/* Listen on the round's name (reclaiming what a killed reader left) and
 * receive the new writer's message. */
static void dg_reconnect(const dg_cfg *c, xipc_sock *srv)
{
    xipc_sock *own = NULL;
    if (srv == NULL) {
        xipc_opts o;
        fault_opts(&o);
        xipc_err rv = xipc_listen(&own, c->url, &o);
        if (rv != XIPC_OK)
            XT_FAIL("listen %s again after the reader was killed: %s (%s)", c->url,
                    xipc_err_name(rv), xipc_strerror(rv));
        srv = own;
    }
    fault_slot *hs = fault_slot_reset(1);
    fault_pid pid = fault_start_round("helper", "dg-writer", 1, c->round, c->seed, c->url);
    uint8_t buf[2048];
    char why[200];
    size_t n;
    unsigned prio;
    uint64_t seq;
    XT_OK(xipc_recv_prio(srv, buf, sizeof(buf), &n, &prio, FAULT_TIMEOUT));
    if (fault_msg_check(buf, n, c->round + 0x40000000u, is_mq() ? 2 : 0, &seq, why,
                        sizeof(why)) != 0)
        XT_FAIL("reconnect: bad message from the new writer: %s", why);
    fault_expect_ok(pid, hs, "new writer");
    xipc_close(own);
    F.reconnects++;
}

static void dg_round_kill_writer(dg_cfg *c, fault_rng *r, uint8_t *buf)
{
    static const uint32_t ph[] = {PH_CONNECT, PH_SEND, PH_LARGE, PH_IDLE};
    xipc_sock *srv;
    xipc_opts o;
    fault_opts(&o);
    XT_OK(xipc_listen(&srv, c->url, &o));
    fault_slot *sl = fault_slot_reset(0);
    fault_pid pid = fault_start_round("victim", "dg-writer", 0, c->round, c->seed, c->url);
    fault_kill k = fault_plan(r, pid, 0, ph, 4);
    fault_killer_arm(&k, 1);
    dg_seq q;
    memset(&q, 0, sizeof(q));
    char why[200];
    int gone = 0;
    for (;;) {
        size_t n;
        unsigned prio;
        /* once the writer is gone, take what is queued and stop */
        xipc_err rv = xipc_recv_prio(srv, buf, dg_max(), &n, &prio, gone ? 0 : 20);
        if (rv == XIPC_ETIMEDOUT) {
            if (gone)
                break;
            gone = fault_killer_done() && fault_gone(pid, NULL);
            continue;
        }
        XT_OK(rv);
        if (dg_check(&q, buf, n, prio, c->round, why, sizeof(why)) != 0)
            XT_FAIL("%s:// round %u, the writer killed: %s", F.scheme, (unsigned)c->round, why);
        F.verified++;
    }
    fault_killer_wait();
    fault_expect_killed(pid, sl, "victim writer");
    for (int i = 0; i < DG_STREAMS; i++) {
        uint64_t ok = atomic_load(&sl->sent_ok[i]), tried = atomic_load(&sl->sent_try[i]);
        /* mq loses nothing the victim was told was sent; nothing arrives twice */
        if ((is_mq() && q.got[i] < ok) || q.got[i] > tried)
            XT_FAIL("%s:// stream %d: received %llu, the writer sent %llu (%llu begun)",
                    F.scheme, i, (unsigned long long)q.got[i], (unsigned long long)ok,
                    (unsigned long long)tried);
        if (!is_mq())
            F.lost += tried - q.next[i]; /* lost after the last one read */
    }
    fault_count_kill(0, !atomic_load(&sl->ready));
    dg_reconnect(c, srv);
    xipc_close(srv);
}

static void dg_round_kill_reader(dg_cfg *c, fault_rng *r, uint8_t *buf)
{
    static const uint32_t ph[] = {PH_CONNECT, PH_RECV, PH_IDLE};
    fault_slot *sl = fault_slot_reset(0);
    fault_pid pid = fault_start_round("victim", "dg-reader", 0, c->round, c->seed, c->url);
    fault_kill k = fault_plan(r, pid, 0, ph, 3);
    fault_killer_arm(&k, 1);
    xipc_sock *s = NULL;
    xipc_opts o;
    fault_opts(&o);
    for (;;) {
        xipc_err rv = xipc_dial(&s, c->url, &o, FAULT_TIMEOUT);
        if (rv == XIPC_OK)
            break;
        if (rv != XIPC_ECONNREFUSED)
            XT_FAIL("dial %s: %s", c->url, xipc_err_name(rv));
        s = NULL;
        if (fault_gone(pid, NULL))
            break;
        fault_sleep_us(200);
    }
    xipc_err rv = XIPC_OK;
    uint64_t t_err = 0, seqs[DG_STREAMS + 1] = {0};
    if (s != NULL) {
        for (uint64_t n = 1; (rv = dg_send(s, r, buf, c->round, seqs, NULL)) == XIPC_OK; n++) {
            if (fault_rand(r) % 64 == 0) /* the reader sleeps in recv sometimes */
                fault_sleep_us((uint32_t)fault_range(r, 1, 500));
            /* sends that go on succeeding long after the kill: a failure,
             * not a hang (wine once kept a killed reader's mailslot) */
            if (n % 256 == 0 && atomic_load(&sl->kill_started) && fault_killer_done() &&
                fault_now() - atomic_load(&sl->t_kill) > (uint64_t)FAULT_TIMEOUT * 1000000u)
                XT_FAIL("%s:// send still succeeds %d ms after the reader was killed",
                        F.scheme, FAULT_TIMEOUT);
        }
        t_err = fault_now();
    }
    fault_killer_wait();
    fault_expect_killed(pid, sl, "victim reader");
    if (s != NULL) {
        char what[64];
        snprintf(what, sizeof(what), "%s:// send, the reader killed", F.scheme);
        fault_detected(rv, t_err, 0, pid, what);
        xipc_close(s);
    }
    F.verified += atomic_load(&sl->verified);
    fault_count_kill(0, s == NULL || !atomic_load(&sl->ready));
    dg_reconnect(c, NULL);
}

void fault_dgram_run(void)
{
    dg_cfg c;
    memset(&c, 0, sizeof(c));
    fault_url(c.url, sizeof(c.url), F.scheme, is_mq() ? "mq" : "ms", 0);
    uint8_t *buf = malloc(dg_max());
    XT_ASSERT(buf != NULL);
    fault_rng r;
    fault_rng_seed(&r, F.seed);
    for (uint32_t round = 1; F.kills < (uint64_t)F.kills_wanted; round++) {
        c.round = round;
        c.seed = fault_rand(&r);
        if (fault_rand(&r) % 2 == 0)
            dg_round_kill_writer(&c, &r, buf);
        else
            dg_round_kill_reader(&c, &r, buf);
    }
    free(buf);
}
