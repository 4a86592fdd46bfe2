/*
 * What the suites print and write: sizes, times and rates as text, the
 * shm suite's result table and JSON array (one record per row), and the
 * comparison suites' cells, JSON records, missing cases and target lines.
 */
#ifndef XIPC_BENCH_OUTPUT_H
#define XIPC_BENCH_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

#include "harness/runner.h"

/* "64 B", "4 KiB", "64 KiB". */
void bench_fmt_size(char *buf, size_t cap, size_t size);

/* @p s as a JSON string, quoted and escaped. */
void bench_json_str(FILE *f, const char *s);

/* ---- the shm suite ----------------------------------------------------------- */

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

/* The table, one row per result; an emulated one ends in "  emulated". */
void bench_table_head(FILE *f);
void bench_table_row(FILE *f, const bench_result *r);

/* Write @p n results as a JSON array. @return 0 or -1 (I/O error) */
int bench_json_write(FILE *f, const bench_result *r, size_t n);

/* ---- the comparison suites ----------------------------------------------------- */

/* "412 ns", "12.5 us", "1.2 ms"; "1.25 M", "3.2 G" (then @p unit). */
void cmp_fmt_ns(char *buf, size_t cap, double ns);
void cmp_fmt_rate(char *buf, size_t cap, double v, const char *unit);

/* One JSON record per case measured ({"transport", "impl", "test", "size",
 * "value", "unit", ...}), throughput as msg/s and as B/s. @return 0 or -1 */
int cmp_json_write(FILE *f, const bench_case *cases, size_t n);

/* Print "skipped:"/"failed:" lines for cases not measured (once per
 * row and reason). */
void cmp_report_missing(FILE *f, const bench_case *cases, size_t n);

/* A target line: @p r <= @p limit (at_most) or >= it. */
void cmp_target(FILE *f, const char *what, double r, int at_most, double limit);

#endif
