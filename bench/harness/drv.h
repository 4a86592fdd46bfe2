/*
 * The driver contract: one driver per mechanism (bench/drivers/), each a
 * const bench_drv with designated initialisers. A driver knows how to move
 * bytes; it knows nothing about clocks, repetitions or statistics (that is
 * runner.c).
 *
 * Life of a case: open() starts the peer process (fork; the child reaches
 * the parent only through the mechanism being measured) and connects; the
 * runner then calls rtt() many times, or put() many times followed by
 * sync(); close() stops the peer and frees everything. Every operation
 * returns 0, or -1 after bench_set_error() said why. None of them blocks
 * forever: a dead or stuck peer is an error within seconds.
 */
#ifndef XIPC_BENCH_DRV_H
#define XIPC_BENCH_DRV_H

#include <stddef.h>
#include <stdint.h>

/* What a case asks of a driver. */
typedef struct bench_cfg {
    size_t size;   /* message size in bytes */
    int rtt;       /* 1: round trips; 0: a one-way stream */
    char name[64]; /* unique per case and run (for named objects) */
    /* Added for the comparison suites (suites/compare.c); 0 / NULL elsewhere. */
    unsigned subs;        /* publish/subscribe: subscriber processes (0: 1) */
    unsigned threads;     /* calling threads that will use call() (0: 1) */
    double *peer_cpu_ns;  /* not NULL: close() stores there the CPU time
                             (user + system, ns) the peer process(es) used
                             while connected, as they reported it through
                             a pipe (getrusage RUSAGE_SELF), or -1 */
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
    /* Optional (NULL when absent). One round trip made by calling thread
     * @p thread (0 .. cfg->threads - 1); threads call it at the same time. */
    int (*call)(bench_conn *c, unsigned thread);
    /* Optional: messages put since open() that a peer never received
     * (lossy mechanisms; the largest count over the subscribers). Valid
     * after sync(). */
    uint64_t (*lost)(bench_conn *c);
    /* Optional: once per run before the driver's first open() (start a
     * daemon...), and once after its last close(). setup() returns 0, or
     * -1 after bench_set_error(): every case of the driver is skipped. */
    int (*setup)(void);
    void (*teardown)(void);
} bench_drv;

#endif
