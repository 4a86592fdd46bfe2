/*
 * nng over ipc:// and tcp://. Channels: PAIR (pair1) sockets, with the
 * protocol of the xipc drivers (rtt echoes; a stream is consumed and a
 * 1-byte message answered with one byte; 0 bytes end). RPC: REQ/REP, the
 * child a REP socket answering every request with an empty reply (a
 * 1-byte request "q" ends it), the parent a REQ socket with one context
 * per calling thread. The child is this program exec'd anew after the
 * fork ("--nng-peer": nng panics in a forked child of a process that used
 * it); it dials without blocking (nng retries), the parent listens.
 */
#define _POSIX_C_SOURCE 200809L
#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <errno.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drivers/drivers.h"
#include "harness/cpu.h"
#include "harness/exec.h"
#include "harness/pconn.h"
#include "harness/peer.h"
#include "harness/runner.h"
#include "harness/util.h"

#define NB_TIMEOUT_MS 10000
#define NB_PEER_MS 30000
#define NB_MAX_MSG 65536u
#define NB_MAX_THREADS 64

typedef struct nb_args {
    char url[160];
    int rtt;
    int rpc;
    bench_cpu *cpu;
} nb_args;

struct bench_conn {
    bench_pconn p; /* first: see pconn.h */
    nng_socket sock;
    int open;
    nng_ctx ctx[NB_MAX_THREADS];
    nng_aio *aio[NB_MAX_THREADS];
    unsigned nctx;
    int rpc;
};
_Static_assert(offsetof(struct bench_conn, p) == 0, "bench_pconn_alloc needs it first");

static int nb_fail(const char *what, int rv)
{
    bench_set_error("%s: %s", what, nng_strerror(rv));
    return -1;
}

static void nb_timeouts(nng_socket s, int ms)
{
    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, ms);
    nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, ms);
}

/* ---- the peer ---------------------------------------------------------------------------- */

static int nb_serve_pair(nng_socket s, const nb_args *a, uint8_t *buf)
{
    for (;;) {
        size_t n = NB_MAX_MSG;
        int rv = nng_recv(s, buf, &n, 0);
        if (rv != 0)
            return rv;
        if (n == 0)
            return 0;
        if ((a->rtt || n == 1) && (rv = nng_send(s, buf, a->rtt ? n : 1, 0)) != 0)
            return rv;
    }
}

static int nb_serve_rep(nng_socket s)
{
    for (;;) {
        nng_msg *m;
        int rv = nng_recvmsg(s, &m, 0);
        if (rv != 0)
            return rv;
        int quit = nng_msg_len(m) == 1;
        nng_msg_clear(m);
        if ((rv = nng_sendmsg(s, m, 0)) != 0) {
            nng_msg_free(m);
            return rv;
        }
        if (quit)
            return 0;
    }
}

static int nb_peer_run(const nb_args *a)
{
    nng_socket s;
    uint8_t *buf = malloc(NB_MAX_MSG);
    int rv = buf == NULL ? NNG_ENOMEM : a->rpc ? nng_rep0_open(&s) : nng_pair1_open(&s);
    if (rv == 0) {
        nb_timeouts(s, NB_PEER_MS);
        if ((rv = nng_dial(s, a->url, NULL, NNG_FLAG_NONBLOCK)) == 0) {
            bench_cpu_start(a->cpu);
            rv = a->rpc ? nb_serve_rep(s) : nb_serve_pair(s, a, buf);
            bench_cpu_report(a->cpu);
        }
        if (a->rpc && rv == 0)
            bench_nap_us(20000); /* let the last reply leave */
        nng_close(s);
    }
    free(buf);
    if (rv != 0 && rv != NNG_ECLOSED) {
        fprintf(stderr, "xipc: bench: nng peer %s: %s\n", a->url, nng_strerror(rv));
        return 1;
    }
    return 0;
}

int bench_nng_peer_main(const char *url, const char *mode, const char *fd)
{
    bench_cpu cpu;
    bench_cpu_child(&cpu, fd);
    nb_args a = {.rtt = strcmp(mode, "rtt") == 0, .rpc = strcmp(mode, "rpc") == 0,
                 .cpu = &cpu};
    snprintf(a.url, sizeof(a.url), "%s", url);
    return nb_peer_run(&a);
}

/* The forked child: this program again, with nothing of nng inherited. */
static int nb_peer_exec(void *arg)
{
    const nb_args *a = arg;
    char fd[64];
    bench_cpu_arg(a->cpu, fd, sizeof(fd));
    char *args[] = {"bench", "--nng-peer", (char *)a->url,
                    a->rpc ? "rpc" : a->rtt ? "rtt" : "thr", fd, NULL};
    char *argv[BENCH_EXEC_ARGS + 3];
    if (bench_exec_argv(argv, NULL, args) == NULL) {
        fprintf(stderr, "xipc: bench: %s\n", bench_error());
        return 127;
    }
    execv(argv[0], argv);
    fprintf(stderr, "xipc: bench: exec %s: %s\n", argv[0], strerror(errno));
    return 127;
}

/* ---- the measuring side -------------------------------------------------------------------- */

static int nb_close(bench_conn *c)
{
    if (c == NULL)
        return 0;
    if (c->open) {
        uint8_t q = 'q';
        if (c->rpc) {
            size_t n = 1;
            if (nng_send(c->sock, &q, 1, 0) == 0)
                nng_recv(c->sock, c->p.buf, &n, 0);
        } else {
            nng_send(c->sock, c->p.buf, 0, 0); /* the end */
        }
    }
    for (unsigned i = 0; i < c->nctx; i++) {
        nng_aio_free(c->aio[i]);
        nng_ctx_close(c->ctx[i]);
    }
    if (c->open)
        nng_close(c->sock);
    return bench_pconn_end(&c->p, NULL);
}

static int nb_contexts(bench_conn *c, unsigned n)
{
    int rv;
    for (; c->nctx < n && c->nctx < NB_MAX_THREADS; c->nctx++) {
        if ((rv = nng_ctx_open(&c->ctx[c->nctx], c->sock)) != 0)
            return nb_fail("nng_ctx_open", rv);
        if ((rv = nng_aio_alloc(&c->aio[c->nctx], NULL, NULL)) != 0) {
            nng_ctx_close(c->ctx[c->nctx]);
            return nb_fail("nng_aio_alloc", rv);
        }
        nng_aio_set_timeout(c->aio[c->nctx], NB_TIMEOUT_MS);
    }
    return 0;
}

static int nb_open(bench_conn **out, const bench_cfg *cfg, int tcp, int rpc)
{
    *out = NULL;
    if (cfg->size > NB_MAX_MSG || (!rpc && cfg->size < 2)) {
        bench_set_error("message size %zu outside 2..%u", cfg->size, NB_MAX_MSG);
        return -1;
    }
    bench_conn *c = bench_pconn_alloc(sizeof(*c), NB_MAX_MSG, cfg);
    if (c == NULL)
        return -1;
    c->rpc = rpc;
    nb_args a = {.rtt = cfg->rtt, .rpc = rpc, .cpu = &c->p.cpu};
    const char *dir = bench_tmpdir();
    int port = tcp ? bench_free_port() : 0, rv;
    int rc = 0;
    if (tcp ? port < 0 : dir == NULL)
        rc = (bench_set_error("no free port or temporary directory"), -1);
    else if (tcp)
        snprintf(a.url, sizeof(a.url), "tcp://127.0.0.1:%d", port);
    else
        snprintf(a.url, sizeof(a.url), "ipc://%.60s/n.%.40s", dir, cfg->name);
    if (rc == 0)
        rc = bench_cpu_open(&c->p.cpu) != 0 || bench_peer_start(&c->p.peer, nb_peer_exec, &a) != 0;
    if (rc == 0) {
        bench_cpu_parent(&c->p.cpu);
        if ((rv = rpc ? nng_req0_open(&c->sock) : nng_pair1_open(&c->sock)) != 0) {
            rc = nb_fail("nng open", rv);
        } else {
            c->open = 1;
            nb_timeouts(c->sock, NB_TIMEOUT_MS);
            if ((rv = nng_listen(c->sock, a.url, NULL, 0)) != 0)
                rc = nb_fail("nng_listen", rv);
        }
    }
    if (rc == 0 && rpc && cfg->threads > 0)
        rc = nb_contexts(c, cfg->threads);
    if (rc != 0)
        return bench_close_failed(nb_close, c);
    *out = c;
    return 0;
}

static int nb_rtt(bench_conn *c)
{
    int rv = nng_send(c->sock, c->p.buf, c->p.size, 0);
    if (rv != 0)
        return nb_fail("nng_send", rv);
    size_t n = NB_MAX_MSG;
    if ((rv = nng_recv(c->sock, c->p.buf, &n, 0)) != 0)
        return nb_fail("nng_recv", rv);
    if (n != (c->rpc ? 0 : c->p.size)) {
        bench_set_error("nng_recv: %zu bytes came back for %zu", n, c->p.size);
        return -1;
    }
    return 0;
}

static int nb_put(bench_conn *c)
{
    int rv = nng_send(c->sock, c->p.buf, c->p.size, 0);
    return rv == 0 ? 0 : nb_fail("nng_send", rv);
}

static int nb_sync(bench_conn *c)
{
    uint8_t b = 1;
    size_t n = 1;
    int rv = nng_send(c->sock, &b, 1, 0);
    if (rv != 0)
        return nb_fail("nng_send (sync)", rv);
    rv = nng_recv(c->sock, &b, &n, 0);
    return rv == 0 ? 0 : nb_fail("nng_recv (ack)", rv);
}

static int nb_no_stream(bench_conn *c)
{
    bench_set_error("REQ/REP measures calls only");
    return -1;
}

/* A null request on the context of calling thread @p t. */
static int nb_call(bench_conn *c, unsigned t)
{
    if (t >= c->nctx) {
        bench_set_error("no context for thread %u", t);
        return -1;
    }
    nng_msg *m;
    int rv = nng_msg_alloc(&m, 0);
    if (rv != 0)
        return nb_fail("nng_msg_alloc", rv);
    nng_aio_set_msg(c->aio[t], m);
    nng_ctx_send(c->ctx[t], c->aio[t]);
    nng_aio_wait(c->aio[t]);
    if ((rv = nng_aio_result(c->aio[t])) != 0) {
        nng_msg_free(m);
        return nb_fail("nng_ctx_send", rv);
    }
    nng_ctx_recv(c->ctx[t], c->aio[t]);
    nng_aio_wait(c->aio[t]);
    if ((rv = nng_aio_result(c->aio[t])) != 0)
        return nb_fail("nng_ctx_recv", rv);
    nng_msg_free(nng_aio_get_msg(c->aio[t]));
    return 0;
}

#define NB_OPEN(fn, tcp, rpc)                                                    \
    static int fn(bench_conn **out, const bench_cfg *cfg)                         \
    {                                                                             \
        return nb_open(out, cfg, tcp, rpc);                                       \
    }
NB_OPEN(nb_open_ipc, 0, 0)
NB_OPEN(nb_open_tcp, 1, 0)
NB_OPEN(nb_open_req_ipc, 0, 1)
NB_OPEN(nb_open_req_tcp, 1, 1)

const bench_drv bench_drv_nng_ipc = {
    .transport = "ipc", .impl = "nng", .open = nb_open_ipc,
    .rtt = nb_rtt, .put = nb_put, .sync = nb_sync, .close = nb_close,
};

const bench_drv bench_drv_nng_tcp = {
    .transport = "tcp", .impl = "nng", .open = nb_open_tcp,
    .rtt = nb_rtt, .put = nb_put, .sync = nb_sync, .close = nb_close,
};

const bench_drv bench_drv_nng_req_ipc = {
    .transport = "reqrep-ipc", .impl = "nng", .open = nb_open_req_ipc,
    .rtt = nb_rtt, .put = nb_no_stream, .sync = nb_no_stream, .close = nb_close,
    .call = nb_call,
};

const bench_drv bench_drv_nng_req_tcp = {
    .transport = "reqrep-tcp", .impl = "nng", .open = nb_open_req_tcp,
    .rtt = nb_rtt, .put = nb_no_stream, .sync = nb_no_stream, .close = nb_close,
    .call = nb_call,
};
