/* Benchmark suites: each runs its cases, prints its table and verdicts. */
#ifndef XIPC_BENCH_SUITE_H
#define XIPC_BENCH_SUITE_H

#include <stdio.h>

/* What the command line asked for. */
typedef struct bench_args {
    const char *suite;
    const char *json; /* NULL: no JSON file */
    int full;         /* 0: --quick */
    int smoke;        /* --smoke: one short repetition of the 64 B tests */
    const char *plot; /* --plot FILE.svg|.png, or NULL */
    const char *peer32; /* shm: --peer32 FILE, an xipc of the other bitness */
} bench_args;

/*
 * Run the suite, print to @p out, and when @p json is not NULL write the
 * results there.
 * @return 0, or 1 when a measurement failed (the others are still reported)
 */
typedef int (*bench_suite_fn)(const bench_args *a, FILE *out, FILE *json);

int bench_suite_shm(const bench_args *a, FILE *out, FILE *json);
int bench_suite_all(const bench_args *a, FILE *out, FILE *json);        /* all.c */
int bench_suite_rpc(const bench_args *a, FILE *out, FILE *json);        /* rpc.c */
int bench_suite_transports(const bench_args *a, FILE *out, FILE *json); /* transports.c */

#endif
