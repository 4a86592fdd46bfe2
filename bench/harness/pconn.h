/*
 * The part of a driver's connection that every driver with one forked peer
 * has: the peer, its CPU accounting, the message size and a buffer. A
 * driver's struct bench_conn begins with a bench_pconn, which the two
 * calls below set up and tear down.
 */
#ifndef XIPC_BENCH_PCONN_H
#define XIPC_BENCH_PCONN_H

#include <stddef.h>
#include <stdint.h>

#include "harness/cpu.h"
#include "harness/drv.h"
#include "harness/peer.h"

typedef struct bench_pconn {
    bench_peer peer;  /* pid -1 until started */
    bench_cpu cpu;
    double *peer_cpu; /* cfg->peer_cpu_ns */
    size_t size;      /* the case's message size */
    uint8_t *buf;     /* buf_size bytes of 0x5a */
} bench_pconn;

/*
 * Allocate a driver's connection of @p conn_size bytes, zeroed, whose first
 * member is a bench_pconn, with a buffer of @p buf_size bytes, for @p cfg.
 * Free it with bench_pconn_end().
 * @return the connection, or NULL after bench_set_error("out of memory")
 */
void *bench_pconn_alloc(size_t conn_size, size_t buf_size, const bench_cfg *cfg);

/*
 * Stop the peer (5 s at most), store the CPU time it reported in
 * *peer_cpu, plus @p extra_cpu(@p p)'s (may be NULL; it may return < 0 for
 * none) when both are known, free the buffer and the connection.
 * @return 0, or -1 when the peer failed (bench_error() says why)
 */
int bench_pconn_end(bench_pconn *p, double (*extra_cpu)(bench_pconn *p));

#endif
