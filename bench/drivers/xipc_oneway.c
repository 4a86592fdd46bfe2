/*
 * xipc's one-way endpoints: mailslot:// (datagrams, the writer never
 * blocks, a full reader drops), mq:// (POSIX message queues, the writer
 * blocks when the queue is full; on Windows WM_COPYDATA) and clipboard://
 * (a latest value per format; Windows only) and dde:// (pokes to a DDE
 * server; Windows only, and under wine only inside a display). A round
 * trip needs one
 * endpoint per direction: the parent reads NAME.p, the child reads
 * NAME.c, each dials the other's.
 *
 * clipboard://: a round trip is the parent setting NAME.c, the child
 * seeing it and setting NAME.p, the parent seeing that (each set empties
 * the clipboard: the other format goes, but only once it was seen). The
 * throughput stream sets values as fast as the parent can; latest wins,
 * so the child sees some of them: the rate counts the values it saw, the
 * others are reported lost. On Linux its cases print as not available.
 *
 * Protocol: rtt: the child echoes every message; throughput: it counts
 * the messages of 2 bytes or more and answers a 1-byte marker K with 9
 * bytes: K and the count so far (u64), so the parent learns what a
 * mailslot dropped. The parent repeats a marker that gets no answer
 * (it may have been dropped too). 0 bytes end, or OW_END where a scheme
 * carries no empty message (dde://).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "xipc/xipc.h"

#include "core/platform.h" /* mq://'s limits */

#include "drivers/drivers.h"
#include "harness/cpu.h"
#include "harness/pconn.h"
#include "harness/peer.h"
#include "harness/runner.h"
#include "harness/util.h"
#include "harness/xconn.h"

#define OW_TIMEOUT_MS 10000
#define OW_PEER_MS 30000
#define OW_DIAL_MS 5000
#define OW_MAX_MSG 65536u
#define OW_ACK_WAIT_MS 2 /* a marker the reader dropped is sent again soon */
#define OW_ACK_TRIES 5000
#define OW_MQ_LIMIT "its limit on this system; Linux: /proc/sys/fs/mqueue/msgsize_max"
#define OW_END "\xffxipc-ow-end" /* the end where 0 bytes cannot go */
#define OW_END_LEN (sizeof(OW_END) - 1)

typedef struct ow_args {
    const char *mine, *theirs; /* the child's URL, the parent's URL */
    int rtt;
    size_t size;
} ow_args;

struct bench_conn {
    bench_pconn p; /* first: see pconn.h */
    xipc_sock *rx, *tx;
    uint64_t sent, received;
    uint8_t mark;
};
_Static_assert(offsetof(struct bench_conn, p) == 0, "bench_pconn_alloc needs it first");

static int ow_fail(const char *what, xipc_err rv)
{
    bench_set_error("%s: %s", what, xipc_strerror(rv));
    return -1;
}

static void ow_opts(xipc_opts *o, size_t size)
{
    xipc_opts_init(o);
    o->max_msg = (uint32_t)(size < 64 ? 64 : size);
}

static xipc_err ow_dial(xipc_sock **s, const char *url, size_t size)
{
    xipc_opts o;
    ow_opts(&o, size);
    uint64_t end = bench_now_ns() + (uint64_t)OW_DIAL_MS * 1000000u;
    xipc_err rv;
    while ((rv = xipc_dial(s, url, &o, 1000)) == XIPC_ECONNREFUSED &&
           bench_now_ns() < end)
        bench_nap_us(300);
    return rv;
}

/* ---- the peer ------------------------------------------------------------------------ */

static xipc_err ow_serve(xipc_sock *rx, xipc_sock *tx, const ow_args *a, uint8_t *buf)
{
    uint64_t count = 0;
    for (;;) {
        size_t n;
        xipc_err rv = xipc_recv(rx, buf, OW_MAX_MSG, &n, OW_PEER_MS);
        if (rv != XIPC_OK || n == 0 || (n == OW_END_LEN && memcmp(buf, OW_END, n) == 0))
            return rv;
        if (a->rtt) {
            rv = xipc_send(tx, buf, n, OW_PEER_MS);
        } else if (n == 1) {
            memcpy(buf + 1, &count, sizeof(count));
            rv = xipc_send(tx, buf, 9, OW_PEER_MS);
        } else {
            count++;
        }
        if (rv != XIPC_OK)
            return rv;
    }
}

/* args: the child's URL, the parent's URL, "rtt" or "thr", the size */
static int ow_peer_main(char *const args[], bench_cpu *cpu)
{
    ow_args arg = {.mine = args[0], .theirs = args[1], .rtt = strcmp(args[2], "rtt") == 0,
                   .size = strtoul(args[3], NULL, 10)};
    const ow_args *a = &arg;
    xipc_opts o;
    ow_opts(&o, a->size);
    xipc_sock *rx = NULL, *tx = NULL;
    uint8_t *buf = malloc(OW_MAX_MSG);
    const char *step = "listen"; /* what failed, for the message */
    xipc_err rv = buf == NULL ? XIPC_ENOMEM : xipc_listen(&rx, a->mine, &o);
    if (rv == XIPC_OK && (step = "dial", rv = ow_dial(&tx, a->theirs, a->size)) == XIPC_OK) {
        step = "serve";
        bench_cpu_start(cpu);
        rv = ow_serve(rx, tx, a, buf);
        bench_cpu_report(cpu);
    }
    xipc_close(tx);
    xipc_close(rx);
    free(buf);
    if (rv != XIPC_OK && rv != XIPC_ECLOSED) {
        fprintf(stderr, "xipc: bench: peer %s: %s: %s\n", a->mine, step, xipc_strerror(rv));
        return 1;
    }
    return 0;
}

const bench_peer_prog bench_peer_oneway = {"oneway", ow_peer_main};

/* ---- the measuring side -------------------------------------------------------------- */

static int ow_close(bench_conn *c)
{
    if (c == NULL)
        return 0;
    if (c->tx != NULL && xipc_send(c->tx, c->p.buf, 0, 1000) == XIPC_EINVAL)
        xipc_send(c->tx, OW_END, OW_END_LEN, 1000); /* the end, where 0 bytes cannot go */
    xipc_close(c->tx);
    /* Ours stays open until the peer has ended: it may still be answering
     * a sync marker that was sent again, and that answer must not fail
     * (a DDE server that is closing refuses a poke: DDE_FNOTPROCESSED). */
    xipc_sock *rx = c->rx;
    int rc = bench_pconn_end(&c->p, NULL); /* frees c */
    xipc_close(rx);
    return rc;
}

/* mq://: the system's message size limit (the platform layer's: a sysctl
 * on Linux, the emulation's own on Windows). */
static size_t ow_mq_limit(void)
{
    uint32_t depth, size;
    xipc_plat_mq_limits(&depth, &size);
    return size;
}

static int ow_open(bench_conn **out, const bench_cfg *cfg, const char *scheme)
{
    *out = NULL;
    size_t lim = strcmp(scheme, "mq") == 0 ? ow_mq_limit() : OW_MAX_MSG;
    if (lim != 0 && cfg->size > lim) {
        bench_set_error("n/a: %s:// carries at most %zu bytes per message here%s", scheme,
                        lim, strcmp(scheme, "mq") == 0 ? " (" OW_MQ_LIMIT ")" : "");
        return -1;
    }
    if (cfg->size < 2 || cfg->size > OW_MAX_MSG) {
        bench_set_error("message size %zu outside 2..%u", cfg->size, OW_MAX_MSG);
        return -1;
    }
    bench_conn *c = bench_pconn_alloc(sizeof(*c), OW_MAX_MSG, cfg);
    if (c == NULL)
        return -1;
    char mine[160], theirs[160], size[24];
    const char *topic = strcmp(scheme, "dde") == 0 ? "/t" : ""; /* dde://SERVICE/TOPIC */
    snprintf(mine, sizeof(mine), "%s://%.60s.c%s", scheme, cfg->name, topic);
    snprintf(theirs, sizeof(theirs), "%s://%.60s.p%s", scheme, cfg->name, topic);
    snprintf(size, sizeof(size), "%zu", cfg->size);
    char *args[] = {mine, theirs, cfg->rtt ? "rtt" : "thr", size, NULL};
    xipc_opts o;
    ow_opts(&o, cfg->size);
    xipc_err rv = XIPC_OK;
    int rc = bench_cpu_open(&c->p.cpu) != 0 ||
             bench_peer_run(&c->p.peer, &bench_peer_oneway, args, &c->p.cpu) != 0;
    if (rc == 0) {
        bench_cpu_parent(&c->p.cpu);
        if ((rv = xipc_listen(&c->rx, theirs, &o)) != XIPC_OK)
            rc = ow_fail("xipc_listen", rv);
        else if ((rv = ow_dial(&c->tx, mine, cfg->size)) != XIPC_OK)
            rc = ow_fail("xipc_dial", rv);
    }
    if (rc != 0)
        return bench_close_failed(ow_close, c);
    *out = c;
    return 0;
}

static int ow_open_mailslot(bench_conn **out, const bench_cfg *cfg)
{
    return ow_open(out, cfg, "mailslot");
}

static int ow_open_mq(bench_conn **out, const bench_cfg *cfg)
{
    return ow_open(out, cfg, "mq");
}

static int ow_open_clipboard(bench_conn **out, const bench_cfg *cfg)
{
    return ow_open(out, cfg, "clipboard");
}

/* clipboard://: not available where the system has none (Linux). */
static int ow_clipboard_setup(void)
{
    return xconn_probe("clipboard://");
}

static int ow_open_dde(bench_conn **out, const bench_cfg *cfg)
{
    return ow_open(out, cfg, "dde");
}

/*
 * dde://: not available where the system has none (Linux), nor where a
 * server cannot be reached: wine's DDE needs a display (docs/dde.md), and
 * without one a dial is refused. A server of our own, dialled once.
 */
static int ow_dde_setup(void)
{
    char url[96];
    snprintf(url, sizeof(url), "dde://xb-probe-%llx/t", (unsigned long long)bench_now_ns());
    xipc_sock *l, *d;
    xipc_err rv = xipc_listen(&l, url, NULL);
    if (rv == XIPC_ENOTSUP) {
        const char *why = xipc_last_detail();
        bench_set_error("not available here (%s%s%s)", xipc_strerror(rv), why[0] ? ": " : "", why);
        return -1;
    }
    if (rv != XIPC_OK)
        return ow_fail("n/a: dde:// listen", rv);
    rv = xipc_dial(&d, url, NULL, 1000);
    xipc_close(l);
    if (rv != XIPC_OK) {
        bench_set_error("not available here (a DDE server cannot be reached: %s; under wine "
                        "DDE needs a display, e.g. scripts/with-xvfb.sh)", xipc_strerror(rv));
        return -1;
    }
    xipc_close(d);
    return 0;
}

static int ow_rtt(bench_conn *c)
{
    size_t n;
    xipc_err rv = xipc_send(c->tx, c->p.buf, c->p.size, OW_TIMEOUT_MS);
    if (rv != XIPC_OK)
        return ow_fail("xipc_send", rv);
    rv = xipc_recv(c->rx, c->p.buf, OW_MAX_MSG, &n, OW_TIMEOUT_MS);
    if (rv != XIPC_OK)
        return ow_fail("xipc_recv", rv);
    if (n != c->p.size) {
        bench_set_error("xipc_recv: echo of %zu bytes came back as %zu", c->p.size, n);
        return -1;
    }
    return 0;
}

static int ow_put(bench_conn *c)
{
    xipc_err rv = xipc_send(c->tx, c->p.buf, c->p.size, OW_TIMEOUT_MS);
    if (rv != XIPC_OK)
        return ow_fail("xipc_send", rv);
    c->sent++;
    return 0;
}

static int ow_sync(bench_conn *c)
{
    uint8_t m = ++c->mark, ack[16];
    for (int tries = 0; tries < OW_ACK_TRIES; tries++) {
        xipc_err rv = xipc_send(c->tx, &m, 1, OW_TIMEOUT_MS);
        if (rv != XIPC_OK)
            return ow_fail("xipc_send (sync)", rv);
        uint64_t end = bench_now_ns() + (uint64_t)OW_ACK_WAIT_MS * 1000000u;
        for (;;) {
            size_t n;
            uint64_t now = bench_now_ns();
            if (now >= end)
                break;
            rv = xipc_recv(c->rx, ack, sizeof(ack), &n, (int)((end - now) / 1000000u) + 1);
            if (rv == XIPC_ETIMEDOUT)
                break;
            if (rv != XIPC_OK)
                return ow_fail("xipc_recv (ack)", rv);
            if (n == 9 && ack[0] == m) {
                memcpy(&c->received, ack + 1, sizeof(c->received));
                return 0;
            }
        }
    }
    bench_set_error("no answer to %d sync markers", OW_ACK_TRIES);
    return -1;
}

static uint64_t ow_lost(bench_conn *c)
{
    return c->sent > c->received ? c->sent - c->received : 0;
}

const bench_drv bench_drv_x_mailslot = {
    .transport = "mailslot", .impl = "xipc", .open = ow_open_mailslot,
    .rtt = ow_rtt, .put = ow_put, .sync = ow_sync, .close = ow_close,
    .lost = ow_lost,
};

const bench_drv bench_drv_x_mq = {
    .transport = "mq", .impl = "xipc", .open = ow_open_mq,
    .rtt = ow_rtt, .put = ow_put, .sync = ow_sync, .close = ow_close,
    .lost = ow_lost,
};

const bench_drv bench_drv_x_clipboard = {
    .transport = "clipboard", .impl = "xipc", .open = ow_open_clipboard,
    .rtt = ow_rtt, .put = ow_put, .sync = ow_sync, .close = ow_close,
    .lost = ow_lost, .setup = ow_clipboard_setup,
};

const bench_drv bench_drv_x_dde = {
    .transport = "dde", .impl = "xipc", .open = ow_open_dde,
    .rtt = ow_rtt, .put = ow_put, .sync = ow_sync, .close = ow_close,
    .lost = ow_lost, .setup = ow_dde_setup,
};
