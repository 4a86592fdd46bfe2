/*
 * One process of the pub/sub test (tests/pubsub_test.c), built in every
 * Linux configuration so 32-bit and 64-bit processes share one ring:
 *
 *   pubsub_peer pub URL COUNT BOARD NSUBS KEEPERS
 *   pubsub_peer sub URL COUNT BOARD INDEX copy|zc|slow|slowzc
 *
 * Messages: [u64 seq][u32 payload len][u32 pool offset][u64 checksum]
 * then a slice of a pseudo-random pool both sides generate from one seed;
 * sizes vary from the 24-byte header alone up to the largest message.
 * A subscriber checks every byte, the checksum and the sequence number.
 *
 * BOARD is a file of 64-byte lines, shared by mmap, where the processes
 * meet (test plumbing, not part of xipc):
 *   line 0       [0] published count, [1] 1 when listening (publisher);
 *                [2] slots, [3] slot size (the test, before it starts us)
 *   line 1 + k   subscriber k: [0] ready, [1] next seq expected,
 *                [2] received, [3] lost, [4] gaps, [5] pointer bits,
 *                [6] 1 when finished ok
 * The publisher never waits inside xipc. To let the "keepers" (KEEPERS, a
 * bit mask of subscribers that must lose nothing) keep up on a busy
 * two-core machine, it paces itself from their progress here: it stays at
 * most slots / 2 messages ahead of the slowest keeper. Slow subscribers
 * are not in the mask and are lapped. With PUBSUB_PEER_TRACE set in the
 * environment, a subscriber prints each gap it is told about.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "xipc/xipc.h"

#define PEER_HDR 24u
#define PEER_MAX_SUBS 16
#define PEER_BOARD_SIZE 4096

typedef struct peer_msg_hdr {
    uint64_t seq;
    uint32_t len, off;
    uint64_t sum;
} peer_msg_hdr;

static _Atomic uint64_t *peer_board;
static uint8_t *peer_pool;
static uint32_t peer_max; /* largest message */

#define BOARD(line, word) (&peer_board[(line) * 8 + (word)])

static uint32_t peer_rand(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static uint64_t peer_sum(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static uint64_t peer_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Message @p seq: payload length and pool offset. */
static void peer_shape(uint64_t seq, uint32_t *len, uint32_t *off)
{
    uint32_t x = (uint32_t)seq * 2654435761u + 12345u;
    peer_rand(&x);
    uint32_t bits = peer_rand(&x) % 12; /* 1 B .. 4 KiB before clamping */
    uint32_t n = (1u << bits) + peer_rand(&x) % (1u << bits);
    if (n > peer_max)
        n = peer_max;
    if (n < PEER_HDR)
        n = PEER_HDR;
    *len = n - PEER_HDR;
    *off = peer_rand(&x) % peer_max;
}

static size_t peer_fill(uint8_t *dst, uint64_t seq)
{
    peer_msg_hdr h = {seq, 0, 0, 0};
    peer_shape(seq, &h.len, &h.off);
    memcpy(dst + PEER_HDR, peer_pool + h.off, h.len);
    h.sum = peer_sum(dst + PEER_HDR, h.len);
    memcpy(dst, &h, sizeof(h));
    return PEER_HDR + h.len;
}

/* 0 when @p msg is message @p seq exactly. */
static int peer_check(const uint8_t *msg, size_t n, uint64_t seq)
{
    peer_msg_hdr h, want = {seq, 0, 0, 0};
    if (n < PEER_HDR)
        return 1;
    memcpy(&h, msg, sizeof(h));
    peer_shape(seq, &want.len, &want.off);
    if (h.seq != seq || h.len != want.len || h.off != want.off ||
        n != PEER_HDR + (size_t)h.len)
        return 2;
    if (memcmp(msg + PEER_HDR, peer_pool + h.off, h.len) != 0)
        return 3;
    if (peer_sum(msg + PEER_HDR, h.len) != h.sum)
        return 4;
    return 0;
}

static int peer_board_open(const char *path)
{
    int fd = open(path, O_RDWR);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    void *p = mmap(NULL, PEER_BOARD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    peer_board = p;
    return 0;
}

static void peer_pool_make(uint32_t max)
{
    peer_max = max;
    peer_pool = malloc(2 * (size_t)max);
    uint32_t x = 0x9e3779b9u;
    for (size_t i = 0; i < 2 * (size_t)max; i++)
        peer_pool[i] = (uint8_t)peer_rand(&x);
}

/* ---- publisher ---------------------------------------------------------------- */

/* The next seq the slowest keeper expects. */
static uint64_t peer_keepers_min(int nsubs, unsigned keepers)
{
    uint64_t min = UINT64_MAX;
    for (int k = 0; k < nsubs; k++)
        if (keepers & (1u << k)) {
            uint64_t v = atomic_load(BOARD(1 + k, 1));
            if (atomic_load(BOARD(1 + k, 6)))
                v = UINT64_MAX; /* finished */
            if (v < min)
                min = v;
        }
    return min;
}

static int peer_pub(const char *url, uint64_t count, int nsubs, unsigned keepers)
{
    uint32_t slots = (uint32_t)atomic_load(BOARD(0, 2));
    uint32_t slot_size = (uint32_t)atomic_load(BOARD(0, 3));
    xipc_opts o;
    xipc_opts_init(&o);
    o.pub_slots = slots;
    o.pub_slot_size = slot_size;
    xipc_sock *s;
    xipc_err rv = xipc_listen(&s, url, &o);
    if (rv != XIPC_OK) {
        fprintf(stderr, "pubsub_peer pub: listen %s: %s\n", url, xipc_strerror(rv));
        return 1;
    }
    atomic_store(BOARD(0, 1), 1);
    uint64_t t0 = peer_now_ms();
    for (int k = 0; k < nsubs; k++)
        while (!atomic_load(BOARD(1 + k, 0))) {
            if (peer_now_ms() - t0 > 30000) {
                fprintf(stderr, "pubsub_peer pub: subscriber %d never came\n", k);
                return 1;
            }
            usleep(1000);
        }
    uint8_t *buf = malloc(peer_max);
    uint64_t window = slots / 2, waits = 0;
    t0 = peer_now_ms();
    for (uint64_t i = 0; i < count; i++) {
        if ((i & 255) == 0) {
            atomic_store(BOARD(0, 0), i);
            uint64_t last = 0, since = peer_now_ms();
            for (;;) {
                uint64_t min = peer_keepers_min(nsubs, keepers);
                if (min == UINT64_MAX || i < min || i - min < window)
                    break;
                if (min != last) {
                    last = min;
                    since = peer_now_ms();
                } else if (peer_now_ms() - since > 30000) {
                    fprintf(stderr, "pubsub_peer pub: keepers stuck at %llu\n",
                            (unsigned long long)min);
                    return 1;
                }
                waits++;
                usleep(200);
            }
        }
        if (i & 1) { /* zero-copy: write in place */
            void *dst;
            rv = xipc_reserve(s, peer_max, &dst, 0);
            if (rv == XIPC_OK)
                rv = xipc_commit(s, peer_fill(dst, i));
        } else {
            size_t n = peer_fill(buf, i);
            rv = xipc_send(s, buf, n, 0);
        }
        if (rv != XIPC_OK) {
            fprintf(stderr, "pubsub_peer pub: message %llu: %s\n",
                    (unsigned long long)i, xipc_strerror(rv));
            return 1;
        }
    }
    atomic_store(BOARD(0, 0), count);
    uint64_t ms = peer_now_ms() - t0;
    xipc_stats st;
    xipc_stats_get(s, &st);
    printf("pubsub_peer: %u-bit publisher: %llu messages in %llu ms (%.0f/s), "
           "paced %llu times\n",
           (unsigned)(sizeof(void *) * 8), (unsigned long long)st.sent,
           (unsigned long long)ms, ms ? (double)count * 1000.0 / (double)ms : 0.0,
           (unsigned long long)waits);
    fflush(stdout);
    xipc_close(s);
    free(buf);
    return st.sent == count ? 0 : 1;
}

/* ---- subscriber ------------------------------------------------------------- */

typedef struct peer_sub {
    xipc_sock *s;
    int k, slow, zc;
    uint64_t expected, received, lost, gaps;
    uint64_t naps, next_nap;
} peer_sub;

/* A lapped subscriber: only slow ones may be. */
static int peer_gap(peer_sub *p, uint64_t n, const char *where)
{
    if (!p->slow) {
        fprintf(stderr, "pubsub_peer sub %d: lost %llu at %llu (%s)\n", p->k,
                (unsigned long long)n, (unsigned long long)p->expected, where);
        return 1;
    }
    if (n == 0) {
        fprintf(stderr, "pubsub_peer sub %d: overrun of 0\n", p->k);
        return 1;
    }
    p->lost += n;
    p->gaps++;
    if (getenv("PUBSUB_PEER_TRACE"))
        fprintf(stderr, "gap %llu at %llu\n", (unsigned long long)n, (unsigned long long)p->expected);
    p->expected += n;
    return 0;
}

/* The slow one: now and then sleep until it must have been lapped. */
static void peer_nap(peer_sub *p, uint64_t count, uint64_t slots)
{
    uint64_t e = p->expected;
    if (e >= p->next_nap) {
        p->next_nap += count / 4;
        uint64_t t0 = peer_now_ms();
        while (atomic_load(BOARD(0, 0)) < e + 2 * slots && e + 2 * slots < count &&
               peer_now_ms() - t0 < 20000)
            usleep(1000);
        p->naps++;
    } else if (e % 7919 == 0) {
        usleep(500); /* and short naps that may or may not cost messages */
    }
}

static int peer_sub_run(peer_sub *p, uint64_t count, uint64_t slots)
{
    uint8_t *buf = malloc(peer_max);
    for (;;) {
        const void *msg;
        size_t n;
        xipc_err rv;
        if (p->slow)
            peer_nap(p, count, slots);
        if (p->zc) {
            rv = xipc_peek(p->s, &msg, &n, 30000);
        } else {
            rv = xipc_recv(p->s, buf, peer_max, &n, 30000);
            msg = buf;
        }
        if (rv == XIPC_ECLOSED)
            break;
        if (rv == XIPC_EOVERRUN) {
            if (peer_gap(p, n, "overrun"))
                return 1;
            continue;
        }
        if (rv != XIPC_OK) {
            fprintf(stderr, "pubsub_peer sub %d: message %llu: %s\n", p->k,
                    (unsigned long long)p->expected, xipc_strerror(rv));
            return 1;
        }
        int bad = peer_check(msg, n, p->expected);
        if (p->zc) {
            rv = xipc_release(p->s);
            if (rv == XIPC_EOVERRUN) {
                /* overwritten while we looked: what we saw is void */
                if (peer_gap(p, 1, "overwritten while peeked"))
                    return 1;
                continue;
            }
            if (rv != XIPC_OK) {
                fprintf(stderr, "pubsub_peer sub %d: release: %s\n", p->k,
                        xipc_strerror(rv));
                return 1;
            }
        }
        if (bad) {
            fprintf(stderr, "pubsub_peer sub %d: message %llu is wrong (check %d)\n",
                    p->k, (unsigned long long)p->expected, bad);
            return 1;
        }
        p->expected++;
        p->received++;
        if ((p->expected & 63) == 0)
            atomic_store(BOARD(1 + p->k, 1), p->expected);
    }
    free(buf);
    return 0;
}

static int peer_sub_main(const char *url, uint64_t count, int k, const char *mode)
{
    peer_sub p = {NULL, k, strncmp(mode, "slow", 4) == 0,
                  strcmp(mode, "zc") == 0 || strcmp(mode, "slowzc") == 0,
                  0, 0, 0, 0, 0, count / 8};
    xipc_err rv;
    uint64_t t0 = peer_now_ms();
    while ((rv = xipc_dial(&p.s, url, NULL, 5000)) == XIPC_ECONNREFUSED &&
           peer_now_ms() - t0 < 30000)
        usleep(2000); /* the publisher may not be up yet */
    if (rv != XIPC_OK) {
        fprintf(stderr, "pubsub_peer sub %d: dial %s: %s\n", k, url, xipc_strerror(rv));
        return 1;
    }
    atomic_store(BOARD(1 + k, 5), sizeof(void *) * 8);
    atomic_store(BOARD(1 + k, 0), 1);
    int bad = peer_sub_run(&p, count, atomic_load(BOARD(0, 2)));
    xipc_stats st;
    xipc_stats_get(p.s, &st);
    xipc_close(p.s);
    printf("pubsub_peer: %u-bit subscriber %d (%s): received %llu, lost %llu in %llu "
           "gaps, %llu long naps\n",
           (unsigned)(sizeof(void *) * 8), k, mode, (unsigned long long)p.received,
           (unsigned long long)p.lost, (unsigned long long)p.gaps,
           (unsigned long long)p.naps);
    fflush(stdout);
    if (bad)
        return 1;
    if (p.expected != count || p.received + p.lost != count ||
        st.lost != p.lost || st.received != p.received) {
        fprintf(stderr, "pubsub_peer sub %d: accounting: expected %llu received %llu "
                "lost %llu (stats: received %llu lost %llu), published %llu\n", k,
                (unsigned long long)p.expected, (unsigned long long)p.received,
                (unsigned long long)p.lost, (unsigned long long)st.received,
                (unsigned long long)st.lost, (unsigned long long)count);
        return 1;
    }
    atomic_store(BOARD(1 + k, 2), p.received);
    atomic_store(BOARD(1 + k, 3), p.lost);
    atomic_store(BOARD(1 + k, 4), p.gaps);
    atomic_store(BOARD(1 + k, 6), 1);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 7)
        return 2;
    uint64_t count = strtoull(argv[3], NULL, 10);
    if (peer_board_open(argv[4]) != 0)
        return 2;
    uint32_t slot_size = (uint32_t)atomic_load(BOARD(0, 3));
    if (slot_size < 64)
        return 2;
    peer_pool_make(slot_size - 16);
    if (strcmp(argv[1], "pub") == 0)
        return peer_pub(argv[2], count, atoi(argv[5]),
                        (unsigned)strtoul(argv[6], NULL, 0));
    if (strcmp(argv[1], "sub") == 0)
        return peer_sub_main(argv[2], count, atoi(argv[5]), argv[6]);
    return 2;
}
