/*
 * The raw baselines of the comparison, with POSIX directly and CPU
 * accounting: round trips of a counter on one shared cache line with pure
 * spinning (the hardware floor), and round trips and streams of
 * fixed-size messages over two pipes, an AF_UNIX stream socketpair and a
 * TCP loopback connection (TCP_NODELAY). The mechanism is set up before
 * the fork; it is all the child uses. No framing: the size is agreed in
 * advance, so these are the floors the framed transports are judged
 * against. Streams: the first byte of a message says data (0) or sync
 * (1, answered by one byte); end of file ends.
 */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "baseline.h"
#include "cpu.h"
#include "drvs.h"
#include "runner.h"
#include "peer.h"

struct bench_conn {
    bench_peer peer;
    bench_cpu cpu;
    double *peer_cpu;
    size_t size;
    int rtt;
    baseline_line *line;
    uint32_t next;
    int rfd, wfd;   /* the parent's ends */
    int crfd, cwfd; /* the child's ends */
    int lfd;        /* raw-tcp: the listening socket */
    uint8_t buf[BASELINE_MAX_MSG];
};

static bench_conn *base_alloc(const bench_cfg *cfg, int stream_ok)
{
    if (cfg->size < 1 || cfg->size > BASELINE_MAX_MSG || (!cfg->rtt && !stream_ok)) {
        bench_set_error(stream_ok ? "message size outside 1..65536"
                                  : "this baseline measures round trips only");
        return NULL;
    }
    bench_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        bench_set_error("out of memory");
        return NULL;
    }
    c->peer.pid = -1;
    c->size = cfg->size;
    c->rtt = cfg->rtt;
    c->peer_cpu = cfg->peer_cpu_ns;
    c->rfd = c->wfd = c->crfd = c->cwfd = c->lfd = -1;
    if (bench_cpu_open(&c->cpu) != 0) {
        free(c);
        return NULL;
    }
    return c;
}

static int base_close(bench_conn *c)
{
    if (c == NULL)
        return 0;
    if (c->line != NULL)
        atomic_store(&c->line->word, BASELINE_SPIN_QUIT);
    baseline_close_ends(&c->rfd, &c->wfd);
    baseline_close_ends(&c->crfd, &c->cwfd);
    baseline_close_fd(&c->lfd);
    int rc = bench_peer_stop(&c->peer, 5000);
    double cpu = bench_cpu_collect(&c->cpu);
    if (c->peer_cpu != NULL)
        *c->peer_cpu = cpu;
    if (c->line != NULL)
        munmap(c->line, sizeof(*c->line));
    free(c);
    return rc;
}

/* ---- raw-spin ---------------------------------------------------------------------- */

static int base_spin_peer(void *arg)
{
    bench_conn *c = arg;
    bench_cpu_start(&c->cpu);
    if (baseline_spin_serve(c->line, &c->peer) != 0)
        return 1; /* orphaned: nobody to report to */
    bench_cpu_report(&c->cpu);
    return 0;
}

static int base_spin_open(bench_conn **out, const bench_cfg *cfg)
{
    *out = NULL;
    bench_conn *c = base_alloc(cfg, 0);
    if (c == NULL)
        return -1;
    c->line = baseline_spin_map();
    if (c->line == NULL) {
        base_close(c);
        return -1;
    }
    c->next = 1;
    if (bench_peer_start(&c->peer, base_spin_peer, c) != 0) {
        base_close(c);
        return -1;
    }
    bench_cpu_parent(&c->cpu);
    *out = c;
    return 0;
}

static int base_spin_rtt(bench_conn *c)
{
    return baseline_spin_rtt(c->line, &c->next, &c->peer);
}

/* ---- streams ------------------------------------------------------------------------- */

static int base_stream_peer(void *arg)
{
    bench_conn *c = arg; /* the child's copy: it uses its two fds only */
    baseline_close_ends(&c->rfd, &c->wfd);
    baseline_close_fd(&c->lfd);
    bench_cpu_start(&c->cpu);
    int rc;
    for (;;) {
        rc = baseline_read_full(c->crfd, c->buf, c->size);
        if (rc != 0)
            break;
        if (c->rtt || c->buf[0] == 1)
            if (baseline_write_full(c->cwfd, c->buf, c->rtt ? c->size : 1) != 0) {
                rc = -1;
                break;
            }
    }
    bench_cpu_report(&c->cpu);
    return rc < 0;
}

static int base_stream_start(bench_conn *c)
{
    if (bench_peer_start(&c->peer, base_stream_peer, c) != 0)
        return -1;
    bench_cpu_parent(&c->cpu);
    baseline_close_ends(&c->crfd, &c->cwfd);
    memset(c->buf, 0, c->size);
    return 0;
}

static int base_pipe_open(bench_conn **out, const bench_cfg *cfg)
{
    *out = NULL;
    bench_conn *c = base_alloc(cfg, 1);
    if (c == NULL)
        return -1;
    int down[2], up[2];
    if (pipe(down) != 0) {
        bench_set_error("pipe: %s", strerror(errno));
        base_close(c);
        return -1;
    }
    if (pipe(up) != 0) {
        bench_set_error("pipe: %s", strerror(errno));
        close(down[0]);
        close(down[1]);
        base_close(c);
        return -1;
    }
    c->rfd = up[0];
    c->wfd = down[1];
    c->crfd = down[0];
    c->cwfd = up[1];
    if (base_stream_start(c) != 0) {
        base_close(c);
        return -1;
    }
    *out = c;
    return 0;
}

static int base_unix_open(bench_conn **out, const bench_cfg *cfg)
{
    *out = NULL;
    bench_conn *c = base_alloc(cfg, 1);
    if (c == NULL)
        return -1;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        bench_set_error("socketpair: %s", strerror(errno));
        base_close(c);
        return -1;
    }
    c->rfd = c->wfd = sv[0];
    c->crfd = c->cwfd = sv[1];
    if (base_stream_start(c) != 0) {
        base_close(c);
        return -1;
    }
    *out = c;
    return 0;
}

static void base_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* A connected TCP loopback pair: @p a the accepted end, @p b the dialled. */
static int base_tcp_pair(int *a, int *b)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int l = socket(AF_INET, SOCK_STREAM, 0);
    *a = *b = -1;
    if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(l, 1) != 0 ||
        getsockname(l, (struct sockaddr *)&sa, &len) != 0 ||
        (*b = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
        connect(*b, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        (*a = accept(l, NULL, NULL)) < 0) {
        bench_set_error("tcp loopback: %s", strerror(errno));
        if (l >= 0)
            close(l);
        baseline_close_fd(b);
        return -1;
    }
    close(l);
    base_nodelay(*a);
    base_nodelay(*b);
    return 0;
}

static int base_tcp_open(bench_conn **out, const bench_cfg *cfg)
{
    *out = NULL;
    bench_conn *c = base_alloc(cfg, 1);
    if (c == NULL)
        return -1;
    int a, b;
    if (base_tcp_pair(&a, &b) != 0) {
        base_close(c);
        return -1;
    }
    c->rfd = c->wfd = a;
    c->crfd = c->cwfd = b;
    if (base_stream_start(c) != 0) {
        base_close(c);
        return -1;
    }
    *out = c;
    return 0;
}

static int base_rtt(bench_conn *c)
{
    return baseline_fd_rtt(c->rfd, c->wfd, c->buf, c->size);
}

static int base_put(bench_conn *c)
{
    c->buf[0] = 0;
    if (baseline_write_full(c->wfd, c->buf, c->size) != 0) {
        bench_set_error("write: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int base_sync(bench_conn *c)
{
    c->buf[0] = 1;
    if (baseline_write_full(c->wfd, c->buf, c->size) != 0) {
        bench_set_error("write: %s", strerror(errno));
        return -1;
    }
    int rc = baseline_read_full(c->rfd, c->buf, 1);
    if (rc != 0) {
        bench_set_error("read (ack): %s", rc > 0 ? "the peer closed" : strerror(errno));
        return -1;
    }
    return 0;
}

const bench_drv bench_drv_base_spin = {
    .transport = "raw-spin", .impl = "raw", .open = base_spin_open,
    .rtt = base_spin_rtt, .put = baseline_no_stream, .sync = baseline_no_stream,
    .close = base_close,
};

#define BASE_DRV(var, name, fn)                                                  \
    const bench_drv var = {.transport = name, .impl = "raw", .open = fn,           \
                           .rtt = base_rtt, .put = base_put, .sync = base_sync,    \
                           .close = base_close}
BASE_DRV(bench_drv_base_pipe, "raw-pipe", base_pipe_open);
BASE_DRV(bench_drv_base_unix, "raw-unix", base_unix_open);
BASE_DRV(bench_drv_base_tcp, "raw-tcp", base_tcp_open);
