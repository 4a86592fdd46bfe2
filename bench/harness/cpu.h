/*
 * CPU time of the two sides of a case. The measuring process reads its
 * own getrusage(RUSAGE_SELF) around the work; the peer process reads its
 * own from the moment it is connected to the end, and writes the
 * difference into a pipe made before the fork, which the driver's close()
 * reads once the peer has exited. RUSAGE_SELF counts every thread of the
 * process (an RPC server's workers too). Windows: GetProcessTimes, and an
 * anonymous pipe whose write end the peer program takes from its parent
 * with DuplicateHandle (posix/cpu.c, win32/cpu.c).
 */
#ifndef XIPC_BENCH_CPU_H
#define XIPC_BENCH_CPU_H

#include <stddef.h>
#include <stdint.h>

typedef struct bench_cpu {
    intptr_t rfd, wfd; /* the pipe (fds; Windows: handles); -1 when closed */
    uint64_t start; /* child: CPU ns when connected */
    int started;
} bench_cpu;

/* User + system CPU time of this process, in ns. */
uint64_t bench_cpu_self_ns(void);

/* Parent, before the fork: make the pipe. @return 0 or -1 (bench_error) */
int bench_cpu_open(bench_cpu *c);

/* Parent, after the fork: drop the write end. */
void bench_cpu_parent(bench_cpu *c);

/* Parent: how a program started anew (exec, CreateProcess) finds the
 * write end: the text bench_cpu_child() takes. */
void bench_cpu_arg(const bench_cpu *c, char *buf, size_t cap);

/* Child of exec or CreateProcess: the write end named by @p arg, the
 * text of bench_cpu_arg() ("-": none, nothing will be reported). */
void bench_cpu_child(bench_cpu *c, const char *arg);

/* Child, once connected: drop the read end, note the CPU time. */
void bench_cpu_start(bench_cpu *c);

/* Child, at the end: write the CPU time used since bench_cpu_start. */
void bench_cpu_report(bench_cpu *c);

/* Parent, after the peer exited: the reported ns (summed over every
 * report, e.g. one per subscriber), or -1 when none came; closes. */
double bench_cpu_collect(bench_cpu *c);

/* Close whatever is still open (either side). */
void bench_cpu_close(bench_cpu *c);

/* CPU ns used so far by process @p pid (from /proc, 10 ms ticks), or -1. */
double bench_cpu_of_pid(long pid);

#endif
