/*
 * xipc-count: fixed amounts of work on the library's hot paths, for
 * counting the instructions they execute (scripts/count.sh runs it under
 * callgrind, or under qemu's instruction log for a 32-bit build; docs/
 * BENCHMARKS.md, "Instructions per operation"). A count does not move with
 * the machine's load, so it can guard the paths in `make test` where a
 * timing could not.
 *
 *   xipc-count OP N
 *
 * OP: shm         N round trips of 64 B over shm://
 *     copy64k     N 64 KiB messages over shm://, copied in and out
 *     zc64k       N 64 KiB messages over shm://, reserve/commit and
 *                 peek/release, the payload left untouched
 *     memcpy64k   N pairs of 64 KiB memcpy: the copies copy64k makes
 *     rpc-inline  N null calls over shm:// to an XIPC_RPC_INLINE method
 *     rpc-worker  N null calls over shm:// to an ordinary method (a 64-bit
 *                 server's reader runs it, leader/follower; a 32-bit
 *                 one's worker)
 *
 * Both ends of a channel are driven by this one thread wherever possible
 * (a message is always there when it is received), so no spinning or
 * sleeping enters the count; the RPC server needs its own threads, and
 * spin_us 0 keeps their waits free of spin loops. The setup costs the same
 * for every N: the script takes the difference of two runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/platform.h"
#include "xipc/rpc.h"
#include "xipc/xipc.h"

#define BIG (64u << 10)

static int fail(const char *what, xipc_err rv)
{
    fprintf(stderr, "xipc-count: %s: %s (%s)\n", what, xipc_strerror(rv), xipc_last_detail());
    return 1;
}

typedef struct dialer {
    const char *url;
    const xipc_opts *o;
    xipc_sock *s;
    xipc_err rv;
} dialer;

static void dial_main(void *arg)
{
    dialer *d = arg;
    d->rv = xipc_dial(&d->s, d->url, d->o, 10000);
}

/* A connected shm:// pair: @p a the accepted end, @p b the dialled one. */
static int shm_pair(const xipc_opts *o, xipc_sock **l, xipc_sock **a, xipc_sock **b)
{
    char url[64];
    snprintf(url, sizeof(url), "shm://xipc-count-%u", (unsigned)xipc_plat_getpid());
    xipc_err rv = xipc_listen(l, url, o);
    if (rv != XIPC_OK)
        return fail(url, rv);
    dialer d = {url, o, NULL, XIPC_OK};
    xipc_plat_thread th;
    if ((rv = xipc_plat_thread_create(&th, dial_main, &d)) != XIPC_OK)
        return fail("thread", rv);
    rv = xipc_accept(*l, a, 10000);
    xipc_plat_thread_join(&th);
    if (rv != XIPC_OK || d.rv != XIPC_OK)
        return fail("connect", rv != XIPC_OK ? rv : d.rv);
    *b = d.s;
    return 0;
}

static int run_shm(const char *op, long n)
{
    xipc_opts o;
    xipc_opts_init(&o);
    o.spin_us = 0;
    xipc_sock *l = NULL, *a = NULL, *b = NULL;
    if (shm_pair(&o, &l, &a, &b) != 0)
        return 1;
    static uint8_t src[BIG], dst[BIG];
    size_t len;
    xipc_err rv = XIPC_OK;
    for (long i = 0; i < n && rv == XIPC_OK; i++) {
        if (strcmp(op, "shm") == 0) {
            src[0] = (uint8_t)i;
            if ((rv = xipc_send(b, src, 64, -1)) == XIPC_OK &&
                (rv = xipc_recv(a, dst, 64, &len, -1)) == XIPC_OK &&
                (rv = xipc_send(a, dst, len, -1)) == XIPC_OK)
                rv = xipc_recv(b, dst, 64, &len, -1);
            if (rv == XIPC_OK && (len != 64 || dst[0] != (uint8_t)i))
                return fail("shm: the echo differs", XIPC_EPROTO);
        } else if (strcmp(op, "copy64k") == 0) {
            if ((rv = xipc_send(b, src, BIG, -1)) == XIPC_OK)
                rv = xipc_recv(a, dst, BIG, &len, -1);
            if (rv == XIPC_OK && len != BIG)
                return fail("copy64k: a short message", XIPC_EPROTO);
        } else { /* zc64k */
            void *w;
            const void *r;
            if ((rv = xipc_reserve(b, BIG, &w, -1)) == XIPC_OK &&
                (rv = xipc_commit(b, BIG)) == XIPC_OK &&
                (rv = xipc_peek(a, &r, &len, -1)) == XIPC_OK)
                rv = xipc_release(a);
            if (rv == XIPC_OK && len != BIG)
                return fail("zc64k: a short message", XIPC_EPROTO);
        }
    }
    xipc_close(b);
    xipc_close(a);
    xipc_close(l);
    return rv == XIPC_OK ? 0 : fail(op, rv);
}

static int run_memcpy(long n)
{
    static uint8_t src[BIG], mid[BIG], dst[BIG];
    for (long i = 0; i < n; i++) {
        src[0] = (uint8_t)i;
        memcpy(mid, src, BIG);
        memcpy(dst, mid, BIG);
        /* the copies must happen: the compiler may not drop them */
        __asm__ volatile("" : : "r"(dst) : "memory");
    }
    return dst[0] == (uint8_t)(n - 1) ? 0 : 1;
}

static xipc_err null_call(xipc_rpc_req *req, void *ud)
{
    return XIPC_OK;
}

static int run_rpc(int inline_, long n)
{
    xipc_rpc_server_opts so;
    xipc_rpc_server_opts_init(&so);
    so.workers = 1;
    so.sock.spin_us = 0;
    xipc_rpc_server *srv;
    xipc_err rv = xipc_rpc_server_alloc(&srv, &so);
    if (rv != XIPC_OK)
        return fail("server", rv);
    char url[64];
    snprintf(url, sizeof(url), "shm://xipc-count-rpc-%u", (unsigned)xipc_plat_getpid());
    if ((rv = xipc_rpc_server_register_ex(srv, "null", "() -> nil", null_call, NULL,
                                          inline_ ? XIPC_RPC_INLINE : 0)) != XIPC_OK ||
        (rv = xipc_rpc_server_serve(srv, url)) != XIPC_OK)
        return fail(url, rv);
    xipc_rpc_client_opts co;
    xipc_rpc_client_opts_init(&co);
    co.sock.spin_us = 0;
    xipc_rpc_client *c;
    if ((rv = xipc_rpc_client_dial(&c, url, &co, 10000)) != XIPC_OK)
        return fail("dial", rv);
    for (long i = 0; i < n && rv == XIPC_OK; i++)
        rv = xipc_rpc_call(c, "null", NULL, 0, NULL, 60000);
    xipc_rpc_client_close(c);
    xipc_rpc_server_free(srv);
    return rv == XIPC_OK ? 0 : fail("call", rv);
}

int main(int argc, char **argv)
{
    char *end = NULL;
    long n = argc == 3 ? strtol(argv[2], &end, 10) : 0;
    if (argc != 3 || *end != '\0' || n < 1 || n > 100000000) {
        fprintf(stderr, "usage: xipc-count shm|copy64k|zc64k|memcpy64k|rpc-inline|rpc-worker N\n");
        return 2;
    }
    const char *op = argv[1];
    if (strcmp(op, "shm") == 0 || strcmp(op, "copy64k") == 0 || strcmp(op, "zc64k") == 0)
        return run_shm(op, n);
    if (strcmp(op, "memcpy64k") == 0)
        return run_memcpy(n);
    if (strcmp(op, "rpc-inline") == 0 || strcmp(op, "rpc-worker") == 0)
        return run_rpc(strcmp(op, "rpc-inline") == 0, n);
    fprintf(stderr, "xipc-count: %s: no such operation\n", op);
    return 2;
}
