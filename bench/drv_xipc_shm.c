/*
 * xipc over shm://, through the public API only. The parent listens on a
 * name unique to the case and run; the forked child dials it by that name.
 *
 * Protocol on the connection (the peer tells the kinds apart by length):
 *   rtt:        the peer echoes every message; a 0-byte message ends it.
 *   throughput: the peer consumes messages of the case's size; a 1-byte
 *               message asks for a 1-byte ack (sync); 0 bytes end it.
 * Three drivers: copy path with the default spin, copy path with
 * spin_us = 0 (sleep on the futex at once), and the zero-copy path
 * (reserve/commit, peek/release) where the producer fills each message in
 * place and the consumer reads every word of it in place.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xipc/xipc.h"

#include "drv.h"
#include "harness.h"
#include "peer.h"

#define SHM_BENCH_TIMEOUT_MS 10000 /* one operation; far above any sample */
#define SHM_BENCH_PEER_MS 30000    /* the peer waits this long for the next */
#define SHM_BENCH_DIAL_MS 5000
#define SHM_BENCH_MAX_MSG 65536u
#define SHM_BENCH_SPIN_DEFAULT UINT32_MAX

typedef struct shm_bench_args {
    char url[96];
    uint32_t spin_us; /* SHM_BENCH_SPIN_DEFAULT: keep the library default */
    int rtt;
    int zc;
} shm_bench_args;

struct bench_conn {
    xipc_sock *sock;
    bench_peer peer;
    size_t size;
    uint8_t *buf;
    uint8_t fill;
};

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
        xipc_err rv = xipc_recv(s, buf, SHM_BENCH_MAX_MSG, &n, SHM_BENCH_PEER_MS);
        if (rv != XIPC_OK || n == 0)
            return rv;
        if ((rv = xipc_send(s, buf, n, SHM_BENCH_PEER_MS)) != XIPC_OK)
            return rv;
    }
}

static xipc_err shm_peer_ack(xipc_sock *s)
{
    uint8_t ack = 1;
    return xipc_send(s, &ack, 1, SHM_BENCH_PEER_MS);
}

static xipc_err shm_peer_sink(xipc_sock *s, uint8_t *buf)
{
    for (;;) {
        size_t n;
        xipc_err rv = xipc_recv(s, buf, SHM_BENCH_MAX_MSG, &n, SHM_BENCH_PEER_MS);
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
        xipc_err rv = xipc_peek(s, &p, &n, SHM_BENCH_PEER_MS);
        if (rv != XIPC_OK)
            return rv;
        shm_peer_read(p, n);
        if ((rv = xipc_release(s)) != XIPC_OK || n == 0)
            return rv;
        if (n == 1 && (rv = shm_peer_ack(s)) != XIPC_OK)
            return rv;
    }
}

static xipc_err shm_peer_dial(xipc_sock **s, const shm_bench_args *a)
{
    xipc_opts o;
    shm_bench_opts(&o, a->spin_us);
    uint64_t end = bench_now_ns() + (uint64_t)SHM_BENCH_DIAL_MS * 1000000u;
    struct timespec nap = {0, 500000};
    xipc_err rv;
    /* the parent listens after the fork: wait for the name to appear */
    while ((rv = xipc_dial(s, a->url, &o, 1000)) == XIPC_ECONNREFUSED &&
           bench_now_ns() < end)
        nanosleep(&nap, NULL);
    return rv;
}

static int shm_peer_main(void *arg)
{
    const shm_bench_args *a = arg;
    xipc_sock *s;
    xipc_err rv = shm_peer_dial(&s, a);
    if (rv != XIPC_OK) {
        fprintf(stderr, "xipc: bench: peer: xipc_dial %s: %s\n", a->url,
                xipc_strerror(rv));
        return 1;
    }
    uint8_t *buf = malloc(SHM_BENCH_MAX_MSG);
    if (buf == NULL)
        rv = XIPC_ENOMEM;
    else if (a->rtt)
        rv = shm_peer_echo(s, buf);
    else
        rv = a->zc ? shm_peer_sink_zc(s) : shm_peer_sink(s, buf);
    xipc_close(s);
    free(buf);
    if (rv != XIPC_OK && rv != XIPC_ECLOSED) {
        fprintf(stderr, "xipc: bench: peer: %s\n", xipc_strerror(rv));
        return 1;
    }
    return 0;
}

/* ---- the measuring side (parent) ---------------------------------------------- */

static int shm_bench_close(bench_conn *c)
{
    if (c == NULL)
        return 0;
    if (c->sock != NULL) {
        xipc_send(c->sock, c->buf, 0, 1000); /* the end; the peer may be gone */
        xipc_close(c->sock);
    }
    int rc = bench_peer_stop(&c->peer, 5000);
    free(c->buf);
    free(c);
    return rc;
}

static int shm_bench_connect(bench_conn *c, const shm_bench_args *a)
{
    xipc_opts o;
    shm_bench_opts(&o, a->spin_us);
    xipc_sock *l;
    xipc_err rv = xipc_listen(&l, a->url, &o);
    if (rv != XIPC_OK)
        return shm_bench_fail("xipc_listen", rv);
    rv = xipc_accept(l, &c->sock, SHM_BENCH_DIAL_MS + 1000);
    xipc_close(l);
    return rv == XIPC_OK ? 0 : shm_bench_fail("xipc_accept", rv);
}

static int shm_bench_open_with(bench_conn **out, const bench_cfg *cfg,
                               uint32_t spin_us, int zc)
{
    *out = NULL;
    if (cfg->size < 2 || cfg->size > SHM_BENCH_MAX_MSG) {
        bench_set_error("message size %zu outside 2..%u", cfg->size, SHM_BENCH_MAX_MSG);
        return -1;
    }
    bench_conn *c = calloc(1, sizeof(*c));
    if (c == NULL || (c->buf = malloc(cfg->size)) == NULL) {
        free(c);
        bench_set_error("out of memory");
        return -1;
    }
    c->peer.pid = -1;
    c->size = cfg->size;
    memset(c->buf, 0x5a, cfg->size);
    shm_bench_args a = {.spin_us = spin_us, .rtt = cfg->rtt, .zc = zc};
    snprintf(a.url, sizeof(a.url), "shm://%s", cfg->name);
    if (bench_peer_start(&c->peer, shm_peer_main, &a) != 0 ||
        shm_bench_connect(c, &a) != 0) {
        char why[256];
        snprintf(why, sizeof(why), "%s", bench_error());
        shm_bench_close(c);
        bench_set_error("%s", why);
        return -1;
    }
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
    size_t n;
    xipc_err rv = xipc_send(c->sock, c->buf, c->size, SHM_BENCH_TIMEOUT_MS);
    if (rv != XIPC_OK)
        return shm_bench_fail("xipc_send", rv);
    rv = xipc_recv(c->sock, c->buf, c->size, &n, SHM_BENCH_TIMEOUT_MS);
    if (rv != XIPC_OK)
        return shm_bench_fail("xipc_recv", rv);
    if (n != c->size) {
        bench_set_error("xipc_recv: echo of %zu bytes came back as %zu", c->size, n);
        return -1;
    }
    return 0;
}

static int shm_bench_put(bench_conn *c)
{
    xipc_err rv = xipc_send(c->sock, c->buf, c->size, SHM_BENCH_TIMEOUT_MS);
    return rv == XIPC_OK ? 0 : shm_bench_fail("xipc_send", rv);
}

static int shm_bench_put_zc(bench_conn *c)
{
    void *p;
    xipc_err rv = xipc_reserve(c->sock, c->size, &p, SHM_BENCH_TIMEOUT_MS);
    if (rv != XIPC_OK)
        return shm_bench_fail("xipc_reserve", rv);
    memset(p, c->fill++, c->size); /* the message is made where it lies */
    rv = xipc_commit(c->sock, c->size);
    return rv == XIPC_OK ? 0 : shm_bench_fail("xipc_commit", rv);
}

static int shm_bench_sync(bench_conn *c)
{
    uint8_t b = 1;
    size_t n;
    xipc_err rv = xipc_send(c->sock, &b, 1, SHM_BENCH_TIMEOUT_MS);
    if (rv != XIPC_OK)
        return shm_bench_fail("xipc_send (sync)", rv);
    rv = xipc_recv(c->sock, &b, 1, &n, SHM_BENCH_TIMEOUT_MS);
    return rv == XIPC_OK ? 0 : shm_bench_fail("xipc_recv (ack)", rv);
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

const bench_drv bench_drv_shm_zc = {
    .transport = "shm-zc",
    .impl = "xipc",
    .open = shm_bench_open_zc,
    .rtt = shm_bench_rtt,
    .put = shm_bench_put_zc,
    .sync = shm_bench_sync,
    .close = shm_bench_close,
};
