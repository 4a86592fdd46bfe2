/*
 * xipc's MessagePack-RPC over shm://, unix:// and tcp://. The peer (a
 * peer program, peer.h: forked on POSIX, started anew on Windows) is the
 * server (xipc_rpc_server, default workers; in rpc-shm-inline
 * null and echo are registered XIPC_RPC_INLINE) with the methods
 *   null()      -> nil       the null call
 *   echo(bin)   -> bin       a round trip of cfg.size bytes each way
 *   sink(bin)   -> nil       a pipelined stream
 *   quit()                   a notification: the server stops
 * and the parent the client (one xipc_rpc_client, shared by all calling
 * threads, as rpc.h allows; in the *-per variants a client per calling
 * thread, each its own connection to the one server).
 *   rtt:  xipc_rpc_call of echo (null at size 0)
 *   put:  xipc_rpc_call_async of sink, at most RPC_WINDOW calls in flight
 *   sync: wait for every answer
 *   call: xipc_rpc_call of null, from any thread
 */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xipc/rpc.h"

#include "core/platform.h" /* locks on every OS */

#include "drivers/drivers.h"
#include "harness/cpu.h"
#include "harness/peer.h"
#include "harness/runner.h"
#include "harness/util.h"
#include "harness/xconn.h"

#define RPC_TIMEOUT_MS 10000
#define RPC_DIAL_MS 5000
#define RPC_WINDOW 64
#define RPC_MAX_MSG 65536u
#define RPCB_MAX_CLIENTS 8 /* the *-per variants: one client per calling thread */

enum { RPC_SHM, RPC_UNIX, RPC_TCP, RPC_SHM_NOSPIN, RPC_SHM_INLINE };

typedef struct rpcb_args {
    char url[160];
    int nospin; /* shm://: spin_us = 0 on both sides */
    unsigned flags; /* of null and echo: 0 or XIPC_RPC_INLINE */
    bench_peer self; /* the server: .parent is the client's pid */
} rpcb_args;

struct bench_conn {
    xipc_rpc_client *cli;
    xipc_rpc_client *per[RPCB_MAX_CLIENTS]; /* *-per: call() of thread i uses per[i] */
    unsigned nper;
    bench_peer peer;
    bench_cpu cpu;
    double *peer_cpu;
    size_t size;
    void *params; /* [bin of size bytes], packed once */
    size_t params_len;
    xipc_plat_mutex mu;
    xipc_plat_cond cv;
    uint64_t issued, answered, failed;
};

static _Atomic int rpcb_quit; /* the server (child) was asked to stop */

static int rpcb_fail(const char *what, xipc_err rv)
{
    bench_set_error("%s: %s", what, xipc_strerror(rv));
    return -1;
}

/* ---- the server (the peer) ---------------------------------------------------------------- */

static xipc_err rpcb_null(xipc_rpc_req *req, void *ud)
{
    return XIPC_OK;
}

static xipc_err rpcb_echo(xipc_rpc_req *req, void *ud)
{
    size_t len;
    const uint8_t *p = xipc_rpc_req_params_raw(req, &len);
    if (xipc_rpc_req_nparams(req) != 1 || len < 2 || p[0] != 0x91)
        return XIPC_EINVAL;
    return xipc_rpc_req_returnf(req, "m", p + 1, len - 1); /* the bin, as it came */
}

static xipc_err rpcb_quit_fn(xipc_rpc_req *req, void *ud)
{
    atomic_store(&rpcb_quit, 1);
    return XIPC_OK;
}

/* Serve until the client sends quit or exits. */
static int rpcb_serve(const rpcb_args *a, bench_cpu *cpu)
{
    xipc_rpc_server *srv;
    xipc_rpc_server_opts o;
    xipc_rpc_server_opts_init(&o);
    o.sock.ring_capacity = 1u << 20;
    if (a->nospin)
        o.sock.spin_us = 0;
    xipc_err rv = xipc_rpc_server_alloc(&srv, &o);
    if (rv != XIPC_OK)
        return 1;
    if ((rv = xipc_rpc_server_register_ex(srv, "null", "() -> nil", rpcb_null, NULL,
                                          a->flags)) == XIPC_OK &&
        (rv = xipc_rpc_server_register_ex(srv, "echo", "(bin) -> bin", rpcb_echo, NULL,
                                          a->flags)) == XIPC_OK &&
        (rv = xipc_rpc_server_register(srv, "sink", "(bin) -> nil", rpcb_null, NULL)) ==
            XIPC_OK &&
        (rv = xipc_rpc_server_register(srv, "quit", "()", rpcb_quit_fn, NULL)) == XIPC_OK)
        rv = xipc_rpc_server_serve(srv, a->url);
    if (rv != XIPC_OK) {
        fprintf(stderr, "xipc: bench: rpc server %s: %s\n", a->url, xipc_strerror(rv));
        xipc_rpc_server_free(srv);
        return 1;
    }
    bench_cpu_start(cpu);
    while (!atomic_load(&rpcb_quit) && !bench_peer_orphaned(&a->self))
        bench_nap_us(5000);
    xipc_rpc_server_stop(srv);
    bench_cpu_report(cpu);
    xipc_rpc_server_free(srv);
    return 0;
}

/* args: URL, "spin" or "nospin", the flags of null and echo, the client's pid */
static int rpcb_server_main(char *const args[], bench_cpu *cpu)
{
    rpcb_args a = {.nospin = strcmp(args[1], "nospin") == 0,
                   .flags = (unsigned)strtoul(args[2], NULL, 10),
                   .self = {.pid = -1, .parent = (intptr_t)strtoll(args[3], NULL, 10)}};
    snprintf(a.url, sizeof(a.url), "%s", args[0]);
    return rpcb_serve(&a, cpu);
}

const bench_peer_prog bench_peer_rpc = {"rpc", rpcb_server_main};

/* ---- the client (the measuring side) ------------------------------------------------------ */

static int rpcb_close(bench_conn *c)
{
    if (c == NULL)
        return 0;
    for (unsigned i = 0; i < c->nper; i++)
        xipc_rpc_client_close(c->per[i]);
    if (c->cli != NULL) {
        xipc_rpc_notify(c->cli, "quit", NULL, 0, 1000);
        xipc_rpc_client_close(c->cli);
    }
    int rc = bench_peer_stop(&c->peer, 10000);
    double cpu = bench_cpu_collect(&c->cpu);
    if (c->peer_cpu != NULL)
        *c->peer_cpu = cpu;
    xipc_rpc_free(c->params);
    xipc_plat_mutex_fini(&c->mu);
    xipc_plat_cond_fini(&c->cv);
    free(c);
    return rc;
}

static int rpcb_url(char *url, size_t cap, int kind, const char *name)
{
    int port = 0;
    if (kind == RPC_TCP && (port = bench_free_port()) < 0) {
        bench_set_error("no free TCP port");
        return -1;
    }
    if (kind == RPC_SHM || kind == RPC_SHM_NOSPIN || kind == RPC_SHM_INLINE)
        snprintf(url, cap, "shm://%s", name);
    else if (kind == RPC_UNIX)
        snprintf(url, cap, "unix://@%s", name);
    else
        snprintf(url, cap, "tcp://127.0.0.1:%d", port);
    return 0;
}

static int rpcb_dial(xipc_rpc_client **cli, bench_conn *c, const char *url, int nospin)
{
    xipc_rpc_client_opts o;
    xipc_rpc_client_opts_init(&o);
    o.timeout_ms = RPC_TIMEOUT_MS;
    o.sock.ring_capacity = 1u << 20;
    if (nospin)
        o.sock.spin_us = 0;
    uint64_t end = bench_now_ns() + (uint64_t)RPC_DIAL_MS * 1000000u;
    xipc_err rv;
    while ((rv = xipc_rpc_client_dial(cli, url, &o, 1000)) == XIPC_ECONNREFUSED &&
           bench_now_ns() < end && !bench_peer_gone(&c->peer))
        bench_nap_us(300);
    return rv == XIPC_OK ? 0 : rpcb_fail("xipc_rpc_client_dial", rv);
}

static int rpcb_open(bench_conn **out, const bench_cfg *cfg, int kind, int per)
{
    *out = NULL;
    if (cfg->size > RPC_MAX_MSG) {
        bench_set_error("message size %zu over %u", cfg->size, RPC_MAX_MSG);
        return -1;
    }
    if (per && cfg->threads > RPCB_MAX_CLIENTS) {
        bench_set_error("%u calling threads: a client each for at most %d", cfg->threads,
                        RPCB_MAX_CLIENTS);
        return -1;
    }
    bench_conn *c = calloc(1, sizeof(*c));
    uint8_t *fill = malloc(cfg->size + 1);
    if (c == NULL || fill == NULL) {
        free(c);
        free(fill);
        bench_set_error("out of memory");
        return -1;
    }
    memset(fill, 0x5a, cfg->size + 1);
    c->peer.pid = -1;
    c->size = cfg->size;
    c->peer_cpu = cfg->peer_cpu_ns;
    xipc_err rv = xipc_plat_mutex_init(&c->mu);
    if (rv == XIPC_OK && (rv = xipc_plat_cond_init(&c->cv)) != XIPC_OK)
        xipc_plat_mutex_fini(&c->mu);
    if (rv != XIPC_OK) {
        free(c);
        free(fill);
        return rpcb_fail("a lock", rv);
    }
    rv = xipc_rpc_pack(&c->params, &c->params_len, "b", fill, cfg->size);
    free(fill);
    int nospin = kind == RPC_SHM_NOSPIN;
    char url[160], flags[16], parent[24];
    snprintf(flags, sizeof(flags), "%u", kind == RPC_SHM_INLINE ? XIPC_RPC_INLINE : 0u);
    snprintf(parent, sizeof(parent), "%lu", (unsigned long)xipc_plat_getpid());
    char *args[] = {url, nospin ? "nospin" : "spin", flags, parent, NULL};
    int rc = rv != XIPC_OK ? rpcb_fail("xipc_rpc_pack", rv) : 0;
    if (rc == 0)
        rc = rpcb_url(url, sizeof(url), kind, cfg->name);
    if (rc == 0)
        rc = bench_cpu_open(&c->cpu) != 0 ||
             bench_peer_run(&c->peer, &bench_peer_rpc, args, &c->cpu) != 0;
    if (rc == 0) {
        bench_cpu_parent(&c->cpu);
        rc = rpcb_dial(&c->cli, c, url, nospin);
    }
    for (unsigned i = 0; rc == 0 && per && i < cfg->threads; i++, c->nper++)
        rc = rpcb_dial(&c->per[i], c, url, nospin);
    if (rc != 0)
        return bench_close_failed(rpcb_close, c);
    *out = c;
    return 0;
}

static int rpcb_rtt(bench_conn *c)
{
    xipc_err rv;
    if (c->size == 0)
        return (rv = xipc_rpc_call(c->cli, "null", NULL, 0, NULL, RPC_TIMEOUT_MS)) == XIPC_OK
                   ? 0
                   : rpcb_fail("xipc_rpc_call null", rv);
    xipc_rpc_result res;
    xipc_rpc_result_init(&res);
    rv = xipc_rpc_call(c->cli, "echo", c->params, c->params_len, &res, RPC_TIMEOUT_MS);
    size_t got = res.value_len;
    xipc_rpc_result_fini(&res);
    if (rv != XIPC_OK)
        return rpcb_fail("xipc_rpc_call echo", rv);
    if (got + 1 != c->params_len) {
        bench_set_error("echo: %zu bytes came back for %zu", got, c->params_len - 1);
        return -1;
    }
    return 0;
}

static void rpcb_answered(xipc_rpc_future *f, void *ud)
{
    bench_conn *c = ud;
    xipc_err rv = xipc_rpc_future_result(f, NULL);
    xipc_plat_mutex_lock(&c->mu);
    c->answered++;
    c->failed += rv != XIPC_OK;
    xipc_plat_cond_broadcast(&c->cv);
    xipc_plat_mutex_unlock(&c->mu);
}

/* Wait until at most @p inflight calls are unanswered. */
static int rpcb_wait(bench_conn *c, uint64_t inflight)
{
    xipc_plat_mutex_lock(&c->mu);
    while (c->issued - c->answered > inflight)
        xipc_plat_cond_wait(&c->cv, &c->mu, UINT64_MAX);
    uint64_t failed = c->failed;
    xipc_plat_mutex_unlock(&c->mu);
    if (failed != 0) {
        bench_set_error("%llu pipelined calls failed", (unsigned long long)failed);
        return -1;
    }
    return 0;
}

static int rpcb_put(bench_conn *c)
{
    if (rpcb_wait(c, RPC_WINDOW - 1) != 0)
        return -1;
    xipc_plat_mutex_lock(&c->mu);
    c->issued++;
    xipc_plat_mutex_unlock(&c->mu);
    xipc_err rv = xipc_rpc_call_async(c->cli, "sink", c->params, c->params_len,
                                      rpcb_answered, c, NULL);
    if (rv != XIPC_OK) {
        xipc_plat_mutex_lock(&c->mu);
        c->issued--;
        xipc_plat_mutex_unlock(&c->mu);
        return rpcb_fail("xipc_rpc_call_async", rv);
    }
    return 0;
}

static int rpcb_sync(bench_conn *c)
{
    return rpcb_wait(c, 0);
}

static int rpcb_call(bench_conn *c, unsigned thread)
{
    xipc_rpc_client *cli = c->nper > 0 ? c->per[thread % c->nper] : c->cli;
    xipc_err rv = xipc_rpc_call(cli, "null", NULL, 0, NULL, RPC_TIMEOUT_MS);
    return rv == XIPC_OK ? 0 : rpcb_fail("xipc_rpc_call null", rv);
}

#define RPCB_OPEN(fn, kind, per)                                                \
    static int fn(bench_conn **out, const bench_cfg *cfg)                        \
    {                                                                            \
        return rpcb_open(out, cfg, kind, per);                                   \
    }
RPCB_OPEN(rpcb_open_shm, RPC_SHM, 0)
RPCB_OPEN(rpcb_open_unix, RPC_UNIX, 0)
RPCB_OPEN(rpcb_open_tcp, RPC_TCP, 0)
RPCB_OPEN(rpcb_open_shm_nospin, RPC_SHM_NOSPIN, 0)
RPCB_OPEN(rpcb_open_shm_inline, RPC_SHM_INLINE, 0)
RPCB_OPEN(rpcb_open_shm_per, RPC_SHM, 1)
RPCB_OPEN(rpcb_open_shm_inline_per, RPC_SHM_INLINE, 1)

#define RPCB_DRV(var, name, fn, setup_fn)                                        \
    const bench_drv var = {.transport = name, .impl = "xipc", .open = fn,          \
                           .rtt = rpcb_rtt, .put = rpcb_put, .sync = rpcb_sync,    \
                           .close = rpcb_close, .call = rpcb_call, .setup = setup_fn}
RPCB_DRV(bench_drv_rpc_shm, "rpc-shm", rpcb_open_shm, NULL);
RPCB_DRV(bench_drv_rpc_unix, "rpc-unix", rpcb_open_unix, xconn_unix_setup);
RPCB_DRV(bench_drv_rpc_tcp, "rpc-tcp", rpcb_open_tcp, NULL);
RPCB_DRV(bench_drv_rpc_shm_nospin, "rpc-shm-nospin", rpcb_open_shm_nospin, NULL);
RPCB_DRV(bench_drv_rpc_shm_inline, "rpc-shm-inline", rpcb_open_shm_inline, NULL);
RPCB_DRV(bench_drv_rpc_shm_per, "rpc-shm-per", rpcb_open_shm_per, NULL);
RPCB_DRV(bench_drv_rpc_shm_inline_per, "rpc-shm-inline-per", rpcb_open_shm_inline_per, NULL);
