/*
 * The comparison runner (cmp_run.c) behind `xipc bench all`, `rpc` and
 * `transports`: every case in two processes (or more: subscribers), its
 * repetitions interleaved with those of every other case, repeated until
 * stable, and the CPU time of both sides per message.
 */
#ifndef XIPC_BENCH_CMP_H
#define XIPC_BENCH_CMP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "drv.h"

#define CMP_MAX_REPS 32

/* How long and how often to measure. */
typedef struct cmp_plan {
    unsigned min_reps; /* repetitions before stability is judged */
    unsigned max_reps; /* give up (and say "unstable") after these */
    unsigned rep_ms;   /* length of one timed repetition */
    unsigned laps;     /* single round trips timed per repetition (p50, p99) */
    double tol;        /* stable: interquartile range / median <= tol */
    const char *mode;  /* "quick", "full" or "smoke" */
    unsigned budget_s; /* > 0: start no round after this many seconds once
                          every case has 3 repetitions (quick: the demo) */
} cmp_plan;

enum { CMP_OK = 0, CMP_FAILED = 1, CMP_SKIPPED = 2 };

/* One measurement: a driver, round trips or a stream, a size. */
typedef struct cmp_case {
    const bench_drv *drv;
    const char *row;       /* the table row it belongs to */
    const char *transport; /* "transport" of its JSON records */
    int rtt;         /* 1: round trips (or calls); 0: a one-way stream */
    size_t size;
    unsigned subs;    /* pub/sub: subscribers (0: 1) */
    unsigned threads; /* > 0: calls/s of that many threads using drv->call */
    /* out */
    int state;     /* CMP_OK, CMP_FAILED, CMP_SKIPPED: why says why */
    char why[200];
    double value;  /* rtt: ns per round trip; else delivered msg/s */
    double p50, p99; /* single round trips, ns; -1: none */
    double spread;   /* interquartile range of the repetitions / median */
    int stable;      /* spread <= plan->tol */
    unsigned reps;
    double cpu_ns;   /* CPU ns (all processes) per message or round trip; -1 */
    double lost;     /* share of messages lost (worst subscriber) */
    /* private to cmp_run.c */
    int done;
    uint64_t iters;
    double rep[CMP_MAX_REPS], cpu[CMP_MAX_REPS], loss[CMP_MAX_REPS];
    uint32_t *lap;
    size_t nlap, lapcap;
} cmp_case;

/* The plan of --quick, --full (@p full) or --smoke (@p smoke: one
 * repetition of 50 ms each; the suites run only their 64 B tests). */
void cmp_plan_for(int full, int smoke, cmp_plan *plan);

/*
 * Measure @p n cases: round after round, one repetition of every case not
 * yet stable (a fresh connection each time: open, warm-up, timed run,
 * single laps, close), until each is stable after plan->min_reps or has
 * had plan->max_reps. Cases whose driver's setup() fails are skipped.
 * @param progress a terminal for the progress line, or NULL
 * @return the number of failed cases
 */
size_t cmp_run(cmp_case *cases, size_t n, const cmp_plan *plan, const char *name,
               FILE *progress);

/* "64 B", "4 KiB"; "412.3 ns", "12.5 us"; "1.25 M", "3.2 G". */
void cmp_fmt_ns(char *buf, size_t cap, double ns);
void cmp_fmt_rate(char *buf, size_t cap, double v, const char *unit);

/* The first case matching (row, rtt, size, subs, threads), or NULL
 * (subs 0 and 1 are the same). */
const cmp_case *cmp_find(const cmp_case *cases, size_t n, const char *row, int rtt,
                         size_t size, unsigned subs, unsigned threads);

/* The value of that case when measured, else -1. */
double cmp_value(const cmp_case *cases, size_t n, const char *row, int rtt,
                 size_t size, unsigned subs, unsigned threads);

/* One JSON record per case measured ({"transport", "impl", "test", "size",
 * "value", "unit", ...}), throughput as msg/s and as B/s. @return 0 or -1 */
int cmp_json_write(FILE *f, const cmp_case *cases, size_t n);

/* Print "skipped:"/"failed:" lines for cases not measured (once per
 * driver and reason). */
void cmp_report_missing(FILE *f, const cmp_case *cases, size_t n);

/* A target line: @p r <= @p limit (at_most) or >= it. */
void cmp_target(FILE *f, const char *what, double r, int at_most, double limit);

/* CPU time of the whole machine (/proc/stat) and of this process and its
 * reaped children, to tell afterwards how much of the machine other
 * processes used during a run. */
typedef struct cmp_usage {
    double busy_s, total_s; /* all CPUs: busy and total, seconds */
    double ours_s;          /* this process and its reaped children */
} cmp_usage;
void cmp_usage_sample(cmp_usage *u);
/* Share of all CPUs' time between @p a and @p b that other processes
 * used (0..1), or -1 when unknown. */
double cmp_usage_foreign(const cmp_usage *a, const cmp_usage *b);

/* The machine: CPU model, CPUs online, load average. */
void cmp_machine(char *buf, size_t cap);
double cmp_load(void);

#endif
