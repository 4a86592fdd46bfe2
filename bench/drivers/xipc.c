/*
 * xipc's channels through the public API, for every suite: shm://,
 * pipe://, unix://, tcp://, tls+tcp:// and the anonymous pipe of
 * xipc_spawn(). The parent listens on a name unique to the case, the peer
 * (bench_peer_run: forked, or started anew on Windows) dials it
 * (xipc_spawn: the child is this program again, exec'd, and finds its end
 * with xipc_sock_from_parent). Where unix:// is not available (wine), its
 * row is skipped saying so.
 *
 * Variants: unix-more and tcp-more send the throughput streams with
 * XIPC_SEND_MORE; shm-nospin sets spin_us = 0 on both ends (sleep on the
 * futex at once); shm-zc is the zero-copy path (reserve/commit, the
 * producer fills each message in place; peek/release, the consumer reads
 * every byte of it in place); shm-xbit is shm:// against a peer of the
 * other bitness: the --peer32 xipc, exec'd through scripts/run32
 * ("xipc bench --shm-peer URL MODE").
 *
 * Protocol (xconn.h; the peer tells messages apart by length): rtt: the
 * peer echoes every message; throughput: it consumes them and answers a
 * 1-byte message with a 1-byte ack (sync). 0 bytes end the connection.
 */
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xipc/xipc.h"

#include "drivers/drivers.h"
#include "harness/cpu.h"
#include "harness/exec.h"
#include "harness/peer.h"
#include "harness/runner.h"
#include "harness/util.h"
#include "harness/xconn.h"

#define XCHAN_DIAL_NAP_US 300 /* between the peer's dials */

enum {
    XCHAN_SHM,
    XCHAN_SHM_NOSPIN, /* spin_us = 0 on both ends */
    XCHAN_SHM_ZC,     /* the peer peeks and releases */
    XCHAN_SHM_XBIT,   /* the peer is the --peer32 xipc */
    XCHAN_PIPE,
    XCHAN_UNIX,
    XCHAN_TCP,
    XCHAN_TLS,
    XCHAN_SPAWN
};

typedef struct xchan_args {
    char url[160];
    int kind;
    int rtt;
} xchan_args;

struct bench_conn {
    xconn x; /* first: xconn_alloc() */
    bench_cpu cpu;
    double *peer_cpu;
    uint8_t fill; /* shm-zc: the byte of the next message */
};
_Static_assert(offsetof(bench_conn, x) == 0, "xconn_alloc() allocates bench_conn");

static char xchan_cert[128]; /* tls+tcp://: self-signed certificate and key */
static const char *xchan_xbit_prog; /* shm-xbit: the --peer32 xipc, or NULL */
static volatile uint64_t xchan_sink; /* keeps shm-zc's in-place reads alive */

static int xchan_fail(const char *what, xipc_err rv)
{
    const char *d = xipc_last_detail();
    bench_set_error("%s: %s%s%s", what, xipc_strerror(rv), d[0] ? ": " : "", d);
    return -1;
}

static void xchan_opts(xipc_opts *o, int kind)
{
    xipc_opts_init(o);
    o->max_msg = XCONN_MAX_MSG + 64;
    if (kind == XCHAN_SHM_NOSPIN)
        o->spin_us = 0;
    if (kind == XCHAN_TLS) {
        o->tls_cert = xchan_cert;
        o->tls_verify = 0; /* encrypted, not authenticated: a benchmark */
    }
}

/* ---- the peer ------------------------------------------------------------------ */

/*
 * Read every byte of @p n at @p p, as fast as memcpy reads: 16-byte loads
 * into four independent XOR accumulators. A scalar loop of 8-byte words
 * (what this did before) reads about a word per cycle, 2-3 times slower
 * than the vector loads of glibc's memcpy, and made shm-zc look slower
 * than copying (docs/BENCHMARKS.md, "Large messages").
 */
typedef uint64_t xchan_v16 __attribute__((vector_size(16)));

static uint64_t xchan_read_all(const uint8_t *p, size_t n)
{
    xchan_v16 a0 = {0, 0}, a1 = a0, a2 = a0, a3 = a0, v;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        memcpy(&v, p + i, 16);
        a0 ^= v;
        memcpy(&v, p + i + 16, 16);
        a1 ^= v;
        memcpy(&v, p + i + 32, 16);
        a2 ^= v;
        memcpy(&v, p + i + 48, 16);
        a3 ^= v;
    }
    a0 ^= a1 ^ a2 ^ a3;
    uint64_t acc = a0[0] ^ a0[1];
    for (; i < n; i++)
        acc ^= p[i];
    return acc;
}

/* shm-zc: take the next message where it lies, read all of it there,
 * release it; its first byte to @p buf (a sync's). */
static xipc_err xchan_recv_zc(xipc_sock *s, uint8_t *buf, size_t *n)
{
    const void *p;
    xipc_err rv = xipc_peek(s, &p, n, XCONN_PEER_MS);
    if (rv != XIPC_OK)
        return rv;
    xchan_sink = xchan_read_all(p, *n);
    if (*n > 0)
        buf[0] = *(const uint8_t *)p;
    return xipc_release(s);
}

/* Serve one connection: echo (rtt) or consume with acks (@p zc: in place). */
static int xchan_serve(xipc_sock *s, int rtt, int zc, bench_cpu *cpu)
{
    uint8_t *buf = malloc(XCONN_MAX_MSG);
    xipc_err rv = buf == NULL ? XIPC_ENOMEM : XIPC_OK;
    bench_cpu_start(cpu);
    while (rv == XIPC_OK) {
        size_t n;
        rv = zc && !rtt ? xchan_recv_zc(s, buf, &n)
                        : xipc_recv(s, buf, XCONN_MAX_MSG, &n, XCONN_PEER_MS);
        if (rv != XIPC_OK || n == 0)
            break;
        if (rtt || n == 1)
            rv = xipc_send(s, buf, rtt ? n : 1, XCONN_PEER_MS);
    }
    bench_cpu_report(cpu);
    free(buf);
    return xconn_peer_exit(rv);
}

/* args: URL, kind, "rtt" or "thr" */
static int xchan_peer_main(char *const args[], bench_cpu *cpu)
{
    int kind = atoi(args[1]);
    xipc_opts o;
    xchan_opts(&o, kind);
    xipc_sock *s = NULL;
    if (xconn_dial(&s, args[0], &o, XCHAN_DIAL_NAP_US) != XIPC_OK)
        return 1;
    int rc = xchan_serve(s, strcmp(args[2], "rtt") == 0, kind == XCHAN_SHM_ZC, cpu);
    xipc_close(s);
    return rc;
}

const bench_peer_prog bench_peer_xchan = {"xchan", xchan_peer_main};

int bench_shm_peer_main(const char *url, const char *mode)
{
    bench_cpu cpu;
    bench_cpu_child(&cpu, "-"); /* no CPU report: the --shm-peer line has none */
    char kind[16];
    snprintf(kind, sizeof(kind), "%d", XCHAN_SHM);
    char *args[] = {(char *)url, kind, (char *)mode, NULL};
    return xchan_peer_main(args, &cpu);
}

int bench_spawn_peer_main(const char *mode, const char *fd)
{
    xipc_sock *s;
    xipc_err rv = xipc_sock_from_parent(&s);
    if (rv != XIPC_OK) {
        fprintf(stderr, "xipc: bench: --spawn-peer: %s\n", xipc_strerror(rv));
        return 1;
    }
    bench_cpu cpu;
    bench_cpu_child(&cpu, fd);
    int rc = xchan_serve(s, strcmp(mode, "rtt") == 0, 0, &cpu);
    xipc_close(s);
    return rc;
}

/* ---- the measuring side -------------------------------------------------------- */

static int xchan_close(bench_conn *c)
{
    if (c == NULL)
        return 0;
    int rc = xconn_stop(&c->x);
    double cpu = bench_cpu_collect(&c->cpu);
    if (c->peer_cpu != NULL)
        *c->peer_cpu = cpu;
    free(c);
    return rc;
}

static int xchan_accept(bench_conn *c, const xchan_args *a)
{
    xipc_opts o;
    xchan_opts(&o, a->kind);
    return xconn_accept(&c->x, a->url, &o);
}

static int xchan_spawn(bench_conn *c, const xchan_args *a)
{
    char fd[64];
    bench_cpu_arg(&c->cpu, fd, sizeof(fd));
    char *args[] = {"bench", "--spawn-peer", a->rtt ? "rtt" : "thr", fd, NULL};
    char *argv[BENCH_EXEC_ARGS + 3];
    if (bench_exec_argv(argv, NULL, args) == NULL)
        return -1;
    uint32_t pid;
    xipc_err rv = xipc_spawn(&c->x.sock, argv[0], argv, &pid);
    if (rv != XIPC_OK)
        return xchan_fail("xipc_spawn this program", rv);
    return bench_peer_adopt(&c->x.peer, pid);
}

void bench_drv_x_shm_xbit_peer(const char *prog)
{
    xchan_xbit_prog = prog;
}

/* shm-xbit: the --peer32 xipc, through scripts/run32. */
static int xchan_exec_xbit(bench_conn *c, const xchan_args *a)
{
    if (xchan_xbit_prog == NULL) {
        bench_set_error("no other-bitness xipc given (--peer32)");
        return -1;
    }
    char *args[] = {"bench", "--shm-peer", (char *)a->url, a->rtt ? "rtt" : "thr", NULL};
    char *argv[BENCH_EXEC_ARGS + 3];
    if (bench_exec_argv(argv, xchan_xbit_prog, args) == NULL)
        return -1;
    return bench_peer_exec(&c->x.peer, argv);
}

/* Start the peer of @p a's kind. */
static int xchan_start(bench_conn *c, xchan_args *a)
{
    if (a->kind == XCHAN_SPAWN)
        return xchan_spawn(c, a);
    if (a->kind == XCHAN_SHM_XBIT)
        return xchan_exec_xbit(c, a);
    char kind[16];
    snprintf(kind, sizeof(kind), "%d", a->kind);
    char *args[] = {a->url, kind, a->rtt ? "rtt" : "thr", NULL};
    return bench_peer_run(&c->x.peer, &bench_peer_xchan, args, &c->cpu);
}

static int xchan_url(xchan_args *a, const bench_cfg *cfg)
{
    int port = 0;
    if ((a->kind == XCHAN_TCP || a->kind == XCHAN_TLS) && (port = bench_free_port()) < 0) {
        bench_set_error("no free TCP port");
        return -1;
    }
    switch (a->kind) {
    case XCHAN_SHM:
    case XCHAN_SHM_NOSPIN:
    case XCHAN_SHM_ZC:
    case XCHAN_SHM_XBIT: snprintf(a->url, sizeof(a->url), "shm://%s", cfg->name); break;
    case XCHAN_PIPE: snprintf(a->url, sizeof(a->url), "pipe://%s", cfg->name); break;
    case XCHAN_UNIX: snprintf(a->url, sizeof(a->url), "unix://@%s", cfg->name); break;
    case XCHAN_TCP: snprintf(a->url, sizeof(a->url), "tcp://127.0.0.1:%d", port); break;
    case XCHAN_TLS: snprintf(a->url, sizeof(a->url), "tls+tcp://127.0.0.1:%d", port); break;
    default: a->url[0] = '\0';
    }
    return 0;
}

static int xchan_open(bench_conn **out, const bench_cfg *cfg, int kind)
{
    *out = NULL;
    bench_conn *c = xconn_alloc(sizeof(*c), cfg, xchan_fail);
    if (c == NULL)
        return -1;
    c->peer_cpu = cfg->peer_cpu_ns;
    xchan_args a = {.kind = kind, .rtt = cfg->rtt};
    int rc = bench_cpu_open(&c->cpu) != 0 || xchan_url(&a, cfg) != 0 ? -1 : 0;
    if (rc == 0)
        rc = xchan_start(c, &a);
    if (rc == 0) {
        bench_cpu_parent(&c->cpu);
        if (kind != XCHAN_SPAWN)
            rc = xchan_accept(c, &a);
    }
    if (rc != 0)
        return bench_close_failed(xchan_close, c);
    *out = c;
    return 0;
}

static int xchan_rtt(bench_conn *c)
{
    return xconn_rtt(&c->x);
}

static int xchan_put(bench_conn *c)
{
    return xconn_put(&c->x);
}

/* The same, corked: the stream transports write many messages at once
 * (the next send without the flag, here sync's, writes what is held). */
static int xchan_put_more(bench_conn *c)
{
    xipc_err rv = xipc_send_ex(c->x.sock, c->x.buf, c->x.size, XIPC_SEND_MORE,
                               XCONN_TIMEOUT_MS);
    return rv == XIPC_OK ? 0 : xchan_fail("xipc_send_ex", rv);
}

/* shm-zc: the message is made where it lies. */
static int xchan_put_zc(bench_conn *c)
{
    void *p;
    xipc_err rv = xipc_reserve(c->x.sock, c->x.size, &p, XCONN_TIMEOUT_MS);
    if (rv != XIPC_OK)
        return xchan_fail("xipc_reserve", rv);
    memset(p, c->fill++, c->x.size);
    rv = xipc_commit(c->x.sock, c->x.size);
    return rv == XIPC_OK ? 0 : xchan_fail("xipc_commit", rv);
}

static int xchan_sync(bench_conn *c)
{
    return xconn_sync(&c->x);
}

/* tls+tcp://: a self-signed certificate made by openssl(1) for the run. */
static int xchan_tls_setup(void)
{
    xipc_opts o;
    xipc_opts_init(&o);
    xipc_sock *l;
    xipc_err rv = xipc_listen(&l, "tls+tcp://127.0.0.1:0", &o); /* no certificate yet */
    if (rv == XIPC_ENOTSUP) { /* no OpenSSL at build time, or wine's Schannel */
        const char *d = xipc_last_detail();
        bench_set_error("not available here (%s%s%s)", xipc_strerror(rv), d[0] ? ": " : "",
                        d[0] ? d : "tls+tcp:// not built");
        return -1;
    }
    if (rv == XIPC_OK)
        xipc_close(l);
    const char *dir = bench_tmpdir();
    if (dir == NULL) {
        bench_set_error("cannot create a temporary directory");
        return -1;
    }
    if (strlen(dir) + 16 > sizeof(xchan_cert)) {
        bench_set_error("temporary directory name too long");
        return -1;
    }
    snprintf(xchan_cert, sizeof(xchan_cert), "%.100s/tls.pem", dir);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
             "-nodes -days 1 -subj /CN=127.0.0.1 -keyout %s -out %s.crt "
             ">/dev/null 2>&1 && cat %s.crt >>%s",
             xchan_cert, xchan_cert, xchan_cert, xchan_cert);
    if (system(cmd) != 0) {
        bench_set_error("openssl(1) could not make a test certificate");
        return -1;
    }
    xchan_opts(&o, XCHAN_TLS);
    rv = xipc_listen(&l, "tls+tcp://127.0.0.1:0", &o);
    if (rv != XIPC_OK)
        return xchan_fail("tls+tcp:// listen", rv);
    xipc_close(l);
    return 0;
}

#define XCHAN_OPEN(fn, kind)                                                     \
    static int fn(bench_conn **out, const bench_cfg *cfg)                         \
    {                                                                             \
        return xchan_open(out, cfg, kind);                                        \
    }
XCHAN_OPEN(xchan_open_shm, XCHAN_SHM)
XCHAN_OPEN(xchan_open_shm_nospin, XCHAN_SHM_NOSPIN)
XCHAN_OPEN(xchan_open_shm_zc, XCHAN_SHM_ZC)
XCHAN_OPEN(xchan_open_shm_xbit, XCHAN_SHM_XBIT)
XCHAN_OPEN(xchan_open_pipe, XCHAN_PIPE)
XCHAN_OPEN(xchan_open_unix, XCHAN_UNIX)
XCHAN_OPEN(xchan_open_tcp, XCHAN_TCP)
XCHAN_OPEN(xchan_open_tls, XCHAN_TLS)
XCHAN_OPEN(xchan_open_spawn, XCHAN_SPAWN)

#define XCHAN_DRV_PUT(var, name, fn, setup_fn, put_fn)                         \
    const bench_drv var = {.transport = name, .impl = "xipc", .open = fn,          \
                           .rtt = xchan_rtt, .put = put_fn, .sync = xchan_sync,    \
                           .close = xchan_close, .setup = setup_fn}
#define XCHAN_DRV(var, name, fn, setup_fn) XCHAN_DRV_PUT(var, name, fn, setup_fn, xchan_put)
XCHAN_DRV(bench_drv_x_shm, "shm", xchan_open_shm, NULL);
XCHAN_DRV(bench_drv_x_shm_nospin, "shm-nospin", xchan_open_shm_nospin, NULL);
XCHAN_DRV_PUT(bench_drv_x_shm_zc, "shm-zc", xchan_open_shm_zc, NULL, xchan_put_zc);
XCHAN_DRV(bench_drv_x_shm_xbit, "shm-xbit", xchan_open_shm_xbit, NULL);
XCHAN_DRV(bench_drv_x_pipe, "pipe", xchan_open_pipe, NULL);
XCHAN_DRV(bench_drv_x_unix, "unix", xchan_open_unix, xconn_unix_setup);
XCHAN_DRV(bench_drv_x_tcp, "tcp", xchan_open_tcp, NULL);
XCHAN_DRV(bench_drv_x_tls, "tls+tcp", xchan_open_tls, xchan_tls_setup);
XCHAN_DRV(bench_drv_x_spawn, "spawn", xchan_open_spawn, NULL);
XCHAN_DRV_PUT(bench_drv_x_unix_more, "unix-more", xchan_open_unix, xconn_unix_setup,
              xchan_put_more);
XCHAN_DRV_PUT(bench_drv_x_tcp_more, "tcp-more", xchan_open_tcp, NULL, xchan_put_more);
