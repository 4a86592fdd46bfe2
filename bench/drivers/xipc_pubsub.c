/*
 * xipc's pubsub:// with cfg.subs subscriber processes. The parent
 * publishes on NAME; subscriber i subscribes to it and answers on a
 * publisher of its own, NAME.rI, to which the parent subscribes. The
 * publisher never waits for subscribers: a slow one is lapped and loses
 * messages, which it counts (XIPC_EOVERRUN gives how many).
 *
 * Protocol: 1-byte marker K: every subscriber answers 9 bytes, K and the
 * number of data messages (2 bytes or more) it received so far. The
 * parent repeats markers until every subscriber has answered the latest
 * one (a new subscriber sees only what is published after it attached,
 * so this is also the handshake). rtt (one subscriber): data messages are
 * echoed. 0 bytes end.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xipc/xipc.h"

#include "drivers/drivers.h"
#include "harness/cpu.h"
#include "harness/peer.h"
#include "harness/runner.h"
#include "harness/util.h"

#define PS_TIMEOUT_MS 10000
#define PS_PEER_MS 30000
#define PS_DIAL_MS 10000
#define PS_MAX_MSG 65536u
#define PS_MAX_SUBS 64
#define PS_RING_BYTES (16u << 20)
#define PS_MARK_WAIT_MS 5
#define PS_SYNC_MS 20000

typedef struct ps_args {
    const char *url, *reply;
    int rtt;
    size_t size;
} ps_args;

struct bench_conn {
    xipc_sock *pub;
    xipc_sock *sub[PS_MAX_SUBS];
    bench_peer peer[PS_MAX_SUBS];
    unsigned nsubs;
    bench_cpu cpu;
    double *peer_cpu;
    size_t size;
    uint64_t sent;
    uint64_t received[PS_MAX_SUBS];
    uint8_t mark;
    uint8_t *buf;
};

static int ps_fail(const char *what, xipc_err rv)
{
    bench_set_error("%s: %s", what, xipc_strerror(rv));
    return -1;
}

/* Slots for messages of @p size, the ring at most PS_RING_BYTES. */
static void ps_opts(xipc_opts *o, size_t size)
{
    xipc_opts_init(o);
    uint32_t slot = (uint32_t)((size + 16 + 63) / 64 * 64);
    if (slot < 128)
        slot = 128;
    uint32_t slots = 4096;
    while (slots > 16 && (uint64_t)slots * slot > PS_RING_BYTES)
        slots /= 2;
    o->pub_slot_size = slot;
    o->pub_slots = slots;
}

static xipc_err ps_dial(xipc_sock **s, const char *url)
{
    xipc_opts o;
    xipc_opts_init(&o);
    uint64_t end = bench_now_ns() + (uint64_t)PS_DIAL_MS * 1000000u;
    xipc_err rv;
    while ((rv = xipc_dial(s, url, &o, 1000)) == XIPC_ECONNREFUSED &&
           bench_now_ns() < end)
        bench_nap_us(500);
    return rv;
}

/* ---- a subscriber ------------------------------------------------------------------- */

static xipc_err ps_serve(xipc_sock *sub, xipc_sock *back, const ps_args *a, uint8_t *buf)
{
    uint64_t count = 0;
    for (;;) {
        size_t n;
        xipc_err rv = xipc_recv(sub, buf, PS_MAX_MSG, &n, PS_PEER_MS);
        if (rv == XIPC_EOVERRUN)
            continue; /* n messages lost: they are not counted */
        if (rv != XIPC_OK || n == 0)
            return rv;
        if (n == 1) {
            memcpy(buf + 1, &count, sizeof(count));
            rv = xipc_send(back, buf, 9, PS_PEER_MS);
        } else {
            count++;
            if (a->rtt)
                rv = xipc_send(back, buf, n, PS_PEER_MS);
        }
        if (rv != XIPC_OK)
            return rv;
    }
}

/* args: the publisher's URL, this subscriber's answers', "rtt" or "thr",
 * the size */
static int ps_peer_main(char *const args[], bench_cpu *cpu)
{
    ps_args arg = {.url = args[0], .reply = args[1], .rtt = strcmp(args[2], "rtt") == 0,
                   .size = strtoul(args[3], NULL, 10)};
    const ps_args *a = &arg;
    xipc_opts o;
    ps_opts(&o, a->rtt ? a->size : 1);
    xipc_sock *back = NULL, *sub = NULL;
    uint8_t *buf = malloc(PS_MAX_MSG);
    xipc_err rv = buf == NULL ? XIPC_ENOMEM : xipc_listen(&back, a->reply, &o);
    if (rv == XIPC_OK)
        rv = ps_dial(&sub, a->url);
    if (rv == XIPC_OK) {
        bench_cpu_start(cpu);
        rv = ps_serve(sub, back, a, buf);
        bench_cpu_report(cpu);
    }
    xipc_close(sub);
    xipc_close(back);
    free(buf);
    if (rv != XIPC_OK && rv != XIPC_ECLOSED) {
        fprintf(stderr, "xipc: bench: subscriber %s: %s\n", a->reply, xipc_strerror(rv));
        return 1;
    }
    return 0;
}

const bench_peer_prog bench_peer_pubsub = {"pubsub", ps_peer_main};

/* ---- the publisher ------------------------------------------------------------------- */

static int ps_close(bench_conn *c)
{
    if (c == NULL)
        return 0;
    if (c->pub != NULL)
        xipc_send(c->pub, c->buf, 0, 0); /* the end */
    xipc_close(c->pub);
    int rc = 0;
    for (unsigned i = 0; i < c->nsubs; i++) {
        xipc_close(c->sub[i]);
        if (bench_peer_stop(&c->peer[i], 5000) != 0)
            rc = -1;
    }
    double cpu = bench_cpu_collect(&c->cpu);
    if (c->peer_cpu != NULL)
        *c->peer_cpu = cpu;
    free(c->buf);
    free(c);
    return rc;
}

/* Publish markers until every subscriber answered the latest one. */
static int ps_marker(bench_conn *c)
{
    uint64_t end = bench_now_ns() + (uint64_t)PS_SYNC_MS * 1000000u;
    uint8_t ans[16];
    while (bench_now_ns() < end) {
        uint8_t m = ++c->mark;
        xipc_err rv = xipc_send(c->pub, &m, 1, 0);
        if (rv != XIPC_OK)
            return ps_fail("xipc_send (marker)", rv);
        unsigned got = 0;
        for (unsigned i = 0; i < c->nsubs; i++) {
            for (;;) {
                size_t n;
                rv = xipc_recv(c->sub[i], ans, sizeof(ans), &n, PS_MARK_WAIT_MS);
                if (rv == XIPC_ETIMEDOUT || rv == XIPC_EOVERRUN)
                    break;
                if (rv != XIPC_OK)
                    return ps_fail("xipc_recv (answer)", rv);
                if (n == 9 && ans[0] == m) {
                    memcpy(&c->received[i], ans + 1, sizeof(c->received[i]));
                    got++;
                    break;
                }
            }
        }
        if (got == c->nsubs)
            return 0;
    }
    bench_set_error("subscribers did not answer within %d ms", PS_SYNC_MS);
    return -1;
}

static int ps_open(bench_conn **out, const bench_cfg *cfg)
{
    *out = NULL;
    unsigned subs = cfg->subs ? cfg->subs : 1;
    if (cfg->size < 2 || cfg->size > PS_MAX_MSG || subs > PS_MAX_SUBS ||
        (cfg->rtt && subs != 1)) {
        bench_set_error("pubsub: size 2..%u, 1..%d subscribers, rtt with one",
                        PS_MAX_MSG, PS_MAX_SUBS);
        return -1;
    }
    bench_conn *c = calloc(1, sizeof(*c));
    if (c == NULL || (c->buf = malloc(PS_MAX_MSG)) == NULL) {
        free(c);
        bench_set_error("out of memory");
        return -1;
    }
    c->size = cfg->size;
    c->peer_cpu = cfg->peer_cpu_ns;
    memset(c->buf, 0x5a, cfg->size);
    char url[160], reply[160], size[24];
    snprintf(url, sizeof(url), "pubsub://%.60s", cfg->name);
    snprintf(size, sizeof(size), "%zu", cfg->size);
    char *args[] = {url, reply, cfg->rtt ? "rtt" : "thr", size, NULL};
    int rc = bench_cpu_open(&c->cpu);
    /* every subscriber is started before the parent opens anything */
    for (; rc == 0 && c->nsubs < subs; c->nsubs++) {
        snprintf(reply, sizeof(reply), "pubsub://%.60s.r%u", cfg->name, c->nsubs);
        rc = bench_peer_run(&c->peer[c->nsubs], &bench_peer_pubsub, args, &c->cpu);
    }
    xipc_opts o;
    ps_opts(&o, cfg->size);
    xipc_err rv;
    if (rc == 0) {
        bench_cpu_parent(&c->cpu);
        if ((rv = xipc_listen(&c->pub, url, &o)) != XIPC_OK)
            rc = ps_fail("xipc_listen", rv);
    }
    for (unsigned i = 0; rc == 0 && i < subs; i++) {
        snprintf(reply, sizeof(reply), "pubsub://%.60s.r%u", cfg->name, i);
        if ((rv = ps_dial(&c->sub[i], reply)) != XIPC_OK)
            rc = ps_fail("xipc_dial (answers)", rv);
    }
    if (rc == 0)
        rc = ps_marker(c);
    if (rc != 0)
        return bench_close_failed(ps_close, c);
    *out = c;
    return 0;
}

static int ps_rtt(bench_conn *c)
{
    size_t n;
    xipc_err rv = xipc_send(c->pub, c->buf, c->size, 0);
    if (rv != XIPC_OK)
        return ps_fail("xipc_send", rv);
    rv = xipc_recv(c->sub[0], c->buf, PS_MAX_MSG, &n, PS_TIMEOUT_MS);
    if (rv != XIPC_OK)
        return ps_fail("xipc_recv", rv);
    if (n != c->size) {
        bench_set_error("xipc_recv: echo of %zu bytes came back as %zu", c->size, n);
        return -1;
    }
    return 0;
}

static int ps_put(bench_conn *c)
{
    xipc_err rv = xipc_send(c->pub, c->buf, c->size, 0);
    if (rv != XIPC_OK)
        return ps_fail("xipc_send", rv);
    c->sent++;
    return 0;
}

static int ps_sync(bench_conn *c)
{
    return ps_marker(c);
}

static uint64_t ps_lost(bench_conn *c)
{
    uint64_t worst = 0;
    for (unsigned i = 0; i < c->nsubs; i++)
        if (c->sent > c->received[i] && c->sent - c->received[i] > worst)
            worst = c->sent - c->received[i];
    return worst;
}

const bench_drv bench_drv_x_pubsub = {
    .transport = "pubsub", .impl = "xipc", .open = ps_open,
    .rtt = ps_rtt, .put = ps_put, .sync = ps_sync, .close = ps_close,
    .lost = ps_lost,
};
