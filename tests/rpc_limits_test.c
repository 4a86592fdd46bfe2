/*
 * The RPC server's limits (docs/limits.md): a message over max_msg, a
 * request nested deeper than max_depth, more than max_inflight calls on
 * one connection, more than max_conns connections, more than
 * max_conns_per_peer connections of one peer, max_queued_bytes of
 * queued calls. Each one hits the offending peer only, with a clear
 * error where the protocol has a place for one, while a well-behaved
 * client on another connection keeps getting answers; the server's
 * counters say what happened. Over unix:// and tcp:// (read by the
 * server's poller) and shm:// and pipe:// (a reader thread each). Who a
 * peer is: the user over unix://, pipe:// and shm:// alike, the address
 * over tcp://. And a Unix socket dial into a full listen backlog waits
 * instead of failing. (Timeouts and buffers: rpc_slow_test.)
 */
#define _POSIX_C_SOURCE 200809L /* popen (run32.h) */
#include <stdlib.h>

#include "rpc/rpc_conn.h" /* xipc_rpc_peer */
#include "rpc_util.h"
#include "run32.h"

static const char *kinds[] = {"unix", "tcp", "shm", "pipe"};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

/* The good client still gets right answers. */
static void good_calls(xipc_rpc_client *good, int n)
{
    for (int i = 0; i < n; i++) {
        int64_t v = 0;
        XT_OK(xipc_rpc_callf(good, "add", "II", (int64_t)i, (int64_t)1000, "I", &v));
        XT_EQ(v, i + 1000);
    }
}

/* The last XIPC_EREMOTE of this thread was [@p code, @p text...]. */
static void expect_error(int64_t code, const char *text)
{
    int64_t got;
    const char *msg;
    XT_OK(xipc_rpc_last_error(&got, &msg));
    XT_EQ(got, code);
    if (strncmp(msg, text, strlen(text)) != 0)
        XT_FAIL("error message \"%s\", want \"%s...\"", msg, text);
}

static xipc_rpc_server_stats stats(xipc_rpc_server *srv)
{
    xipc_rpc_server_stats st;
    XT_OK(xipc_rpc_server_stats_get(srv, &st));
    return st;
}

/* Wait (up to 10 s) until the server serves exactly @p n connections. */
static void wait_conns(xipc_rpc_server *srv, uint64_t n)
{
    for (int i = 0; i < 10000 && stats(srv).conns != n; i++)
        xipc_plat_sleep_us(1000);
    XT_EQ(stats(srv).conns, n);
}

/* ---- max_msg and max_depth ---- */

static void t_size_depth(const char *kind)
{
    xipc_rpc_server_opts o;
    XT_OK(xipc_rpc_server_opts_init(&o));
    o.max_msg = 4096;
    o.max_depth = 8;
    xipc_rpc_server *srv = rt_server(2, &o);
    char url[512];
    rt_serve(srv, kind, url, sizeof(url));
    xipc_rpc_client *good = rt_dial(url);
    good_calls(good, 3);

    /* one byte over the limit: answered, then that connection is closed */
    xipc_rpc_client *bad = rt_dial(url);
    char *big = malloc(4097);
    XT_ASSERT(big != NULL);
    memset(big, 'x', 4096);
    big[4096] = '\0';
    char *back = NULL;
    XT_ERR(xipc_rpc_callf(bad, "echo", "s", big, "s", &back), XIPC_EREMOTE);
    expect_error(XIPC_RPC_EMSG_TOO_LARGE, "message too large: the limit is 4096 bytes");
    int v;
    XT_ERR(xipc_rpc_callf(bad, "add", "ii", 1, 2, "i", &v), XIPC_ECLOSED);
    xipc_rpc_client_close(bad);
    good_calls(good, 3);
    /* just under the limit is fine */
    big[4000] = '\0';
    void *echoed;
    size_t elen;
    XT_OK(xipc_rpc_callf(good, "echo", "s", big, "m", &echoed, &elen));
    XT_EQ(elen, 1 + 3 + 4000); /* [str 16 of 4000 bytes] */
    xipc_rpc_free(echoed);
    free(big);

    /* 9 levels (the envelope, params, then 7 arrays of one): answered, closed */
    static const uint8_t deep7[] = {0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x01};
    static const uint8_t deep6[] = {0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x01};
    bad = rt_dial(url);
    XT_ERR(xipc_rpc_callf(bad, "echo", "m", deep7, sizeof(deep7), "", NULL),
           XIPC_EREMOTE);
    expect_error(XIPC_RPC_EMSG_TOO_DEEP, "message too deep: the limit is 8 levels");
    XT_ERR(xipc_rpc_callf(bad, "add", "ii", 1, 2, "i", &v), XIPC_ECLOSED);
    xipc_rpc_client_close(bad);
    XT_OK(xipc_rpc_callf(good, "echo", "m", deep6, sizeof(deep6), "", NULL));
    good_calls(good, 3);

    xipc_rpc_server_stats st = stats(srv);
    XT_EQ(st.too_large, 1);
    XT_EQ(st.too_deep, 1);
    XT_EQ(st.malformed, 0);
    XT_EQ(st.accepted, 3);
    xipc_rpc_client_close(good);
    xipc_rpc_server_free(srv);
}

/* ---- max_inflight ---- */

static void t_inflight(const char *kind)
{
    atomic_store(&rt_gate_open, 0);
    xipc_rpc_server_opts o;
    XT_OK(xipc_rpc_server_opts_init(&o));
    o.max_inflight = 2;
    xipc_rpc_server *srv = rt_server(3, &o);
    char url[512];
    rt_serve(srv, kind, url, sizeof(url));
    xipc_rpc_client *good = rt_dial(url);
    xipc_rpc_client *bad = rt_dial(url);
    xipc_rpc_future *f[2];
    for (int i = 0; i < 2; i++)
        XT_OK(xipc_rpc_call_async(bad, "wait_gate", NULL, 0, NULL, NULL, &f[i]));
    rt_gate_wait_for(2);
    /* a third call of that connection is refused at once, not queued */
    int v;
    for (int i = 0; i < 5; i++) {
        XT_ERR(xipc_rpc_callf(bad, "add", "ii", 1, 2, "i", &v), XIPC_EREMOTE);
        expect_error(XIPC_RPC_ETOO_MANY_REQUESTS, "too many requests");
    }
    good_calls(good, 5); /* a third worker answers the other connection */
    atomic_store(&rt_gate_open, 1);
    for (int i = 0; i < 2; i++) {
        XT_OK(xipc_rpc_future_wait(f[i], 30000));
        XT_OK(xipc_rpc_future_result(f[i], NULL));
        xipc_rpc_future_free(f[i]);
    }
    /* not fatal: the connection goes on */
    XT_OK(xipc_rpc_callf(bad, "add", "ii", 1, 2, "i", &v));
    XT_EQ(v, 3);
    XT_EQ(stats(srv).refused_calls, 5);
    xipc_rpc_client_close(bad);
    xipc_rpc_client_close(good);
    xipc_rpc_server_free(srv);
}

/* ---- max_conns ---- */

static void t_conns(const char *kind)
{
    xipc_rpc_server_opts o;
    XT_OK(xipc_rpc_server_opts_init(&o));
    o.max_conns = 2;
    xipc_rpc_server *srv = rt_server(2, &o);
    char url[512];
    rt_serve(srv, kind, url, sizeof(url));
    xipc_rpc_client *c1 = rt_dial(url);
    xipc_rpc_client *c2 = rt_dial(url);
    good_calls(c1, 2);
    good_calls(c2, 2);
    wait_conns(srv, 2);

    /* a third: its first request is answered so, then it is closed; a
     * notification before it changes nothing */
    xipc_rpc_client *c3 = rt_dial(url);
    XT_OK(xipc_rpc_notifyf(c3, "note", ""));
    int v;
    XT_ERR(xipc_rpc_callf(c3, "add", "ii", 1, 2, "i", &v), XIPC_EREMOTE);
    expect_error(XIPC_RPC_ETOO_MANY_CONNECTIONS, "too many connections");
    XT_ERR(xipc_rpc_callf(c3, "add", "ii", 1, 2, "i", &v), XIPC_ECLOSED);
    xipc_rpc_client_close(c3);
    /* a fourth that sends nothing is closed after a second */
    xipc_rpc_client *c4 = rt_dial(url);
    uint64_t t0 = xipc_plat_now_ns();
    for (int i = 0; i < 5000; i++) {
        if (xipc_rpc_notifyf(c4, "note", "") != XIPC_OK)
            break;
        xipc_plat_sleep_us(1000);
    }
    XT_ERR(xipc_rpc_callf(c4, "add", "ii", 1, 2, "i", &v), XIPC_ECLOSED);
    uint64_t ms = (xipc_plat_now_ns() - t0) / 1000000u;
    XT_ASSERT(ms >= 500 && ms < xt_bound_ms("idle close", 5000, 0));
    xipc_rpc_client_close(c4);
    good_calls(c1, 2);
    good_calls(c2, 2);
    xipc_rpc_server_stats st = stats(srv);
    XT_EQ(st.refused_conns, 2);
    XT_EQ(st.conns, 2);
    XT_EQ(st.accepted, 2);

    /* room again once one leaves */
    xipc_rpc_client_close(c1);
    wait_conns(srv, 1);
    xipc_rpc_client *c5 = rt_dial(url);
    good_calls(c5, 2);
    good_calls(c2, 2);
    XT_EQ(stats(srv).accepted, 3);
    xipc_rpc_client_close(c5);
    xipc_rpc_client_close(c2);
    xipc_rpc_server_free(srv);
}

/* ---- max_conns_per_peer ---- */

/* @p c's first call is refused as over max_conns_per_peer, then it is
 * closed. */
static void expect_peer_refused(xipc_rpc_client *c)
{
    int v;
    XT_ERR(xipc_rpc_callf(c, "add", "ii", 1, 2, "i", &v), XIPC_EREMOTE);
    expect_error(XIPC_RPC_ETOO_MANY_PEER_CONNECTIONS, "too many connections from this peer");
    XT_ERR(xipc_rpc_callf(c, "add", "ii", 1, 2, "i", &v), XIPC_ECLOSED);
}

static void t_peer(const char *kind)
{
    xipc_rpc_server_opts o;
    XT_OK(xipc_rpc_server_opts_init(&o));
    o.max_conns_per_peer = 3;
    xipc_rpc_server *srv = rt_server(2, &o);
    char url[512];
    rt_serve(srv, kind, url, sizeof(url));
    xipc_rpc_client *c[3];
    for (int i = 0; i < 3; i++) {
        c[i] = rt_dial(url);
        good_calls(c[i], 2);
    }
    wait_conns(srv, 3);
    /* a fourth of this process (one user, one address): refused so, its
     * notification before the request changing nothing */
    xipc_rpc_client *c4 = rt_dial(url);
    XT_OK(xipc_rpc_notifyf(c4, "note", ""));
    expect_peer_refused(c4);
    xipc_rpc_client_close(c4);
    for (int i = 0; i < 3; i++)
        good_calls(c[i], 2);
    xipc_rpc_server_stats st = stats(srv);
    XT_EQ(st.refused_peer, 1);
    XT_EQ(st.refused_conns, 0);
    XT_EQ(st.accepted, 3);
    XT_EQ(st.conns, 3);
    /* room again once one leaves */
    xipc_rpc_client_close(c[0]);
    wait_conns(srv, 2);
    c[0] = rt_dial(url);
    good_calls(c[0], 2);
    XT_EQ(stats(srv).accepted, 4);
    XT_EQ(stats(srv).refused_peer, 1);
    for (int i = 0; i < 3; i++)
        xipc_rpc_client_close(c[i]);
    xipc_rpc_server_free(srv);
}

/* One server on every scheme: unix://, pipe:// and shm:// connections are
 * all this user's, tcp:// ones 127.0.0.1's — two peers, each with its
 * own max_conns_per_peer. */
static void t_peer_mix(void)
{
    xipc_rpc_server_opts o;
    XT_OK(xipc_rpc_server_opts_init(&o));
    o.max_conns_per_peer = 2;
    xipc_rpc_server *srv = rt_server(2, &o);
    char ux[512], sh[512], pi[512], tc[512];
    rt_serve(srv, "unix", ux, sizeof(ux));
    rt_serve(srv, "shm", sh, sizeof(sh));
    rt_serve(srv, "pipe", pi, sizeof(pi));
    rt_serve(srv, "tcp", tc, sizeof(tc));
    xipc_rpc_client *u = rt_dial(ux), *s = rt_dial(sh);
    good_calls(u, 1);
    good_calls(s, 1);
    wait_conns(srv, 2);
    xipc_rpc_client *p = rt_dial(pi); /* the same user: its third */
    expect_peer_refused(p);
    xipc_rpc_client_close(p);
    xipc_rpc_client *t1 = rt_dial(tc), *t2 = rt_dial(tc); /* another peer */
    good_calls(t1, 1);
    good_calls(t2, 1);
    wait_conns(srv, 4);
    xipc_rpc_client *t3 = rt_dial(tc);
    expect_peer_refused(t3);
    xipc_rpc_client_close(t3);
    xipc_rpc_server_stats st = stats(srv);
    XT_EQ(st.refused_peer, 2);
    XT_EQ(st.accepted, 4);
    xipc_rpc_client_close(t2);
    xipc_rpc_client_close(t1);
    xipc_rpc_client_close(s);
    xipc_rpc_client_close(u);
    xipc_rpc_server_free(srv);
}

/* Who the other end of an RPC connection is, as the server asks it. */
static void t_identity(void)
{
    static const char *local[] = {"unix", "shm", "pipe"};
    xipc_rpc_limits lim = {1u << 20, 16};
    xipc_rpc_server *srv = rt_server(1, NULL);
    char url[512];
    uint32_t uid = xipc_plat_getuid();
    xipc_rpc_conn *c;
    for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
        rt_serve(srv, local[i], url, sizeof(url));
        XT_OK(xipc__rpc_conn_dial(&c, url, &lim, NULL, 10000));
        XT_EQ(c->peer.kind, XIPC_RPC_PEER_UID);
        XT_ASSERT(memcmp(c->peer.addr, &uid, sizeof(uid)) == 0);
        xipc__rpc_conn_close(c);
    }
    rt_serve(srv, "tcp", url, sizeof(url));
    XT_OK(xipc__rpc_conn_dial(&c, url, &lim, NULL, 10000));
    XT_EQ(c->peer.kind, XIPC_RPC_PEER_IPV4);
    XT_ASSERT(memcmp(c->peer.addr, "\x7f\x00\x00\x01\0\0\0\0", 8) == 0);
    xipc__rpc_conn_close(c);
    /* IPv6: by its /64 prefix (::1's is all zeros), where the host has it */
    if (xipc_rpc_server_serve(srv, "tcp://[::1]:0") == XIPC_OK) {
        unsigned n = 0;
        while (xipc_rpc_server_url(srv, n + 1, url, sizeof(url)) == XIPC_OK)
            n++;
        XT_OK(xipc_rpc_server_url(srv, n, url, sizeof(url)));
        XT_OK(xipc__rpc_conn_dial(&c, url, &lim, NULL, 10000));
        XT_EQ(c->peer.kind, XIPC_RPC_PEER_IPV6);
        XT_ASSERT(memcmp(c->peer.addr, "\0\0\0\0\0\0\0\0", 8) == 0);
        xipc__rpc_conn_close(c);
    } else {
        printf("rpc_limits_test: no IPv6 loopback here, its identity untested\n");
    }
    xipc_rpc_server_free(srv);
}

/* ---- max_queued_bytes: back-pressure, no error ---- */

static void t_backpressure(void)
{
    atomic_store(&rt_gate_open, 0);
    xipc_rpc_server_opts o;
    XT_OK(xipc_rpc_server_opts_init(&o));
    o.max_queued_bytes = 1; /* every connection: one call at a time */
    xipc_rpc_server *srv = rt_server(2, &o);
    char url[512];
    rt_serve(srv, "unix", url, sizeof(url));
    xipc_rpc_client *good = rt_dial(url);
    xipc_plat_sock fd;
    XT_OK(xipc_plat_unix_dial(url + 8, 1, 10000, &fd)); /* unix://@NAME */
    /* [0, i, "wait_gate", [bin 1000]] until the socket takes no more */
    uint8_t req[1100];
    xipc_mp_buf b;
    int sent = 0;
    for (;;) {
        uint8_t pad[1000] = {0};
        xipc_mp_buf_init_fixed(&b, req, sizeof(req));
        xipc_mp_write_array(&b, 4);
        xipc_mp_write_uint(&b, 0);
        xipc_mp_write_uint(&b, (uint64_t)sent);
        xipc_mp_write_cstr(&b, "wait_gate");
        xipc_mp_write_array(&b, 1);
        xipc_mp_write_bin(&b, pad, sizeof(pad));
        XT_OK(b.err);
        xipc_plat_iov iov = {b.data, b.len};
        size_t n = 0;
        xipc_err rv = xipc_plat_sock_sendv(fd, &iov, 1, &n, 200);
        if (rv == XIPC_ETIMEDOUT) { /* full: finish a piece begun */
            if (n > 0) {
                iov.base = b.data + n;
                iov.len = b.len - n;
                sent++;
                rv = xipc_plat_sock_sendv(fd, &iov, 1, &n, -1);
                XT_OK(rv);
            }
            break;
        }
        XT_OK(rv);
        sent++;
        XT_ASSERT(sent < 100000);
    }
    XT_ASSERT(sent > 20); /* the kernel's buffers held many */
    rt_gate_wait_for(1);
    /* the server took one of them; the others wait in the socket */
    good_calls(good, 5);
    XT_EQ(stats(srv).calls, 1 + 5);
    XT_EQ(atomic_load(&rt_gate_waiting), 1);
    /* open the gate: every call is answered, none refused */
    atomic_store(&rt_gate_open, 1);
    uint8_t buf[64];
    for (int i = 0; i < sent; i++) {
        /* [1, i, nil, "opened"] */
        size_t got = 0, k;
        uint8_t hdr[3];
        while (got < 3) {
            XT_OK(xipc_plat_sock_recv(fd, hdr + got, 3 - got, &k, 30000));
            got += k;
        }
        XT_EQ(hdr[0], 0x94);
        XT_EQ(hdr[1], 0x01);
        size_t rest = hdr[2] <= 0x7f ? 1 + 7 : hdr[2] == 0xcc ? 2 + 7 : 3 + 7;
        got = 0;
        while (got < rest) {
            XT_OK(xipc_plat_sock_recv(fd, buf + got, rest - got, &k, 30000));
            got += k;
        }
        XT_EQ(buf[rest - 8], 0xc0); /* no error */
        XT_ASSERT(memcmp(buf + rest - 7, "\xa6opened", 7) == 0);
    }
    xipc_plat_sock_close(fd);
    xipc_rpc_server_stats st = stats(srv);
    XT_EQ(st.calls, (uint64_t)sent + 5);
    XT_EQ(st.refused_calls, 0);
    good_calls(good, 2);
    xipc_rpc_client_close(good);
    xipc_rpc_server_free(srv);
}

/* ---- the listen backlog ---- */

typedef struct late_dial {
    xipc_err rv;
    xipc_plat_sock fd;
    char name[64];
} late_dial;

static void late_dial_main(void *arg)
{
    late_dial *d = arg;
    d->rv = xipc_plat_unix_dial(d->name, 1, 10000, &d->fd);
}

/* A Unix socket listener whose backlog is full: a dial waits (and times
 * out) instead of returning a socket that never connected, and completes
 * once the listener accepts. */
static void t_backlog(void)
{
    late_dial d = {XIPC_EINVAL, XIPC_PLAT_SOCK_NONE, ""};
    xipc_plat_sock l, q[8], acc[9];
    int k = 0;
    xipc_err rv = XIPC_OK;
    snprintf(d.name, sizeof(d.name), "xipc-limits-%u-backlog", (unsigned)xipc_plat_getpid());
    XT_OK(xipc_plat_unix_listen(d.name, 1, 1, &l));
    /* fill the queue (Linux takes backlog + 1); the next dial must wait,
     * then time out */
    while (k < 8 && (rv = xipc_plat_unix_dial(d.name, 1, 300, &q[k])) == XIPC_OK)
        k++;
    XT_ERR(rv, XIPC_ETIMEDOUT);
    XT_ASSERT(k >= 1);
    xipc_plat_thread th;
    XT_OK(xipc_plat_thread_create(&th, late_dial_main, &d));
    xipc_plat_sleep_us(100000); /* it waits */
    XT_ERR(d.rv, XIPC_EINVAL);
    for (int i = 0; i <= k; i++) { /* room: it gets in, and is connected */
        XT_OK(xipc_plat_sock_accept(l, 5000, &acc[i]));
        if (i == 0)
            xipc_plat_thread_join(&th);
    }
    XT_OK(d.rv);
    xipc_plat_iov iov = {"z", 1};
    size_t n;
    XT_OK(xipc_plat_sock_sendv(d.fd, &iov, 1, &n, 1000));
    uint8_t byte = 0;
    int found = 0;
    for (int i = 0; i <= k; i++)
        if (xipc_plat_sock_recv(acc[i], &byte, 1, &n, 100) == XIPC_OK && byte == 'z')
            found++;
    XT_EQ(found, 1);
    for (int i = 0; i <= k; i++)
        xipc_plat_sock_close(acc[i]);
    for (int i = 0; i < k; i++)
        xipc_plat_sock_close(q[i]);
    xipc_plat_sock_close(d.fd);
    xipc_plat_sock_close(l);
}

/* ---- options ---- */

static void t_opts(void)
{
    xipc_rpc_server_opts o;
    xipc_rpc_server *srv;
    XT_OK(xipc_rpc_server_opts_init(&o));
    XT_EQ(o.max_conns, 4096);
    XT_EQ(o.max_msg, 16u << 20);
    XT_EQ(o.max_depth, 64);
    XT_EQ(o.max_inflight, 1024);
    XT_EQ(o.max_queued_bytes, 64u << 20);
    XT_EQ(o.max_conns_per_peer, 1024);
    XT_EQ(o.first_request_timeout_ms, 10000);
    XT_EQ(o.idle_timeout_ms, 300000);
    o.max_conns = 0;
    XT_ERR(xipc_rpc_server_alloc(&srv, &o), XIPC_EINVAL);
    XT_ERR(xipc_rpc_server_stats_get(NULL, NULL), XIPC_EINVAL);
    /* each bad value alone: EINVAL; -1 (no timeout) is fine */
    static const struct {
        uint32_t per_peer;
        int first, idle;
        xipc_err want;
    } cases[] = {
        {0, 10000, 300000, XIPC_EINVAL}, {1, 10000, 300000, XIPC_OK},
        {1024, 0, 300000, XIPC_EINVAL},  {1024, -2, 300000, XIPC_EINVAL},
        {1024, 10000, 0, XIPC_EINVAL},   {1024, 10000, -2, XIPC_EINVAL},
        {1024, -1, -1, XIPC_OK},         {1024, 1, 1, XIPC_OK},
        {1024, 2147483647, 2147483647, XIPC_OK},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        XT_OK(xipc_rpc_server_opts_init(&o));
        o.workers = 1;
        o.max_conns_per_peer = cases[i].per_peer;
        o.first_request_timeout_ms = cases[i].first;
        o.idle_timeout_ms = cases[i].idle;
        srv = NULL;
        XT_ERR(xipc_rpc_server_alloc(&srv, &o), cases[i].want);
        XT_ASSERT((srv != NULL) == (cases[i].want == XIPC_OK));
        xipc_rpc_server_free(srv);
    }
    /* a struct from a build whose options ended at max_conns: refused,
     * never read past its end */
    XT_OK(xipc_rpc_server_opts_init(&o));
    o.size = (uint32_t)(offsetof(xipc_rpc_server_opts, max_conns) + sizeof(o.max_conns));
    XT_ERR(xipc_rpc_server_alloc(&srv, &o), XIPC_EINVAL);
}

int main(void)
{
    t_opts();
    for (size_t i = 0; i < NKINDS; i++) {
        t_size_depth(kinds[i]);
        t_inflight(kinds[i]);
        t_conns(kinds[i]);
        t_peer(kinds[i]);
        printf("rpc_limits_test %s ok\n", kinds[i]);
    }
    t_peer_mix();
    t_identity();
    t_backpressure();
    t_backlog();
    printf("rpc_limits_test ok\n");
    return 0;
}
