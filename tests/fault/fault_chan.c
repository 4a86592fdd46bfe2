/*
 * Crash tests of the channel transports: shm://, pipe://, unix:// (path
 * and @abstract), tcp:// and anonymous pipes (xipc_spawn).
 *
 * Each round forks a victim (xipc_spawn execs one) that connects to the
 * test process and runs one of three modes until it is killed:
 *
 *   send      it sends stream 0 (send, or reserve + write in place +
 *             commit); we receive (recv or peek/release) and check each
 *             message, and after the kill every message it was told was
 *             sent must have arrived;
 *   recv      we send, it receives and checks;
 *   pingpong  we send request k, it checks it and answers with reply k.
 *
 * Either side listens: the victim dials our long-lived listener (name a)
 * or listens itself (name b) and we dial. After the kill a new peer uses
 * the same name: a forked helper dials our listener, or, when the victim
 * was the listener, we listen on its name again (reclaiming what it left)
 * and the helper dials that.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#endif

#include "fault.h"

enum { M_SEND, M_RECV, M_PINGPONG };
static const char *const mode_names[] = {"send", "recv", "pingpong"};

typedef struct chan_cfg {
    int victim_listens;
    int mode;
    uint32_t round;
    uint64_t seed;
    char url[200];
} chan_cfg;

static int is_spawn(void)
{
    return strcmp(F.scheme, "spawn") == 0;
}

/* The largest message sent: most of the shm ring, 1 MiB on streams. */
static size_t chan_max(void)
{
    return strcmp(F.scheme, "shm") == 0 ? 200000 : (1u << 20);
}

/* ---- one step of either side ------------------------------------------------ */

/*
 * Send message @p seq of @p stream: xipc_send, or reserve + write in place
 * + commit. Marks the phases for the killer; counts attempts and
 * successes in @p sl (NULL: the test process).
 */
static xipc_err chan_send(xipc_sock *s, fault_rng *r, uint8_t *buf, uint32_t round,
                          uint32_t stream, uint64_t seq, fault_slot *sl)
{
    size_t n = fault_size(r, chan_max());
    int zc = fault_rand(r) % 3 == 0;
    xipc_err rv;
    if (sl != NULL)
        atomic_fetch_add(&sl->sent_try[stream], 1);
    if (zc) {
        void *w;
        if (sl != NULL)
            atomic_store(&sl->phase, PH_RESERVE);
        rv = xipc_reserve(s, n, &w, FAULT_TIMEOUT);
        if (rv == XIPC_OK) {
            fault_msg_make(w, n, round, stream, seq);
            if (sl != NULL)
                atomic_store(&sl->phase, PH_COMMIT);
            rv = xipc_commit(s, n);
        }
    } else {
        if (sl != NULL)
            atomic_store(&sl->phase, n > 65536 ? PH_LARGE : PH_SEND);
        fault_msg_make(buf, n, round, stream, seq);
        rv = xipc_send(s, buf, n, FAULT_TIMEOUT);
    }
    if (rv == XIPC_OK && sl != NULL)
        atomic_fetch_add(&sl->sent_ok[stream], 1);
    return rv;
}

/*
 * Receive the next message of @p stream and check it is whole and number
 * @p want: xipc_recv, or peek + check in place + release. XIPC_OK, the
 * transport's error, or XIPC_EPROTO with the reason in @p why.
 */
static xipc_err chan_recv(xipc_sock *s, fault_rng *r, uint8_t *buf, uint32_t round,
                          uint32_t stream, uint64_t want, fault_slot *sl, char *why,
                          size_t cap)
{
    size_t n;
    const void *p;
    xipc_err rv;
    int zc = fault_rand(r) % 2 == 0;
    if (sl != NULL)
        atomic_store(&sl->phase, zc ? PH_PEEK : PH_RECV);
    if (zc) {
        rv = xipc_peek(s, &p, &n, FAULT_TIMEOUT);
    } else {
        rv = xipc_recv(s, buf, chan_max(), &n, FAULT_TIMEOUT);
        p = buf;
    }
    if (rv != XIPC_OK)
        return rv;
    uint64_t seq;
    if (fault_msg_check(p, n, round, stream, &seq, why, cap) != 0)
        return XIPC_EPROTO;
    if (seq != want) {
        snprintf(why, cap, "%s: sequence number %llu, want %llu",
                 seq < want ? "duplicate" : "gap", (unsigned long long)seq,
                 (unsigned long long)want);
        return XIPC_EPROTO;
    }
    if (zc && (rv = xipc_release(s)) != XIPC_OK) {
        snprintf(why, cap, "release: %s", xipc_err_name(rv));
        return XIPC_EPROTO;
    }
    if (sl != NULL)
        atomic_fetch_add(&sl->verified, 1);
    return XIPC_OK;
}

/* ---- the victim ------------------------------------------------------------------ */

static xipc_err chan_dial_retry(xipc_sock **s, const char *url)
{
    xipc_opts o;
    fault_opts(&o);
    uint64_t until = fault_now() + 5000000000ull;
    for (;;) {
        xipc_err rv = xipc_dial(s, url, &o, FAULT_TIMEOUT);
        if (rv != XIPC_ECONNREFUSED || fault_now() > until)
            return rv;
        fault_sleep_us(200);
    }
}

/* Run the victim's side of @p c on connection @p s until killed. */
static int chan_victim_body(xipc_sock *s, const chan_cfg *c, fault_slot *sl)
{
    fault_rng r;
    fault_rng_seed(&r, c->seed);
    uint8_t *buf = malloc(chan_max());
    char why[200];
    if (buf == NULL)
        fault_vfail(sl, "out of memory");
    atomic_store(&sl->ready, 1);
    for (uint64_t k = 0;; k++) {
        xipc_err rv = XIPC_OK;
        if (c->mode == M_SEND || c->mode == M_PINGPONG) {
            if (c->mode == M_PINGPONG &&
                (rv = chan_recv(s, &r, buf, c->round, 0, k, sl, why, sizeof(why))) != XIPC_OK)
                fault_vfail(sl, "pingpong: request %llu: %s %s", (unsigned long long)k,
                            xipc_err_name(rv), rv == XIPC_EPROTO ? why : "");
            rv = chan_send(s, &r, buf, c->round, c->mode == M_SEND ? 0 : 1, k, sl);
            if (rv != XIPC_OK)
                fault_vfail(sl, "send %llu: %s", (unsigned long long)k, xipc_err_name(rv));
        } else {
            rv = chan_recv(s, &r, buf, c->round, 0, k, sl, why, sizeof(why));
            if (rv != XIPC_OK)
                fault_vfail(sl, "recv %llu: %s %s", (unsigned long long)k,
                            xipc_err_name(rv), rv == XIPC_EPROTO ? why : "");
        }
        if (fault_rand(&r) % 32 == 0) { /* let the other side block */
            atomic_store(&sl->phase, PH_IDLE);
            fault_sleep_us((uint32_t)fault_range(&r, 1, 400));
        }
    }
}

static int chan_victim_main(const chan_cfg *c, fault_slot *sl)
{
    xipc_sock *s, *l;
    xipc_err rv;
    atomic_store(&sl->phase, PH_CONNECT);
    if (c->victim_listens) {
        xipc_opts o;
        fault_opts(&o);
        if ((rv = xipc_listen(&l, c->url, &o)) != XIPC_OK)
            fault_vfail(sl, "listen %s: %s", c->url, xipc_err_name(rv));
        if ((rv = xipc_accept(l, &s, FAULT_TIMEOUT)) != XIPC_OK)
            fault_vfail(sl, "accept: %s", xipc_err_name(rv));
    } else if ((rv = chan_dial_retry(&s, c->url)) != XIPC_OK) {
        fault_vfail(sl, "dial %s: %s", c->url, xipc_err_name(rv));
    }
    return chan_victim_body(s, c, sl);
}

/* ---- the helper: a new peer after the kill ------------------------------------- */

/* Exchange one message each way on @p s as the helper. */
static int helper_exchange(xipc_sock *s, uint32_t round, fault_slot *sl)
{
    uint8_t buf[4096];
    char why[200];
    size_t n;
    uint64_t seq;
    fault_msg_make(buf, 1000, round, 2, 0);
    xipc_err rv = xipc_send(s, buf, 1000, FAULT_TIMEOUT);
    if (rv != XIPC_OK)
        fault_vfail(sl, "helper send: %s", xipc_err_name(rv));
    if ((rv = xipc_recv(s, buf, sizeof(buf), &n, FAULT_TIMEOUT)) != XIPC_OK)
        fault_vfail(sl, "helper recv: %s", xipc_err_name(rv));
    if (fault_msg_check(buf, n, round, 3, &seq, why, sizeof(why)) != 0 || seq != 0)
        fault_vfail(sl, "helper: bad reply: %s", why);
    xipc_close(s);
    return 0;
}

static int chan_helper_main(const chan_cfg *c, fault_slot *sl)
{
    xipc_sock *s;
    xipc_err rv = chan_dial_retry(&s, c->url);
    if (rv != XIPC_OK)
        fault_vfail(sl, "helper dial %s: %s", c->url, xipc_err_name(rv));
    return helper_exchange(s, c->round, sl);
}

/* Our half of the helper's exchange on @p s. 0: done; 1: @p s is a dead
 * connection left in the backlog by the victim (skip it). */
static int chan_answer(xipc_sock *s, uint32_t round)
{
    uint8_t buf[4096];
    char why[200];
    size_t n;
    uint64_t seq;
    xipc_err rv = xipc_recv(s, buf, sizeof(buf), &n, FAULT_TIMEOUT);
    if (rv == XIPC_ECLOSED)
        return 1;
    XT_OK(rv);
    if (fault_msg_check(buf, n, round, 2, &seq, why, sizeof(why)) != 0 || seq != 0)
        XT_FAIL("reconnect: bad message from the new peer: %s", why);
    fault_msg_make(buf, 500, round, 3, 0);
    XT_OK(xipc_send(s, buf, 500, FAULT_TIMEOUT));
    return 0;
}

/* ---- the test process ------------------------------------------------------------- */

static xipc_sock *listener_a; /* ours, for the whole run */
static char url_a[200], url_b[200];

/* Connect to the victim; NULL when it died before that was possible. */
static xipc_sock *chan_connect(const chan_cfg *c, fault_pid pid)
{
    xipc_sock *s;
    xipc_err rv;
    if (!c->victim_listens) {
        for (;;) {
            rv = xipc_accept(listener_a, &s, 20);
            if (rv == XIPC_OK)
                return s;
            if (rv != XIPC_ETIMEDOUT)
                XT_FAIL("accept: %s", xipc_err_name(rv));
            if (fault_gone(pid, NULL)) /* dead: did its dial land first? */
                return xipc_accept(listener_a, &s, 0) == XIPC_OK ? s : NULL;
        }
    }
    xipc_opts o;
    fault_opts(&o);
    for (;;) {
        rv = xipc_dial(&s, c->url, &o, 1000);
        if (rv == XIPC_OK)
            return s;
        /* ECLOSED: tcp:// whose listener died during the handshake (a reset
         * instead of a refusal; xipc.h does not list it for xipc_dial) */
        if (rv != XIPC_ECONNREFUSED && rv != XIPC_ECLOSED && !fault_dial_race(c->url, rv))
            XT_FAIL("dial %s: %s", c->url, xipc_err_name(rv));
        if (fault_gone(pid, NULL))
            return NULL;
        fault_sleep_us(200);
    }
}

/* A call that never returned: say what the socket and the victim were
 * doing, for the report. */
static void chan_diagnose(xipc_sock *s, fault_slot *sl)
{
    fprintf(stderr, "no detection: the victim was in phase %u when killed (ready %u)\n",
            (unsigned)atomic_load(&sl->phase_at_kill), (unsigned)atomic_load(&sl->ready));
#ifdef __linux__
    intptr_t fd;
    if (xipc_sock_fd(s, &fd) == XIPC_OK) {
        struct tcp_info ti;
        socklen_t len = sizeof(ti);
        memset(&ti, 0, sizeof(ti));
        if (getsockopt((int)fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0)
            fprintf(stderr, "  tcp state %u, unacked %u, retransmits %u, last data recv %u ms "
                    "ago\n", (unsigned)ti.tcpi_state, (unsigned)ti.tcpi_unacked,
                    (unsigned)ti.tcpi_retransmits, (unsigned)ti.tcpi_last_data_recv);
    }
#else
    (void)s;
#endif
}

/* Run our side of the mode until the kill ends it; the error and when. */
static xipc_err chan_survive(xipc_sock *s, const chan_cfg *c, fault_rng *r, uint8_t *buf,
                             uint64_t *count, uint64_t *t_err)
{
    char why[200];
    xipc_err rv;
    uint64_t k = 0;
    for (;; k++) {
        if (c->mode == M_SEND) {
            rv = chan_recv(s, r, buf, c->round, 0, k, NULL, why, sizeof(why));
        } else {
            rv = chan_send(s, r, buf, c->round, 0, k, NULL);
            if (rv == XIPC_OK && c->mode == M_PINGPONG)
                rv = chan_recv(s, r, buf, c->round, 1, k, NULL, why, sizeof(why));
        }
        if (rv == XIPC_EPROTO)
            XT_FAIL("%s://, mode %s, round %u, message %llu: %s", F.scheme,
                    mode_names[c->mode], (unsigned)c->round, (unsigned long long)k, why);
        if (rv != XIPC_OK)
            break;
        if (c->mode != M_RECV)
            F.verified++;
    }
    *t_err = fault_now();
    *count = k;
    return rv;
}

/* After the kill: a new peer on the same name exchanges one message. */
static void chan_reconnect(const chan_cfg *c)
{
    fault_slot *hs = fault_slot_reset(1);
    xipc_sock *s, *l = NULL;
    fault_pid pid;
    char round[16];
    snprintf(round, sizeof(round), "%u", (unsigned)c->round);
    if (is_spawn()) {
        char *args[] = {"helper", "spawn", "1", "spawn", round, NULL};
        pid = fault_spawn(&s, args);
        XT_EQ(chan_answer(s, c->round), 0);
        xipc_close(s);
        fault_expect_ok(pid, hs, "new peer");
        F.reconnects++;
        return;
    }
    if (c->victim_listens) {
        /* the victim's name, without clean-up: whatever it left is reclaimed */
        xipc_opts o;
        fault_opts(&o);
        xipc_err rv = xipc_listen(&l, c->url, &o);
        if (rv == XIPC_EADDRINUSE && fault_unstick(c->url))
            rv = xipc_listen(&l, c->url, &o);
        if (rv != XIPC_OK)
            XT_FAIL("listen %s again after the kill: %s (%s)", c->url, xipc_err_name(rv),
                    xipc_strerror(rv));
    }
    char *args[] = {"helper", "chan", "1", (char *)F.scheme, round, (char *)c->url, NULL};
    pid = fault_start(args, 0);
    for (int skipped = 0;; skipped++) {
        XT_OK(xipc_accept(l != NULL ? l : listener_a, &s, FAULT_TIMEOUT));
        int dead = chan_answer(s, c->round);
        xipc_close(s);
        if (!dead)
            break;
        if (skipped >= 2)
            XT_FAIL("reconnect: the new peer's connection was closed");
    }
    fault_expect_ok(pid, hs, "new peer");
    xipc_close(l);
    F.reconnects++;
}

static void chan_round(uint32_t round, fault_rng *r, uint8_t *buf)
{
    static const uint32_t ph_send[] = {PH_CONNECT, PH_SEND, PH_LARGE, PH_RESERVE, PH_COMMIT, PH_IDLE};
    static const uint32_t ph_recv[] = {PH_CONNECT, PH_RECV, PH_PEEK, PH_IDLE};
    static const uint32_t ph_pp[] = {PH_CONNECT, PH_SEND, PH_LARGE, PH_RESERVE,
                                     PH_COMMIT, PH_RECV, PH_PEEK};
    chan_cfg c;
    memset(&c, 0, sizeof(c));
    c.victim_listens = !is_spawn() && fault_rand(r) % 2 == 0;
    c.mode = (int)(fault_rand(r) % 3);
    c.round = round;
    c.seed = fault_rand(r);
    if (c.victim_listens && strcmp(F.scheme, "tcp") == 0) {
        F.port[1] = fault_free_port();
        fault_url(url_b, sizeof(url_b), F.scheme, "b", 1);
    }
    snprintf(c.url, sizeof(c.url), "%s", c.victim_listens ? url_b : url_a);
    fault_slot *sl = fault_slot_reset(0);
    xipc_sock *s = NULL;
    fault_pid pid;
    char mode[8], rd[16], seed[32];
    snprintf(mode, sizeof(mode), "%d", c.mode);
    snprintf(rd, sizeof(rd), "%u", (unsigned)round);
    snprintf(seed, sizeof(seed), "%llu", (unsigned long long)c.seed);
    if (is_spawn()) {
        char *args[] = {"victim", "spawn", "0", "spawn", mode, rd, seed, NULL};
        pid = fault_spawn(&s, args);
    } else {
        char *args[] = {"victim", "chan", "0", (char *)F.scheme, c.victim_listens ? "1" : "0",
                        mode, rd, seed, c.url, NULL};
        pid = fault_start(args, 0);
    }
    const uint32_t *ph = c.mode == M_SEND ? ph_send : c.mode == M_RECV ? ph_recv : ph_pp;
    int nph = c.mode == M_SEND ? 6 : c.mode == M_RECV ? 4 : 7;
    fault_kill k = fault_plan(r, pid, 0, ph, nph);
    fault_killer_arm(&k, 1);
    if (s == NULL)
        s = chan_connect(&c, pid);
    uint64_t count = 0, t_err = 0;
    xipc_err rv = XIPC_OK;
    if (s != NULL)
        rv = chan_survive(s, &c, r, buf, &count, &t_err);
    fault_killer_wait();
    fault_expect_killed(pid, sl, "victim");
    if (s != NULL) {
        char what[96];
        snprintf(what, sizeof(what), "%s:// %s, victim %s, %s", F.scheme,
                 c.mode == M_SEND ? "recv" : "send/recv",
                 c.victim_listens ? "listening" : "dialling", mode_names[c.mode]);
        if (rv == XIPC_ETIMEDOUT)
            chan_diagnose(s, sl);
        fault_detected(rv, t_err, 0, pid, what);
        /* what the victim was told was sent has arrived, nothing more */
        if (c.mode == M_SEND && (count < atomic_load(&sl->sent_ok[0]) ||
                                 count > atomic_load(&sl->sent_try[0])))
            XT_FAIL("%s: received %llu messages, the victim sent %llu (%llu begun)", what,
                    (unsigned long long)count, (unsigned long long)sl->sent_ok[0],
                    (unsigned long long)sl->sent_try[0]);
        xipc_close(s);
    }
    F.verified += atomic_load(&sl->verified);
    fault_count_kill(0, s == NULL || !atomic_load(&sl->ready));
    chan_reconnect(&c);
}

void fault_chan_run(void)
{
    const char *kind = F.scheme;
    fault_url(url_a, sizeof(url_a), kind, "a", 0);
    fault_url(url_b, sizeof(url_b), kind, "b", 1);
    if (!is_spawn()) {
        xipc_opts o;
        fault_opts(&o);
        XT_OK(xipc_listen(&listener_a, url_a, &o));
    }
    uint8_t *buf = malloc(chan_max());
    XT_ASSERT(buf != NULL);
    fault_rng r;
    fault_rng_seed(&r, F.seed);
    for (uint32_t round = 1; F.kills < (uint64_t)F.kills_wanted; round++)
        chan_round(round, &r, buf);
    free(buf);
    xipc_close(listener_a);
}

/*
 * The children's modes (SLOT is 0 for a victim, 1 for a helper):
 *   victim chan SLOT SCHEME LISTENS MODE ROUND SEED URL
 *   helper chan SLOT SCHEME ROUND URL
 *   victim spawn SLOT spawn MODE ROUND SEED   (xipc_spawn: the channel
 *   helper spawn SLOT spawn ROUND              comes from the parent)
 */
int fault_chan_role(int argc, char **argv, fault_slot *sl)
{
    int victim = !strcmp(argv[1], "victim");
    chan_cfg c;
    memset(&c, 0, sizeof(c));
    if (!strcmp(argv[2], "chan")) {
        if (victim && argc >= 10) {
            c.victim_listens = atoi(argv[5]);
            c.mode = atoi(argv[6]);
            c.round = (uint32_t)strtoul(argv[7], NULL, 10);
            c.seed = strtoull(argv[8], NULL, 10);
            snprintf(c.url, sizeof(c.url), "%s", argv[9]);
            return chan_victim_main(&c, sl);
        }
        if (!victim && argc >= 7) {
            c.round = (uint32_t)strtoul(argv[5], NULL, 10);
            snprintf(c.url, sizeof(c.url), "%s", argv[6]);
            return chan_helper_main(&c, sl);
        }
        fault_vfail(sl, "usage: victim chan SLOT SCHEME LISTENS MODE ROUND SEED URL | "
                        "helper chan SLOT SCHEME ROUND URL");
    }
    xipc_sock *s;
    xipc_err rv = xipc_sock_from_parent(&s);
    if (rv != XIPC_OK)
        fault_vfail(sl, "xipc_sock_from_parent: %s", xipc_err_name(rv));
    if (!victim && argc >= 6)
        return helper_exchange(s, (uint32_t)strtoul(argv[5], NULL, 10), sl);
    if (argc < 8)
        fault_vfail(sl, "usage: victim spawn SLOT spawn MODE ROUND SEED");
    c.mode = atoi(argv[5]);
    c.round = (uint32_t)strtoul(argv[6], NULL, 10);
    c.seed = strtoull(argv[7], NULL, 10);
    atomic_store(&sl->phase, PH_CONNECT);
    return chan_victim_body(s, &c, sl);
}
