/*
 * The baselines, with POSIX directly: round trips of a counter on one
 * shared cache line with pure spinning (the hardware floor), over two
 * pipes, and over an AF_UNIX stream socketpair. Each is set up before the
 * fork: that is the mechanism being measured, and all the child uses.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "drv.h"
#include "harness.h"
#include "peer.h"

#define RAW_SPIN_QUIT UINT32_MAX  /* odd: the child stops */
#define RAW_SPIN_CHECK 0xfffffu   /* spins between liveness checks */
#define RAW_MAX_MSG 65536u

/* The line both processes spin on. Parent writes odd, child answers +1. */
typedef struct raw_line {
    _Alignas(64) _Atomic uint32_t word;
    uint8_t pad[60];
} raw_line;

struct bench_conn {
    bench_peer peer;
    size_t size;
    raw_line *line; /* raw-spin */
    uint32_t next;  /* raw-spin: the next odd value to send */
    int rfd, wfd;   /* raw-pipe, raw-unix: parent's ends */
    int crfd, cwfd; /* the child's ends (closed in the parent after fork) */
    uint8_t buf[RAW_MAX_MSG];
};

static void raw_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static bench_conn *raw_alloc(const bench_cfg *cfg)
{
    if (cfg->size == 0 || cfg->size > RAW_MAX_MSG || !cfg->rtt) {
        bench_set_error("raw drivers measure round trips of 1..%u bytes", RAW_MAX_MSG);
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

static void raw_close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Close a read and a write end, which may be one socket. */
static void raw_close_ends(int *rfd, int *wfd)
{
    if (*rfd == *wfd)
        *wfd = -1;
    raw_close_fd(rfd);
    raw_close_fd(wfd);
}

static int raw_close(bench_conn *c)
{
    if (c == NULL)
        return 0;
    if (c->line != NULL)
        atomic_store(&c->line->word, RAW_SPIN_QUIT);
    raw_close_ends(&c->rfd, &c->wfd); /* the child reads EOF and leaves */
    raw_close_ends(&c->crfd, &c->cwfd);
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
    uint32_t last = 0;
    for (uint32_t i = 1;; i++) {
        uint32_t w = atomic_load_explicit(&c->line->word, memory_order_acquire);
        if (w != last && (w & 1u)) {
            if (w == RAW_SPIN_QUIT)
                return 0;
            last = w + 1;
            atomic_store_explicit(&c->line->word, last, memory_order_release);
            continue;
        }
        raw_relax();
        if ((i & RAW_SPIN_CHECK) == 0 && bench_peer_orphaned(&c->peer))
            return 1;
    }
}

static int raw_spin_open(bench_conn **out, const bench_cfg *cfg)
{
    *out = NULL;
    bench_conn *c = raw_alloc(cfg);
    if (c == NULL)
        return -1;
    void *p = mmap(NULL, sizeof(raw_line), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        bench_set_error("mmap: %s", strerror(errno));
        free(c);
        return -1;
    }
    c->line = p;
    atomic_init(&c->line->word, 0);
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
    uint32_t v = c->next;
    c->next += 2;
    if (c->next == RAW_SPIN_QUIT)
        c->next = 1; /* wrap, skipping the stop value */
    atomic_store_explicit(&c->line->word, v, memory_order_release);
    for (uint32_t i = 1;; i++) {
        if (atomic_load_explicit(&c->line->word, memory_order_acquire) == v + 1)
            return 0;
        raw_relax();
        if ((i & RAW_SPIN_CHECK) == 0 && bench_peer_gone(&c->peer)) {
            bench_set_error("the spinning peer died");
            return -1;
        }
    }
}

/* ---- raw-pipe and raw-unix: byte streams of fixed-size messages ----------- */

static int raw_read_full(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = read(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k == 0 ? 1 : -1; /* 1: end of stream */
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int raw_write_full(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int raw_echo_peer(void *arg)
{
    bench_conn *c = arg; /* the child's copy; it uses only its two fds */
    raw_close_ends(&c->rfd, &c->wfd);
    for (;;) {
        int rc = raw_read_full(c->crfd, c->buf, c->size);
        if (rc != 0)
            return rc < 0; /* EOF: the parent is done */
        if (raw_write_full(c->cwfd, c->buf, c->size) != 0)
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
        raw_close_ends(&r, &w);
        raw_close_ends(&cr, &cw);
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
    raw_close_ends(&c->crfd, &c->cwfd);
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
    if (raw_write_full(c->wfd, c->buf, c->size) != 0) {
        bench_set_error("write: %s", strerror(errno));
        return -1;
    }
    int rc = raw_read_full(c->rfd, c->buf, c->size);
    if (rc != 0) {
        bench_set_error("read: %s", rc > 0 ? "the peer closed" : strerror(errno));
        return -1;
    }
    return 0;
}

static int raw_no_stream(bench_conn *c)
{
    bench_set_error("this baseline measures round trips only");
    return -1;
}

const bench_drv bench_drv_raw_spin = {
    .transport = "raw-spin",
    .impl = "raw",
    .open = raw_spin_open,
    .rtt = raw_spin_rtt,
    .put = raw_no_stream,
    .sync = raw_no_stream,
    .close = raw_close,
};

const bench_drv bench_drv_raw_pipe = {
    .transport = "raw-pipe",
    .impl = "raw",
    .open = raw_pipe_open,
    .rtt = raw_fd_rtt,
    .put = raw_no_stream,
    .sync = raw_no_stream,
    .close = raw_close,
};

const bench_drv bench_drv_raw_unix = {
    .transport = "raw-unix",
    .impl = "raw",
    .open = raw_unix_open,
    .rtt = raw_fd_rtt,
    .put = raw_no_stream,
    .sync = raw_no_stream,
    .close = raw_close,
};
