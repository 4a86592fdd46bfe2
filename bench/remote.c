/*
 * A channel measured between two programs that need not share an OS: the
 * echoing end on one side (say Linux), the measuring end on the other
 * (say the win64 build under wine), as nng's remote_lat / remote_thr.
 * It exists for tls+tcp://, whose listener wine's Schannel cannot be
 * (docs/tls.md, "Windows"), so `xipc bench transports` has no tls row
 * there; any message URL works.
 *
 *   xipc-remote echo URL [CERT KEY]    listen, serve connections one at a
 *                                      time: echo messages of up to 64
 *                                      bytes, swallow larger ones
 *   xipc-remote rtt URL N              N round trips of 64 bytes, 5 times:
 *                                      the median µs of one
 *   xipc-remote thr URL SIZE N         N messages of SIZE bytes, then a
 *                                      1-byte one echoed: MB/s
 *
 * The dialler does not verify a tls+tcp:// server (a measurement).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xipc/xipc.h"

#include "harness/runner.h" /* bench_now_ns */

#define REMOTE_SMALL 64
#define REMOTE_RUNS 5

static int remote_fail(const char *what, xipc_err rv)
{
    const char *d = xipc_last_detail();
    fprintf(stderr, "xipc-remote: %s: %s%s%s\n", what, xipc_strerror(rv), d[0] ? ": " : "", d);
    return 1;
}

static int remote_echo(const char *url, const char *cert, const char *key)
{
    xipc_opts o;
    xipc_opts_init(&o);
    o.tls_cert = cert;
    o.tls_key = key;
    xipc_sock *l;
    xipc_err rv = xipc_listen(&l, url, &o);
    if (rv != XIPC_OK)
        return remote_fail(url, rv);
    char real[256];
    if (xipc_sock_url(l, real, sizeof(real)) == XIPC_OK)
        fprintf(stderr, "xipc-remote: listening at %s\n", real);
    uint8_t *buf = malloc(16u << 20);
    for (xipc_sock *c; buf != NULL && xipc_accept(l, &c, -1) == XIPC_OK; xipc_close(c)) {
        size_t n;
        while (xipc_recv(c, buf, 16u << 20, &n, -1) == XIPC_OK)
            if (n <= REMOTE_SMALL && xipc_send(c, buf, n, -1) != XIPC_OK)
                break;
    }
    free(buf);
    xipc_close(l);
    return 0;
}

static int remote_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int remote_measure(const char *url, int thr, size_t size, long n)
{
    xipc_opts o;
    xipc_opts_init(&o);
    o.tls_verify = 0;
    xipc_sock *s;
    xipc_err rv = xipc_dial(&s, url, &o, 10000);
    if (rv != XIPC_OK)
        return remote_fail(url, rv);
    uint8_t *buf = calloc(1, size > REMOTE_SMALL ? size : REMOTE_SMALL);
    double t[REMOTE_RUNS];
    for (int r = 0; buf != NULL && rv == XIPC_OK && r < REMOTE_RUNS; r++) {
        size_t k;
        double t0 = (double)bench_now_ns();
        for (long i = 0; rv == XIPC_OK && i < n; i++) {
            rv = xipc_send(s, buf, thr ? size : REMOTE_SMALL, -1);
            if (rv == XIPC_OK && !thr)
                rv = xipc_recv(s, buf, REMOTE_SMALL, &k, -1);
        }
        if (rv == XIPC_OK && thr && (rv = xipc_send(s, buf, 1, -1)) == XIPC_OK)
            rv = xipc_recv(s, buf, REMOTE_SMALL, &k, -1);
        t[r] = (double)bench_now_ns() - t0;
    }
    free(buf);
    xipc_close(s);
    if (rv != XIPC_OK)
        return remote_fail("measuring", rv);
    qsort(t, REMOTE_RUNS, sizeof(t[0]), remote_cmp);
    double med = t[REMOTE_RUNS / 2];
    if (thr)
        printf("%s: %.0f B x %ld: %.1f MB/s\n", url, (double)size, n, (double)size * (double)n / med * 1e3);
    else
        printf("%s: 64 B round trip: %.1f us\n", url, med / (double)n / 1e3);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "echo") == 0)
        return remote_echo(argv[2], argc > 3 ? argv[3] : NULL, argc > 4 ? argv[4] : NULL);
    if (argc == 4 && strcmp(argv[1], "rtt") == 0)
        return remote_measure(argv[2], 0, REMOTE_SMALL, atol(argv[3]));
    if (argc == 5 && strcmp(argv[1], "thr") == 0)
        return remote_measure(argv[2], 1, (size_t)atol(argv[3]), atol(argv[4]));
    fprintf(stderr, "usage: xipc-remote echo URL [CERT KEY] | rtt URL N | thr URL SIZE N\n");
    return 2;
}
