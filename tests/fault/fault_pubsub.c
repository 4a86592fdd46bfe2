/*
 * Crash tests of pubsub://. Two kinds of round, chosen at random:
 *
 *   kill the publisher   a forked victim publishes (send, or reserve +
 *                        write in place + commit) until it is killed; we
 *                        and, every other round, a survivor child
 *                        subscribe. Each subscriber's blocking call must
 *                        return XIPC_ECLOSED within 1 s of the kill, every
 *                        message delivered must be whole and exactly the
 *                        next one (sequence numbers, with each gap equal to
 *                        what XIPC_EOVERRUN reported), and at the end every
 *                        message published is delivered or counted lost.
 *   kill subscribers     we publish; 1 to 3 forked victims subscribe and
 *                        check what they read, and are killed at random
 *                        moments (reading, peeking, asleep). The publisher
 *                        must not notice: every send returns XIPC_OK.
 *
 * After each round a new subscriber reads a message from a publisher of the
 * same name: after a killed publisher, we publish again under its name
 * (reclaiming its segment without clean-up).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "core/platform.h"
#include "fault.h"

#define PS_MAX 4080 /* pub_slot_size 4096 - 16 */

typedef fault_round_cfg ps_cfg;

/* A subscriber's account: the next sequence number once known. */
typedef struct ps_state {
    int started;
    uint64_t next, got, lost;
} ps_state;

static xipc_err ps_publish(xipc_sock *p, fault_rng *r, uint8_t *buf, uint32_t round,
                           uint64_t seq, fault_slot *sl)
{
    size_t n = fault_size(r, PS_MAX);
    xipc_err rv;
    if (sl != NULL)
        atomic_fetch_add(&sl->sent_try[0], 1);
    if (fault_rand(r) % 3 == 0) {
        void *w;
        if (sl != NULL)
            atomic_store(&sl->phase, PH_RESERVE);
        rv = xipc_reserve(p, n, &w, FAULT_TIMEOUT);
        if (rv == XIPC_OK) {
            fault_msg_make(w, n, round, 0, seq);
            if (sl != NULL)
                atomic_store(&sl->phase, PH_COMMIT);
            rv = xipc_commit(p, n);
        }
    } else {
        if (sl != NULL)
            atomic_store(&sl->phase, PH_SEND);
        fault_msg_make(buf, n, round, 0, seq);
        rv = xipc_send(p, buf, n, FAULT_TIMEOUT);
    }
    if (rv == XIPC_OK && sl != NULL)
        atomic_fetch_add(&sl->sent_ok[0], 1);
    return rv;
}

static void ps_skip(ps_state *st, uint64_t lost)
{
    st->lost += lost;
    if (st->started)
        st->next += lost;
}

/*
 * Read one message (recv, or peek + copy + release) and account for it.
 * XIPC_OK also for an overrun (counted); XIPC_EPROTO with @p why when a
 * message is torn, duplicated, or not the next; else the transport's error.
 */
static xipc_err ps_read(xipc_sock *s, fault_rng *r, uint8_t *buf, uint32_t round,
                        ps_state *st, fault_slot *sl, char *why, size_t cap)
{
    size_t n;
    xipc_err rv;
    if (fault_rand(r) % 2 == 0) {
        const void *p;
        if (sl != NULL)
            atomic_store(&sl->phase, PH_PEEK);
        rv = xipc_peek(s, &p, &n, FAULT_TIMEOUT);
        if (rv == XIPC_EOVERRUN) {
            ps_skip(st, n);
            return XIPC_OK;
        }
        if (rv != XIPC_OK)
            return rv;
        if (n > PS_MAX) {
            snprintf(why, cap, "peek: %zu bytes", n);
            return XIPC_EPROTO;
        }
        memcpy(buf, p, n); /* validate only after release says the copy held */
        rv = xipc_release(s);
        if (rv == XIPC_EOVERRUN) {
            ps_skip(st, 1);
            return XIPC_OK;
        }
        if (rv != XIPC_OK) {
            snprintf(why, cap, "release: %s", xipc_err_name(rv));
            return XIPC_EPROTO;
        }
    } else {
        if (sl != NULL)
            atomic_store(&sl->phase, PH_RECV);
        rv = xipc_recv(s, buf, PS_MAX, &n, FAULT_TIMEOUT);
        if (rv == XIPC_EOVERRUN) {
            ps_skip(st, n);
            return XIPC_OK;
        }
        if (rv != XIPC_OK)
            return rv;
    }
    uint64_t seq;
    if (fault_msg_check(buf, n, round, 0, &seq, why, cap) != 0)
        return XIPC_EPROTO;
    if (!st->started) {
        st->started = 1;
        st->next = seq;
    }
    if (seq != st->next) {
        snprintf(why, cap, "%s: sequence number %llu, want %llu (lost %llu so far)",
                 seq < st->next ? "duplicate" : "uncounted gap", (unsigned long long)seq,
                 (unsigned long long)st->next, (unsigned long long)st->lost);
        return XIPC_EPROTO;
    }
    st->next++;
    st->got++;
    if (sl != NULL)
        atomic_fetch_add(&sl->verified, 1);
    return XIPC_OK;
}

static xipc_err ps_dial_retry(xipc_sock **s, const char *url, fault_pid pub, int watch,
                              uint64_t give_up)
{
    xipc_opts o;
    fault_opts(&o);
    for (;;) {
        xipc_err rv = xipc_dial(s, url, &o, FAULT_TIMEOUT);
        if ((rv != XIPC_ECONNREFUSED && !fault_dial_race(url, rv)) || fault_now() > give_up ||
            (watch && fault_gone(pub, NULL)))
            return rv == XIPC_EPROTO ? XIPC_ECONNREFUSED : rv;
        fault_sleep_us(200);
    }
}

/* A whole account at the end: every message published after the first
 * one read was delivered or counted (the victim's head is between what
 * it was told and what it began). */
static int ps_complete(const ps_state *st, const fault_slot *pub, char *why, size_t cap)
{
    uint64_t ok = atomic_load(&pub->sent_ok[0]), tried = atomic_load(&pub->sent_try[0]);
    if (st->started && (st->next < ok || st->next > tried)) {
        snprintf(why, cap, "accounted up to %llu, the publisher published %llu (%llu begun)",
                 (unsigned long long)st->next, (unsigned long long)ok,
                 (unsigned long long)tried);
        return -1;
    }
    return 0;
}

/* ---- children ------------------------------------------------------------------- */

static int ps_publisher_main(const ps_cfg *c, fault_slot *sl)
{
    fault_rng r;
    fault_rng_seed(&r, c->seed);
    uint8_t buf[PS_MAX];
    xipc_sock *p;
    xipc_opts o;
    fault_opts(&o);
    atomic_store(&sl->phase, PH_CONNECT);
    xipc_err rv = xipc_listen(&p, c->url, &o);
    if (rv != XIPC_OK)
        fault_vfail(sl, "publisher listen %s: %s", c->url, xipc_err_name(rv));
    atomic_store(&sl->ready, 1);
    for (uint64_t seq = 0;; seq++) {
        if ((rv = ps_publish(p, &r, buf, c->round, seq, sl)) != XIPC_OK)
            fault_vfail(sl, "publish %llu: %s", (unsigned long long)seq, xipc_err_name(rv));
        if (fault_rand(&r) % 8 == 0) { /* subscribers catch up and sleep */
            atomic_store(&sl->phase, PH_IDLE);
            fault_sleep_us((uint32_t)fault_range(&r, 1, 300));
        }
    }
}

/* Subscriber: read until killed (victim) or until the publisher dies
 * (survivor: then report the detection time and exit 0). */
typedef struct ps_sub {
    const ps_cfg *c;
    int survivor;
} ps_sub;

static int ps_subscriber_main(const ps_sub *a, fault_slot *sl)
{
    fault_rng r;
    fault_rng_seed(&r, a->c->seed ^ (uint64_t)xipc_plat_getpid());
    uint8_t buf[PS_MAX];
    char why[200];
    ps_state st;
    memset(&st, 0, sizeof(st));
    xipc_sock *s;
    atomic_store(&sl->phase, PH_CONNECT);
    xipc_err rv;
    for (;;) {
        rv = xipc_dial(&s, a->c->url, NULL, FAULT_TIMEOUT);
        if (rv == XIPC_OK)
            break;
        /* survivor: the publisher may die before we attach */
        if (rv == XIPC_EPROTO && fault_dial_race(a->c->url, rv))
            rv = XIPC_ECONNREFUSED; /* a known bug: see fault.h */
        if (rv != XIPC_ECONNREFUSED || (a->survivor && atomic_load(&F.slots[0].kill_started)))
            break;
        fault_sleep_us(200);
    }
    if (rv != XIPC_OK) {
        if (a->survivor && rv == XIPC_ECONNREFUSED)
            return 0; /* nothing to read from */
        fault_vfail(sl, "subscriber dial %s: %s", a->c->url, xipc_err_name(rv));
    }
    atomic_store(&sl->ready, 1);
    while ((rv = ps_read(s, &r, buf, a->c->round, &st, sl, why, sizeof(why))) == XIPC_OK)
        ;
    uint64_t t_err = fault_now();
    if (rv == XIPC_EPROTO)
        fault_vfail(sl, "subscriber: %s", why);
    if (!a->survivor)
        fault_vfail(sl, "subscriber: %s while the publisher lives", xipc_err_name(rv));
    fault_slot *pub = &F.slots[0];
    if (!atomic_load(&pub->kill_started) || rv != XIPC_ECLOSED)
        fault_vfail(sl, "survivor subscriber: %s before the publisher was killed",
                    xipc_err_name(rv));
    if (ps_complete(&st, pub, why, sizeof(why)) != 0)
        fault_vfail(sl, "survivor subscriber: %s", why);
    uint64_t t_kill = atomic_load(&pub->t_kill);
    atomic_store(&sl->detect_ns, t_err > t_kill ? t_err - t_kill : 1);
    return 0;
}

/* The new subscriber after a round: one whole message, then exit 0. */
static int ps_helper_main(const ps_cfg *c, fault_slot *sl)
{
    uint8_t buf[PS_MAX];
    char why[200];
    xipc_sock *s;
    xipc_err rv = ps_dial_retry(&s, c->url, 0, 0, fault_now() + 5000000000ull);
    if (rv != XIPC_OK)
        fault_vfail(sl, "new subscriber dial %s: %s", c->url, xipc_err_name(rv));
    for (;;) {
        size_t n;
        uint64_t seq;
        rv = xipc_recv(s, buf, sizeof(buf), &n, FAULT_TIMEOUT);
        if (rv == XIPC_EOVERRUN)
            continue;
        if (rv != XIPC_OK)
            fault_vfail(sl, "new subscriber recv: %s", xipc_err_name(rv));
        if (fault_msg_check(buf, n, c->round + 0x40000000u, 0, &seq, why, sizeof(why)) != 0)
            fault_vfail(sl, "new subscriber: %s", why);
        xipc_close(s);
        return 0;
    }
}

/*
 * The children's modes:
 *   victim ps-pub SLOT pubsub ROUND SEED URL      publish until killed
 *   victim ps-sub SLOT pubsub ROUND SEED URL      subscribe until killed
 *   helper ps-sub SLOT pubsub ROUND SEED URL      the survivor subscriber
 *   helper ps-new SLOT pubsub ROUND SEED URL      the new subscriber
 */
int fault_pubsub_role(int argc, char **argv, fault_slot *sl)
{
    ps_cfg c;
    fault_round_args(&c, argc, argv, sl);
    if (!strcmp(argv[2], "ps-pub"))
        return ps_publisher_main(&c, sl);
    if (!strcmp(argv[2], "ps-new"))
        return ps_helper_main(&c, sl);
    ps_sub a = {&c, !strcmp(argv[1], "helper")};
    return ps_subscriber_main(&a, sl);
}

/* ---- the test process ----------------------------------------------------------- */

/* With publisher @p p (ours): a new subscriber must get a message. */
static void ps_reconnect(const ps_cfg *c, xipc_sock *p, fault_rng *r, uint8_t *buf)
{
    fault_slot *hs = fault_slot_reset(FAULT_SLOTS - 1);
    fault_pid pid = fault_start_round("helper", "ps-new", FAULT_SLOTS - 1, c->round, c->seed, c->url);
    uint64_t until = fault_now() + 10000000000ull;
    for (uint64_t seq = 0; !fault_gone(pid, NULL); seq++) {
        if (fault_now() > until)
            XT_FAIL("reconnect: the new subscriber got nothing in 10 s");
        XT_OK(ps_publish(p, r, buf, c->round + 0x40000000u, seq, NULL));
        fault_sleep_us(200);
    }
    fault_expect_ok(pid, hs, "new subscriber");
    F.reconnects++;
}

static void ps_round_kill_publisher(const ps_cfg *c, fault_rng *r, uint8_t *buf)
{
    static const uint32_t ph[] = {PH_CONNECT, PH_SEND, PH_RESERVE, PH_COMMIT, PH_IDLE};
    fault_slot *sl = fault_slot_reset(0);
    fault_slot *ss = fault_slot_reset(1);
    fault_pid pid = fault_start_round("victim", "ps-pub", 0, c->round, c->seed, c->url);
    fault_pid surv = 0;
    int with_surv = fault_rand(r) % 2 == 0;
    if (with_surv)
        surv = fault_start_round("helper", "ps-sub", 1, c->round, c->seed, c->url);
    fault_kill k = fault_plan(r, pid, 0, ph, 5);
    fault_killer_arm(&k, 1);
    xipc_sock *s;
    xipc_err rv = ps_dial_retry(&s, c->url, pid, 1, UINT64_MAX);
    if (rv != XIPC_OK && rv != XIPC_ECONNREFUSED)
        XT_FAIL("subscribe %s: %s", c->url, xipc_err_name(rv));
    if (rv != XIPC_OK)
        s = NULL; /* the publisher died first */
    ps_state st;
    memset(&st, 0, sizeof(st));
    char why[200];
    uint64_t t_err = 0;
    if (s != NULL) {
        while ((rv = ps_read(s, r, buf, c->round, &st, NULL, why, sizeof(why))) == XIPC_OK)
            ;
        t_err = fault_now();
        if (rv == XIPC_EPROTO)
            XT_FAIL("pubsub:// round %u, the publisher killed: %s", (unsigned)c->round, why);
        F.verified += st.got;
        F.lost += st.lost;
    }
    fault_killer_wait();
    fault_expect_killed(pid, sl, "victim publisher");
    if (s != NULL) {
        fault_detected(rv, t_err, 0, pid, "pubsub:// recv, the publisher killed");
        if (ps_complete(&st, sl, why, sizeof(why)) != 0)
            XT_FAIL("pubsub:// round %u: %s", (unsigned)c->round, why);
        xipc_close(s);
    }
    if (with_surv) {
        fault_expect_ok(surv, ss, "survivor subscriber");
        if (atomic_load(&ss->detect_ns) != 0)
            fault_detect_add(atomic_load(&ss->detect_ns), "pubsub:// survivor subscriber");
        F.verified += atomic_load(&ss->verified);
    }
    fault_count_kill(0, s == NULL || !atomic_load(&sl->ready));
    /* the name again, without clean-up */
    xipc_sock *p;
    xipc_opts o;
    fault_opts(&o);
    rv = xipc_listen(&p, c->url, &o);
    if (rv == XIPC_EADDRINUSE && fault_unstick(c->url))
        rv = xipc_listen(&p, c->url, &o);
    if (rv != XIPC_OK)
        XT_FAIL("publish on %s again after the publisher was killed: %s (%s)", c->url,
                xipc_err_name(rv), xipc_strerror(rv));
    ps_reconnect(c, p, r, buf);
    xipc_close(p);
}

static void ps_round_kill_subscribers(const ps_cfg *c, fault_rng *r, uint8_t *buf)
{
    xipc_sock *p;
    xipc_opts o;
    fault_opts(&o);
    XT_OK(xipc_listen(&p, c->url, &o));
    int n = (int)fault_range(r, 1, 3);
    fault_pid pids[3];
    fault_kill k[3];
    for (int i = 0; i < n; i++) {
        fault_slot_reset(i);
        pids[i] = fault_start_round("victim", "ps-sub", i, c->round, c->seed, c->url);
        k[i] = (fault_kill){pids[i], i, (uint32_t)fault_range(r, 0, 20000), 0, 0};
        if (fault_rand(r) % 8 == 0)
            k[i].delay_us = 0;
    }
    for (int i = 1; i < n; i++) /* the killer takes them in order of time */
        for (int j = i; j > 0 && k[j].delay_us < k[j - 1].delay_us; j--) {
            fault_kill t = k[j];
            k[j] = k[j - 1];
            k[j - 1] = t;
        }
    fault_killer_arm(k, n);
    uint64_t seq = 0;
    for (int alive = n; alive > 0;) {
        xipc_err rv = ps_publish(p, r, buf, c->round, seq++, NULL);
        if (rv != XIPC_OK)
            XT_FAIL("pubsub:// publish with subscribers being killed: %s", xipc_err_name(rv));
        if (fault_rand(r) % 16 == 0) /* subscribers go to sleep */
            fault_sleep_us((uint32_t)fault_range(r, 1, 500));
        if (fault_killer_done()) {
            alive = 0;
            for (int i = 0; i < n; i++)
                alive += !fault_gone(pids[i], NULL);
        }
    }
    for (int i = 0; i < n; i++) {
        fault_slot *sl = &F.slots[i];
        fault_expect_killed(pids[i], sl, "victim subscriber");
        F.verified += atomic_load(&sl->verified);
        fault_count_kill(i, !atomic_load(&sl->ready));
    }
    ps_reconnect(c, p, r, buf);
    xipc_close(p);
}

void fault_pubsub_run(void)
{
    ps_cfg c;
    memset(&c, 0, sizeof(c));
    fault_url(c.url, sizeof(c.url), "pubsub", "ps", 0);
    uint8_t buf[PS_MAX];
    fault_rng r;
    fault_rng_seed(&r, F.seed);
    for (uint32_t round = 1; F.kills < (uint64_t)F.kills_wanted; round++) {
        c.round = round;
        c.seed = fault_rand(&r);
        if (fault_rand(&r) % 2 == 0)
            ps_round_kill_publisher(&c, &r, buf);
        else
            ps_round_kill_subscribers(&c, &r, buf);
    }
}
