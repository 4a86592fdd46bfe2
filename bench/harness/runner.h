/*
 * The runner: it times drivers (drv.h) without knowing what they move.
 * Every suite hands it cases (a driver, round trips or a stream, a size)
 * and a plan; it opens a fresh connection for every repetition of every
 * case, interleaves the repetitions of all cases so that a burst of
 * foreign work on a shared machine hits one repetition of each rather
 * than every repetition of one, and reports medians. Also the clock and
 * the text of the last error, which drivers set.
 *
 * Two schedules (bench_plan.schedule):
 *  - BENCH_FIXED (bench shm): every case is calibrated on a connection of
 *    its own (how many iterations take rep_ms), then max_reps rounds each
 *    run one repetition of every case after a warm-up of a tenth of the
 *    iterations; a repetition is timed in BENCH_CHUNKS chunks and its
 *    value is their median, and it stops at twice its planned time.
 *  - BENCH_UNTIL_STABLE (bench all, rpc, transports): the first round
 *    calibrates on the connection it measures; rounds go on for a case
 *    until its interquartile range is within tol of its median after
 *    min_reps repetitions, or it had max_reps, or the budget is spent. A
 *    repetition is one timed run (at most four times its planned time),
 *    or the calls/s of several threads; the messages lost are counted.
 * In both, round-trip cases then time single round trips for p50 and p99
 * (these include one clock read per sample; the repetitions do not), the
 * CPU time of both sides per message is measured, and each driver's
 * setup() and teardown() run once around the whole run.
 */
#ifndef XIPC_BENCH_RUNNER_H
#define XIPC_BENCH_RUNNER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "harness/drv.h"

/* Monotonic clock in nanoseconds. */
uint64_t bench_now_ns(void);

/* The printf dialect of bench_set_error's format: mingw-w64's C99 one
 * on Windows (__USE_MINGW_ANSI_STDIO, bench/CMakeLists.txt). */
#ifdef __MINGW_PRINTF_FORMAT
#define BENCH_PRINTF_FORMAT __MINGW_PRINTF_FORMAT
#else
#define BENCH_PRINTF_FORMAT printf
#endif

/* Record why the current operation failed (printf format). */
void bench_set_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(BENCH_PRINTF_FORMAT, 1, 2)))
#endif
    ;
/* The last recorded failure ("" when none). */
const char *bench_error(void);

/*
 * Close @p c with @p close_fn after the driver's open() failed, keeping
 * the error that made it fail (closing may record another).
 * @return -1
 */
int bench_close_failed(int (*close_fn)(bench_conn *c), bench_conn *c);

#define BENCH_MAX_REPS 32
#define BENCH_CHUNKS 16 /* BENCH_FIXED: a repetition is timed in this many chunks */

typedef enum bench_schedule { BENCH_FIXED, BENCH_UNTIL_STABLE } bench_schedule;

/* How long and how often to measure. */
typedef struct bench_plan {
    bench_schedule schedule;
    unsigned min_reps;   /* repetitions before stability is judged */
    unsigned max_reps;   /* give up (and say "unstable") after these */
    unsigned rep_ms;     /* length of one timed repetition */
    unsigned laps;       /* single round trips timed per repetition (p50, p99) */
    double tol;          /* stable: interquartile range / median <= tol */
    const char *mode;    /* "quick", "full" or "smoke" */
    unsigned budget_s;   /* > 0: start no round after this many seconds once
                            every case has 3 repetitions (quick: the demo) */
    unsigned check;      /* operations between two looks at the clock */
    uint64_t max_iters;  /* the most iterations a repetition is given */
} bench_plan;

/* The plan of @p schedule for --quick, --full (@p full) or --smoke
 * (@p smoke: one short repetition of each case; the comparison suites
 * run only their 64 B tests then). */
void bench_plan_for(bench_schedule schedule, int full, int smoke, bench_plan *plan);

enum { BENCH_OK = 0, BENCH_FAILED = 1, BENCH_SKIPPED = 2 };

/* One measurement: a driver, round trips or a stream, a size. */
typedef struct bench_case {
    const bench_drv *drv;
    const char *row;       /* comparison suites: the table row it belongs to */
    const char *transport; /* comparison suites: "transport" of its JSON records */
    int rtt;         /* 1: round trips (or calls); 0: a one-way stream */
    size_t size;
    unsigned subs;    /* pub/sub: subscribers (0: 1) */
    unsigned threads; /* > 0: calls/s of that many threads using drv->call */
    /* out */
    int state;     /* BENCH_OK, BENCH_FAILED, BENCH_SKIPPED: why says why */
    char why[256];
    double value;  /* the median: rtt: ns per round trip; else delivered msg/s */
    double p50, p99; /* single round trips, ns; -1: none */
    double spread;   /* BENCH_FIXED: (max - min) / median of the repetitions;
                        BENCH_UNTIL_STABLE: interquartile range / median */
    int stable;      /* spread <= plan->tol */
    unsigned reps;
    double cpu_ns;   /* CPU ns (all processes) per message or round trip; -1 */
    double lost;     /* share of messages lost (worst subscriber) */
    /* private to runner.c */
    int done;
    uint64_t iters;
    double rep[BENCH_MAX_REPS], cpu[BENCH_MAX_REPS], loss[BENCH_MAX_REPS];
    uint32_t *lap;
    size_t nlap, lapcap;
} bench_case;

/*
 * Measure @p n cases as @p plan says (above). Cases whose driver's
 * setup() fails are skipped.
 * @param name      prefix for the cases' unique object names
 * @param progress  a terminal for the progress line, or NULL
 * @return the number of failed cases
 */
size_t bench_run(bench_case *cases, size_t n, const bench_plan *plan, const char *name,
                 FILE *progress);

#endif
