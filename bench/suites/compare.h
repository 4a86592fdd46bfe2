/*
 * What the comparison suites (all.c, rpc.c, transports.c) share:
 * rows of a table, each a mechanism with its properties and the tests it
 * takes; building the cases, running them, the channel table, JSON, plot.
 */
#ifndef XIPC_BENCH_COMPARE_H
#define XIPC_BENCH_COMPARE_H

#include <stdio.h>

#include "harness/output.h"
#include "harness/runner.h"
#include "suites/suite.h"

/* Tests a row takes. */
#define CMP_T_RTT64 0x01u /* round trip, 64 B */
#define CMP_T_THR64 0x02u /* stream of 64 B messages */
#define CMP_T_THR4K 0x04u
#define CMP_T_THR64K 0x08u
#define CMP_T_NULL 0x10u  /* round trip of a null call (size 0) */
#define CMP_T_CALL1 0x20u /* calls/s, 1 calling thread */
#define CMP_T_CALL8 0x40u /* calls/s, 8 calling threads */
#define CMP_T_CHANNEL (CMP_T_RTT64 | CMP_T_THR64 | CMP_T_THR4K | CMP_T_THR64K)

/* The legend of the rows whose mechanism differs by OS, and of the
 * clipboard row, which has a round trip only. */
#define CMP_OS_LEGEND                                                               \
    "mq: POSIX message queues on Linux, WM_COPYDATA to the receiver's window on "  \
    "Windows. anon pipe: the pipe xipc_spawn gives a child.\n"                     \
    "clipboard (Windows): one value per format, the latest wins. rtt: we set a "   \
    "value, the peer sees it and sets its answer, we see that. No stream: values " \
    "set faster than the peer looks are replaced unseen (nearly all of them "      \
    "under wine), so a rate would count only what was lost.\n"

/* The classic comparison's properties of a mechanism, as measured here. */
typedef struct cmp_props {
    const char *net;     /* crosses machines */
    const char *bits;    /* a 32-bit and a 64-bit process can talk */
    const char *reliable;
    const char *bounds;  /* keeps message boundaries */
    const char *readers; /* one message read by many readers */
} cmp_props;

typedef struct cmp_row {
    const char *row;       /* "shm", "zmq ipc", ... */
    const char *transport; /* of the JSON records */
    const bench_drv *drv;
    unsigned tests;
    unsigned subs;
    cmp_props props;
} cmp_row;

#define CMP_MAX_CASES 160

/* A suite being run. */
typedef struct cmp_suite {
    const char *name;
    const cmp_row *rows;
    size_t nrows;
    bench_case cases[CMP_MAX_CASES];
    size_t n;
    bench_plan plan;
    double load_before, load_after;
    double foreign; /* share of the CPUs other processes used meanwhile */
    double seconds; /* the run's wall time */
} cmp_suite;

/* The first case matching (row, rtt, size, subs, threads), or NULL
 * (subs 0 and 1 are the same). */
const bench_case *cmp_find(const bench_case *cases, size_t n, const char *row, int rtt,
                           size_t size, unsigned subs, unsigned threads);

/* The value of that case when measured, else -1. */
double cmp_value(const bench_case *cases, size_t n, const char *row, int rtt,
                 size_t size, unsigned subs, unsigned threads);

/* Cases for every row and test, measured; progress on a terminal stderr.
 * @return 0, or 1 when a measurement failed */
int cmp_suite_run(cmp_suite *s, const bench_args *a, FILE *out);

/* The table of channel rows: round trip 64 B (median, p99), throughput
 * 64 B / 4 KiB / 64 KiB, CPU per message, properties. */
void cmp_table_channels(const cmp_suite *s, FILE *out);

/* What was skipped or failed, the notes on loss and stability. */
void cmp_suite_notes(const cmp_suite *s, FILE *out);

/* --json and --plot. @return 0 or 1 */
int cmp_suite_outputs(const cmp_suite *s, const bench_args *a, FILE *json);

/* What differs between the comparison suites' reports. */
typedef struct cmp_report {
    void (*table)(const cmp_suite *s, FILE *out);
    const char *legend; /* printed after the table, or NULL */
    void (*targets)(const cmp_suite *s, FILE *out);
} cmp_report;

/*
 * A whole suite: run @p rows, print the table, the legend, the notes and
 * the targets, write --json and --plot.
 * @return the exit code: 0, or 1 (a measurement or an output failed, out
 *         of memory)
 */
int cmp_suite_main(const char *name, const cmp_row *rows, size_t nrows,
                   const cmp_report *r, const bench_args *a, FILE *out, FILE *json);

/* Rates and times of the channel table drawn by gnuplot into @p file
 * (.svg or .png). @return 0, or -1 (bench_error() says why) */
int cmp_plot(const cmp_suite *s, const char *file);

#endif
