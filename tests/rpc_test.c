/*
 * MessagePack-RPC end to end: an xipc server and xipc clients in one
 * process. Dispatch, errors of every kind, xipc.methods, responses out of
 * order, 8 threads x 1000 calls on one connection, asynchronous calls,
 * notifications, timeouts, graceful stop, several channels at once, the
 * in-flight limit. Exact bytes and hostile peers: rpc_wire_test.c.
 */
#include <stdlib.h>

#include "rpc_util.h"

/* ---- dispatch and errors ---- */

static xipc_err t_two_values(xipc_rpc_req *req, void *ud)
{
    xipc_mp_buf *b = xipc_rpc_req_result(req);
    xipc_mp_write_int(b, 1);
    return xipc_mp_write_int(b, 2); /* two values: not a result */
}

static xipc_err t_fail_einval(xipc_rpc_req *req, void *ud)
{
    return XIPC_EINVAL;
}

static xipc_err t_fail_enomem(xipc_rpc_req *req, void *ud)
{
    return XIPC_ENOMEM;
}

static xipc_err t_nothing(xipc_rpc_req *req, void *ud)
{
    return XIPC_OK;
}

static xipc_err t_codec(xipc_rpc_req *req, void *ud)
{
    /* params through the codec: sum of all ints */
    xipc_mp_reader *r = xipc_rpc_req_params(req);
    int64_t sum = 0, v;
    for (uint32_t i = 0; i < xipc_rpc_req_nparams(req); i++) {
        if (xipc_mp_read_int(r, &v) != XIPC_OK)
            return xipc_rpc_req_error(req, 99, "ints only");
        sum += v;
    }
    xipc_mp_buf *b = xipc_rpc_req_result(req);
    xipc_mp_write_array(b, 2);
    xipc_mp_write_cstr(b, xipc_rpc_req_method(req));
    return xipc_mp_write_int(b, sum);
}

static xipc_err t_pid(xipc_rpc_req *req, void *ud)
{
    return xipc_rpc_req_returnf(req, "u", xipc_rpc_req_peer_pid(req));
}

static void t_dispatch(const char *kind)
{
    xipc_rpc_server *srv = rt_server(2, NULL);
    XT_OK(xipc_rpc_server_register(srv, "two_values", "", t_two_values, NULL));
    XT_OK(xipc_rpc_server_register(srv, "fail_einval", NULL, t_fail_einval, NULL));
    XT_OK(xipc_rpc_server_register(srv, "fail_enomem", "", t_fail_enomem, NULL));
    XT_OK(xipc_rpc_server_register(srv, "nothing", "() -> nil", t_nothing, NULL));
    XT_OK(xipc_rpc_server_register(srv, "codec", "(int...) -> [str, int]", t_codec, NULL));
    XT_OK(xipc_rpc_server_register(srv, "pid", "() -> int", t_pid, NULL));
    /* registration rules */
    XT_ERR(xipc_rpc_server_register(srv, "add", "", rt_add, NULL), XIPC_EADDRINUSE);
    XT_ERR(xipc_rpc_server_register(srv, "xipc.mine", "", rt_add, NULL), XIPC_EINVAL);
    XT_ERR(xipc_rpc_server_register(srv, "", "", rt_add, NULL), XIPC_EINVAL);
    XT_ERR(xipc_rpc_server_register(srv, "x", "", NULL, NULL), XIPC_EINVAL);
    char url[512];
    rt_serve(srv, kind, url, sizeof(url));
    xipc_rpc_client *c = rt_dial(url);

    int sum = 0;
    XT_OK(xipc_rpc_callf(c, "add", "ii", 2, 3, "i", &sum));
    XT_EQ(sum, 5);
    /* the caller's pid, where the channel knows it */
    unsigned pid = 1;
    XT_OK(xipc_rpc_callf(c, "pid", "", "u", &pid));
    XT_EQ(pid, strcmp(kind, "tcp") == 0 ? 0 : xipc_plat_getpid());
    int64_t big = 0;
    XT_OK(xipc_rpc_callf(c, "add", "II", (int64_t)INT64_MAX - 5, (int64_t)5, "I", &big));
    XT_EQ(big, INT64_MAX);
    /* the result does not fit an int: refused, not truncated */
    XT_ERR(xipc_rpc_callf(c, "add", "II", (int64_t)1 << 40, (int64_t)0, "i", &sum),
           XIPC_EINVAL);

    rt_expect_remote(xipc_rpc_callf(c, "nope", "", ""), XIPC_RPC_EMETHOD_NOT_FOUND,
                     "method not found: nope");
    rt_expect_remote(xipc_rpc_callf(c, "add", "i", 1, ""), XIPC_RPC_EINVALID_PARAMS,
                     "invalid params: expected 2 arguments, got 1");
    rt_expect_remote(xipc_rpc_callf(c, "add", "is", 1, "x", ""), XIPC_RPC_EINVALID_PARAMS,
                     "invalid params: argument 2: expected int, got str");
    rt_expect_remote(xipc_rpc_callf(c, "two_values", "", ""), XIPC_RPC_EINTERNAL,
                     "internal error");
    rt_expect_remote(xipc_rpc_callf(c, "fail_einval", "", ""), XIPC_RPC_EINVALID_PARAMS,
                     "invalid params");
    rt_expect_remote(xipc_rpc_callf(c, "fail_enomem", "", ""), XIPC_RPC_EINTERNAL,
                     xipc_strerror(XIPC_ENOMEM));

    /* the result struct carries the error object too */
    xipc_rpc_result res;
    xipc_rpc_result_init(&res);
    XT_ERR(xipc_rpc_call(c, "nope", NULL, 0, &res, 10000), XIPC_EREMOTE);
    XT_EQ(res.code, XIPC_RPC_EMETHOD_NOT_FOUND);
    XT_ASSERT(res.value == NULL && res.error != NULL && res.error_len > 3);
    XT_ASSERT(((const uint8_t *)res.error)[0] == 0x92); /* [code, message] */
    XT_ERR(xipc_rpc_result_scanf(&res, "i", &sum), XIPC_ESTATE);

    /* nothing written: nil */
    XT_OK(xipc_rpc_call(c, "nothing", NULL, 0, &res, 10000));
    XT_EQ(res.value_len, 1);
    XT_EQ(((const uint8_t *)res.value)[0], 0xc0);
    XT_OK(xipc_rpc_result_scanf(&res, "n"));

    /* params and result through the codec */
    void *params;
    size_t plen;
    XT_OK(xipc_rpc_pack(&params, &plen, "iIi", 1, (int64_t)-10, 100));
    XT_OK(xipc_rpc_call(c, "codec", params, plen, &res, 10000));
    char *name = NULL;
    int64_t total = 0;
    XT_OK(xipc_rpc_result_scanf(&res, "sI", &name, &total));
    XT_ASSERT(strcmp(name, "codec") == 0);
    XT_EQ(total, 91);
    xipc_rpc_free(name);
    xipc_rpc_free(params);
    XT_ERR(xipc_rpc_result_scanf(&res, "sII", &name, &total, &total), XIPC_EINVAL);
    XT_ERR(xipc_rpc_result_scanf(&res, "d", &total), XIPC_EINVAL);

    /* bad params given to the client: refused before sending */
    static const uint8_t notarray[] = {0x05};
    static const uint8_t twovals[] = {0x90, 0x90};
    static const uint8_t truncated[] = {0x92, 0x01};
    XT_ERR(xipc_rpc_call(c, "add", notarray, 1, NULL, 1000), XIPC_EINVAL);
    XT_ERR(xipc_rpc_call(c, "add", twovals, 2, NULL, 1000), XIPC_EINVAL);
    XT_ERR(xipc_rpc_call(c, "add", truncated, 2, NULL, 1000), XIPC_EINVAL);
    XT_ERR(xipc_rpc_callf(c, "add", "q", 1, ""), XIPC_EINVAL);
    XT_ERR(xipc_rpc_callf(c, "add", "m", truncated, sizeof(truncated), ""), XIPC_EINVAL);
    XT_ERR(xipc_rpc_callf(c, "", "", ""), XIPC_EINVAL);

    /* xipc.methods: [name, signature] pairs in registration order */
    XT_OK(xipc_rpc_call(c, "xipc.methods", NULL, 0, &res, 10000));
    xipc_mp_reader r;
    uint32_t n, two;
    const char *s;
    uint32_t sl;
    xipc_mp_reader_init(&r, res.value, res.value_len);
    XT_OK(xipc_mp_read_array(&r, &n));
    XT_EQ(n, 11);
    const char *want[][2] = {{"xipc.methods", "() -> [[name, signature], ...]"},
                             {"add", "(int a, int b) -> int"},
                             {"echo", "(any...) -> [any...]"},
                             {"wait_gate", "() -> str"},
                             {"note", "(notification)"},
                             {"two_values", ""},
                             {"fail_einval", ""},
                             {"fail_enomem", ""},
                             {"nothing", "() -> nil"},
                             {"codec", "(int...) -> [str, int]"},
                             {"pid", "() -> int"}};
    for (uint32_t i = 0; i < n; i++) {
        XT_OK(xipc_mp_read_array(&r, &two));
        XT_EQ(two, 2);
        XT_OK(xipc_mp_read_str(&r, &s, &sl));
        XT_ASSERT(sl == strlen(want[i][0]) && memcmp(s, want[i][0], sl) == 0);
        XT_OK(xipc_mp_read_str(&r, &s, &sl));
        XT_ASSERT(sl == strlen(want[i][1]) && memcmp(s, want[i][1], sl) == 0);
    }
    xipc_rpc_result_fini(&res);

    xipc_rpc_client_close(c);
    xipc_rpc_server_free(srv);
}

/* ---- format strings: every letter there and back ---- */

static void t_format(void)
{
    xipc_rpc_server *srv = rt_server(1, NULL);
    char url[512];
    rt_serve(srv, RT_STREAM, url, sizeof(url));
    xipc_rpc_client *c = rt_dial(url);
    static const uint8_t blob[] = {0, 0xc1, 0xff, 7};
    static const uint8_t map[] = {0x82, 0x01, 0x90, 0xa1, 'x', 0x80}; /* {1: [], "x": {}} */
    bool bo = false;
    int i = 0;
    int64_t big = 0;
    unsigned u = 0;
    uint64_t ubig = 0;
    double d = 0;
    char *s = NULL;
    void *bp = NULL, *mp = NULL;
    size_t bl = 0, ml = 0;
    XT_OK(xipc_rpc_callf(c, "echo", "nBiIuUdsbm", 1, INT32_MIN, (int64_t)INT64_MIN,
                         4000000000u, (uint64_t)UINT64_MAX, 2.5, "str", blob,
                         sizeof(blob), map, sizeof(map), "nBiIuUdsbm", &bo, &i, &big,
                         &u, &ubig, &d, &s, &bp, &bl, &mp, &ml));
    XT_ASSERT(bo);
    XT_EQ(i, INT32_MIN);
    XT_EQ(big, INT64_MIN);
    XT_EQ(u, 4000000000u);
    XT_ASSERT(ubig == UINT64_MAX);
    XT_ASSERT(d == 2.5);
    XT_ASSERT(strcmp(s, "str") == 0);
    XT_ASSERT(bl == sizeof(blob) && memcmp(bp, blob, bl) == 0);
    XT_ASSERT(ml == sizeof(map) && memcmp(mp, map, ml) == 0);
    xipc_rpc_free(s);
    xipc_rpc_free(bp);
    xipc_rpc_free(mp);
    /* 'd' reads integers too; 'u' refuses negatives; one letter = the value */
    XT_OK(xipc_rpc_callf(c, "add", "ii", 20, 22, "d", &d));
    XT_ASSERT(d == 42.0);
    XT_ERR(xipc_rpc_callf(c, "add", "ii", -20, 2, "u", &u), XIPC_EINVAL);
    XT_OK(xipc_rpc_callf(c, "add", "ii", -20, 2, "i", &i));
    XT_EQ(i, -18);
    /* a multi-letter result needs an array of exactly that many */
    XT_ERR(xipc_rpc_callf(c, "echo", "ii", 1, 2, "iii", &i, &i, &i), XIPC_EINVAL);
    int i2 = 0;
    XT_OK(xipc_rpc_callf(c, "echo", "ii", 1, 2, "ii", &i, &i2));
    XT_EQ(i, 1);
    XT_EQ(i2, 2);
    /* NULL result format: result ignored */
    XT_OK(xipc_rpc_callf(c, "echo", "s", "x", NULL));
    xipc_rpc_client_close(c);
    xipc_rpc_server_free(srv);
}

/* ---- out of order ---- */

static atomic_int ooo_seq;
static atomic_int ooo_fast_at, ooo_slow_at;

static void ooo_fast_cb(xipc_rpc_future *f, void *ud)
{
    atomic_store(&ooo_fast_at, atomic_fetch_add(&ooo_seq, 1) + 1);
}

static void ooo_slow_cb(xipc_rpc_future *f, void *ud)
{
    atomic_store(&ooo_slow_at, atomic_fetch_add(&ooo_seq, 1) + 1);
}

/* A slow call then a fast one, pipelined on one connection: the fast one
 * is answered while the slow one still waits (the slow one can only
 * finish after the test saw the fast answer). */
static void t_out_of_order(const char *kind)
{
    atomic_store(&rt_gate_open, 0);
    atomic_store(&ooo_seq, 0);
    atomic_store(&ooo_fast_at, 0);
    atomic_store(&ooo_slow_at, 0);
    xipc_rpc_server *srv = rt_server(2, NULL);
    char url[512];
    rt_serve(srv, kind, url, sizeof(url));
    xipc_rpc_client *c = rt_dial(url);
    void *p;
    size_t pl;
    XT_OK(xipc_rpc_pack(&p, &pl, "ii", 40, 2));
    xipc_rpc_future *slow, *fast;
    XT_OK(xipc_rpc_call_async(c, "wait_gate", NULL, 0, ooo_slow_cb, NULL, &slow));
    XT_OK(xipc_rpc_call_async(c, "add", p, pl, ooo_fast_cb, NULL, &fast));
    XT_OK(xipc_rpc_future_wait(fast, 30000));
    XT_EQ(atomic_load(&ooo_fast_at), 1);
    XT_EQ(atomic_load(&ooo_slow_at), 0);
    XT_ERR(xipc_rpc_future_result(slow, NULL), XIPC_ESTATE);
    atomic_store(&rt_gate_open, 1);
    XT_OK(xipc_rpc_future_wait(slow, 30000));
    XT_EQ(atomic_load(&ooo_slow_at), 2);
    xipc_rpc_result res;
    xipc_rpc_result_init(&res);
    int sum = 0;
    char *s = NULL;
    XT_OK(xipc_rpc_future_result(fast, &res));
    XT_OK(xipc_rpc_result_scanf(&res, "i", &sum));
    XT_EQ(sum, 42);
    XT_OK(xipc_rpc_future_result(slow, &res));
    XT_OK(xipc_rpc_result_scanf(&res, "s", &s));
    XT_ASSERT(strcmp(s, "opened") == 0);
    xipc_rpc_free(s);
    xipc_rpc_result_fini(&res);
    xipc_rpc_future_free(slow);
    xipc_rpc_future_free(fast);
    xipc_rpc_free(p);
    xipc_rpc_client_close(c);
    xipc_rpc_server_free(srv);
}

/* ---- many threads, one connection ---- */

#define MT_THREADS 8
#define MT_CALLS 1000

typedef struct mt_arg {
    xipc_rpc_client *c;
    int id;
    int bad;
} mt_arg;

static void mt_main(void *p)
{
    mt_arg *a = p;
    for (int i = 0; i < MT_CALLS; i++) {
        int64_t sum = 0;
        int64_t x = (int64_t)a->id * 1000000 + i;
        if (xipc_rpc_callf(a->c, "add", "II", x, (int64_t)a->id, "I", &sum) != XIPC_OK ||
            sum != x + a->id)
            a->bad++;
        if (i % 10 == 0) { /* and a str that names its caller */
            char want[32], *got = NULL;
            int back = -1;
            snprintf(want, sizeof(want), "t%d-%d", a->id, i);
            if (xipc_rpc_callf(a->c, "echo", "si", want, i, "si", &got, &back) != XIPC_OK ||
                strcmp(got, want) != 0 || back != i)
                a->bad++;
            xipc_rpc_free(got);
        }
    }
}

static void t_threads(const char *kind)
{
    xipc_rpc_server *srv = rt_server(4, NULL);
    char url[512];
    rt_serve(srv, kind, url, sizeof(url));
    xipc_rpc_client *c = rt_dial(url);
    xipc_plat_thread th[MT_THREADS];
    mt_arg args[MT_THREADS];
    for (int i = 0; i < MT_THREADS; i++) {
        args[i] = (mt_arg){c, i + 1, 0};
        XT_OK(xipc_plat_thread_create(&th[i], mt_main, &args[i]));
    }
    for (int i = 0; i < MT_THREADS; i++) {
        xipc_plat_thread_join(&th[i]);
        XT_EQ(args[i].bad, 0);
    }
    xipc_rpc_client_close(c);
    xipc_rpc_server_free(srv);
}

/* ---- asynchronous calls ---- */

static atomic_int cb_count;
static atomic_int cb_sum;

static void async_cb(xipc_rpc_future *f, void *ud)
{
    xipc_rpc_result res;
    int v = 0;
    xipc_rpc_result_init(&res);
    if (xipc_rpc_future_result(f, &res) == XIPC_OK &&
        xipc_rpc_result_scanf(&res, "i", &v) == XIPC_OK)
        atomic_fetch_add(&cb_sum, v);
    xipc_rpc_result_fini(&res);
    atomic_fetch_add(&cb_count, 1);
    if (ud != NULL) /* asked to free its future itself */
        xipc_rpc_future_free(f);
}

static void t_async(void)
{
    atomic_store(&rt_gate_open, 0);
    atomic_store(&cb_count, 0);
    atomic_store(&cb_sum, 0);
    xipc_rpc_server *srv = rt_server(4, NULL);
    char url[512];
    rt_serve(srv, "shm", url, sizeof(url));
    xipc_rpc_client *c = rt_dial(url);
    void *p;
    size_t pl;
    XT_OK(xipc_rpc_pack(&p, &pl, "ii", 1, 2));

    /* a waitable handle without callback */
    xipc_rpc_future *f;
    XT_OK(xipc_rpc_call_async(c, "add", p, pl, NULL, NULL, &f));
    XT_OK(xipc_rpc_future_wait(f, 30000));
    xipc_rpc_result res;
    xipc_rpc_result_init(&res);
    int v = 0;
    XT_OK(xipc_rpc_future_result(f, &res));
    XT_OK(xipc_rpc_result_scanf(&res, "i", &v));
    XT_EQ(v, 3);
    xipc_rpc_result_fini(&res);
    XT_OK(xipc_rpc_future_result(f, NULL)); /* the code stays */
    XT_ERR(xipc_rpc_future_cancel(f), XIPC_ESTATE);
    xipc_rpc_future_free(f);

    /* callbacks: 100 freed by the library, 100 freed in the callback,
     * 100 waited for and freed by us */
    xipc_rpc_future *mine[100];
    for (int i = 0; i < 100; i++) {
        XT_OK(xipc_rpc_call_async(c, "add", p, pl, async_cb, NULL, NULL));
        XT_OK(xipc_rpc_call_async(c, "add", p, pl, async_cb, (void *)1, &f));
        XT_OK(xipc_rpc_call_async(c, "add", p, pl, async_cb, NULL, &mine[i]));
    }
    for (int i = 0; i < 100; i++) {
        XT_OK(xipc_rpc_future_wait(mine[i], 30000)); /* after its callback */
        XT_OK(xipc_rpc_future_result(mine[i], NULL));
        xipc_rpc_future_free(mine[i]);
    }
    while (atomic_load(&cb_count) < 300)
        xipc_plat_sleep_us(1000);
    XT_EQ(atomic_load(&cb_count), 300);
    XT_EQ(atomic_load(&cb_sum), 900); /* each callback took its result */
    XT_ERR(xipc_rpc_call_async(c, "add", p, pl, NULL, NULL, NULL), XIPC_EINVAL);

    /* cancel: the callback never runs, the outcome is EINTR, a late
     * response is dropped and the connection goes on */
    atomic_store(&cb_count, 0);
    XT_OK(xipc_rpc_call_async(c, "wait_gate", NULL, 0, async_cb, NULL, &f));
    rt_gate_wait_for(1);
    XT_OK(xipc_rpc_future_cancel(f));
    XT_OK(xipc_rpc_future_wait(f, 0));
    XT_ERR(xipc_rpc_future_result(f, NULL), XIPC_EINTR);
    xipc_rpc_future_free(f);
    atomic_store(&rt_gate_open, 1);
    XT_OK(xipc_rpc_callf(c, "add", "ii", 5, 5, "i", &v));
    XT_EQ(v, 10);
    XT_EQ(atomic_load(&cb_count), 0);

    /* close with calls pending: they end with ECLOSED, callbacks run */
    atomic_store(&rt_gate_open, 0);
    xipc_rpc_future *g;
    XT_OK(xipc_rpc_call_async(c, "wait_gate", NULL, 0, async_cb, NULL, &g));
    rt_gate_wait_for(1);
    xipc_rpc_client_close(c);
    XT_EQ(atomic_load(&cb_count), 1);
    XT_OK(xipc_rpc_future_wait(g, 0));
    XT_ERR(xipc_rpc_future_result(g, NULL), XIPC_ECLOSED);
    xipc_rpc_future_free(g); /* after the client: still valid */
    atomic_store(&rt_gate_open, 1);
    xipc_rpc_free(p);
    xipc_rpc_server_free(srv);
}

/* ---- notifications ---- */

static void t_notify(const char *kind)
{
    atomic_store(&rt_notes, 0);
    xipc_rpc_server *srv = rt_server(2, NULL);
    char url[512];
    rt_serve(srv, kind, url, sizeof(url));
    xipc_rpc_client *c = rt_dial(url);
    for (int i = 0; i < 100; i++)
        XT_OK(xipc_rpc_notifyf(c, "note", "i", i));
    XT_OK(xipc_rpc_notify(c, "note", NULL, 0, 1000));
    XT_OK(xipc_rpc_notifyf(c, "no_such_method", "")); /* ignored, no answer */
    /* workers run them in parallel: wait until all arrived */
    while (atomic_load(&rt_notes) < 101)
        xipc_plat_sleep_us(1000);
    XT_EQ(atomic_load(&rt_notes), 101);
    int v = 0; /* and the connection carries calls as before */
    XT_OK(xipc_rpc_callf(c, "add", "ii", 1, 1, "i", &v));
    XT_EQ(v, 2);
    xipc_rpc_client_close(c);
    xipc_rpc_server_free(srv);
}

/* ---- timeouts ---- */

static void t_timeout(void)
{
    atomic_store(&rt_gate_open, 0);
    xipc_rpc_server *srv = rt_server(2, NULL);
    char url[512];
    rt_serve(srv, RT_STREAM, url, sizeof(url));
    xipc_rpc_client *c = rt_dial(url);
    XT_ERR(xipc_rpc_call(c, "wait_gate", NULL, 0, NULL, 100), XIPC_ETIMEDOUT);
    XT_ERR(xipc_rpc_call(c, "wait_gate", NULL, 0, NULL, 0), XIPC_ETIMEDOUT);
    atomic_store(&rt_gate_open, 1);
    /* the late responses are dropped; calls go on */
    for (int i = 0; i < 10; i++) {
        int v = 0;
        XT_OK(xipc_rpc_callf(c, "add", "ii", i, 1, "i", &v));
        XT_EQ(v, i + 1);
    }
    xipc_rpc_client_close(c);
    /* nobody listening: refused */
    xipc_rpc_client *c2;
    rt_url(url, sizeof(url), "pipe");
    XT_ERR(xipc_rpc_client_dial(&c2, url, NULL, 1000), XIPC_ECONNREFUSED);
    xipc_rpc_server_free(srv);
}

/* ---- graceful stop ---- */

static void t_stop(const char *kind)
{
    atomic_store(&rt_gate_open, 0);
    xipc_rpc_server *srv = rt_server(2, NULL);
    char url[512];
    rt_serve(srv, kind, url, sizeof(url));
    xipc_rpc_client *c = rt_dial(url);
    xipc_rpc_future *slow;
    XT_OK(xipc_rpc_call_async(c, "wait_gate", NULL, 0, NULL, NULL, &slow));
    rt_gate_wait_for(1);

    rt_stop_arg a = {srv, 0};
    xipc_plat_thread th;
    XT_OK(xipc_plat_thread_create(&th, rt_stop_main, &a));
    /* the listener goes at once: new clients are refused */
    for (;;) {
        xipc_rpc_client *c2;
        xipc_err rv = xipc_rpc_client_dial(&c2, url, NULL, 1000);
        if (rv != XIPC_OK)
            break;
        xipc_rpc_client_close(c2);
        xipc_plat_sleep_us(5000);
    }
    /* a request arriving now is answered "shutting down" */
    int v;
    XT_ERR(xipc_rpc_callf(c, "add", "ii", 1, 2, "i", &v), XIPC_EREMOTE);
    int64_t code;
    XT_OK(xipc_rpc_last_error(&code, NULL));
    XT_EQ(code, XIPC_RPC_ESHUTTING_DOWN);
    /* the call in flight holds the stop */
    xipc_plat_sleep_us(100000);
    XT_EQ(atomic_load(&a.done), 0);
    XT_ERR(xipc_rpc_future_result(slow, NULL), XIPC_ESTATE);
    atomic_store(&rt_gate_open, 1);
    xipc_plat_thread_join(&th);
    XT_EQ(atomic_load(&a.done), 1);
    /* and it was answered before the connection closed */
    XT_OK(xipc_rpc_future_wait(slow, 30000));
    xipc_rpc_result res;
    xipc_rpc_result_init(&res);
    char *s = NULL;
    XT_OK(xipc_rpc_future_result(slow, &res));
    XT_OK(xipc_rpc_result_scanf(&res, "s", &s));
    XT_ASSERT(strcmp(s, "opened") == 0);
    xipc_rpc_free(s);
    xipc_rpc_result_fini(&res);
    xipc_rpc_future_free(slow);
    /* then the connection is closed */
    XT_ERR(xipc_rpc_callf(c, "add", "ii", 1, 2, "i", &v), XIPC_ECLOSED);
    xipc_rpc_client_close(c);
    XT_OK(xipc_rpc_server_stop(srv)); /* again: nothing to do */
    XT_ERR(xipc_rpc_server_serve(srv, "pipe://xipc-rpct-after-stop"), XIPC_ESTATE);
    XT_ERR(xipc_rpc_server_register(srv, "late", "", rt_add, NULL), XIPC_ESTATE);
    xipc_rpc_server_free(srv);
}

/* ---- every channel at once ---- */

static void t_multi(void)
{
    enum { NK = RT_NKINDS };
    xipc_rpc_server *srv = rt_server(2, NULL);
    char urls[NK][512];
    for (int i = 0; i < NK; i++)
        rt_serve(srv, rt_kinds[i], urls[i], sizeof(urls[i]));
    XT_ASSERT(strncmp(urls[NK - 1], "tcp://127.0.0.1:", 16) == 0 &&
              strcmp(urls[NK - 1], "tcp://127.0.0.1:0") != 0);
    char tmp[8];
    XT_ERR(xipc_rpc_server_url(srv, NK, tmp, sizeof(tmp)), XIPC_ENOENT);
    XT_ERR(xipc_rpc_server_url(srv, 0, tmp, 4), XIPC_EMSGSIZE);
    xipc_rpc_client *c[NK];
    for (int i = 0; i < NK; i++)
        c[i] = rt_dial(urls[i]);
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < NK; i++) {
            int v = 0;
            XT_OK(xipc_rpc_callf(c[i], "add", "ii", round, i, "i", &v));
            XT_EQ(v, round + i);
        }
    }
    for (int i = 0; i < NK; i++)
        xipc_rpc_client_close(c[i]);
    /* schemes without connections cannot serve; bad URLs are refused */
    char url[128];
    snprintf(url, sizeof(url), "mailslot://rpct-%u", xipc_plat_getpid());
    XT_ERR(xipc_rpc_server_serve(srv, url), XIPC_ENOTSUP);
    XT_ERR(xipc_rpc_server_serve(srv, "unix://relative"), XIPC_EINVAL);
    XT_ERR(xipc_rpc_server_serve(srv, "tcp://127.0.0.1"), XIPC_EINVAL);
    XT_ERR(xipc_rpc_server_serve(srv, "nonsense"), XIPC_EINVAL);
    XT_ERR(xipc_rpc_server_serve(srv, urls[1]), XIPC_EADDRINUSE); /* pipe:// */
    xipc_rpc_server_free(srv);
}

/* ---- the in-flight limit ---- */

static void t_inflight(void)
{
    atomic_store(&rt_gate_open, 0);
    xipc_rpc_server_opts o;
    XT_OK(xipc_rpc_server_opts_init(&o));
    o.max_inflight = 2;
    xipc_rpc_server *srv = rt_server(1, &o);
    char url[512];
    rt_serve(srv, RT_STREAM, url, sizeof(url));
    xipc_rpc_client *c = rt_dial(url);
    xipc_rpc_future *a, *b;
    void *p;
    size_t pl;
    XT_OK(xipc_rpc_pack(&p, &pl, "ii", 3, 4));
    XT_OK(xipc_rpc_call_async(c, "wait_gate", NULL, 0, NULL, NULL, &a)); /* runs */
    rt_gate_wait_for(1);
    XT_OK(xipc_rpc_call_async(c, "add", p, pl, NULL, NULL, &b)); /* queued */
    /* the third is refused at once, that request only */
    int v;
    XT_ERR(xipc_rpc_callf(c, "add", "ii", 1, 2, "i", &v), XIPC_EREMOTE);
    int64_t code;
    const char *msg;
    XT_OK(xipc_rpc_last_error(&code, &msg));
    XT_EQ(code, XIPC_RPC_ETOO_MANY_REQUESTS);
    XT_ASSERT(strcmp(msg, "too many requests") == 0);
    atomic_store(&rt_gate_open, 1);
    XT_OK(xipc_rpc_future_wait(a, 30000));
    XT_OK(xipc_rpc_future_wait(b, 30000));
    /* the refusal came while the only worker still held the gate: the
     * gate was opened, not timed out (refusals do not wait for a worker) */
    xipc_rpc_result res;
    xipc_rpc_result_init(&res);
    char *s = NULL;
    XT_OK(xipc_rpc_future_result(a, &res));
    XT_OK(xipc_rpc_result_scanf(&res, "s", &s));
    XT_ASSERT(strcmp(s, "opened") == 0);
    xipc_rpc_free(s);
    xipc_rpc_result_fini(&res);
    XT_OK(xipc_rpc_future_result(b, NULL));
    XT_OK(xipc_rpc_callf(c, "add", "ii", 1, 2, "i", &v));
    XT_EQ(v, 3);
    xipc_rpc_future_free(a);
    xipc_rpc_future_free(b);
    xipc_rpc_free(p);
    xipc_rpc_client_close(c);
    xipc_rpc_server_free(srv);
}

/* ---- options ---- */

static void t_opts(void)
{
    xipc_rpc_server_opts so;
    xipc_rpc_client_opts co;
    xipc_rpc_server *srv;
    xipc_rpc_client *c;
    XT_ERR(xipc_rpc_server_opts_init(NULL), XIPC_EINVAL);
    XT_OK(xipc_rpc_server_opts_init(&so));
    XT_ASSERT(so.workers >= 1 && so.workers == xipc_plat_cpu_count());
    XT_EQ(so.max_msg, 16u << 20);
    XT_EQ(so.max_inflight, 1024);
    so.magic = 0;
    XT_ERR(xipc_rpc_server_alloc(&srv, &so), XIPC_EINVAL);
    XT_OK(xipc_rpc_server_opts_init(&so));
    so.max_depth = 65;
    XT_ERR(xipc_rpc_server_alloc(&srv, &so), XIPC_EINVAL);
    XT_OK(xipc_rpc_server_alloc(&srv, NULL)); /* defaults */
    xipc_rpc_server_free(srv);
    xipc_rpc_server_free(NULL);
    XT_OK(xipc_rpc_client_opts_init(&co));
    co.size = 3;
    XT_ERR(xipc_rpc_client_dial(&c, "unix://@x", &co, 0), XIPC_EINVAL);
    xipc_rpc_client_close(NULL);
    xipc_rpc_future_free(NULL);
    xipc_rpc_result_fini(NULL);
}

static void t_no_last_error_main(void *p)
{
    *(xipc_err *)p = xipc_rpc_last_error(NULL, NULL);
}

int main(void)
{
    xipc_err fresh;
    xipc_plat_thread th;
    XT_OK(xipc_plat_thread_create(&th, t_no_last_error_main, &fresh));
    xipc_plat_thread_join(&th);
    XT_ERR(fresh, XIPC_ENOENT);
    t_opts();
    for (size_t i = 0; i < RT_NKINDS; i++) {
        t_dispatch(rt_kinds[i]);
        t_out_of_order(rt_kinds[i]);
        t_threads(rt_kinds[i]);
        t_notify(rt_kinds[i]);
        t_stop(rt_kinds[i]);
        printf("rpc_test %s ok\n", rt_kinds[i]);
    }
    t_format();
    t_async();
    t_timeout();
    t_multi();
    t_inflight();
    printf("rpc_test ok\n");
    return 0;
}
