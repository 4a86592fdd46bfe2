/* One connected xipc socket as a bench connection (see xconn.h). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/runner.h"
#include "harness/util.h"
#include "harness/xconn.h"

void *xconn_alloc(size_t conn_size, const bench_cfg *cfg, xconn_fail_fn fail)
{
    if (cfg->size < 2 || cfg->size > XCONN_MAX_MSG) {
        bench_set_error("message size %zu outside 2..%u", cfg->size, XCONN_MAX_MSG);
        return NULL;
    }
    xconn *x = calloc(1, conn_size);
    if (x == NULL || (x->buf = malloc(cfg->size)) == NULL) {
        free(x);
        bench_set_error("out of memory");
        return NULL;
    }
    x->peer.pid = -1;
    x->size = cfg->size;
    x->fail = fail;
    memset(x->buf, 0x5a, cfg->size);
    return x;
}

int xconn_accept(xconn *x, const char *url, const xipc_opts *o)
{
    xipc_sock *l;
    xipc_err rv = xipc_listen(&l, url, o);
    if (rv != XIPC_OK)
        return x->fail("xipc_listen", rv);
    rv = xipc_accept(l, &x->sock, XCONN_DIAL_MS + 1000);
    xipc_close(l);
    return rv == XIPC_OK ? 0 : x->fail("xipc_accept", rv);
}

int xconn_stop(xconn *x)
{
    if (x->sock != NULL) {
        xipc_send(x->sock, x->buf, 0, 1000); /* the end; the peer may be gone */
        xipc_close(x->sock);
        x->sock = NULL;
    }
    int rc = bench_peer_stop(&x->peer, 5000);
    free(x->buf);
    x->buf = NULL;
    return rc;
}

int xconn_rtt(xconn *x)
{
    size_t n;
    xipc_err rv = xipc_send(x->sock, x->buf, x->size, XCONN_TIMEOUT_MS);
    if (rv != XIPC_OK)
        return x->fail("xipc_send", rv);
    rv = xipc_recv(x->sock, x->buf, x->size, &n, XCONN_TIMEOUT_MS);
    if (rv != XIPC_OK)
        return x->fail("xipc_recv", rv);
    if (n != x->size) {
        bench_set_error("xipc_recv: echo of %zu bytes came back as %zu", x->size, n);
        return -1;
    }
    return 0;
}

int xconn_put(xconn *x)
{
    xipc_err rv = xipc_send(x->sock, x->buf, x->size, XCONN_TIMEOUT_MS);
    return rv == XIPC_OK ? 0 : x->fail("xipc_send", rv);
}

int xconn_sync(xconn *x)
{
    uint8_t b = 1;
    size_t n;
    xipc_err rv = xipc_send(x->sock, &b, 1, XCONN_TIMEOUT_MS);
    if (rv != XIPC_OK)
        return x->fail("xipc_send (sync)", rv);
    rv = xipc_recv(x->sock, &b, 1, &n, XCONN_TIMEOUT_MS);
    return rv == XIPC_OK ? 0 : x->fail("xipc_recv (ack)", rv);
}

xipc_err xconn_dial(xipc_sock **s, const char *url, const xipc_opts *o, unsigned nap_us)
{
    uint64_t end = bench_now_ns() + (uint64_t)XCONN_DIAL_MS * 1000000u;
    xipc_err rv;
    /* the parent listens after the fork: wait for the name to appear */
    while ((rv = xipc_dial(s, url, o, 1000)) == XIPC_ECONNREFUSED &&
           bench_now_ns() < end)
        bench_nap_us(nap_us);
    if (rv != XIPC_OK)
        fprintf(stderr, "xipc: bench: peer: xipc_dial %s: %s\n", url, xipc_strerror(rv));
    return rv;
}

int xconn_peer_exit(xipc_err rv)
{
    if (rv != XIPC_OK && rv != XIPC_ECLOSED) {
        fprintf(stderr, "xipc: bench: peer: %s\n", xipc_strerror(rv));
        return 1;
    }
    return 0;
}

int xconn_probe(const char *prefix)
{
    char url[96];
    snprintf(url, sizeof(url), "%.40sxb-probe-%llx", prefix,
             (unsigned long long)bench_now_ns());
    xipc_opts o;
    xipc_opts_init(&o);
    xipc_sock *l;
    xipc_err rv = xipc_listen(&l, url, &o);
    if (rv == XIPC_ENOTSUP) {
        const char *d = xipc_last_detail();
        bench_set_error("not available here (%s%s%s)", xipc_strerror(rv), d[0] ? ": " : "", d);
        return -1;
    }
    if (rv == XIPC_OK)
        xipc_close(l);
    return 0;
}

int xconn_unix_setup(void)
{
    return xconn_probe("unix://@");
}
