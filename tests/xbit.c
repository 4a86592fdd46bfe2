/*
 * Cross-bitness traffic. Payloads are slices of a pseudo-random pool that
 * both sides generate from the same seed, so the receiver checks every
 * byte (memcmp against its own pool) as well as a checksum and sequence
 * number carried in a header:
 *   [u32 seq][u32 len][u32 pool offset][u32 reserved][u64 checksum] payload
 * Sizes are log-uniform over 1 B..64 KiB, so small and large both occur.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xbit.h"
#include "xipc/xipc.h"

#define XBIT_MAX (64u << 10)
#define XBIT_POOL (2 * XBIT_MAX)
#define XBIT_HDR 24u

typedef struct xbit_hdr {
    uint32_t seq, len, off, reserved;
    uint64_t sum;
} xbit_hdr;

static uint8_t xbit_pool[XBIT_POOL];

typedef struct xbit_ctx {
    xipc_sock *s;
    long count;
    int zc;
    xipc_err rv;
    long at; /* message number where rv happened */
} xbit_ctx;

static uint32_t xbit_rand(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static uint64_t xbit_sum(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 1099511628211ull;
    }
    for (; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* Message @p seq of a stream: its size and pool offset. */
static void xbit_shape(uint32_t seq, uint32_t *len, uint32_t *off)
{
    uint32_t x = seq * 2654435761u + 12345u;
    xbit_rand(&x);
    uint32_t bits = xbit_rand(&x) % 17;                 /* 0..16 */
    uint32_t n = (1u << bits) + xbit_rand(&x) % (1u << bits);
    if (n > XBIT_MAX)
        n = XBIT_MAX;
    if (n < XBIT_HDR)
        n = XBIT_HDR; /* the header itself counts toward the size */
    *len = n - XBIT_HDR;
    *off = xbit_rand(&x) % (XBIT_POOL - XBIT_MAX);
}

static void xbit_fill(uint8_t *dst, uint32_t seq)
{
    xbit_hdr h = {seq, 0, 0, 0, 0};
    xbit_shape(seq, &h.len, &h.off);
    memcpy(dst + XBIT_HDR, xbit_pool + h.off, h.len);
    h.sum = xbit_sum(dst + XBIT_HDR, h.len);
    memcpy(dst, &h, sizeof(h));
}

/* 0 when message @p seq is exactly right. */
static int xbit_check(const uint8_t *msg, size_t n, uint32_t seq)
{
    xbit_hdr h, want = {seq, 0, 0, 0, 0};
    if (n < XBIT_HDR)
        return 1;
    memcpy(&h, msg, sizeof(h));
    xbit_shape(seq, &want.len, &want.off);
    if (h.seq != seq || h.len != want.len || h.off != want.off ||
        n != XBIT_HDR + (size_t)h.len)
        return 2;
    if (memcmp(msg + XBIT_HDR, xbit_pool + h.off, h.len) != 0)
        return 3;
    if (xbit_sum(msg + XBIT_HDR, h.len) != h.sum)
        return 4;
    return 0;
}

static void *xbit_sender(void *arg)
{
    xbit_ctx *c = arg;
    static _Thread_local uint8_t buf[XBIT_MAX];
    for (long i = 0; i < c->count; i++) {
        uint32_t len, off;
        xbit_shape((uint32_t)i, &len, &off);
        size_t n = XBIT_HDR + len;
        if (c->zc) {
            void *dst;
            c->rv = xipc_reserve(c->s, n, &dst, 30000);
            if (c->rv == XIPC_OK) {
                xbit_fill(dst, (uint32_t)i);
                c->rv = xipc_commit(c->s, n);
            }
        } else {
            xbit_fill(buf, (uint32_t)i);
            c->rv = xipc_send(c->s, buf, n, 30000);
        }
        if (c->rv != XIPC_OK) {
            c->at = i;
            break;
        }
    }
    return NULL;
}

static int xbit_receive(xbit_ctx *c)
{
    static uint8_t buf[XBIT_MAX];
    for (long i = 0; i < c->count; i++) {
        const void *msg;
        size_t n;
        xipc_err rv;
        if (c->zc) {
            rv = xipc_peek(c->s, &msg, &n, 30000);
        } else {
            rv = xipc_recv(c->s, buf, sizeof(buf), &n, 30000);
            msg = buf;
        }
        if (rv != XIPC_OK) {
            fprintf(stderr, "xbit: recv #%ld: %s\n", i, xipc_strerror(rv));
            return 1;
        }
        int bad = xbit_check(msg, n, (uint32_t)i);
        if (bad) {
            fprintf(stderr, "xbit: message #%ld is wrong (check %d)\n", i, bad);
            return 1;
        }
        if (c->zc && (rv = xipc_release(c->s)) != XIPC_OK) {
            fprintf(stderr, "xbit: release: %s\n", xipc_strerror(rv));
            return 1;
        }
    }
    return 0;
}

static xipc_err xbit_connect(const char *role, const char *url, xipc_sock **s,
                             xipc_sock **l)
{
    *l = NULL;
    if (strcmp(role, "listen") == 0) {
        xipc_err rv = xipc_listen(l, url, NULL);
        return rv != XIPC_OK ? rv : xipc_accept(*l, s, 30000);
    }
    /* the listener may not be up yet */
    for (int tries = 0;; tries++) {
        xipc_err rv = xipc_dial(s, url, NULL, 10000);
        if (rv != XIPC_ECONNREFUSED || tries >= 500)
            return rv;
        usleep(10000);
    }
}

int xbit_run(const char *role, const char *url, long count, int zc,
             unsigned want_peer_bits)
{
    uint32_t x = 0x9e3779b9u;
    for (size_t i = 0; i < XBIT_POOL; i++)
        xbit_pool[i] = (uint8_t)xbit_rand(&x);
    xipc_sock *s, *l;
    xipc_err rv = xbit_connect(role, url, &s, &l);
    if (rv != XIPC_OK) {
        fprintf(stderr, "xbit: %s %s: %s\n", role, url, xipc_strerror(rv));
        xipc_close(l);
        return 1;
    }
    /* hello: each side tells its pointer width */
    uint32_t mine = (uint32_t)(sizeof(void *) * 8), peer = 0;
    size_t n;
    if ((rv = xipc_send(s, &mine, sizeof(mine), 10000)) != XIPC_OK ||
        (rv = xipc_recv(s, &peer, sizeof(peer), &n, 10000)) != XIPC_OK) {
        fprintf(stderr, "xbit: hello: %s\n", xipc_strerror(rv));
        return 1;
    }
    printf("xbit: %s side is %u-bit (pid %d), peer is %u-bit, %ld messages each way%s\n",
           role, (unsigned)mine, (int)getpid(), (unsigned)peer, count,
           zc ? ", zero-copy" : "");
    fflush(stdout);
    if (want_peer_bits != 0 && peer != want_peer_bits) {
        fprintf(stderr, "xbit: peer is %u-bit, wanted %u-bit\n", peer, want_peer_bits);
        return 1;
    }
    xbit_ctx tx = {s, count, zc, XIPC_OK, -1}, rx = tx;
    pthread_t th;
    if (pthread_create(&th, NULL, xbit_sender, &tx) != 0)
        return 1;
    int bad = xbit_receive(&rx);
    pthread_join(th, NULL);
    if (tx.rv != XIPC_OK) {
        fprintf(stderr, "xbit: send #%ld: %s\n", tx.at, xipc_strerror(tx.rv));
        bad = 1;
    }
    /* both sides finished receiving before either closes */
    uint8_t done = 1;
    if (!bad && (xipc_send(s, &done, 1, 10000) != XIPC_OK ||
                 xipc_recv(s, &done, 1, &n, 30000) != XIPC_OK))
        bad = 1;
    xipc_close(s);
    xipc_close(l);
    return bad;
}
