/*
 * The raw baselines, with POSIX directly and CPU accounting: round trips
 * of a counter on one shared cache line with pure spinning (the hardware
 * floor); a spinning stream through a shared 1 MiB ring of 16 slots (the
 * floor of copying messages from one process to another: memcpy in,
 * memcpy out, one counter each way); and round trips and streams of
 * fixed-size messages over two pipes, an AF_UNIX stream socketpair and a
 * TCP loopback connection (TCP_NODELAY). The mechanism is set up before
 * the fork; it is all the child uses. No framing: the size is agreed in
 * advance, so these are the floors xipc's transports are judged against
 * (bench shm: raw-spin, raw-pipe, raw-unix round trips; the comparison
 * suites: all four).
 * Streams: the first byte of a message says data (0) or sync (1,
 * answered by one byte); end of file ends.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
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

#include "drivers/drivers.h"
#include "harness/cpu.h"
#include "harness/peer.h"
#include "harness/runner.h"

#define RAW_MAX_MSG 65536u         /* largest message of the fd baselines */
#define RAW_SPIN_QUIT UINT32_MAX   /* odd: the child stops */
#define RAW_SPIN_CHECK 0xfffffu    /* spins between liveness checks */

/* The line both processes spin on. The parent writes odd, the child
 * answers with that value + 1. */
typedef struct raw_line {
    _Alignas(64) _Atomic uint32_t word;
    uint8_t pad[60];
} raw_line;

/* raw-spin's stream: RAW_RING_SLOTS slots of RAW_MAX_MSG bytes. The
 * parent copies message number head into slot head % SLOTS and counts
 * head; the child copies it out and counts tail; each waits spinning. */
#define RAW_RING_SLOTS 16u
#define RAW_RING_QUIT UINT64_MAX
typedef struct raw_ring {
    _Alignas(64) _Atomic uint64_t head; /* messages written; RAW_RING_QUIT: stop */
    _Alignas(64) _Atomic uint64_t tail; /* messages read */
    _Alignas(64) uint8_t slot[RAW_RING_SLOTS][RAW_MAX_MSG];
} raw_ring;

struct bench_conn {
    bench_peer peer;
    bench_cpu cpu;
    double *peer_cpu;
    size_t size;
    int rtt;
    raw_line *line; /* raw-spin, round trips */
    raw_ring *ring; /* raw-spin, the stream */
    uint64_t head;  /* raw-spin stream: messages written */
    uint32_t next;  /* raw-spin: the next odd value to send */
    int rfd, wfd;   /* the parent's ends */
    int crfd, cwfd; /* the child's ends (closed in the parent after fork) */
    int lfd;        /* raw-tcp: the listening socket */
    uint8_t buf[RAW_MAX_MSG];
};

/* ---- file descriptors ------------------------------------------------------------- */

/* Close @p *fd unless it is -1, and set it to -1. */
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

/* Read exactly @p n bytes. @return 0, 1 at end of stream, or -1 (errno) */
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

/* Write all @p n bytes. @return 0 or -1 (errno) */
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

/* ---- a connection ------------------------------------------------------------------ */

static bench_conn *raw_alloc(const bench_cfg *cfg)
{
    if (cfg->size < 1 || cfg->size > RAW_MAX_MSG) {
        bench_set_error("message size outside 1..65536");
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

static int raw_close(bench_conn *c)
{
    if (c == NULL)
        return 0;
    if (c->line != NULL)
        atomic_store(&c->line->word, RAW_SPIN_QUIT);
    if (c->ring != NULL)
        atomic_store(&c->ring->head, RAW_RING_QUIT);
    raw_close_ends(&c->rfd, &c->wfd); /* the child reads EOF and leaves */
    raw_close_ends(&c->crfd, &c->cwfd);
    raw_close_fd(&c->lfd);
    int rc = bench_peer_stop(&c->peer, 5000);
    double cpu = bench_cpu_collect(&c->cpu);
    if (c->peer_cpu != NULL)
        *c->peer_cpu = cpu;
    if (c->line != NULL)
        munmap(c->line, sizeof(*c->line));
    if (c->ring != NULL)
        munmap(c->ring, sizeof(*c->ring));
    free(c);
    return rc;
}

/* ---- raw-spin ---------------------------------------------------------------------- */

/* Tell the core we are spinning (x86 PAUSE). */
static void raw_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Child side: answer every odd value the parent writes until it writes
 * RAW_SPIN_QUIT. @return 0 then, or 1 when the parent went away */
static int raw_spin_serve(raw_line *l, const bench_peer *peer)
{
    uint32_t last = 0;
    for (uint32_t i = 1;; i++) {
        uint32_t w = atomic_load_explicit(&l->word, memory_order_acquire);
        if (w != last && (w & 1u)) {
            if (w == RAW_SPIN_QUIT)
                return 0;
            last = w + 1;
            atomic_store_explicit(&l->word, last, memory_order_release);
            continue;
        }
        raw_relax();
        if ((i & RAW_SPIN_CHECK) == 0 && bench_peer_orphaned(peer))
            return 1;
    }
}

/* Child side of the stream: copy each message out of its slot into @p buf
 * until the parent writes RAW_RING_QUIT. @return 0 then, 1 when orphaned */
static int raw_ring_serve(raw_ring *r, size_t size, uint8_t *buf, const bench_peer *peer)
{
    uint64_t tail = 0;
    for (uint32_t i = 1;; i++) {
        uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
        if (head == RAW_RING_QUIT)
            return 0;
        if (head != tail) {
            memcpy(buf, r->slot[tail % RAW_RING_SLOTS], size);
            atomic_store_explicit(&r->tail, ++tail, memory_order_release);
            continue;
        }
        raw_relax();
        if ((i & RAW_SPIN_CHECK) == 0 && bench_peer_orphaned(peer))
            return 1;
    }
}

static int raw_spin_peer(void *arg)
{
    bench_conn *c = arg; /* the child's copy; only c->line or c->ring is shared */
    bench_cpu_start(&c->cpu);
    if ((c->ring != NULL ? raw_ring_serve(c->ring, c->size, c->buf, &c->peer)
                         : raw_spin_serve(c->line, &c->peer)) != 0)
        return 1; /* orphaned: nobody to report to */
    bench_cpu_report(&c->cpu);
    return 0;
}

static int raw_spin_open(bench_conn **out, const bench_cfg *cfg)
{
    *out = NULL;
    bench_conn *c = raw_alloc(cfg);
    if (c == NULL)
        return -1;
    size_t len = cfg->rtt ? sizeof(raw_line) : sizeof(raw_ring);
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        bench_set_error("mmap: %s", strerror(errno));
        raw_close(c);
        return -1;
    }
    if (cfg->rtt) {
        c->line = p;
        atomic_init(&c->line->word, 0);
        c->next = 1;
    } else {
        c->ring = p; /* zero-filled: head = tail = 0 */
        memset(c->buf, 0x5a, c->size);
    }
    if (bench_peer_start(&c->peer, raw_spin_peer, c) != 0) {
        raw_close(c);
        return -1;
    }
    bench_cpu_parent(&c->cpu);
    *out = c;
    return 0;
}

/* One round trip of the odd value c->next (advanced, and wrapped before
 * RAW_SPIN_QUIT). */
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

/* Spin until the child has read all but @p room messages of the stream. */
static int raw_ring_wait(bench_conn *c, uint64_t room)
{
    for (uint32_t i = 1;; i++) {
        if (c->head - atomic_load_explicit(&c->ring->tail, memory_order_acquire) <= room)
            return 0;
        raw_relax();
        if ((i & RAW_SPIN_CHECK) == 0 && bench_peer_gone(&c->peer)) {
            bench_set_error("the spinning peer died");
            return -1;
        }
    }
}

/* One message of the stream: wait for a free slot, copy in, count it. */
static int raw_ring_put(bench_conn *c)
{
    if (raw_ring_wait(c, RAW_RING_SLOTS - 1) != 0)
        return -1;
    memcpy(c->ring->slot[c->head % RAW_RING_SLOTS], c->buf, c->size);
    atomic_store_explicit(&c->ring->head, ++c->head, memory_order_release);
    return 0;
}

/* The end of a throughput run: the child has read everything. */
static int raw_ring_sync(bench_conn *c)
{
    return raw_ring_wait(c, 0);
}

/* ---- raw-pipe, raw-unix, raw-tcp: byte streams of fixed-size messages ------------ */

static int raw_stream_peer(void *arg)
{
    bench_conn *c = arg; /* the child's copy: it uses its two fds only */
    raw_close_ends(&c->rfd, &c->wfd);
    raw_close_fd(&c->lfd);
    bench_cpu_start(&c->cpu);
    int rc;
    for (;;) {
        rc = raw_read_full(c->crfd, c->buf, c->size);
        if (rc != 0)
            break; /* 1, EOF: the parent is done */
        if (c->rtt || c->buf[0] == 1)
            if (raw_write_full(c->cwfd, c->buf, c->rtt ? c->size : 1) != 0) {
                rc = -1;
                break;
            }
    }
    bench_cpu_report(&c->cpu);
    return rc < 0;
}

/* Take the ends @p fds (parent reads, parent writes, child reads, child
 * writes; a socket is both ends of its side) and start the child. */
static int raw_stream_open(bench_conn **out, const bench_cfg *cfg, const int fds[4])
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
    if (bench_peer_start(&c->peer, raw_stream_peer, c) != 0) {
        raw_close(c);
        return -1;
    }
    bench_cpu_parent(&c->cpu);
    raw_close_ends(&c->crfd, &c->cwfd);
    memset(c->buf, 0, c->size);
    *out = c;
    return 0;
}

static int raw_pipe_open(bench_conn **out, const bench_cfg *cfg)
{
    int down[2], up[2]; /* parent to child, child to parent */
    *out = NULL;
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
    return raw_stream_open(out, cfg, fds);
}

static int raw_unix_open(bench_conn **out, const bench_cfg *cfg)
{
    int sv[2];
    *out = NULL;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        bench_set_error("socketpair: %s", strerror(errno));
        return -1;
    }
    int fds[4] = {sv[0], sv[0], sv[1], sv[1]};
    return raw_stream_open(out, cfg, fds);
}

static void raw_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* A connected TCP loopback pair: @p a the accepted end, @p b the dialled. */
static int raw_tcp_pair(int *a, int *b)
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
        raw_close_fd(b);
        return -1;
    }
    close(l);
    raw_nodelay(*a);
    raw_nodelay(*b);
    return 0;
}

static int raw_tcp_open(bench_conn **out, const bench_cfg *cfg)
{
    int a, b;
    *out = NULL;
    if (raw_tcp_pair(&a, &b) != 0)
        return -1;
    int fds[4] = {a, a, b, b};
    return raw_stream_open(out, cfg, fds);
}

/* One round trip of c->size bytes: written, the echo read back. */
static int raw_rtt(bench_conn *c)
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

/* A message of the stream whose first byte is @p kind: 0 data, 1 sync. */
static int raw_send(bench_conn *c, uint8_t kind)
{
    c->buf[0] = kind;
    if (raw_write_full(c->wfd, c->buf, c->size) != 0) {
        bench_set_error("write: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int raw_put(bench_conn *c)
{
    return raw_send(c, 0);
}

static int raw_sync(bench_conn *c)
{
    if (raw_send(c, 1) != 0)
        return -1;
    int rc = raw_read_full(c->rfd, c->buf, 1);
    if (rc != 0) {
        bench_set_error("read (ack): %s", rc > 0 ? "the peer closed" : strerror(errno));
        return -1;
    }
    return 0;
}

const bench_drv bench_drv_raw_spin = {
    .transport = "raw-spin", .impl = "raw", .open = raw_spin_open,
    .rtt = raw_spin_rtt, .put = raw_ring_put, .sync = raw_ring_sync,
    .close = raw_close,
};

#define RAW_DRV(var, name, fn)                                                   \
    const bench_drv var = {.transport = name, .impl = "raw", .open = fn,           \
                           .rtt = raw_rtt, .put = raw_put, .sync = raw_sync,       \
                           .close = raw_close}
RAW_DRV(bench_drv_raw_pipe, "raw-pipe", raw_pipe_open);
RAW_DRV(bench_drv_raw_unix, "raw-unix", raw_unix_open);
RAW_DRV(bench_drv_raw_tcp, "raw-tcp", raw_tcp_open);
