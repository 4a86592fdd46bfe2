/*
 * One connected xipc socket as a bench connection, for the drivers of
 * xipc's channels (drivers/xipc.c); and xconn_probe, whether a scheme is
 * there at all, for every xipc driver. The parent listens on the case's
 * URL and accepts the peer, which dials it.
 *
 * Protocol (the peer tells messages apart by length): rtt: the peer
 * echoes every message; throughput: it consumes them and answers a
 * 1-byte message with a 1-byte ack (sync). 0 bytes end the connection.
 */
#ifndef XIPC_BENCH_XCONN_H
#define XIPC_BENCH_XCONN_H

#include <stddef.h>
#include <stdint.h>

#include "xipc/xipc.h"

#include "harness/drv.h"
#include "harness/peer.h"

#define XCONN_TIMEOUT_MS 10000 /* one operation; far above any sample */
#define XCONN_PEER_MS 30000    /* the peer waits this long for the next */
#define XCONN_DIAL_MS 5000     /* the peer's dial; the parent's accept + 1 s */
#define XCONN_MAX_MSG 65536u

/* How a driver words a failed xipc call: bench_set_error(), return -1. */
typedef int (*xconn_fail_fn)(const char *what, xipc_err rv);

typedef struct xconn {
    xipc_sock *sock;    /* NULL until connected */
    bench_peer peer;
    size_t size;        /* the case's message size */
    uint8_t *buf;       /* size bytes of 0x5a */
    xconn_fail_fn fail;
} xconn;

/*
 * Allocate a driver's connection of @p conn_size bytes, zeroed, whose
 * first member is an xconn, and set that up for @p cfg (sizes 2 ..
 * XCONN_MAX_MSG; no peer yet). Free it with xconn_stop() and free().
 * @return the connection, or NULL after bench_set_error()
 */
void *xconn_alloc(size_t conn_size, const bench_cfg *cfg, xconn_fail_fn fail);

/* Listen at @p url, accept the peer, close the listener.
 * @return 0, or -1 after x->fail() */
int xconn_accept(xconn *x, const char *url, const xipc_opts *o);

/*
 * Send the end (0 bytes; the peer may be gone) and close the socket,
 * stop the peer, free the buffer.
 * @return 0, or -1 when the peer failed (bench_error() says why)
 */
int xconn_stop(xconn *x);

/* One round trip of x->size bytes. @return 0, or -1 after bench_set_error() */
int xconn_rtt(xconn *x);

/* Send one message of x->size bytes. @return 0, or -1 after x->fail() */
int xconn_put(xconn *x);

/* A 1-byte message and its ack. @return 0, or -1 after x->fail() */
int xconn_sync(xconn *x);

/*
 * Peer side: dial @p url until the parent listens (XIPC_ECONNREFUSED
 * meanwhile; naps of @p nap_us), for XCONN_DIAL_MS at most.
 * @return XIPC_OK, or the error after printing it on stderr
 */
xipc_err xconn_dial(xipc_sock **s, const char *url, const xipc_opts *o, unsigned nap_us);

/*
 * A driver's setup(): can this system listen at a name made of @p prefix
 * ("clipboard://", "unix://@") and a unique probe name at all? A scheme
 * the build or the system does not have (XIPC_ENOTSUP: unix:// under
 * wine, clipboard:// on Linux, a scheme of a later version) makes every
 * case of the driver print as not available, saying why, rather than fail.
 * @return 0 (listening worked, or failed otherwise: the cases will say
 *         it), or -1 after bench_set_error("not available here (...)")
 */
int xconn_probe(const char *prefix);

/* xconn_probe("unix://@"): the setup() of the unix:// drivers (channel,
 * RPC), skipped where the system has no Unix sockets (wine). */
int xconn_unix_setup(void);

/* Peer side: the exit code for how serving ended, @p rv: 0 for XIPC_OK
 * and XIPC_ECLOSED, else 1 after printing the error on stderr. */
int xconn_peer_exit(xipc_err rv);

#endif
