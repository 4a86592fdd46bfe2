/*
 * The client's direct path and the server's XIPC_RPC_INLINE methods.
 *
 * Direct path: a synchronous xipc_rpc_call that finds nobody receiving
 * takes the receive token (c->token == CLI_TOK_CALLER) and receives its
 * own response on its own thread; other responses and notifications that
 * arrive meanwhile are handled by it (async callbacks run on it). The
 * reader thread receives only while calls are pending or on_notify is set.
 *
 * Inline methods: on message-mode connections (shm://, pipe://) the
 * handler runs on the connection's reader thread, so the connection reads
 * nothing else meanwhile; on unix:// and tcp:// (stream mode) it runs on a
 * worker as any other method.
 *
 * Each test names what it proves. The client's internals (the token, the
 * parked reader) are read under c->mu through rpc/rpc_client.h, as
 * rpc_wire_test.c does, so that a test can check which path a call took.
 *
 * "rpc_direct_test serve KIND" is the child of the peer-killed test: it
 * serves wait_gate at a fresh URL of KIND, prints "url URL", writes 'g'
 * each time a call enters the gate, and waits to be killed.
 */
#define _GNU_SOURCE /* fdopen, kill, environ */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rpc/rpc_client.h"
#include "rpc/rpc_server.h" /* xipc__rpc_server_rescues */
#include "rpc_util.h"
#include "run32.h"

/* ---- helpers ---------------------------------------------------------------- */

static uint64_t dt_tid(void)
{
    return (uint64_t)pthread_self();
}

static uint64_t dt_ms_since(uint64_t t0)
{
    return (xipc_plat_now_ns() - t0) / 1000000u;
}

/* Who holds the client's receive token (CLI_TOK_*). */
static int dt_token(xipc_rpc_client *c)
{
    xipc_plat_mutex_lock(&c->mu);
    int tok = c->token;
    xipc_plat_mutex_unlock(&c->mu);
    return tok;
}

static int dt_reader_parked(xipc_rpc_client *c)
{
    xipc_plat_mutex_lock(&c->mu);
    int parked = c->reader_parked;
    xipc_plat_mutex_unlock(&c->mu);
    return parked;
}

/* Dial @p url as rt_dial does, with on_notify @p fn (or NULL) and shm://
 * rings of @p ring bytes (0: the default). */
static xipc_rpc_client *dt_dial(const char *url, xipc_rpc_notify_fn fn, uint32_t ring)
{
    xipc_rpc_client_opts o;
    xipc_rpc_client *c;
    XT_OK(xipc_rpc_client_opts_init(&o));
    o.timeout_ms = 60000;
    o.on_notify = fn;
    if (ring != 0)
        o.sock.ring_capacity = ring;
    XT_OK(xipc_rpc_client_dial(&c, url, &o, 10000));
    return c;
}

/* Wait up to @p ms for *@p v >= @p want; 1 when it got there. */
static int dt_wait_atleast(atomic_int *v, int want, int ms)
{
    uint64_t t0 = xipc_plat_now_ns();
    while (atomic_load(v) < want) {
        if (dt_ms_since(t0) > (uint64_t)ms)
            return 0;
        xipc_plat_sleep_us(1000);
    }
    return 1;
}

/* The str result of a completed future, compared with @p want. */
static void dt_expect_str(xipc_rpc_future *f, const char *want)
{
    xipc_rpc_result res;
    char *s = NULL;
    xipc_rpc_result_init(&res);
    XT_OK(xipc_rpc_future_result(f, &res));
    XT_OK(xipc_rpc_result_scanf(&res, "s", &s));
    if (strcmp(s, want) != 0)
        XT_FAIL("result \"%s\", want \"%s\"", s, want);
    xipc_rpc_free(s);
    xipc_rpc_result_fini(&res);
}

/* The int result of a completed future. */
static int64_t dt_future_int(xipc_rpc_future *f)
{
    xipc_rpc_result res;
    int64_t v = 0;
    xipc_rpc_result_init(&res);
    XT_OK(xipc_rpc_future_result(f, &res));
    XT_OK(xipc_rpc_result_scanf(&res, "I", &v));
    xipc_rpc_result_fini(&res);
    return v;
}

/* A thread running one synchronous call of wait_gate on @p c. */
typedef struct gate_call {
    xipc_rpc_client *c;
    int timeout_ms;
    xipc_plat_thread th;
    _Atomic uint64_t tid;  /* the calling thread */
    atomic_int done;
    xipc_err rv;           /* read after the join */
    char result[16];
    uint64_t done_ns;
} gate_call;

static void gate_call_main(void *arg)
{
    gate_call *g = arg;
    xipc_rpc_result res;
    char *s = NULL;
    atomic_store(&g->tid, dt_tid());
    xipc_rpc_result_init(&res);
    g->rv = xipc_rpc_call(g->c, "wait_gate", NULL, 0, &res, g->timeout_ms);
    g->done_ns = xipc_plat_now_ns();
    if (g->rv == XIPC_OK && xipc_rpc_result_scanf(&res, "s", &s) == XIPC_OK)
        snprintf(g->result, sizeof(g->result), "%s", s);
    xipc_rpc_free(s);
    xipc_rpc_result_fini(&res);
    atomic_store(&g->done, 1);
}

static void gate_call_start(gate_call *g, xipc_rpc_client *c, int timeout_ms)
{
    memset(g, 0, sizeof(*g));
    g->c = c;
    g->timeout_ms = timeout_ms;
    XT_OK(xipc_plat_thread_create(&g->th, gate_call_main, g));
}

/* A thread making @p n synchronous calls method(id * 10^6 + i, id) and
 * counting the wrong results. */
typedef struct adder {
    xipc_rpc_client *c;
    const char *method;
    int id, n;
    _Atomic uint64_t tid; /* the thread, once it runs */
    xipc_plat_thread th;
    int bad; /* read after the join */
} adder;

static void adder_main(void *p)
{
    adder *a = p;
    atomic_store(&a->tid, dt_tid());
    for (int i = 0; i < a->n; i++) {
        int64_t sum = 0;
        int64_t x = (int64_t)a->id * 1000000 + i;
        if (xipc_rpc_callf(a->c, a->method, "II", x, (int64_t)a->id, "I", &sum) != XIPC_OK ||
            sum != x + a->id)
            a->bad++;
    }
}

static void adder_start(adder *a, xipc_rpc_client *c, const char *method, int id, int n)
{
    memset(a, 0, sizeof(*a));
    a->c = c;
    a->method = method;
    a->id = id;
    a->n = n;
    XT_OK(xipc_plat_thread_create(&a->th, adder_main, a));
}

/* ---- the test server: rt_server's methods plus inline ones ------------------ */

/* Thread ids recorded by who/iwho (slot = the first argument). */
#define WHO_SLOTS 16
static _Atomic uint64_t who_tid[WHO_SLOTS];

static xipc_err t_who(xipc_rpc_req *req, void *ud)
{
    int slot;
    xipc_err rv = xipc_rpc_req_argsf(req, "i", &slot);
    if (rv != XIPC_OK)
        return rv;
    if (slot < 0 || slot >= WHO_SLOTS)
        return XIPC_EINVAL;
    atomic_store(&who_tid[slot], dt_tid());
    return XIPC_OK;
}

static xipc_err t_fail_einval(xipc_rpc_req *req, void *ud)
{
    return XIPC_EINVAL;
}

/* nap(us, tag): sleep @p us microseconds, then return tag. */
static xipc_err t_nap(xipc_rpc_req *req, void *ud)
{
    int us, tag;
    xipc_err rv = xipc_rpc_req_argsf(req, "ii", &us, &tag);
    if (rv != XIPC_OK)
        return rv;
    xipc_plat_sleep_us((uint32_t)us);
    return xipc_rpc_req_returnf(req, "i", tag);
}

/* conc(): 20 ms in the handler, counting how many run at once. */
static atomic_int dt_conc_now, dt_conc_max;

static xipc_err t_conc(xipc_rpc_req *req, void *ud)
{
    int now = atomic_fetch_add(&dt_conc_now, 1) + 1;
    int max = atomic_load(&dt_conc_max);
    while (now > max && !atomic_compare_exchange_weak(&dt_conc_max, &max, now))
        ;
    xipc_plat_sleep_us(20000);
    atomic_fetch_sub(&dt_conc_now, 1);
    return XIPC_OK;
}

/* hold(): return once dt_hold is 0 (bounded: 30 s). */
static atomic_int dt_hold;

static xipc_err t_hold(xipc_rpc_req *req, void *ud)
{
    for (int i = 0; i < 30000 && atomic_load(&dt_hold); i++)
        xipc_plat_sleep_us(1000);
    return XIPC_OK;
}

/*
 * rt_server (add, echo, wait_gate, note: on workers) plus the same
 * handlers registered XIPC_RPC_INLINE: iadd, iecho, igate, inote, ifail
 * (returns XIPC_EINVAL); who / iwho (record the handler's thread); and on
 * workers nap and hold (above). @p given: options, or NULL.
 */
static xipc_rpc_server *dt_server(uint32_t workers, const xipc_rpc_server_opts *given)
{
    xipc_rpc_server *srv = rt_server(workers, given);
    const unsigned inl = XIPC_RPC_INLINE;
    XT_OK(xipc_rpc_server_register_ex(srv, "iadd", "(int, int) -> int", rt_add, NULL, inl));
    XT_OK(xipc_rpc_server_register_ex(srv, "iecho", "(any...) -> [any...]", rt_echo, NULL,
                                      inl));
    XT_OK(xipc_rpc_server_register_ex(srv, "igate", "() -> str", rt_wait_gate, NULL, inl));
    XT_OK(xipc_rpc_server_register_ex(srv, "inote", "(notification)", rt_note, NULL, inl));
    XT_OK(xipc_rpc_server_register_ex(srv, "ifail", "() -> error", t_fail_einval, NULL, inl));
    XT_OK(xipc_rpc_server_register_ex(srv, "who", "(int slot)", t_who, NULL, 0));
    XT_OK(xipc_rpc_server_register_ex(srv, "iwho", "(int slot)", t_who, NULL, inl));
    XT_OK(xipc_rpc_server_register_ex(srv, "nap", "(int us, int tag) -> int", t_nap, NULL, 0));
    XT_OK(xipc_rpc_server_register_ex(srv, "hold", "()", t_hold, NULL, 0));
    XT_OK(xipc_rpc_server_register_ex(srv, "conc", "()", t_conc, NULL, 0));
    return srv;
}

/* ---- a. register_ex: flags ------------------------------------------------------ */

/* Flags 0 and XIPC_RPC_INLINE are accepted, any other bit is EINVAL; the
 * usual rules (duplicate name, reserved name, after stop) hold for both. */
static void t_register_ex(void)
{
    xipc_rpc_server *srv;
    XT_OK(xipc_rpc_server_alloc(&srv, NULL));
    XT_OK(xipc_rpc_server_register_ex(srv, "plain", "", rt_add, NULL, 0));
    XT_OK(xipc_rpc_server_register_ex(srv, "inl", "", rt_add, NULL, XIPC_RPC_INLINE));
    XT_ERR(xipc_rpc_server_register_ex(srv, "f2", "", rt_add, NULL, 2), XIPC_EINVAL);
    XT_ERR(xipc_rpc_server_register_ex(srv, "fall", "", rt_add, NULL, ~0u), XIPC_EINVAL);
    XT_ERR(xipc_rpc_server_register_ex(srv, "f3", "", rt_add, NULL, XIPC_RPC_INLINE | 2u),
           XIPC_EINVAL);
    XT_ERR(xipc_rpc_server_register_ex(srv, "inl", "", rt_add, NULL, XIPC_RPC_INLINE),
           XIPC_EADDRINUSE);
    XT_ERR(xipc_rpc_server_register_ex(srv, "inl", "", rt_add, NULL, 0), XIPC_EADDRINUSE);
    XT_ERR(xipc_rpc_server_register_ex(srv, "plain", "", rt_add, NULL, XIPC_RPC_INLINE),
           XIPC_EADDRINUSE);
    XT_ERR(xipc_rpc_server_register_ex(srv, "xipc.x", "", rt_add, NULL, XIPC_RPC_INLINE),
           XIPC_EINVAL);
    XT_ERR(xipc_rpc_server_register_ex(srv, "nofn", "", NULL, NULL, XIPC_RPC_INLINE),
           XIPC_EINVAL);
    /* the refused names were not registered: they are free now */
    XT_OK(xipc_rpc_server_register_ex(srv, "f2", "", rt_add, NULL, XIPC_RPC_INLINE));
    XT_OK(xipc_rpc_server_stop(srv));
    XT_ERR(xipc_rpc_server_register_ex(srv, "late", "", rt_add, NULL, XIPC_RPC_INLINE),
           XIPC_ESTATE);
    xipc_rpc_server_free(srv);
    printf("register_ex ok\n");
}

/* ---- b. inline runs on the connection's reader ------------------------------- */

/*
 * An inline call waiting at the gate holds its connection: a fast call
 * sent after it on the same connection is not even read until the gate
 * opens (message mode). In stream mode the inline flag is ignored, so the
 * fast call is answered by the other worker while the gate is closed. In
 * both modes another connection is not held up.
 */
static void t_inline_holds_connection(const char *kind, int inline_applies)
{
    atomic_store(&rt_gate_open, 0);
    xipc_rpc_server *srv = dt_server(2, NULL);
    char url[512];
    rt_serve(srv, kind, url, sizeof(url));
    xipc_rpc_client *c = rt_dial(url), *c2 = rt_dial(url);
    void *p;
    size_t pl;
    XT_OK(xipc_rpc_pack(&p, &pl, "ii", 40, 2));
    xipc_rpc_future *slow, *fast;
    XT_OK(xipc_rpc_call_async(c, "igate", NULL, 0, NULL, NULL, &slow));
    rt_gate_wait_for(1);
    XT_OK(xipc_rpc_call_async(c, "add", p, pl, NULL, NULL, &fast));
    /* another connection goes on */
    int v = 0;
    XT_OK(xipc_rpc_callf(c2, "iadd", "ii", 1, 2, "i", &v));
    XT_EQ(v, 3);
    if (inline_applies) {
        xipc_plat_sleep_us(200000);
        XT_ERR(xipc_rpc_future_result(fast, NULL), XIPC_ESTATE);
    } else {
        XT_OK(xipc_rpc_future_wait(fast, 30000));
        XT_EQ(atomic_load(&rt_gate_waiting), 1); /* the gate is still closed */
    }
    XT_ERR(xipc_rpc_future_result(slow, NULL), XIPC_ESTATE);
    atomic_store(&rt_gate_open, 1);
    XT_OK(xipc_rpc_future_wait(slow, 30000));
    XT_OK(xipc_rpc_future_wait(fast, 30000));
    dt_expect_str(slow, "opened");
    XT_EQ(dt_future_int(fast), 42);
    xipc_rpc_future_free(slow);
    xipc_rpc_future_free(fast);
    xipc_rpc_free(p);
    xipc_rpc_client_close(c);
    xipc_rpc_client_close(c2);
    xipc_rpc_server_free(srv);
    printf("inline holds its connection: %s ok\n", kind);
}

/*
 * The thread a handler runs on. One worker only: a handler run by a worker
 * would show the same thread for every connection. Over shm:// an inline
 * call runs on its connection's reader: one thread per connection, the
 * same for consecutive calls, and not the worker; so does any other call
 * in a 64-bit process (leader/follower, see t_leader_follower), while in a
 * 32-bit one it runs on the worker. Over unix:// both run on the worker.
 */
static void t_inline_thread(void)
{
    for (int i = 0; i < WHO_SLOTS; i++)
        atomic_store(&who_tid[i], 0);
    xipc_rpc_server *srv = dt_server(1, NULL);
    char shm[512], unx[512];
    rt_serve(srv, "shm", shm, sizeof(shm));
    rt_serve(srv, "unix", unx, sizeof(unx));
    xipc_rpc_client *c1 = rt_dial(shm), *c2 = rt_dial(shm), *c3 = rt_dial(unx);
    for (int i = 0; i < 3; i++) {
        XT_OK(xipc_rpc_callf(c1, "iwho", "i", i, ""));     /* slots 0..2 */
        XT_OK(xipc_rpc_callf(c2, "iwho", "i", 3 + i, "")); /* slots 3..5 */
    }
    XT_OK(xipc_rpc_callf(c1, "who", "i", 6, ""));  /* c1's reader (leader/follower) */
    XT_OK(xipc_rpc_callf(c2, "who", "i", 7, ""));  /* c2's reader */
    XT_OK(xipc_rpc_callf(c3, "iwho", "i", 8, "")); /* stream mode: the worker */
    uint64_t t[9];
    for (int i = 0; i < 9; i++) {
        t[i] = atomic_load(&who_tid[i]);
        XT_ASSERT(t[i] != 0 && t[i] != dt_tid());
    }
    XT_ASSERT(t[0] == t[1] && t[1] == t[2]); /* one reader per connection */
    XT_ASSERT(t[3] == t[4] && t[4] == t[5]);
    XT_ASSERT(t[0] != t[3]);                 /* two connections, two readers */
    XT_ASSERT(t[8] != t[0] && t[8] != t[3]); /* unix://: on the worker */
    if (XIPC_RPC_LEADER) {
        XT_ASSERT(t[6] == t[0] && t[7] == t[3]); /* a worker method: on the reader too */
    } else { /* 32-bit: readers run inline methods only */
        XT_ASSERT(t[6] == t[7] && t[6] == t[8]); /* the one worker */
    }
    xipc_rpc_client_close(c1);
    xipc_rpc_client_close(c2);
    xipc_rpc_client_close(c3);
    xipc_rpc_server_free(srv);
    printf("inline thread ok\n");
}

/* ---- c. inline methods: results, errors, notifications, stop ---------------- */

/*
 * Inline handlers answer as worker ones do: results, XIPC_EINVAL as
 * XIPC_RPC_EINVALID_PARAMS, argsf's errors. Notifications to an inline
 * method run on the reader in order, so all of them have run once a call
 * sent after them is answered. A graceful stop waits for an inline call
 * in flight, and the client gets its response.
 */
static void t_inline_calls(const char *kind)
{
    atomic_store(&rt_gate_open, 0);
    atomic_store(&rt_notes, 0);
    xipc_rpc_server *srv = dt_server(2, NULL);
    char url[512];
    rt_serve(srv, kind, url, sizeof(url));
    xipc_rpc_client *c = rt_dial(url);

    for (int i = 0; i < 100; i++) {
        int64_t v = 0;
        XT_OK(xipc_rpc_callf(c, "iadd", "II", (int64_t)i << 33, (int64_t)-i, "I", &v));
        XT_EQ(v, ((int64_t)i << 33) - i);
    }
    rt_expect_remote(xipc_rpc_callf(c, "ifail", "", ""), XIPC_RPC_EINVALID_PARAMS,
                     "invalid params");
    rt_expect_remote(xipc_rpc_callf(c, "iadd", "i", 1, ""), XIPC_RPC_EINVALID_PARAMS,
                     "invalid params: expected 2 arguments, got 1");
    rt_expect_remote(xipc_rpc_callf(c, "iadd", "is", 1, "x", ""), XIPC_RPC_EINVALID_PARAMS,
                     "invalid params: argument 2: expected int, got str");

    for (int i = 0; i < 100; i++)
        XT_OK(xipc_rpc_notifyf(c, "inote", "i", i));
    int v = 0;
    XT_OK(xipc_rpc_callf(c, "iadd", "ii", 1, 1, "i", &v));
    XT_EQ(v, 2);
    XT_EQ(atomic_load(&rt_notes), 100); /* run in order, before the call */

    /* stop with an inline call in flight */
    xipc_rpc_future *slow;
    XT_OK(xipc_rpc_call_async(c, "igate", NULL, 0, NULL, NULL, &slow));
    rt_gate_wait_for(1);
    rt_stop_arg a = {srv, 0};
    xipc_plat_thread th;
    XT_OK(xipc_plat_thread_create(&th, rt_stop_main, &a));
    xipc_plat_sleep_us(200000);
    XT_EQ(atomic_load(&a.done), 0); /* the inline call holds the stop */
    XT_ERR(xipc_rpc_future_result(slow, NULL), XIPC_ESTATE);
    atomic_store(&rt_gate_open, 1);
    xipc_plat_thread_join(&th);
    XT_EQ(atomic_load(&a.done), 1);
    XT_OK(xipc_rpc_future_wait(slow, 30000));
    dt_expect_str(slow, "opened");
    xipc_rpc_future_free(slow);
    XT_ERR(xipc_rpc_callf(c, "iadd", "ii", 1, 2, "i", &v), XIPC_ECLOSED);
    xipc_rpc_client_close(c);
    xipc_rpc_server_free(srv);
    printf("inline calls: %s ok\n", kind);
}

/* ---- d. the direct path with other calls in flight ----------------------------- */

/*
 * Asynchronous add(i, TALLY_PLUS) calls with callbacks, userdata i: each
 * callback checks its result, counts itself for call i, and notes whether
 * it ran on thread tid_a or tid_b.
 */
#define TALLY_MAX 2000
#define TALLY_PLUS 1000000

static struct {
    _Atomic uint64_t tid_a, tid_b;
    atomic_int count, bad, on_a, on_b;
    atomic_int hits[TALLY_MAX];
} tally;

static void tally_reset(uint64_t tid_a, uint64_t tid_b)
{
    atomic_store(&tally.tid_a, tid_a);
    atomic_store(&tally.tid_b, tid_b);
    atomic_store(&tally.count, 0);
    atomic_store(&tally.bad, 0);
    atomic_store(&tally.on_a, 0);
    atomic_store(&tally.on_b, 0);
    for (int i = 0; i < TALLY_MAX; i++)
        atomic_store(&tally.hits[i], 0);
}

static void tally_cb(xipc_rpc_future *f, void *ud)
{
    intptr_t i = (intptr_t)ud;
    xipc_rpc_result res;
    int64_t v = -1;
    xipc_rpc_result_init(&res);
    if (xipc_rpc_future_result(f, &res) != XIPC_OK ||
        xipc_rpc_result_scanf(&res, "I", &v) != XIPC_OK || v != (int64_t)i + TALLY_PLUS)
        atomic_fetch_add(&tally.bad, 1);
    xipc_rpc_result_fini(&res);
    uint64_t me = dt_tid();
    if (me == atomic_load(&tally.tid_a))
        atomic_fetch_add(&tally.on_a, 1);
    else if (me == atomic_load(&tally.tid_b))
        atomic_fetch_add(&tally.on_b, 1);
    atomic_fetch_add(&tally.hits[i], 1);
    atomic_fetch_add(&tally.count, 1);
}

/* Send @p n asynchronous calls add(i, TALLY_PLUS), callback tally_cb. */
static void tally_send(xipc_rpc_client *c, int n)
{
    for (intptr_t i = 0; i < n; i++) {
        void *p;
        size_t pl;
        XT_OK(xipc_rpc_pack(&p, &pl, "Ii", (int64_t)i, TALLY_PLUS));
        XT_OK(xipc_rpc_call_async(c, "add", p, pl, tally_cb, (void *)i, NULL));
        xipc_rpc_free(p);
    }
}

/* All @p n callbacks ran, each once, each with its right result. */
static void tally_check(int n)
{
    XT_EQ(atomic_load(&tally.count), n);
    XT_EQ(atomic_load(&tally.bad), 0);
    for (int i = 0; i < n; i++)
        if (atomic_load(&tally.hits[i]) != 1)
            XT_FAIL("callback %d ran %d times", i, atomic_load(&tally.hits[i]));
}

/*
 * A synchronous call that found the client idle holds the token while it
 * waits (the gate): asynchronous calls made meanwhile by another thread
 * are answered (the gate method and add run on workers) and their
 * callbacks run on the waiting caller's thread, before its own response
 * comes; none on the client's reader thread. (A response that arrives
 * before xipc_rpc_call_async has returned has its callback run by the
 * issuing thread, inside xipc_rpc_call_async: that is allowed too.)
 */
static void t_direct_delivers(const char *kind)
{
    enum { N = 100 };
    atomic_store(&rt_gate_open, 0);
    xipc_rpc_server *srv = dt_server(2, NULL);
    char url[512];
    rt_serve(srv, kind, url, sizeof(url));
    xipc_rpc_client *c = rt_dial(url);
    gate_call g;
    gate_call_start(&g, c, 60000);
    rt_gate_wait_for(1);
    XT_EQ(dt_token(c), CLI_TOK_CALLER);
    tally_reset(atomic_load(&g.tid), dt_tid()); /* a: the caller, b: us */
    tally_send(c, N);
    XT_ASSERT(dt_wait_atleast(&tally.count, N, 30000));
    tally_check(N);
    /* delivered by the caller (or the issuer), none by the reader */
    XT_EQ(atomic_load(&tally.on_a) + atomic_load(&tally.on_b), N);
    XT_ASSERT(atomic_load(&tally.on_a) > 0);
    XT_EQ(atomic_load(&g.done), 0); /* which still waits */
    XT_EQ(atomic_load(&rt_gate_waiting), 1);
    atomic_store(&rt_gate_open, 1);
    xipc_plat_thread_join(&g.th);
    XT_OK(g.rv);
    XT_ASSERT(strcmp(g.result, "opened") == 0);
    xipc_rpc_client_close(c);
    xipc_rpc_server_free(srv);
    printf("direct path delivers other responses: %s ok (%d callbacks on the caller, "
           "%d on the issuer)\n", kind, atomic_load(&tally.on_a), atomic_load(&tally.on_b));
}

#define MIX_CALLS TALLY_MAX

static void mix_async_main(void *arg)
{
    tally_send(arg, MIX_CALLS);
}

/*
 * One thread makes synchronous calls (which take the direct path whenever
 * the client is idle) while another makes asynchronous ones: every result
 * is right and every callback runs exactly once, whichever thread
 * delivered it.
 */
static void t_direct_mixed(const char *kind)
{
    /* all the asynchronous calls may be in flight at once */
    xipc_rpc_server_opts o;
    XT_OK(xipc_rpc_server_opts_init(&o));
    o.max_inflight = 2 * MIX_CALLS + 1;
    xipc_rpc_server *srv = dt_server(2, &o);
    char url[512];
    rt_serve(srv, kind, url, sizeof(url));
    xipc_rpc_client *c = rt_dial(url);
    xipc_plat_thread ta;
    adder sync;
    adder_start(&sync, c, "add", 1, MIX_CALLS);
    while (atomic_load(&sync.tid) == 0)
        xipc_plat_sleep_us(100);
    tally_reset(atomic_load(&sync.tid), 0); /* a: the sync thread */
    XT_OK(xipc_plat_thread_create(&ta, mix_async_main, c));
    xipc_plat_thread_join(&sync.th);
    xipc_plat_thread_join(&ta);
    XT_EQ(sync.bad, 0);
    XT_ASSERT(dt_wait_atleast(&tally.count, MIX_CALLS, 60000));
    xipc_rpc_client_close(c); /* nothing pending: no callback runs here */
    tally_check(MIX_CALLS);
    xipc_rpc_server_free(srv);
    printf("direct path with async calls: %s ok (%d callbacks on the sync thread)\n",
           kind, atomic_load(&tally.on_a));
}

/* ---- e. the direct path times out ------------------------------------------------ */

/*
 * A synchronous call on the direct path gives up at its timeout (not
 * before, and well within 5 s), gives the token back, and the late
 * response is dropped: the next calls get their own results.
 */
static void t_direct_timeout(const char *kind)
{
    atomic_store(&rt_gate_open, 0);
    xipc_rpc_server *srv = dt_server(2, NULL);
    char url[512];
    rt_serve(srv, kind, url, sizeof(url));
    xipc_rpc_client *c = rt_dial(url);
    uint64_t t0 = xipc_plat_now_ns();
    XT_ERR(xipc_rpc_call(c, "wait_gate", NULL, 0, NULL, 100), XIPC_ETIMEDOUT);
    uint64_t ms = dt_ms_since(t0);
    XT_ASSERT(ms >= 90 && ms < xt_bound_ms("call timeout", 5000, 0));
    XT_EQ(atomic_load(&rt_gate_waiting), 1);
    /* a zero timeout gives up at once */
    XT_ERR(xipc_rpc_call(c, "wait_gate", NULL, 0, NULL, 0), XIPC_ETIMEDOUT);
    rt_gate_wait_for(2);
    atomic_store(&rt_gate_open, 1);
    for (int i = 0; i < 20; i++) {
        int v = 0;
        XT_OK(xipc_rpc_callf(c, "add", "ii", i, 1000, "i", &v));
        XT_EQ(v, i + 1000);
    }
    /* both late responses have come and gone */
    while (atomic_load(&rt_gate_waiting) > 0)
        xipc_plat_sleep_us(1000);
    int v = 0;
    XT_OK(xipc_rpc_callf(c, "add", "ii", 5, 6, "i", &v));
    XT_EQ(v, 11);
    xipc_rpc_client_close(c);
    xipc_rpc_server_free(srv);
    printf("direct path timeout: %s ok\n", kind);
}

/* ---- f. the server dies during the direct path ------------------------------- */

/* The child: wait_gate writes 'g' and waits (for the kill). */
static xipc_err child_gate(xipc_rpc_req *req, void *ud)
{
    if (write(1, "g", 1) != 1)
        exit(3);
    for (int i = 0; i < 60000; i++)
        xipc_plat_sleep_us(1000);
    return xipc_rpc_req_returnf(req, "s", "late");
}

static int child_serve(const char *kind)
{
    pid_t parent = getppid();
    xipc_rpc_server_opts o;
    xipc_rpc_server *srv;
    XT_OK(xipc_rpc_server_opts_init(&o));
    o.workers = 4;
    XT_OK(xipc_rpc_server_alloc(&srv, &o));
    XT_OK(xipc_rpc_server_register(srv, "wait_gate", "", child_gate, NULL));
    char url[512];
    rt_serve(srv, kind, url, sizeof(url));
    printf("url %s\n", url);
    fflush(stdout);
    /* killed long before; gone with the test if it fails first */
    for (int i = 0; i < 1200 && getppid() == parent; i++)
        xipc_plat_sleep_us(100000);
    return 2;
}

/* Read the child's next 'g': a call entered its gate. */
static void child_expect_gate(FILE *in)
{
    int ch = fgetc(in);
    if (ch != 'g')
        XT_FAIL("the child wrote %d, want 'g'", ch);
}

/*
 * A server process killed with SIGKILL while a synchronous call waits on
 * the direct path (and an asynchronous call of the same client is in
 * flight): the synchronous call ends with XIPC_ECLOSED within 5 s, not at
 * its 30 s timeout; the future completes with XIPC_ECLOSED too; the next
 * call fails at once.
 */
static void t_direct_peer_killed(const char *kind)
{
    int pfd[2];
    XT_ASSERT(pipe(pfd) == 0);
    /* this program again (32-bit in the m32 suite: through run32, since
     * under qemu-i386 exec of /proc/self/exe would start qemu itself) */
    char self[4096];
    ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);
    XT_ASSERT(k > 0);
    self[k] = '\0';
    pid_t pid = fork();
    XT_ASSERT(pid >= 0);
    if (pid == 0) {
        if (dup2(pfd[1], 1) < 0)
            _exit(126);
        close(pfd[0]);
        close(pfd[1]);
        xt_exec(self, "serve", kind, (char *)NULL);
    }
    close(pfd[1]);
    FILE *in = fdopen(pfd[0], "r");
    XT_ASSERT(in != NULL);
    char line[600], url[560];
    XT_ASSERT(fgets(line, sizeof(line), in) != NULL);
    XT_ASSERT(sscanf(line, "url %559s", url) == 1);

    xipc_rpc_client *c = rt_dial(url);
    gate_call g;
    gate_call_start(&g, c, 30000);
    child_expect_gate(in);
    XT_EQ(dt_token(c), CLI_TOK_CALLER); /* the direct path */
    xipc_rpc_future *f;
    XT_OK(xipc_rpc_call_async(c, "wait_gate", NULL, 0, NULL, NULL, &f));
    child_expect_gate(in);

    XT_ASSERT(kill(pid, SIGKILL) == 0);
    int st;
    XT_ASSERT(waitpid(pid, &st, 0) == pid);
    XT_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    uint64_t killed = xipc_plat_now_ns();
    xipc_plat_thread_join(&g.th);
    XT_ERR(g.rv, XIPC_ECLOSED);
    uint64_t ms = g.done_ns > killed ? (g.done_ns - killed) / 1000000u : 0;
    XT_ASSERT(ms < xt_bound_ms("server death", 5000, 0));
    XT_OK(xipc_rpc_future_wait(f, 10000));
    XT_ERR(xipc_rpc_future_result(f, NULL), XIPC_ECLOSED);
    xipc_rpc_future_free(f);
    int v;
    XT_ERR(xipc_rpc_callf(c, "wait_gate", "", "i", &v), XIPC_ECLOSED);
    xipc_rpc_client_close(c);
    fclose(in);
    if (strcmp(kind, "shm") == 0 || strcmp(kind, "pipe") == 0) {
        /* listening again reclaims what the victim left behind */
        xipc_sock *l;
        XT_OK(xipc_listen(&l, url, NULL));
        xipc_close(l);
    }
    printf("direct path, server killed: %s ok (ECLOSED %llu ms after the kill)\n", kind,
           (unsigned long long)ms);
}

/* ---- g. notifications from the server ------------------------------------------ */

/*
 * The server API sends no notifications, so a fake message-mode server
 * (a bare shm:// connection) plays the server: it answers each add
 * request with a notification [2, "event", [n]], then the response
 * [1, msgid, nil, a+b]; fake_send_event sends an event unasked.
 */
typedef struct fake_srv {
    xipc_sock *s;
    xipc_rpc_client *c;
    int calls;
    atomic_int caller_tok; /* requests that arrived while a caller held the token */
} fake_srv;

static atomic_int fake_events;

static void fake_on_notify(xipc_rpc_client *c, const char *method, const void *params,
                           size_t len, void *ud)
{
    xipc_mp_reader r;
    uint32_t n;
    int64_t k;
    xipc_mp_reader_init(&r, params, len);
    if (strcmp(method, "event") == 0 && xipc_mp_read_array(&r, &n) == XIPC_OK && n == 1 &&
        xipc_mp_read_int(&r, &k) == XIPC_OK)
        atomic_fetch_add(&fake_events, 1);
}

static void fake_send_event(xipc_sock *s, int64_t k)
{
    uint8_t mem[64];
    xipc_mp_buf b;
    xipc_mp_buf_init_fixed(&b, mem, sizeof(mem));
    xipc_mp_write_array(&b, 3);
    xipc_mp_write_uint(&b, 2);
    xipc_mp_write_cstr(&b, "event");
    xipc_mp_write_array(&b, 1);
    XT_OK(xipc_mp_write_int(&b, k));
    XT_OK(xipc_send(s, b.data, b.len, 10000));
}

static void fake_main(void *arg)
{
    fake_srv *fs = arg;
    uint8_t msg[256];
    for (int n = 0; n < fs->calls; n++) {
        size_t len;
        XT_OK(xipc_recv(fs->s, msg, sizeof(msg), &len, 30000));
        if (dt_token(fs->c) == CLI_TOK_CALLER)
            atomic_fetch_add(&fs->caller_tok, 1);
        /* [0, msgid, "add", [a, b]] */
        xipc_mp_reader r;
        uint32_t n4, np, idlen;
        uint64_t type;
        uint32_t msgid;
        const char *name;
        int64_t a, b;
        xipc_mp_reader_init(&r, msg, len);
        XT_OK(xipc_mp_read_array(&r, &n4));
        XT_EQ(n4, 4);
        XT_OK(xipc_mp_read_uint(&r, &type));
        XT_EQ(type, 0);
        XT_OK(xipc_mp_read_uint32(&r, &msgid));
        XT_OK(xipc_mp_read_str(&r, &name, &idlen));
        XT_ASSERT(idlen == 3 && memcmp(name, "add", 3) == 0);
        XT_OK(xipc_mp_read_array(&r, &np));
        XT_EQ(np, 2);
        XT_OK(xipc_mp_read_int(&r, &a));
        XT_OK(xipc_mp_read_int(&r, &b));
        fake_send_event(fs->s, n);
        uint8_t mem[64];
        xipc_mp_buf w;
        xipc_mp_buf_init_fixed(&w, mem, sizeof(mem));
        xipc_mp_write_array(&w, 4);
        xipc_mp_write_uint(&w, 1);
        xipc_mp_write_uint(&w, msgid);
        xipc_mp_write_nil(&w);
        XT_OK(xipc_mp_write_int(&w, a + b));
        XT_OK(xipc_send(fs->s, w.data, w.len, 10000));
    }
}

/* Dial the fake server at @p url (listener @p l), on_notify @p fn (or NULL);
 * @p s receives the server's end. */
static xipc_rpc_client *fake_dial(xipc_sock *l, const char *url, xipc_rpc_notify_fn fn,
                                  xipc_sock **s)
{
    xipc_rpc_client *c = dt_dial(url, fn, 0);
    XT_OK(xipc_accept(l, s, 10000));
    return c;
}

/* 1000 calls against the fake server; each is answered after an event. */
static void fake_calls(fake_srv *fs, int events_before)
{
    xipc_plat_thread th;
    XT_OK(xipc_plat_thread_create(&th, fake_main, fs));
    for (int i = 0; i < fs->calls; i++) {
        int64_t v = 0;
        XT_OK(xipc_rpc_callf(fs->c, "add", "Ii", (int64_t)i, 3, "I", &v));
        XT_EQ(v, i + 3);
        /* the event came first, and its on_notify has returned */
        if (events_before >= 0)
            XT_EQ(atomic_load(&fake_events), events_before + i + 1);
    }
    xipc_plat_thread_join(&th);
}

/*
 * With on_notify set, the reader receives with no call pending: 50
 * notifications sent to an idle client all arrive, and its reader does
 * not park. 1000 synchronous calls interleaved with notifications all get
 * their results, and each notification is handled before the response
 * that follows it. Without on_notify, every synchronous call on an idle
 * client takes the direct path (the token is the caller's when the
 * request reaches the server), the notifications are dropped, and the
 * idle reader parks.
 */
static void t_notify(void)
{
    char url[128];
    rt_url(url, sizeof(url), "shm");
    xipc_sock *l, *s;
    XT_OK(xipc_listen(&l, url, NULL));

    atomic_store(&fake_events, 0);
    xipc_rpc_client *c = fake_dial(l, url, fake_on_notify, &s);
    for (int k = 0; k < 50; k++)
        fake_send_event(s, k);
    XT_ASSERT(dt_wait_atleast(&fake_events, 50, 30000));
    xipc_plat_sleep_us(100000);
    XT_EQ(dt_reader_parked(c), 0);
    fake_srv fs1 = {s, c, 1000, 0};
    fake_calls(&fs1, 50);
    XT_EQ(atomic_load(&fake_events), 1050);
    xipc_rpc_client_close(c);
    xipc_close(s);

    atomic_store(&fake_events, 0);
    c = fake_dial(l, url, NULL, &s);
    fake_srv fs2 = {s, c, 1000, 0};
    fake_calls(&fs2, -1);
    XT_EQ(atomic_load(&fs2.caller_tok), 1000);
    XT_EQ(atomic_load(&fake_events), 0);
    uint64_t t0 = xipc_plat_now_ns();
    while (!dt_reader_parked(c) && dt_ms_since(t0) < 10000)
        xipc_plat_sleep_us(1000);
    XT_EQ(dt_reader_parked(c), 1);
    XT_EQ(dt_token(c), CLI_TOK_NONE);
    xipc_rpc_client_close(c);
    xipc_close(s);
    xipc_close(l);
    printf("notifications ok\n");
}

/* ---- h. many threads, inline add ----------------------------------------------- */

#define MT_THREADS 8
#define MT_CALLS 5000

/* 8 threads x 5000 synchronous calls of an inline method on one shm://
 * client: each thread gets its own results. */
static void t_threads_inline(void)
{
    xipc_rpc_server *srv = dt_server(2, NULL);
    char url[512];
    rt_serve(srv, "shm", url, sizeof(url));
    xipc_rpc_client *c = rt_dial(url);
    adder a[MT_THREADS];
    for (int i = 0; i < MT_THREADS; i++)
        adder_start(&a[i], c, "iadd", i + 1, MT_CALLS);
    for (int i = 0; i < MT_THREADS; i++) {
        xipc_plat_thread_join(&a[i].th);
        XT_EQ(a[i].bad, 0);
    }
    xipc_rpc_client_close(c);
    xipc_rpc_server_free(srv);
    printf("8 threads x %d inline calls ok\n", MT_CALLS);
}

/* ---- i. regressions of the direct path ------------------------------------------ */

/*
 * Each test here failed before eeb8939 ("the direct path gives the receive
 * token back before its request waits to go out"), and says how.
 */

#define FR_TIMEOUT_MS 5000 /* per call: generous, no speed is asserted */
#define FR_ROUNDS 40
#define FR_CALLS 3
#define FR_MAX_THREADS 8

/* A thread making FR_CALLS synchronous calls of @p method (an echo) with
 * a bin of @p len bytes, FR_TIMEOUT_MS each, until one fails. */
typedef struct echoer {
    xipc_rpc_client *c;
    const char *method;
    int id;
    size_t len;
    xipc_plat_thread th;
    xipc_err rv; /* read after the join: the failure, or XIPC_OK */
    int calls;   /* calls that returned their params */
    uint64_t ms; /* how long the failed call took */
} echoer;

static void echoer_main(void *p)
{
    echoer *e = p;
    uint8_t *buf = malloc(e->len);
    XT_ASSERT(buf != NULL);
    for (int i = 0; i < FR_CALLS && e->rv == XIPC_OK; i++) {
        void *pk;
        size_t pl;
        xipc_rpc_result res;
        memset(buf, (e->id * FR_CALLS + i) & 0xff, e->len);
        XT_OK(xipc_rpc_pack(&pk, &pl, "b", buf, e->len));
        xipc_rpc_result_init(&res);
        uint64_t t0 = xipc_plat_now_ns();
        e->rv = xipc_rpc_call(e->c, e->method, pk, pl, &res, FR_TIMEOUT_MS);
        e->ms = dt_ms_since(t0);
        if (e->rv == XIPC_OK && (res.value_len != pl || memcmp(res.value, pk, pl) != 0))
            e->rv = XIPC_EPROTO; /* not its own params back */
        e->calls += e->rv == XIPC_OK;
        xipc_rpc_result_fini(&res);
        xipc_rpc_free(pk);
    }
    free(buf);
}

/* One round of t_direct_full_rings: a fresh client of @p url. */
static void full_rings_round(const char *url, uint32_t ring, const char *method, int threads,
                             size_t len)
{
    xipc_rpc_client *c = dt_dial(url, NULL, ring);
    echoer e[FR_MAX_THREADS];
    for (int i = 0; i < threads; i++) {
        memset(&e[i], 0, sizeof(e[i]));
        e[i].c = c;
        e[i].method = method;
        e[i].id = i;
        e[i].len = len;
        XT_OK(xipc_plat_thread_create(&e[i].th, echoer_main, &e[i]));
    }
    for (int i = 0; i < threads; i++) {
        xipc_plat_thread_join(&e[i].th);
        if (e[i].rv != XIPC_OK)
            XT_FAIL("%s, %zu bytes: thread %d, call %d: %s after %llu ms", method, len, i,
                    e[i].calls, xipc_err_name(e[i].rv), (unsigned long long)e[i].ms);
    }
    xipc_rpc_client_close(c);
}

/*
 * Deadlock: a synchronous call that had taken the token blocked in its
 * send (the request ring full, or another thread sending) while holding
 * it; the server in turn blocked sending responses that only a receiver
 * could make room for (its reader, for an inline method; its workers,
 * the reader stopped by max_queued_bytes, otherwise), until a send
 * timeout: calls failed after 5 or 10 s. @p threads threads echo @p len
 * bytes a call through @p method on shm:// rings of @p ring bytes (0: the
 * default 1 MiB), the server reading no more than @p max_queued bytes
 * ahead (0: the default): every call must return its own params within
 * FR_TIMEOUT_MS. The deadlock, when it came, came within a connection's
 * first calls, so the calls are spread over FR_ROUNDS fresh clients: the
 * old code failed within its first 7 in every run tried, where one client
 * of many calls often got through. The workers' case also catches a
 * direct caller that waits for another thread's send holding the token.
 */
static void t_direct_full_rings(const char *method, int threads, size_t len, uint32_t ring,
                                uint32_t max_queued)
{
    xipc_rpc_server_opts o;
    XT_OK(xipc_rpc_server_opts_init(&o));
    if (max_queued != 0)
        o.max_queued_bytes = max_queued;
    xipc_rpc_server *srv = dt_server(2, &o);
    char url[512];
    rt_serve(srv, "shm", url, sizeof(url));
    XT_ASSERT(threads <= FR_MAX_THREADS);
    uint64_t t0 = xipc_plat_now_ns();
    for (int r = 0; r < FR_ROUNDS; r++)
        full_rings_round(url, ring, method, threads, len);
    uint64_t ms = dt_ms_since(t0);
    xipc_rpc_server_free(srv);
    printf("direct path, full rings: %d x %d threads x %d %s of %zu bytes ok (%llu ms)\n",
           FR_ROUNDS, threads, FR_CALLS, method, len, (unsigned long long)ms);
}

#define RACE_CALLS 1000

/*
 * Data race: a direct-path call that timed out gave the token back, then
 * read its future's state (and took its result) without the lock, while
 * the reader, receiving again, could complete that very future with the
 * late response. Only ThreadSanitizer sees it (the tsan_suite runs this
 * test; it reported the race in every run of the old code tried); here
 * the calls have a 1 ms timeout and nap(900..1099 us) answers right about
 * then: each returns its own tag or XIPC_ETIMEDOUT.
 */
static void t_direct_timeout_race(const char *kind)
{
    xipc_rpc_server *srv = dt_server(2, NULL);
    char url[512];
    rt_serve(srv, kind, url, sizeof(url));
    xipc_rpc_client *c = rt_dial(url);
    int ok = 0, timedout = 0;
    for (int i = 0; i < RACE_CALLS; i++) {
        void *p;
        size_t pl;
        xipc_rpc_result res;
        XT_OK(xipc_rpc_pack(&p, &pl, "ii", 900 + i % 200, i));
        xipc_rpc_result_init(&res);
        xipc_err rv = xipc_rpc_call(c, "nap", p, pl, &res, 1);
        if (rv == XIPC_OK) {
            int tag = -1;
            XT_OK(xipc_rpc_result_scanf(&res, "i", &tag));
            XT_EQ(tag, i);
            ok++;
        } else {
            XT_ERR(rv, XIPC_ETIMEDOUT);
            timedout++;
        }
        xipc_rpc_result_fini(&res);
        xipc_rpc_free(p);
    }
    xipc_rpc_client_close(c);
    xipc_rpc_server_free(srv);
    printf("direct path, 1 ms timeouts: %s ok (%d answered, %d timed out)\n", kind, ok,
           timedout);
}

#define OS_TIMEOUT_MS 1000
#define OS_SEND_MS 800

static void open_gate_later(void *arg)
{
    xipc_plat_sleep_us(OS_SEND_MS * 1000);
    atomic_store(&rt_gate_open, 1);
}

/*
 * Timeout overshoot: a direct-path call whose request could not go out at
 * once waited in its send, then for its response the whole timeout again:
 * with its send held up OS_SEND_MS (the server's reader waits at igate,
 * the 4 KiB request ring is full of notifications behind it), a call of
 * OS_TIMEOUT_MS to hold (which does not answer) returned XIPC_ETIMEDOUT
 * after OS_SEND_MS + OS_TIMEOUT_MS. It must do so at its timeout: not
 * before, and no later than 300 ms after it.
 */
static void t_direct_send_waits(void)
{
    atomic_store(&rt_gate_open, 0);
    atomic_store(&dt_hold, 1);
    xipc_rpc_server *srv = dt_server(2, NULL);
    char url[512];
    rt_serve(srv, "shm", url, sizeof(url));
    xipc_rpc_client *c = dt_dial(url, NULL, 4096);
    XT_OK(xipc_rpc_notify(c, "igate", NULL, 0, 10000));
    rt_gate_wait_for(1);
    int n = 0;
    while (xipc_rpc_notify(c, "inote", NULL, 0, 10) == XIPC_OK)
        n++;
    XT_ASSERT(n > 0);
    xipc_plat_thread th;
    XT_OK(xipc_plat_thread_create(&th, open_gate_later, NULL));
    uint64_t t0 = xipc_plat_now_ns();
    XT_ERR(xipc_rpc_call(c, "hold", NULL, 0, NULL, OS_TIMEOUT_MS), XIPC_ETIMEDOUT);
    uint64_t ms = dt_ms_since(t0);
    xipc_plat_thread_join(&th);
    if (ms + 10 < OS_TIMEOUT_MS || ms > OS_TIMEOUT_MS + 300)
        XT_FAIL("a call of %d ms timed out after %llu ms", OS_TIMEOUT_MS,
                (unsigned long long)ms);
    atomic_store(&dt_hold, 0);
    int v = 0;
    XT_OK(xipc_rpc_callf(c, "add", "ii", 2, 3, "i", &v));
    XT_EQ(v, 5);
    xipc_rpc_client_close(c);
    xipc_rpc_server_free(srv);
    printf("direct path, send held %d ms: ETIMEDOUT after %llu ms of %d ok (%d notifications "
           "filled the ring)\n", OS_SEND_MS, (unsigned long long)ms, OS_TIMEOUT_MS, n);
}

/*
 * Leader/follower (rpc_rescue.c): a message-mode reader runs the calls to
 * worker methods it reads; one that runs past XIPC_RPC_RESCUE_US has a
 * worker read the connection meanwhile.
 *  1. A call blocked at the gate does not hold its connection: a call sent
 *     after it on the same connection is answered while the gate is shut,
 *     and a rescue was counted.
 *  2. Two workers, one held at the gate by a call on another connection:
 *     a nap of 100 ms on the reader takes the second slot and is rescued;
 *     the rescuing worker reads the add sent after it and queues it, and
 *     it runs once the nap has freed the slot, while the gate is still
 *     shut; then the reader has its connection back.
 *  3. One worker and a small queue (max_queued_bytes): the rescuing
 *     worker fills the queue while the reader naps and waits for room;
 *     when the nap ends it hands the connection back at once (it must
 *     not wait for room that only it could make) and runs the calls.
 * A rescue that no worker could begin before the reader's call ended is
 * called off (SC_RESCUE_QUEUED back to NONE, the stale job then does
 * nothing). That needs every worker busy while a slot is free, which
 * only happens for the few milliseconds a rescuing worker takes to hand a
 * connection back: no test forces it.
 */
static void t_leader_follower(const char *kind)
{
    if (!XIPC_RPC_LEADER) {
        printf("leader/follower: %s: not in a 32-bit process (rpc_server.h)\n", kind);
        return;
    }
    atomic_store(&rt_gate_open, 0);
    xipc_rpc_server *srv = dt_server(2, NULL);
    char url[512];
    rt_serve(srv, kind, url, sizeof(url));
    xipc_rpc_client *c = rt_dial(url);
    uint64_t r0 = xipc__rpc_server_rescues(srv);
    xipc_rpc_future *slow;
    XT_OK(xipc_rpc_call_async(c, "wait_gate", NULL, 0, NULL, NULL, &slow));
    rt_gate_wait_for(1);
    int v = 0;
    XT_OK(xipc_rpc_callf(c, "add", "ii", 40, 2, "i", &v));
    XT_EQ(v, 42);
    XT_EQ(atomic_load(&rt_gate_waiting), 1); /* still shut */
    XT_ASSERT(xipc__rpc_server_rescues(srv) > r0);
    atomic_store(&rt_gate_open, 1);
    XT_OK(xipc_rpc_future_wait(slow, 30000));
    dt_expect_str(slow, "opened");
    xipc_rpc_future_free(slow);
    xipc_rpc_client_close(c);
    xipc_rpc_server_free(srv);

    atomic_store(&rt_gate_open, 0);
    srv = dt_server(2, NULL);
    char unx[512];
    rt_serve(srv, kind, url, sizeof(url));
    rt_serve(srv, RT_STREAM, unx, sizeof(unx));
    xipc_rpc_client *cu = rt_dial(unx);
    c = rt_dial(url);
    XT_OK(xipc_rpc_call_async(cu, "wait_gate", NULL, 0, NULL, NULL, &slow));
    rt_gate_wait_for(1); /* a worker and one of the two slots are held */
    r0 = xipc__rpc_server_rescues(srv);
    xipc_rpc_future *nap, *add;
    void *p;
    size_t pl;
    XT_OK(xipc_rpc_pack(&p, &pl, "ii", 100000, 7));
    XT_OK(xipc_rpc_call_async(c, "nap", p, pl, NULL, NULL, &nap));
    xipc_rpc_free(p);
    XT_OK(xipc_rpc_pack(&p, &pl, "ii", 1, 2));
    XT_OK(xipc_rpc_call_async(c, "add", p, pl, NULL, NULL, &add));
    xipc_rpc_free(p);
    XT_OK(xipc_rpc_future_wait(nap, 30000));
    XT_OK(xipc_rpc_future_wait(add, 30000));
    XT_EQ(dt_future_int(nap), 7);
    XT_EQ(dt_future_int(add), 3);
    XT_EQ(atomic_load(&rt_gate_waiting), 1); /* still shut */
    XT_ASSERT(xipc__rpc_server_rescues(srv) > r0);
    XT_OK(xipc_rpc_callf(c, "add", "ii", 2, 3, "i", &v)); /* the reader reads again */
    XT_EQ(v, 5);
    atomic_store(&rt_gate_open, 1);
    XT_OK(xipc_rpc_future_wait(slow, 30000));
    xipc_rpc_future_free(nap);
    xipc_rpc_future_free(add);
    xipc_rpc_future_free(slow);
    xipc_rpc_client_close(cu);
    xipc_rpc_client_close(c);
    xipc_rpc_server_free(srv);

    /* 3. one worker, a small queue: the rescuing worker fills it while the
     * reader naps, and waits for room; the nap ends, the reader wants its
     * connection back, the worker hands it back and runs what it queued */
    xipc_rpc_server_opts o;
    xipc_rpc_server_opts_init(&o);
    o.max_queued_bytes = 4096;
    srv = dt_server(1, &o);
    rt_serve(srv, kind, url, sizeof(url));
    c = rt_dial(url);
    enum { NQ = 64 };
    xipc_rpc_future *q[NQ];
    uint8_t blob[256];
    memset(blob, 0x61, sizeof(blob));
    XT_OK(xipc_rpc_pack(&p, &pl, "ii", 50000, 9));
    XT_OK(xipc_rpc_call_async(c, "nap", p, pl, NULL, NULL, &nap));
    xipc_rpc_free(p);
    XT_OK(xipc_rpc_pack(&p, &pl, "b", blob, sizeof(blob)));
    for (int i = 0; i < NQ; i++)
        XT_OK(xipc_rpc_call_async(c, "echo", p, pl, NULL, NULL, &q[i]));
    xipc_rpc_free(p);
    XT_OK(xipc_rpc_future_wait(nap, 30000));
    XT_EQ(dt_future_int(nap), 9);
    for (int i = 0; i < NQ; i++) {
        XT_OK(xipc_rpc_future_wait(q[i], 30000));
        XT_OK(xipc_rpc_future_result(q[i], NULL));
        xipc_rpc_future_free(q[i]);
    }
    xipc_rpc_future_free(nap);
    xipc_rpc_client_close(c);
    xipc_rpc_server_free(srv);
    printf("leader/follower: %s ok\n", kind);
}

/*
 * opts.workers bounds the handlers that run at once, whoever runs them
 * (readers run calls too: leader/follower): with 1 worker, calls from
 * three connections of each kind at once never overlap (a library behind
 * `xipc host --workers 1` need not be thread-safe); with 3, they do.
 */
static void t_workers_bound(void)
{
    for (uint32_t workers = 1; workers <= 3; workers += 2) {
        atomic_store(&dt_conc_max, 0);
        xipc_rpc_server *srv = dt_server(workers, NULL);
        char urls[3][512];
        rt_serve(srv, "shm", urls[0], sizeof(urls[0]));
        rt_serve(srv, "pipe", urls[1], sizeof(urls[1]));
        rt_serve(srv, RT_STREAM, urls[2], sizeof(urls[2]));
        xipc_rpc_client *c[3];
        xipc_rpc_future *f[3][4];
        for (int i = 0; i < 3; i++)
            c[i] = rt_dial(urls[i]);
        for (int k = 0; k < 4; k++)
            for (int i = 0; i < 3; i++)
                XT_OK(xipc_rpc_call_async(c[i], "conc", NULL, 0, NULL, NULL, &f[i][k]));
        for (int i = 0; i < 3; i++)
            for (int k = 0; k < 4; k++) {
                XT_OK(xipc_rpc_future_wait(f[i][k], 30000));
                XT_OK(xipc_rpc_future_result(f[i][k], NULL));
                xipc_rpc_future_free(f[i][k]);
            }
        if (workers == 1)
            XT_EQ(atomic_load(&dt_conc_max), 1);
        else
            XT_ASSERT(atomic_load(&dt_conc_max) > 1);
        XT_ASSERT(atomic_load(&dt_conc_max) <= (int)workers);
        for (int i = 0; i < 3; i++)
            xipc_rpc_client_close(c[i]);
        xipc_rpc_server_free(srv);
    }
    printf("workers bound the handlers ok\n");
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "serve") == 0)
        return child_serve(argv[2]);
    static const char *kinds[] = {"shm", "pipe", "unix", "tcp"};
    t_register_ex();
    t_inline_holds_connection("shm", 1);
    t_inline_holds_connection("pipe", 1);
    t_inline_holds_connection("unix", 0);
    t_inline_holds_connection("tcp", 0);
    t_inline_thread();
    t_leader_follower("shm");
    t_leader_follower("pipe");
    t_workers_bound();
    t_inline_calls("shm");
    t_inline_calls("pipe");
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        t_direct_delivers(kinds[i]);
        t_direct_mixed(kinds[i]);
        t_direct_timeout(kinds[i]);
        t_direct_peer_killed(kinds[i]);
    }
    t_notify();
    t_threads_inline();
    t_direct_full_rings("iecho", 4, 600000, 0, 0);
    t_direct_full_rings("echo", 8, 6000, 16384, 1000);
    t_direct_timeout_race("shm");
    t_direct_send_waits();
    printf("rpc_direct_test ok\n");
    return 0;
}
