/*
 * The baselines, with POSIX directly: round trips of a counter on one
 * shared cache line with pure spinning (the hardware floor), over two
 * pipes, and over an AF_UNIX stream socketpair. Each is set up before the
 * fork: that is the mechanism being measured, and all the child uses.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "baseline.h"
#include "drv.h"
#include "runner.h"
#include "peer.h"

struct bench_conn {
    bench_peer peer;
    size_t size;
    baseline_line *line; /* raw-spin */
    uint32_t next;       /* raw-spin: the next odd value to send */
    int rfd, wfd;        /* raw-pipe, raw-unix: parent's ends */
    int crfd, cwfd;      /* the child's ends (closed in the parent after fork) */
    uint8_t buf[BASELINE_MAX_MSG];
};

static bench_conn *raw_alloc(const bench_cfg *cfg)
{
    if (cfg->size == 0 || cfg->size > BASELINE_MAX_MSG || !cfg->rtt) {
        bench_set_error("raw drivers measure round trips of 1..%u bytes",
                        BASELINE_MAX_MSG);
        return NULL;
    }
    bench_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        bench_set_error("out of memory");
        return NULL;
    }
    c->peer.pid = -1;
    c->size = cfg->size;
    c->rfd = c->wfd = c->crfd = c->cwfd = -1;
    return c;
}

static int raw_close(bench_conn *c)
{
    if (c == NULL)
        return 0;
    if (c->line != NULL)
        atomic_store(&c->line->word, BASELINE_SPIN_QUIT);
    baseline_close_ends(&c->rfd, &c->wfd); /* the child reads EOF and leaves */
    baseline_close_ends(&c->crfd, &c->cwfd);
    int rc = bench_peer_stop(&c->peer, 5000);
    if (c->line != NULL)
        munmap(c->line, sizeof(*c->line));
    free(c);
    return rc;
}

/* ---- raw-spin ------------------------------------------------------------------ */

static int raw_spin_peer(void *arg)
{
    bench_conn *c = arg; /* the child's copy; only c->line is shared */
    return baseline_spin_serve(c->line, &c->peer);
}

static int raw_spin_open(bench_conn **out, const bench_cfg *cfg)
{
    *out = NULL;
    bench_conn *c = raw_alloc(cfg);
    if (c == NULL)
        return -1;
    c->line = baseline_spin_map();
    if (c->line == NULL) {
        free(c);
        return -1;
    }
    c->next = 1;
    if (bench_peer_start(&c->peer, raw_spin_peer, c) != 0) {
        raw_close(c);
        return -1;
    }
    *out = c;
    return 0;
}

static int raw_spin_rtt(bench_conn *c)
{
    return baseline_spin_rtt(c->line, &c->next, &c->peer);
}

/* ---- raw-pipe and raw-unix: byte streams of fixed-size messages ----------- */

static int raw_echo_peer(void *arg)
{
    bench_conn *c = arg; /* the child's copy; it uses only its two fds */
    baseline_close_ends(&c->rfd, &c->wfd);
    for (;;) {
        int rc = baseline_read_full(c->crfd, c->buf, c->size);
        if (rc != 0)
            return rc < 0; /* EOF: the parent is done */
        if (baseline_write_full(c->cwfd, c->buf, c->size) != 0)
            return 1;
    }
}

/* fds[0..1]: parent reads, parent writes; fds[2..3]: child reads, writes. */
static int raw_fd_open(bench_conn **out, const bench_cfg *cfg, const int fds[4])
{
    *out = NULL;
    bench_conn *c = raw_alloc(cfg);
    if (c == NULL) {
        int r = fds[0], w = fds[1], cr = fds[2], cw = fds[3];
        baseline_close_ends(&r, &w);
        baseline_close_ends(&cr, &cw);
        return -1;
    }
    c->rfd = fds[0];
    c->wfd = fds[1];
    c->crfd = fds[2];
    c->cwfd = fds[3];
    if (bench_peer_start(&c->peer, raw_echo_peer, c) != 0) {
        raw_close(c);
        return -1;
    }
    baseline_close_ends(&c->crfd, &c->cwfd);
    memset(c->buf, 0x5a, c->size);
    *out = c;
    return 0;
}

static int raw_pipe_open(bench_conn **out, const bench_cfg *cfg)
{
    int down[2], up[2]; /* parent to child, child to parent */
    if (pipe(down) != 0) {
        bench_set_error("pipe: %s", strerror(errno));
        return -1;
    }
    if (pipe(up) != 0) {
        bench_set_error("pipe: %s", strerror(errno));
        close(down[0]);
        close(down[1]);
        return -1;
    }
    int fds[4] = {up[0], down[1], down[0], up[1]};
    return raw_fd_open(out, cfg, fds);
}

static int raw_unix_open(bench_conn **out, const bench_cfg *cfg)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        bench_set_error("socketpair: %s", strerror(errno));
        return -1;
    }
    int fds[4] = {sv[0], sv[0], sv[1], sv[1]};
    return raw_fd_open(out, cfg, fds);
}

static int raw_fd_rtt(bench_conn *c)
{
    return baseline_fd_rtt(c->rfd, c->wfd, c->buf, c->size);
}

const bench_drv bench_drv_raw_spin = {
    .transport = "raw-spin",
    .impl = "raw",
    .open = raw_spin_open,
    .rtt = raw_spin_rtt,
    .put = baseline_no_stream,
    .sync = baseline_no_stream,
    .close = raw_close,
};

const bench_drv bench_drv_raw_pipe = {
    .transport = "raw-pipe",
    .impl = "raw",
    .open = raw_pipe_open,
    .rtt = raw_fd_rtt,
    .put = baseline_no_stream,
    .sync = baseline_no_stream,
    .close = raw_close,
};

const bench_drv bench_drv_raw_unix = {
    .transport = "raw-unix",
    .impl = "raw",
    .open = raw_unix_open,
    .rtt = raw_fd_rtt,
    .put = baseline_no_stream,
    .sync = baseline_no_stream,
    .close = raw_close,
};
