/*
 * What the raw baselines share (drv_raw.c for the shm suite, drv_base.c
 * for the comparison suites): a counter on one shared cache line that the
 * two processes spin on, and whole reads and writes of fixed-size
 * messages on file descriptors (no framing: the size is agreed).
 */
#ifndef XIPC_BENCH_BASELINE_H
#define XIPC_BENCH_BASELINE_H

#include <stddef.h>
#include <stdint.h>

#include "drv.h"
#include "peer.h"

#define BASELINE_MAX_MSG 65536u        /* largest message of the fd baselines */
#define BASELINE_SPIN_QUIT UINT32_MAX  /* odd: the child stops */

/* The line both processes spin on. The parent writes odd, the child
 * answers with that value + 1. */
typedef struct baseline_line {
    _Alignas(64) _Atomic uint32_t word;
    uint8_t pad[60];
} baseline_line;

/* A spin line in memory shared with children forked later, its word 0.
 * @return the line, or NULL after bench_set_error() */
baseline_line *baseline_spin_map(void);

/*
 * Child side: answer every odd value the parent writes until it writes
 * BASELINE_SPIN_QUIT. @return 0 then, or 1 when the parent went away
 */
int baseline_spin_serve(baseline_line *l, const bench_peer *peer);

/*
 * Parent side: one round trip of the odd value @p *next (advanced, and
 * wrapped before BASELINE_SPIN_QUIT).
 * @return 0, or -1 after bench_set_error() when the peer died
 */
int baseline_spin_rtt(baseline_line *l, uint32_t *next, bench_peer *peer);

/* Close @p *fd unless it is -1, and set it to -1. */
void baseline_close_fd(int *fd);

/* Close a read and a write end, which may be one socket. */
void baseline_close_ends(int *rfd, int *wfd);

/* Read exactly @p n bytes. @return 0, 1 at end of stream, or -1 (errno) */
int baseline_read_full(int fd, uint8_t *p, size_t n);

/* Write all @p n bytes. @return 0 or -1 (errno) */
int baseline_write_full(int fd, const uint8_t *p, size_t n);

/*
 * One round trip of @p size bytes of @p buf: written to @p wfd, the echo
 * read back from @p rfd into @p buf.
 * @return 0, or -1 after bench_set_error()
 */
int baseline_fd_rtt(int rfd, int wfd, uint8_t *buf, size_t size);

/* put() and sync() of a baseline that only measures round trips: fails. */
int baseline_no_stream(bench_conn *c);

#endif
