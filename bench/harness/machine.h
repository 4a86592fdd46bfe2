/*
 * The machine a run ran on, and how much other work shared it: numbers
 * from a busy machine are not numbers about the mechanism.
 */
#ifndef XIPC_BENCH_MACHINE_H
#define XIPC_BENCH_MACHINE_H

typedef struct bench_machine {
    char cpu[128]; /* model name, "unknown" when not found */
    long ncpu;     /* CPUs online */
    /* snapshot taken by bench_machine_mark */
    unsigned long long busy, total; /* all CPUs, clock ticks */
    double own_s;                   /* CPU seconds of this process and its reaped children */
} bench_machine;

/* Fill cpu and ncpu. */
void bench_machine_info(bench_machine *m);

/* Percent of all CPU time spent busy over the next @p ms, or -1. */
double bench_machine_busy(unsigned ms);

/* Remember the CPU counters now. */
void bench_machine_mark(bench_machine *m);

/*
 * Percent of all CPU time since bench_machine_mark() used by other
 * processes (everything busy minus this process and its reaped
 * children), or -1 when unknown.
 */
double bench_machine_others(const bench_machine *m);

/* The comparison suites' view of the same (posix/machine.c, win32/machine.c):
 * CPU time of the whole machine and of this process and its reaped
 * children, to tell afterwards how much of the machine other processes
 * used during a run. */
typedef struct cmp_usage {
    double busy_s, total_s; /* all CPUs: busy and total, seconds */
    double ours_s;          /* this process and its reaped children */
} cmp_usage;
void cmp_usage_sample(cmp_usage *u);

/* The machine: CPU model, CPUs online; the load average (-1: none). */
void cmp_machine(char *buf, size_t cap);
double cmp_load(void);

#endif
