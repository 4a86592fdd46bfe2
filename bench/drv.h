/*
 * The driver contract: one driver per mechanism (bench/drv_*.c), each a
 * const bench_drv with designated initialisers. A driver knows how to move
 * bytes; it knows nothing about clocks, repetitions or statistics (that is
 * harness.c).
 *
 * Life of a case: open() starts the peer process (fork; the child reaches
 * the parent only through the mechanism being measured) and connects; the
 * harness then calls rtt() many times, or put() many times followed by
 * sync(); close() stops the peer and frees everything. Every operation
 * returns 0, or -1 after bench_set_error() said why. None of them blocks
 * forever: a dead or stuck peer is an error within seconds.
 */
#ifndef XIPC_BENCH_DRV_H
#define XIPC_BENCH_DRV_H

#include <stddef.h>

/* What a case asks of a driver. */
typedef struct bench_cfg {
    size_t size;   /* message size in bytes */
    int rtt;       /* 1: round trips; 0: a one-way stream */
    char name[64]; /* unique per case and run (for named objects) */
} bench_cfg;

/* A driver's private state for one case. */
typedef struct bench_conn bench_conn;

typedef struct bench_drv {
    const char *transport; /* "shm", "raw-pipe", ... as in the JSON output */
    const char *impl;      /* "xipc" or "raw" */
    int (*open)(bench_conn **out, const bench_cfg *cfg);
    /* One round trip of cfg->size bytes there and back (rtt cases). */
    int (*rtt)(bench_conn *c);
    /* Send one message of cfg->size bytes (throughput cases). */
    int (*put)(bench_conn *c);
    /* Return once the peer has consumed everything put so far. */
    int (*sync)(bench_conn *c);
    /* Stop the peer, reap it, free everything (c may be NULL).
     * @return 0, or -1 when the peer failed (the case is void) */
    int (*close)(bench_conn *c);
} bench_drv;

extern const bench_drv bench_drv_shm;        /* xipc shm://, default spin */
extern const bench_drv bench_drv_shm_nospin; /* xipc shm://, spin_us = 0 */
extern const bench_drv bench_drv_shm_zc;     /* xipc shm://, reserve/peek */
extern const bench_drv bench_drv_raw_spin;   /* a counter on one cache line */
extern const bench_drv bench_drv_raw_pipe;   /* two pipe(2)s */
extern const bench_drv bench_drv_raw_unix;   /* socketpair AF_UNIX stream */
extern const bench_drv bench_drv_memcpy;     /* memcpy into a reused buffer */

#endif
