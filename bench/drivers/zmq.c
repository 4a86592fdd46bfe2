/*
 * ZeroMQ (libzmq) over ipc:// and tcp://, PAIR sockets: the closest
 * ZeroMQ has to a two-party channel. The forked child makes its own
 * context after the fork and connects (ZeroMQ retries on its own); the
 * parent binds. Same protocol as the xipc drivers: rtt echoes every
 * message; a stream is consumed and a 1-byte message answered with one
 * byte; 0 bytes end. zmq_send/zmq_recv copy, as xipc_send/xipc_recv do.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "drivers/drivers.h"
#include "harness/cpu.h"
#include "harness/pconn.h"
#include "harness/peer.h"
#include "harness/runner.h"
#include "harness/util.h"

#define ZB_TIMEOUT_MS 10000
#define ZB_PEER_MS 30000
#define ZB_MAX_MSG 65536u

typedef struct zb_args {
    char url[160];
    int rtt;
    bench_cpu *cpu;
} zb_args;

struct bench_conn {
    bench_pconn p; /* first: see pconn.h */
    void *ctx, *sock;
};
_Static_assert(offsetof(struct bench_conn, p) == 0, "bench_pconn_alloc needs it first");

static int zb_fail(const char *what)
{
    bench_set_error("%s: %s", what, zmq_strerror(zmq_errno()));
    return -1;
}

static void *zb_socket(void *ctx, int timeout_ms)
{
    void *s = zmq_socket(ctx, ZMQ_PAIR);
    int linger = 0;
    if (s != NULL) {
        zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout_ms, sizeof(timeout_ms));
        zmq_setsockopt(s, ZMQ_SNDTIMEO, &timeout_ms, sizeof(timeout_ms));
        zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
    }
    return s;
}

static int zb_peer_main(void *arg)
{
    const zb_args *a = arg;
    void *ctx = zmq_ctx_new();
    void *s = ctx ? zb_socket(ctx, ZB_PEER_MS) : NULL;
    uint8_t *buf = malloc(ZB_MAX_MSG);
    int rc = 1;
    if (s != NULL && buf != NULL && zmq_connect(s, a->url) == 0) {
        bench_cpu_start(a->cpu);
        for (;;) {
            int n = zmq_recv(s, buf, ZB_MAX_MSG, 0);
            if (n <= 0) {
                rc = n < 0;
                break;
            }
            if ((a->rtt || n == 1) && zmq_send(s, buf, a->rtt ? (size_t)n : 1, 0) < 0)
                break;
        }
        bench_cpu_report(a->cpu);
    }
    if (rc != 0)
        fprintf(stderr, "xipc: bench: zmq peer %s: %s\n", a->url, zmq_strerror(zmq_errno()));
    if (s != NULL)
        zmq_close(s);
    if (ctx != NULL)
        zmq_ctx_term(ctx);
    free(buf);
    return rc;
}

static int zb_close(bench_conn *c)
{
    if (c == NULL)
        return 0;
    if (c->sock != NULL) {
        zmq_send(c->sock, c->p.buf, 0, 0); /* the end */
        zmq_close(c->sock);
    }
    if (c->ctx != NULL)
        zmq_ctx_term(c->ctx);
    return bench_pconn_end(&c->p, NULL);
}

static int zb_open(bench_conn **out, const bench_cfg *cfg, int tcp)
{
    *out = NULL;
    if (cfg->size < 2 || cfg->size > ZB_MAX_MSG) {
        bench_set_error("message size %zu outside 2..%u", cfg->size, ZB_MAX_MSG);
        return -1;
    }
    bench_conn *c = bench_pconn_alloc(sizeof(*c), cfg->size, cfg);
    if (c == NULL)
        return -1;
    zb_args a = {.rtt = cfg->rtt, .cpu = &c->p.cpu};
    const char *dir = bench_tmpdir();
    int port = tcp ? bench_free_port() : 0;
    int rc = 0;
    if (tcp ? port < 0 : dir == NULL)
        rc = (bench_set_error("no free port or temporary directory"), -1);
    else if (tcp)
        snprintf(a.url, sizeof(a.url), "tcp://127.0.0.1:%d", port);
    else
        snprintf(a.url, sizeof(a.url), "ipc://%.60s/z.%.40s", dir, cfg->name);
    if (rc == 0)
        rc = bench_cpu_open(&c->p.cpu) != 0 || bench_peer_start(&c->p.peer, zb_peer_main, &a) != 0;
    if (rc == 0) {
        bench_cpu_parent(&c->p.cpu);
        if ((c->ctx = zmq_ctx_new()) == NULL || (c->sock = zb_socket(c->ctx, ZB_TIMEOUT_MS)) == NULL)
            rc = zb_fail("zmq_socket");
        else if (zmq_bind(c->sock, a.url) != 0)
            rc = zb_fail("zmq_bind");
    }
    if (rc != 0)
        return bench_close_failed(zb_close, c);
    *out = c;
    return 0;
}

static int zb_open_ipc(bench_conn **out, const bench_cfg *cfg)
{
    return zb_open(out, cfg, 0);
}

static int zb_open_tcp(bench_conn **out, const bench_cfg *cfg)
{
    return zb_open(out, cfg, 1);
}

static int zb_rtt(bench_conn *c)
{
    if (zmq_send(c->sock, c->p.buf, c->p.size, 0) < 0)
        return zb_fail("zmq_send");
    int n = zmq_recv(c->sock, c->p.buf, c->p.size, 0);
    if (n < 0)
        return zb_fail("zmq_recv");
    if ((size_t)n != c->p.size) {
        bench_set_error("zmq_recv: echo of %zu bytes came back as %d", c->p.size, n);
        return -1;
    }
    return 0;
}

static int zb_put(bench_conn *c)
{
    return zmq_send(c->sock, c->p.buf, c->p.size, 0) < 0 ? zb_fail("zmq_send") : 0;
}

static int zb_sync(bench_conn *c)
{
    uint8_t b = 1;
    if (zmq_send(c->sock, &b, 1, 0) < 0)
        return zb_fail("zmq_send (sync)");
    return zmq_recv(c->sock, &b, 1, 0) < 0 ? zb_fail("zmq_recv (ack)") : 0;
}

const bench_drv bench_drv_zmq_ipc = {
    .transport = "ipc", .impl = "zmq", .open = zb_open_ipc,
    .rtt = zb_rtt, .put = zb_put, .sync = zb_sync, .close = zb_close,
};

const bench_drv bench_drv_zmq_tcp = {
    .transport = "tcp", .impl = "zmq", .open = zb_open_tcp,
    .rtt = zb_rtt, .put = zb_put, .sync = zb_sync, .close = zb_close,
};
