/*
 * The two ends of tests/bridge_test.sh around `xipc bridge`:
 *
 *   bridge_peer pub URL COUNT RATE SIZE GOFILE [SLOTS]
 *   bridge_peer sub URL COUNT SIZE [IDLE_MS]
 *
 * pub becomes the publisher of pubsub URL (SLOTS slots, default 4096, each
 * large enough for SIZE bytes), waits until the file GOFILE exists, then
 * publishes COUNT messages of SIZE bytes at RATE a second (0: as fast as
 * it can), and closes. A message is text: "SEQ NS " (the sequence number
 * from 0 and the publisher's CLOCK_REALTIME in ns), padded to SIZE with
 * letters that depend on SEQ and the position, so a subscriber can check
 * every byte and `xipc sub` prints it on one line.
 *
 * sub subscribes to URL (waiting for its publisher), prints "sub: ready"
 * on stderr, and reads until it has COUNT distinct messages, the stream
 * ends, or nothing came for IDLE_MS (default 20000). Then one line on
 * stdout:
 *   received R unique U duplicates D reordered O missing M corrupt C
 *   overrun L p50_us A p99_us B max_us X rate_mps Y
 * duplicates: a sequence number seen before; reordered: a new one lower
 * than the highest seen; missing: COUNT - U; overrun: what the ring said
 * this reader lost; latencies of first receipts (the two ends share this
 * machine's clock); rate: U over the time from the first message's stamp
 * to the last receipt.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xipc/xipc.h"

static uint64_t peer_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void peer_nap_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    nanosleep(&ts, NULL);
}

static char peer_pad(unsigned long long seq, size_t i)
{
    return (char)('a' + (seq + i) % 26);
}

static int peer_pub(const char *url, long count, long rate, size_t size, const char *go,
                    long slots)
{
    xipc_opts o;
    xipc_sock *s;
    xipc_opts_init(&o);
    o.pub_slots = (uint32_t)slots;
    o.pub_slot_size = (uint32_t)((size + 16 + 63) / 64 * 64);
    xipc_err rv = xipc_listen(&s, url, &o);
    if (rv != XIPC_OK)
        return fprintf(stderr, "bridge_peer: %s: %s\n", url, xipc_strerror(rv)), 1;
    for (int i = 0; access(go, F_OK) != 0; i++) {
        if (i > 60000)
            return fprintf(stderr, "bridge_peer: no %s after 60 s\n", go), 1;
        peer_nap_ns(1000000);
    }
    char *msg = malloc(size + 64);
    uint64_t start = peer_ns(CLOCK_MONOTONIC);
    for (long seq = 0; msg != NULL && seq < count; seq++) {
        if (rate > 0) {
            uint64_t due = start + (uint64_t)seq * 1000000000u / (uint64_t)rate;
            uint64_t now = peer_ns(CLOCK_MONOTONIC);
            if (due > now)
                peer_nap_ns(due - now);
        }
        int n = snprintf(msg, 64, "%ld %llu ", seq,
                         (unsigned long long)peer_ns(CLOCK_REALTIME));
        for (size_t i = (size_t)n; i < size; i++)
            msg[i] = peer_pad((unsigned long long)seq, i);
        rv = xipc_send(s, msg, size > (size_t)n ? size : (size_t)n, 0);
        if (rv != XIPC_OK)
            return fprintf(stderr, "bridge_peer: send: %s\n", xipc_strerror(rv)), 1;
    }
    fprintf(stderr, "pub: %ld messages in %.3f s\n", count,
            (double)(peer_ns(CLOCK_MONOTONIC) - start) / 1e9);
    free(msg);
    xipc_close(s);
    return 0;
}

static int peer_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Is @p m (@p len bytes) an intact message of @p size bytes? Its sequence
 * number and stamp go to @p seq and @p ns. */
static int peer_check(const char *m, size_t len, size_t size, unsigned long long *seq,
                      unsigned long long *ns)
{
    char head[64];
    int n = 0;
    memcpy(head, m, len < 63 ? len : 63);
    head[len < 63 ? len : 63] = '\0';
    if (sscanf(head, "%llu %llu %n", seq, ns, &n) != 2 || n == 0 || len != size)
        return 0;
    for (size_t i = (size_t)n; i < len; i++)
        if (m[i] != peer_pad(*seq, i))
            return 0;
    return 1;
}

static int peer_sub(const char *url, long count, size_t size, long idle_ms)
{
    xipc_sock *s = NULL;
    xipc_err rv;
    for (int i = 0; (rv = xipc_dial(&s, url, NULL, 1000)) == XIPC_ECONNREFUSED; i++) {
        if (i > 6000)
            break;
        peer_nap_ns(10000000);
    }
    if (rv != XIPC_OK)
        return fprintf(stderr, "bridge_peer: %s: %s\n", url, xipc_strerror(rv)), 1;
    fprintf(stderr, "sub: ready\n");
    fflush(stderr);
    unsigned char *seen = calloc((size_t)count, 1);
    uint64_t *lat = calloc((size_t)count, sizeof(*lat));
    char *buf = malloc(size + 4096);
    unsigned long long received = 0, unique = 0, dups = 0, reord = 0, corrupt = 0, lost = 0;
    unsigned long long high = 0, first_ns = 0, last_ns = 0;
    while (seen != NULL && lat != NULL && buf != NULL && unique < (unsigned long long)count) {
        size_t len = 0;
        unsigned long long seq, ns;
        rv = xipc_recv(s, buf, size + 4096, &len, (int)idle_ms);
        uint64_t now = peer_ns(CLOCK_REALTIME);
        if (rv == XIPC_EOVERRUN) {
            lost += len;
            continue;
        }
        if (rv != XIPC_OK)
            break; /* closed, idle or broken: report what came */
        received++;
        if (!peer_check(buf, len, size, &seq, &ns) || seq >= (unsigned long long)count) {
            corrupt++;
            continue;
        }
        if (seen[seq]) {
            dups++;
            continue;
        }
        seen[seq] = 1;
        if (unique > 0 && seq < high)
            reord++;
        high = seq > high ? seq : high;
        if (first_ns == 0 || ns < first_ns)
            first_ns = ns;
        last_ns = now;
        lat[unique++] = now > ns ? (now - ns) / 1000u : 0;
    }
    qsort(lat, unique, sizeof(*lat), peer_cmp);
    double secs = last_ns > first_ns ? (double)(last_ns - first_ns) / 1e9 : 0;
    printf("received %llu unique %llu duplicates %llu reordered %llu missing %llu corrupt %llu "
           "overrun %llu p50_us %llu p99_us %llu max_us %llu rate_mps %.0f\n",
           received, unique, dups, reord, (unsigned long long)count - unique, corrupt, lost,
           unique ? (unsigned long long)lat[unique / 2] : 0,
           unique ? (unsigned long long)lat[unique * 99 / 100] : 0,
           unique ? (unsigned long long)lat[unique - 1] : 0, secs > 0 ? unique / secs : 0);
    free(seen);
    free(lat);
    free(buf);
    xipc_close(s);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 7 && strcmp(argv[1], "pub") == 0)
        return peer_pub(argv[2], atol(argv[3]), atol(argv[4]), (size_t)atol(argv[5]), argv[6],
                        argc > 7 ? atol(argv[7]) : 4096);
    if (argc >= 5 && strcmp(argv[1], "sub") == 0)
        return peer_sub(argv[2], atol(argv[3]), (size_t)atol(argv[4]),
                        argc > 5 ? atol(argv[5]) : 20000);
    fprintf(stderr, "usage: bridge_peer pub URL COUNT RATE SIZE GOFILE [SLOTS]\n"
                    "       bridge_peer sub URL COUNT SIZE [IDLE_MS]\n");
    return 2;
}
