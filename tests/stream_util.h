/*
 * Checks shared by the suites of the connected stream schemes
 * (conform_test, tls_test): sizes through an echo peer, many clients on one
 * listener, timeouts and a blocked sender, a peer killed mid-connection.
 */
#ifndef XIPC_TESTS_STREAM_UTIL_H
#define XIPC_TESTS_STREAM_UTIL_H

#include <string.h>

#include "sock_util.h"

static inline void xt_fill(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)((i * 131u + seed) ^ (i >> 8));
}

/* Through @p s, whose peer echoes every message: each of the @p count
 * @p sizes up to @p mx (larger ones are skipped) comes back intact; mx + 1
 * is refused before anything is sent; a too-small buffer gets EMSGSIZE and
 * the size, and the message stays; zero copy (reserve/commit, peek/release). */
static inline void xt_check_sizes(xipc_sock *s, size_t mx, const size_t *sizes, size_t count)
{
    uint8_t *out = malloc(mx + 1), *in = malloc(mx + 1);
    XT_ASSERT(out && in);
    for (size_t i = 0; i < count; i++) {
        size_t n = sizes[i], got = 0;
        if (n > mx)
            continue;
        xt_fill(out, n, (uint32_t)i);
        XT_OK(xipc_send(s, out, n, 30000));
        XT_OK(xipc_recv(s, in, mx, &got, 30000));
        XT_EQ(got, n);
        XT_ASSERT(memcmp(in, out, n) == 0);
    }
    /* larger than the maximum: refused before anything is sent */
    XT_ERR(xipc_send(s, out, mx + 1, 1000), XIPC_EMSGSIZE);
    /* a too-small buffer: EMSGSIZE, the size, and the message stays */
    xt_fill(out, 5000, 99);
    XT_OK(xipc_send(s, out, 5000, 30000));
    size_t got = 0;
    XT_ERR(xipc_recv(s, in, 100, &got, 30000), XIPC_EMSGSIZE);
    XT_EQ(got, 5000);
    XT_OK(xipc_recv(s, in, mx, &got, 30000));
    XT_EQ(got, 5000);
    XT_ASSERT(memcmp(in, out, 5000) == 0);
    /* zero copy: reserve/commit and peek/release */
    void *w;
    XT_OK(xipc_reserve(s, 300, &w, 30000));
    xt_fill(w, 200, 7);
    XT_OK(xipc_commit(s, 200));
    const void *r;
    XT_OK(xipc_peek(s, &r, &got, 30000));
    XT_EQ(got, 200);
    xt_fill(out, 200, 7);
    XT_ASSERT(memcmp(r, out, 200) == 0);
    XT_OK(xipc_release(s));
    free(out);
    free(in);
}

/* Accepts @p clients (1..31) connections on @p l; each sends @p msgs
 * messages of @p words (2..4) uint32 words {its index, the message's
 * number, ...} and closes. Every index comes once, every connection ends
 * in ECLOSED. Returns the third word of the last message (0 when there
 * are two words). */
static inline uint32_t xt_recv_clients(xipc_sock *l, int clients, uint32_t msgs, size_t words)
{
    xipc_sock *c[31];
    XT_ASSERT(clients >= 1 && clients <= 31 && words >= 2 && words <= 4);
    for (int k = 0; k < clients; k++)
        XT_OK(xipc_accept(l, &c[k], 30000));
    unsigned seen = 0;
    uint32_t third = 0;
    for (int k = 0; k < clients; k++) {
        uint32_t m[4], who = 0;
        size_t n, size = words * sizeof(m[0]);
        for (uint32_t i = 0; i < msgs; i++) {
            XT_OK(xipc_recv(c[k], m, size, &n, 30000));
            XT_EQ(n, size);
            if (i == 0)
                who = m[0];
            XT_EQ(m[0], who);
            XT_EQ(m[1], i);
            if (words > 2)
                third = m[2];
        }
        XT_ASSERT(who < (uint32_t)clients && !(seen & (1u << who)));
        seen |= 1u << who;
        XT_ERR(xipc_recv(c[k], m, size, &n, 30000), XIPC_ECLOSED);
        xipc_close(c[k]);
    }
    XT_EQ(seen, (1u << clients) - 1);
    return third;
}

/* @p snd dialled, @p rcv its accepted peer: a receive times out (100 ms,
 * and 0 at once); a sender blocked by a peer that never reads gives up at
 * its timeout; what it sent before it closed (a frame or record partly
 * written when the timeout hit included) arrives, then ECLOSED. Closes
 * @p snd; returns how many 64 KiB messages it sent. */
static inline int xt_check_blocked_sender(xipc_sock *snd, xipc_sock *rcv)
{
    char buf[8];
    size_t n;
    XT_TIMES_OUT(xipc_recv(rcv, buf, sizeof(buf), &n, 100));
    XT_ERR(xipc_recv(rcv, buf, sizeof(buf), &n, 0), XIPC_ETIMEDOUT);
    static uint8_t big[1u << 16];
    xipc_err rv;
    int sent = 0;
    while ((rv = xipc_send(snd, big, sizeof(big), 200)) == XIPC_OK && sent < 100000)
        sent++;
    XT_ERR(rv, XIPC_ETIMEDOUT);
    /* messages sent before a close still arrive, then ECLOSED */
    xipc_close(snd);
    for (int i = 0; i < sent; i++) {
        XT_OK(xipc_recv(rcv, big, sizeof(big), &n, 5000));
        XT_EQ(n, sizeof(big));
    }
    /* a partly written frame may have been committed when the timeout hit */
    while ((rv = xipc_recv(rcv, big, sizeof(big), &n, 5000)) == XIPC_OK)
        XT_EQ(n, sizeof(big));
    XT_ERR(rv, XIPC_ECLOSED);
    return sent;
}

/* The peer @p pid of @p s sends a first message and is killed (xt_kill:
 * no close): the next receive is ECLOSED within 1 s (longer when this
 * process or the peer, @p peer_emu, is emulated: xt_bound_ms), and so is a
 * send. Returns how long that receive took, in ms. */
static inline uint64_t xt_check_peer_killed(xipc_sock *s, xt_pid pid, int peer_emu)
{
    char buf[16];
    size_t n;
    XT_OK(xipc_recv(s, buf, sizeof(buf), &n, 30000));
    xt_kill(pid);
    uint64_t t0 = xt_now_ms();
    XT_ERR(xipc_recv(s, buf, sizeof(buf), &n, 10000), XIPC_ECLOSED);
    uint64_t dt = xt_now_ms() - t0;
    XT_ASSERT(dt < xt_bound_ms("peer death", 1000, peer_emu));
    XT_ERR(xipc_send(s, buf, 1, 1000), XIPC_ECLOSED);
    return dt;
}

#endif
