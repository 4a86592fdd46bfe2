/*
 * The timing harness: clock, error text, repetitions and medians, the
 * result table and the JSON writer. It times drivers (drv.h) without
 * knowing what they move.
 */
#ifndef XIPC_BENCH_HARNESS_H
#define XIPC_BENCH_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "drv.h"

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

/* How long to measure. */
typedef struct bench_plan {
    unsigned reps;    /* repetitions; the median of them is reported */
    unsigned rep_ms;  /* target length of one repetition */
    unsigned lap_max; /* round trips timed one by one (p50, p99), in all */
} bench_plan;

/* What one case measured. */
typedef struct bench_stat {
    double median; /* rtt: ns per round trip; else messages per second */
    double min, max;
    double p50, p99; /* rtt: percentiles of single round trips, ns; else -1 */
    uint64_t iters;  /* iterations per repetition */
    unsigned reps;
} bench_stat;

/* One measurement of a suite: a driver, round trips or a stream, a size. */
typedef struct bench_case {
    const bench_drv *drv;
    int rtt;
    size_t size;
    /* out */
    bench_stat st;
    int failed;     /* 1: why says why; st is void */
    char why[256];
    /* private to harness.c */
    uint64_t iters;
    double *rep;
    uint32_t *lap;
    size_t nlap;
} bench_case;

/*
 * Measure @p n cases, interleaved so that a burst of foreign work on a
 * shared machine hits one repetition of every case rather than every
 * repetition of one:
 *  1. each case is calibrated: how many iterations take plan->rep_ms;
 *  2. plan->reps rounds each run one repetition of every case, on a fresh
 *     connection after a warm-up of a tenth of the iterations; a
 *     repetition is timed in 16 chunks and its value is their median;
 *  3. round-trip cases then time single round trips (plan->lap_max in all,
 *     spread over the rounds) for p50 and p99; these include one clock
 *     read per sample, the repetitions do not.
 * The case's value is the median of its repetitions.
 * @param name      prefix for the cases' unique object names
 * @param progress  where to show progress, or NULL
 * @return the number of cases that failed
 */
size_t bench_run(bench_case *cases, size_t n, const bench_plan *plan,
                 const char *name, FILE *progress);

/* Median of @p n values (sorts @p v). */
double bench_median(double *v, size_t n);

/* One row of the table, one record of the JSON array. */
typedef struct bench_result {
    const char *transport;
    const char *impl;
    const char *test; /* "rtt" or "throughput" */
    size_t size;
    double value; /* median, in unit */
    const char *unit; /* "ns", "msg/s" or "B/s" */
    double p50, p99;  /* single round trips; < 0: none */
    double spread;    /* (max - min) / median of the repetitions */
    unsigned reps;
    const char *emulated; /* NULL, or how a process of it was emulated
                             ("qemu-i386: WHY"): marked, never judged */
} bench_result;

/* "64 B", "4 KiB", "64 KiB". */
void bench_fmt_size(char *buf, size_t cap, size_t size);

/* The table, one row per result; an emulated one ends in "  emulated". */
void bench_table_head(FILE *f);
void bench_table_row(FILE *f, const bench_result *r);

/* @p s as a JSON string, quoted and escaped. */
void bench_json_str(FILE *f, const char *s);

/* Write @p n results as a JSON array. @return 0 or -1 (I/O error). */
int bench_json_write(FILE *f, const bench_result *r, size_t n);

#endif
