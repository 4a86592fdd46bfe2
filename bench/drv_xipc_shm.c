/*
 * xipc over shm://, through the public API only. The parent listens on a
 * name unique to the case and run; the forked child dials it by that name.
 *
 * Protocol on the connection (xconn.h; the peer tells the kinds apart by
 * length):
 *   rtt:        the peer echoes every message; a 0-byte message ends it.
 *   throughput: the peer consumes messages of the case's size; a 1-byte
 *               message asks for a 1-byte ack (sync); 0 bytes end it.
 * Four drivers: copy path with the default spin, copy path with
 * spin_us = 0 (sleep on the futex at once), the zero-copy path
 * (reserve/commit, peek/release) where the producer fills each message in
 * place and the consumer reads every word of it in place, and the copy
 * path against a peer of the other bitness: the --peer32 xipc, exec'd
 * through scripts/run32 ("xipc bench --shm-peer URL MODE").
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xipc/xipc.h"

#include "drv.h"
#include "drvs.h"
#include "exec.h"
#include "runner.h"
#include "peer.h"
#include "xconn.h"

#define SHM_BENCH_DIAL_NAP_US 500 /* between the peer's dials */
#define SHM_BENCH_SPIN_DEFAULT UINT32_MAX

typedef struct shm_bench_args {
    char url[96];
    uint32_t spin_us; /* SHM_BENCH_SPIN_DEFAULT: keep the library default */
    int rtt;
    int zc;
} shm_bench_args;

struct bench_conn {
    xconn x; /* first: xconn_alloc() */
    uint8_t fill;
};
_Static_assert(offsetof(bench_conn, x) == 0, "xconn_alloc() allocates bench_conn");

static volatile uint64_t shm_bench_sink; /* keeps the in-place reads alive */

static int shm_bench_fail(const char *what, xipc_err rv)
{
    bench_set_error("%s: %s (%s)", what, xipc_err_name(rv), xipc_strerror(rv));
    return -1;
}

static void shm_bench_opts(xipc_opts *o, uint32_t spin_us)
{
    xipc_opts_init(o);
    if (spin_us != SHM_BENCH_SPIN_DEFAULT)
        o->spin_us = spin_us;
}

/* ---- the peer (child process) ----------------------------------------------- */

static xipc_err shm_peer_echo(xipc_sock *s, uint8_t *buf)
{
    for (;;) {
        size_t n;
        xipc_err rv = xipc_recv(s, buf, XCONN_MAX_MSG, &n, XCONN_PEER_MS);
        if (rv != XIPC_OK || n == 0)
            return rv;
        if ((rv = xipc_send(s, buf, n, XCONN_PEER_MS)) != XIPC_OK)
            return rv;
    }
}

static xipc_err shm_peer_ack(xipc_sock *s)
{
    uint8_t ack = 1;
    return xipc_send(s, &ack, 1, XCONN_PEER_MS);
}

static xipc_err shm_peer_sink(xipc_sock *s, uint8_t *buf)
{
    for (;;) {
        size_t n;
        xipc_err rv = xipc_recv(s, buf, XCONN_MAX_MSG, &n, XCONN_PEER_MS);
        if (rv != XIPC_OK || n == 0)
            return rv;
        if (n == 1 && (rv = shm_peer_ack(s)) != XIPC_OK)
            return rv;
    }
}

/* Read every 8-byte word of a message in place. */
static void shm_peer_read(const uint8_t *p, size_t n)
{
    uint64_t acc = 0, w;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        memcpy(&w, p + i, 8);
        acc ^= w;
    }
    shm_bench_sink = acc;
}

static xipc_err shm_peer_sink_zc(xipc_sock *s)
{
    for (;;) {
        const void *p;
        size_t n;
        xipc_err rv = xipc_peek(s, &p, &n, XCONN_PEER_MS);
        if (rv != XIPC_OK)
            return rv;
        shm_peer_read(p, n);
        if ((rv = xipc_release(s)) != XIPC_OK || n == 0)
            return rv;
        if (n == 1 && (rv = shm_peer_ack(s)) != XIPC_OK)
            return rv;
    }
}

static int shm_peer_main(void *arg)
{
    const shm_bench_args *a = arg;
    xipc_opts o;
    shm_bench_opts(&o, a->spin_us);
    xipc_sock *s;
    xipc_err rv = xconn_dial(&s, a->url, &o, SHM_BENCH_DIAL_NAP_US);
    if (rv != XIPC_OK)
        return 1;
    uint8_t *buf = malloc(XCONN_MAX_MSG);
    if (buf == NULL)
        rv = XIPC_ENOMEM;
    else if (a->rtt)
        rv = shm_peer_echo(s, buf);
    else
        rv = a->zc ? shm_peer_sink_zc(s) : shm_peer_sink(s, buf);
    xipc_close(s);
    free(buf);
    return xconn_peer_exit(rv);
}

int bench_shm_peer_main(const char *url, const char *mode)
{
    shm_bench_args a = {.spin_us = SHM_BENCH_SPIN_DEFAULT, .rtt = strcmp(mode, "rtt") == 0};
    if ((size_t)snprintf(a.url, sizeof(a.url), "%s", url) >= sizeof(a.url)) {
        fprintf(stderr, "xipc: bench: --shm-peer: URL too long\n");
        return 1;
    }
    return shm_peer_main(&a);
}

/* ---- the measuring side (parent) ---------------------------------------------- */

static int shm_bench_close(bench_conn *c)
{
    if (c == NULL)
        return 0;
    int rc = xconn_stop(&c->x);
    free(c);
    return rc;
}

static int shm_bench_open_with(bench_conn **out, const bench_cfg *cfg,
                               uint32_t spin_us, int zc)
{
    *out = NULL;
    bench_conn *c = xconn_alloc(sizeof(*c), cfg, shm_bench_fail);
    if (c == NULL)
        return -1;
    shm_bench_args a = {.spin_us = spin_us, .rtt = cfg->rtt, .zc = zc};
    snprintf(a.url, sizeof(a.url), "shm://%s", cfg->name);
    xipc_opts o;
    shm_bench_opts(&o, spin_us);
    if (bench_peer_start(&c->x.peer, shm_peer_main, &a) != 0 ||
        xconn_accept(&c->x, a.url, &o) != 0)
        return bench_close_failed(shm_bench_close, c);
    *out = c;
    return 0;
}

static const char *shm_xbit_prog;

void bench_drv_shm_xbit_peer(const char *prog)
{
    shm_xbit_prog = prog;
}

static int shm_bench_open_xbit(bench_conn **out, const bench_cfg *cfg)
{
    *out = NULL;
    if (shm_xbit_prog == NULL) {
        bench_set_error("no other-bitness xipc given (--peer32)");
        return -1;
    }
    bench_conn *c = xconn_alloc(sizeof(*c), cfg, shm_bench_fail);
    if (c == NULL)
        return -1;
    char url[96];
    snprintf(url, sizeof(url), "shm://%s", cfg->name);
    char *args[] = {"bench", "--shm-peer", url, cfg->rtt ? "rtt" : "thr", NULL};
    char *argv[BENCH_EXEC_ARGS + 3];
    xipc_opts o;
    shm_bench_opts(&o, SHM_BENCH_SPIN_DEFAULT);
    if (bench_exec_argv(argv, shm_xbit_prog, args) == NULL ||
        bench_peer_exec(&c->x.peer, argv) != 0 || xconn_accept(&c->x, url, &o) != 0)
        return bench_close_failed(shm_bench_close, c);
    *out = c;
    return 0;
}

static int shm_bench_open(bench_conn **out, const bench_cfg *cfg)
{
    return shm_bench_open_with(out, cfg, SHM_BENCH_SPIN_DEFAULT, 0);
}

static int shm_bench_open_nospin(bench_conn **out, const bench_cfg *cfg)
{
    return shm_bench_open_with(out, cfg, 0, 0);
}

static int shm_bench_open_zc(bench_conn **out, const bench_cfg *cfg)
{
    return shm_bench_open_with(out, cfg, SHM_BENCH_SPIN_DEFAULT, 1);
}

static int shm_bench_rtt(bench_conn *c)
{
    return xconn_rtt(&c->x);
}

static int shm_bench_put(bench_conn *c)
{
    return xconn_put(&c->x);
}

static int shm_bench_put_zc(bench_conn *c)
{
    void *p;
    xipc_err rv = xipc_reserve(c->x.sock, c->x.size, &p, XCONN_TIMEOUT_MS);
    if (rv != XIPC_OK)
        return shm_bench_fail("xipc_reserve", rv);
    memset(p, c->fill++, c->x.size); /* the message is made where it lies */
    rv = xipc_commit(c->x.sock, c->x.size);
    return rv == XIPC_OK ? 0 : shm_bench_fail("xipc_commit", rv);
}

static int shm_bench_sync(bench_conn *c)
{
    return xconn_sync(&c->x);
}

const bench_drv bench_drv_shm = {
    .transport = "shm",
    .impl = "xipc",
    .open = shm_bench_open,
    .rtt = shm_bench_rtt,
    .put = shm_bench_put,
    .sync = shm_bench_sync,
    .close = shm_bench_close,
};

const bench_drv bench_drv_shm_nospin = {
    .transport = "shm-nospin",
    .impl = "xipc",
    .open = shm_bench_open_nospin,
    .rtt = shm_bench_rtt,
    .put = shm_bench_put,
    .sync = shm_bench_sync,
    .close = shm_bench_close,
};

const bench_drv bench_drv_shm_xbit = {
    .transport = "shm-xbit",
    .impl = "xipc",
    .open = shm_bench_open_xbit,
    .rtt = shm_bench_rtt,
    .put = shm_bench_put,
    .sync = shm_bench_sync,
    .close = shm_bench_close,
};

const bench_drv bench_drv_shm_zc = {
    .transport = "shm-zc",
    .impl = "xipc",
    .open = shm_bench_open_zc,
    .rtt = shm_bench_rtt,
    .put = shm_bench_put_zc,
    .sync = shm_bench_sync,
    .close = shm_bench_close,
};
