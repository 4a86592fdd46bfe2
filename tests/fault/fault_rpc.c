/*
 * Crash tests of the RPC layer, over shm://, pipe://, unix:// (path and
 * @abstract) and tcp:// in turn. Two kinds of round:
 *
 *   kill the server   an exec'ed victim serves "echo" and "slow"; we call
 *                     it (a synchronous echo and up to four asynchronous
 *                     slow calls in flight) until it is killed mid-call.
 *                     The synchronous call and every call in flight must
 *                     end with XIPC_ECLOSED within 1 s of the kill; every
 *                     answer before it must be the bytes we sent. Then a
 *                     new server serves the same URL (reclaiming what the
 *                     victim left) and answers a call.
 *   kill a client     a long-lived server child serves all URLs; an
 *                     exec'ed victim client calls it until it is killed.
 *                     The server must let go of the dead client (its
 *                     descriptor and thread counts back where they were)
 *                     within 1 s, and keep answering: our own long-lived
 *                     client and a new client call it after every kill.
 *
 * Every request carries a checksummed message the server checks; every
 * answer is checked by the caller.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#ifndef _WIN32
#include <unistd.h>
#endif

#include "core/platform.h"
#include "fault.h"
#include "xipc/rpc.h"

#define RPC_MAX 150000
#define RPC_INFLIGHT 4

#ifdef _WIN32
/* no unix:// under wine (docs/windows.md), no abstract names on Windows;
 * no tcp:// under wine either: a victim killed inside a send leaves its
 * socket open in wineserver (docs/fault.md, "Under wine") */
#define RPC_KINDS 2
static const char *const rpc_kinds[RPC_KINDS] = {"shm", "pipe"};
#else
#define RPC_KINDS 5
static const char *const rpc_kinds[RPC_KINDS] = {"shm", "pipe", "unix", "unix-abstract", "tcp"};
#endif

/* ---- both sides -------------------------------------------------------------- */

/* echo(round, msg) -> msg; slow(ms, round, msg) -> msg after ms. */
static xipc_err rpc_echo(xipc_rpc_req *req, void *ud)
{
    fault_slot *sl = ud;
    unsigned ms = 0, round;
    void *p;
    size_t n;
    char why[200];
    uint64_t seq;
    xipc_err rv;
    if (sl != NULL)
        atomic_store(&sl->phase, PH_SERVE);
    if (!strcmp(xipc_rpc_req_method(req), "slow"))
        rv = xipc_rpc_req_argsf(req, "uub", &ms, &round, &p, &n);
    else
        rv = xipc_rpc_req_argsf(req, "ub", &round, &p, &n);
    if (rv != XIPC_OK)
        return rv;
    if (ms != 0)
        fault_sleep_us(ms * 1000u);
    if (fault_msg_check(p, n, round, 4, &seq, why, sizeof(why)) != 0)
        return xipc_rpc_req_error(req, 99, why);
    if (sl != NULL)
        atomic_fetch_add(&sl->verified, 1);
    rv = xipc_rpc_req_returnf(req, "b", p, n);
    if (sl != NULL)
        atomic_store(&sl->phase, PH_IDLE);
    return rv;
}

/* Dial @p url, retrying while refused; with @p watch, until @p peer is gone. */
static xipc_rpc_client *rpc_dial(const char *url, fault_pid peer, int watch, xipc_err *err)
{
    xipc_rpc_client_opts o;
    xipc_rpc_client_opts_init(&o);
    fault_opts(&o.sock);
    xipc_rpc_client *c = NULL;
    uint64_t give_up = fault_now() + 5000000000ull;
    for (;;) {
        *err = xipc_rpc_client_dial(&c, url, &o, FAULT_TIMEOUT);
        /* ECLOSED: tcp:// whose listener died during the handshake (see
         * fault_chan.c) */
        int again = *err == XIPC_ECONNREFUSED || *err == XIPC_ECLOSED ||
                    fault_dial_race(url, *err);
        if (!again || fault_now() > give_up || (watch && fault_gone(peer, NULL))) {
            if (again && *err != XIPC_OK && watch && fault_gone(peer, NULL))
                *err = XIPC_ECONNREFUSED; /* the server died while we dialled */
            return *err == XIPC_OK ? c : NULL;
        }
        fault_sleep_us(200);
    }
}

/* An outgoing call: its message, kept to compare the answer with. */
typedef struct rpc_out {
    xipc_rpc_future *f;
    uint8_t *msg;
    size_t len;
} rpc_out;

static xipc_err rpc_params(void **p, size_t *len, int slow, unsigned ms, uint32_t round,
                           const uint8_t *msg, size_t n)
{
    return slow ? xipc_rpc_pack(p, len, "uub", ms, (unsigned)round, msg, n)
                : xipc_rpc_pack(p, len, "ub", (unsigned)round, msg, n);
}

/* The answer in @p res must be @p msg: 0, or -1 with the reason. */
static int rpc_check(xipc_rpc_result *res, const uint8_t *msg, size_t n, char *why, size_t cap)
{
    void *p = NULL;
    size_t got = 0;
    xipc_err rv = xipc_rpc_result_scanf(res, "b", &p, &got);
    int bad = rv != XIPC_OK || got != n || memcmp(p, msg, n) != 0;
    if (bad)
        snprintf(why, cap, "answer: %s, %zu bytes for %zu sent%s", xipc_err_name(rv), got, n,
                 rv == XIPC_OK && got == n ? ", different bytes" : "");
    xipc_rpc_free(p);
    return bad ? -1 : 0;
}

/* One synchronous echo of a fresh message. XIPC_EPROTO: a wrong answer. */
static xipc_err rpc_echo_call(xipc_rpc_client *c, fault_rng *r, uint8_t *msg,
                              uint32_t round, uint64_t seq, char *why, size_t cap)
{
    size_t n = fault_size(r, RPC_MAX);
    fault_msg_make(msg, n, round, 4, seq);
    void *params;
    size_t plen;
    xipc_err rv = rpc_params(&params, &plen, 0, 0, round, msg, n);
    if (rv != XIPC_OK)
        return rv;
    xipc_rpc_result res;
    xipc_rpc_result_init(&res);
    rv = xipc_rpc_call(c, "echo", params, plen, &res, FAULT_TIMEOUT);
    xipc_rpc_free(params);
    if (rv == XIPC_EREMOTE)
        snprintf(why, cap, "the server says: %s", res.message);
    if (rv == XIPC_OK && rpc_check(&res, msg, n, why, cap) != 0)
        rv = XIPC_EPROTO;
    xipc_rpc_result_fini(&res);
    return rv == XIPC_EREMOTE ? XIPC_EPROTO : rv;
}

/* Start a slow call into @p o. */
static xipc_err rpc_slow_start(xipc_rpc_client *c, fault_rng *r, rpc_out *o, uint32_t round,
                               uint64_t seq)
{
    o->len = fault_size(r, 16384);
    o->msg = malloc(o->len);
    if (o->msg == NULL)
        return XIPC_ENOMEM;
    fault_msg_make(o->msg, o->len, round, 4, seq);
    void *params;
    size_t plen;
    xipc_err rv = rpc_params(&params, &plen, 1, (unsigned)fault_range(r, 0, 5), round,
                             o->msg, o->len);
    if (rv == XIPC_OK) {
        rv = xipc_rpc_call_async(c, "slow", params, plen, NULL, NULL, &o->f);
        xipc_rpc_free(params);
    }
    if (rv != XIPC_OK) {
        free(o->msg);
        o->msg = NULL;
        o->f = NULL;
    }
    return rv;
}

/* Finish call @p o, waiting at most @p ms. XIPC_ETIMEDOUT: still in flight
 * (kept); otherwise its outcome (XIPC_EPROTO: a wrong answer), freed. */
static xipc_err rpc_slow_finish(rpc_out *o, int ms, char *why, size_t cap)
{
    xipc_err rv = xipc_rpc_future_wait(o->f, ms);
    if (rv != XIPC_OK)
        return rv;
    xipc_rpc_result res;
    xipc_rpc_result_init(&res);
    rv = xipc_rpc_future_result(o->f, &res);
    if (rv == XIPC_EREMOTE) {
        snprintf(why, cap, "the server says: %s", res.message);
        rv = XIPC_EPROTO;
    }
    if (rv == XIPC_OK && rpc_check(&res, o->msg, o->len, why, cap) != 0)
        rv = XIPC_EPROTO;
    xipc_rpc_result_fini(&res);
    xipc_rpc_future_free(o->f);
    free(o->msg);
    o->f = NULL;
    o->msg = NULL;
    return rv;
}

/*
 * Call until a call fails: synchronous echoes with slow calls in flight.
 * @p sl: the victim's slot (phases, counts), NULL in the test process.
 * Returns the failing call's error; the calls still in flight stay in @p o.
 */
static xipc_err rpc_call_loop(xipc_rpc_client *c, fault_rng *r, uint8_t *msg, uint32_t round,
                              rpc_out *o, fault_slot *sl, uint64_t *ok, char *why, size_t cap)
{
    for (uint64_t seq = 0;; seq++) {
        xipc_err rv;
        int i = (int)(fault_rand(r) % RPC_INFLIGHT);
        if (o[i].f != NULL && (rv = rpc_slow_finish(&o[i], 0, why, cap)) != XIPC_ETIMEDOUT) {
            if (rv != XIPC_OK)
                return rv;
            ++*ok;
        }
        if (o[i].f == NULL && fault_rand(r) % 2 == 0 &&
            (rv = rpc_slow_start(c, r, &o[i], round, seq | (1ull << 40))) != XIPC_OK)
            return rv;
        if (sl != NULL)
            atomic_store(&sl->phase, PH_CALL);
        if ((rv = rpc_echo_call(c, r, msg, round, seq, why, cap)) != XIPC_OK)
            return rv;
        ++*ok;
        if (sl != NULL) {
            atomic_fetch_add(&sl->verified, 1);
            if (fault_rand(r) % 16 == 0) {
                atomic_store(&sl->phase, PH_IDLE);
                fault_sleep_us((uint32_t)fault_range(r, 1, 300));
            }
        }
    }
}

/* ---- exec'ed roles ------------------------------------------------------------ */

/* Is the test process, @p parent, still there? Opens nothing per look:
 * the test watches this server's descriptor count. */
static int rpc_parent_alive(uint32_t parent)
{
#ifdef _WIN32
    static HANDLE h;
    if (h == NULL)
        h = OpenProcess(SYNCHRONIZE, FALSE, parent);
    return h == NULL || WaitForSingleObject(h, 0) == WAIT_TIMEOUT;
#else
    return (uint32_t)getppid() == parent;
#endif
}

/*
 *   victim rpc-server SLOT rpc URL                 serve until killed
 *   helper rpc-server SLOT rpc PARENT URL...       serve until the slot's
 *                                                  stop is set (or PARENT,
 *                                                  the test process, is
 *                                                  gone), then exit 0
 *   victim rpc-client SLOT rpc URL ROUND SEED      call until killed
 */
int fault_rpc_role(int argc, char **argv, fault_slot *sl)
{
    int victim = !strcmp(argv[1], "victim");
    if (!strcmp(argv[2], "rpc-client") && argc >= 8) {
        uint32_t round = (uint32_t)strtoul(argv[6], NULL, 10);
        fault_rng r;
        fault_rng_seed(&r, strtoull(argv[7], NULL, 10));
        atomic_store(&sl->phase, PH_CONNECT);
        xipc_err rv;
        xipc_rpc_client *c = rpc_dial(argv[5], 0, 0, &rv);
        if (c == NULL)
            fault_vfail(sl, "client dial %s: %s", argv[5], xipc_err_name(rv));
        atomic_store(&sl->ready, 1);
        uint8_t *msg = malloc(RPC_MAX);
        rpc_out o[RPC_INFLIGHT];
        memset(o, 0, sizeof(o));
        uint64_t ok = 0;
        char why[200] = "";
        rv = rpc_call_loop(c, &r, msg, round, o, sl, &ok, why, sizeof(why));
        fault_vfail(sl, "client call after %llu: %s %s", (unsigned long long)ok,
                    xipc_err_name(rv), why);
    }
    int first = victim ? 5 : 6; /* the first URL */
    if (strcmp(argv[2], "rpc-server") != 0 || argc <= first)
        fault_vfail(sl, "bad role %s", argv[2]);
    uint32_t parent = victim ? 0 : (uint32_t)strtoul(argv[5], NULL, 10);
    xipc_rpc_server_opts o;
    xipc_rpc_server *srv;
    xipc_rpc_server_opts_init(&o);
    o.workers = 2;
    fault_opts(&o.sock);
    atomic_store(&sl->phase, PH_CONNECT);
    xipc_err rv = xipc_rpc_server_alloc(&srv, &o);
    if (rv == XIPC_OK)
        rv = xipc_rpc_server_register(srv, "echo", "(round, msg) -> msg", rpc_echo, sl);
    if (rv == XIPC_OK)
        rv = xipc_rpc_server_register(srv, "slow", "(ms, round, msg) -> msg", rpc_echo, sl);
    if (rv != XIPC_OK)
        fault_vfail(sl, "server setup: %s", xipc_err_name(rv));
    for (int i = first; i < argc; i++)
        if ((rv = xipc_rpc_server_serve(srv, argv[i])) != XIPC_OK)
            fault_vfail(sl, "serve %s: %s (%s)", argv[i], xipc_err_name(rv), xipc_strerror(rv));
    atomic_store(&sl->ready, 1);
    atomic_store(&sl->phase, PH_IDLE);
    while (victim || (!atomic_load(&sl->stop) && rpc_parent_alive(parent)))
        fault_sleep_us(victim ? 1000000 : 2000);
    xipc_rpc_server_free(srv);
    return 0;
}

/* ---- the test process ---------------------------------------------------------- */

/* A server helper: exec'ed, serving @p urls (n of them) in slot @p slot
 * until rpc_server_stop. */
static fault_pid rpc_server_start(char **urls, int n, int slot)
{
    char slot_s[8], parent[16];
    snprintf(slot_s, sizeof(slot_s), "%d", slot);
    snprintf(parent, sizeof(parent), "%u", F.pid);
    char *args[16] = {"helper", "rpc-server", slot_s, "rpc", parent};
    XT_ASSERT(n < 10);
    for (int i = 0; i < n; i++)
        args[5 + i] = urls[i];
    return fault_start(args, 1);
}

static void rpc_server_stop(fault_pid pid, int slot)
{
    atomic_store(&F.slots[slot].stop, 1);
    fault_expect_ok(pid, &F.slots[slot], "rpc server");
}

/* One call on @p url through a new client: the server answers. */
static void rpc_new_client(const char *url, fault_pid server, fault_rng *r, uint8_t *msg, uint32_t round)
{
    xipc_err rv;
    char why[200] = "";
    xipc_rpc_client *c = rpc_dial(url, server, 1, &rv);
    if (c == NULL)
        XT_FAIL("a new client dialling %s: %s", url, xipc_err_name(rv));
    rv = rpc_echo_call(c, r, msg, round, 0, why, sizeof(why));
    if (rv != XIPC_OK)
        XT_FAIL("a new client's call on %s: %s %s", url, xipc_err_name(rv), why);
    F.verified++;
    xipc_rpc_client_close(c);
    F.reconnects++;
}

static void rpc_round_kill_server(uint32_t round, fault_rng *r, uint8_t *msg)
{
    static const uint32_t ph[] = {PH_CONNECT, PH_SERVE, PH_IDLE};
    char url[200];
    const char *kind = rpc_kinds[fault_rand(r) % RPC_KINDS];
    if (strcmp(kind, "tcp") == 0)
        F.port[2] = fault_free_port();
    fault_url(url, sizeof(url), kind, "rs", 2);
    fault_slot *sl = fault_slot_reset(0);
    char *args[] = {"victim", "rpc-server", "0", "rpc", url, NULL};
    fault_pid pid = fault_start(args, 1);
    fault_kill k = fault_plan(r, pid, 0, ph, 3);
    fault_killer_arm(&k, 1);
    xipc_err rv;
    xipc_rpc_client *c = rpc_dial(url, pid, 1, &rv);
    if (c == NULL && rv != XIPC_ECONNREFUSED)
        XT_FAIL("dial %s: %s", url, xipc_err_name(rv));
    char why[200] = "", what[96];
    snprintf(what, sizeof(what), "rpc over %s://, the server killed", kind);
    rpc_out o[RPC_INFLIGHT];
    memset(o, 0, sizeof(o));
    uint64_t ok = 0, t_err = 0;
    if (c != NULL) {
        rv = rpc_call_loop(c, r, msg, round, o, NULL, &ok, why, sizeof(why));
        t_err = fault_now();
        if (rv == XIPC_EPROTO)
            XT_FAIL("%s: %s", what, why);
        F.verified += ok;
    }
    fault_killer_wait();
    fault_expect_killed(pid, sl, "victim server");
    if (c != NULL) {
        fault_detected(rv, t_err, 0, pid, what);
        /* the calls in flight end too, with ECLOSED or their answer */
        for (int i = 0; i < RPC_INFLIGHT; i++) {
            if (o[i].f == NULL)
                continue;
            rv = rpc_slow_finish(&o[i], FAULT_TIMEOUT, why, sizeof(why));
            uint64_t t = fault_now();
            if (rv == XIPC_OK) {
                F.verified++;
                continue;
            }
            if (rv == XIPC_EPROTO || rv == XIPC_ETIMEDOUT)
                XT_FAIL("%s: a call in flight: %s %s", what, xipc_err_name(rv), why);
            fault_detected(rv, t, 0, pid, what);
        }
        xipc_rpc_client_close(c);
    }
    F.verified += atomic_load(&sl->verified);
    fault_count_kill(0, c == NULL || !atomic_load(&sl->ready));
    /* a new server on the same URL, then a new client */
    fault_unstick(url); /* only the all-zero object of a known bug (fault.h) */
    char *urls[] = {url};
    fault_slot_reset(1);
    fault_pid h = rpc_server_start(urls, 1, 1);
    rpc_new_client(url, h, r, msg, round);
    rpc_server_stop(h, 1);
}

/* The long-lived server of the kill-a-client rounds. */
static struct {
    fault_pid pid;
    int up;
    char url[RPC_KINDS][200];
    xipc_rpc_client *own; /* our client, for the whole run */
    int fds, threads;     /* the server's counts with only our client */
} S;

/* Wait until the server holds nothing but our client's connection again.
 * Returns when, or 0 when @p bound_ns passed first. */
static uint64_t rpc_server_settle(uint64_t from, uint64_t bound_ns)
{
    for (;;) {
        uint64_t t = fault_now();
        if (fault_fd_count(S.pid) == S.fds && fault_thread_count(S.pid) == S.threads)
            return t;
        if (t - from > bound_ns)
            return 0;
        fault_sleep_us(500);
    }
}

static void rpc_server_up(fault_rng *r, uint8_t *msg)
{
    char *urls[RPC_KINDS];
    for (int i = 0; i < RPC_KINDS; i++) {
        fault_url(S.url[i], sizeof(S.url[i]), rpc_kinds[i], "rc", 3);
        urls[i] = S.url[i];
    }
    fault_slot_reset(2);
    S.pid = rpc_server_start(urls, RPC_KINDS, 2);
    S.up = 1;
    xipc_err rv;
    S.own = rpc_dial(S.url[0], S.pid, 1, &rv);
    if (S.own == NULL)
        XT_FAIL("dial the rpc server at %s: %s", S.url[0], xipc_err_name(rv));
    char why[200] = "";
    XT_OK(rpc_echo_call(S.own, r, msg, 0, 0, why, sizeof(why)));
    /* the counts once they stop changing */
    int same = 0;
    while (same < 20) {
        int f = fault_fd_count(S.pid), t = fault_thread_count(S.pid);
        same = f == S.fds && t == S.threads ? same + 1 : 0;
        S.fds = f;
        S.threads = t;
        fault_sleep_us(5000);
    }
}

static void rpc_round_kill_client(uint32_t round, fault_rng *r, uint8_t *msg)
{
    static const uint32_t ph[] = {PH_CONNECT, PH_CALL, PH_IDLE};
    if (!S.up)
        rpc_server_up(r, msg);
    int ki = (int)(fault_rand(r) % RPC_KINDS);
    const char *url = S.url[ki];
    char rd[16], seed[32];
    snprintf(rd, sizeof(rd), "%u", (unsigned)round);
    snprintf(seed, sizeof(seed), "%llu", (unsigned long long)fault_rand(r));
    fault_slot *sl = fault_slot_reset(0);
    char *args[] = {"victim", "rpc-client", "0", "rpc", (char *)url, rd, seed, NULL};
    fault_pid pid = fault_start(args, 1);
    fault_kill k = fault_plan(r, pid, 0, ph, 3);
    fault_killer_arm(&k, 1);
    fault_killer_wait();
    fault_expect_killed(pid, sl, "victim client");
    /* the server lets go of the dead client within the bound */
    uint64_t t_kill = atomic_load(&sl->t_kill);
    uint64_t t = rpc_server_settle(t_kill, FAULT_BOUND_NS);
    if (t == 0)
        XT_FAIL("rpc over %s://, a client killed: the server still holds %d descriptors "
                "and %d threads (%d and %d before) 1 s after the kill",
                rpc_kinds[ki], fault_fd_count(S.pid), fault_thread_count(S.pid), S.fds,
                S.threads);
    if (atomic_load(&sl->ready))
        fault_detect_add(t > t_kill ? t - t_kill : 0, "rpc server, a client killed");
    F.verified += atomic_load(&sl->verified);
    fault_count_kill(0, !atomic_load(&sl->ready));
    /* it still answers: our long-lived client, and a new one */
    char why[200] = "";
    xipc_err rv = rpc_echo_call(S.own, r, msg, round, 1, why, sizeof(why));
    if (rv != XIPC_OK)
        XT_FAIL("rpc over %s://, a client killed: the server no longer answers: %s %s",
                rpc_kinds[ki], xipc_err_name(rv), why);
    F.verified++;
    rpc_new_client(url, S.pid, r, msg, round);
    if (rpc_server_settle(fault_now(), 5 * FAULT_BOUND_NS) == 0)
        XT_FAIL("rpc over %s://: the server holds on to a closed client", rpc_kinds[ki]);
}

void fault_rpc_run(void)
{
    uint8_t *msg = malloc(RPC_MAX);
    XT_ASSERT(msg != NULL);
    fault_rng r;
    fault_rng_seed(&r, F.seed);
    for (uint32_t round = 1; F.kills < (uint64_t)F.kills_wanted; round++) {
        if (fault_rand(&r) % 2 == 0)
            rpc_round_kill_server(round, &r, msg);
        else
            rpc_round_kill_client(round, &r, msg);
    }
    if (S.up) {
        xipc_rpc_client_close(S.own);
        rpc_server_stop(S.pid, 2);
    }
    free(msg);
}
