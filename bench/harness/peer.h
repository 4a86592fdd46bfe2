/*
 * The peer process of a case. POSIX forks: the child runs one function
 * and _exits; it shares nothing with the parent but what the driver hands
 * it (the mechanism being measured). Windows cannot fork: a peer program
 * (bench_peer_prog) is this program started again with CreateProcess as
 * "xipc bench --peer NAME CPU ARGS...", and only such peers run there
 * (posix/peer.c, win32/peer.c).
 */
#ifndef XIPC_BENCH_PEER_H
#define XIPC_BENCH_PEER_H

#include <stdint.h>

#include "harness/cpu.h"

typedef struct bench_peer {
    intptr_t pid;    /* POSIX: the child's pid; Windows: its process handle;
                        -1: none */
    intptr_t parent; /* the parent's pid, for the child to notice orphanhood */
    int status;      /* POSIX: wait status; Windows: exit code; once reaped */
    int reaped;
} bench_peer;

/*
 * A peer that runs on every OS: its arguments are strings, and it
 * reports its CPU time through @p cpu (bench_cpu_start, _report).
 * @p name is how "--peer NAME" finds it (drivers/peers.c lists them all).
 */
typedef struct bench_peer_prog {
    const char *name;
    int (*main)(char *const args[], bench_cpu *cpu);
} bench_peer_prog;

/*
 * Start @p prog with @p args (NULL-terminated, at most BENCH_EXEC_ARGS - 4)
 * and the write end of @p cpu (bench_cpu_open before): forked on POSIX,
 * started anew with CreateProcess on Windows. Call bench_cpu_parent after.
 * @return 0, or -1 (bench_error() says why)
 */
int bench_peer_run(bench_peer *p, const bench_peer_prog *prog, char *const args[],
                   bench_cpu *cpu);

/*
 * "--peer NAME CPU ARGS..." (bench.c finds it in @p argv): the child's
 * side of bench_peer_run on Windows (drivers/peers.c). @return an exit code
 */
int bench_peer_child_main(int argc, char **argv);

/*
 * Fork; the child runs fn(arg) and _exit()s with its return value. POSIX
 * only: on Windows it fails saying so.
 * @return 0, or -1 (bench_error() says why)
 */
int bench_peer_start(bench_peer *p, int (*fn)(void *arg), void *arg);

/* 1 where bench_peer_start can fork (POSIX), 0 where it cannot (Windows):
 * a suite that needs it is not available there. */
int bench_peer_forks(void);

/*
 * Fork and exec @p argv[0] with @p argv (bench_exec_argv() makes it): a
 * peer of another program, or of another bitness. Stopped like the others.
 * @return 0, or -1 (bench_error() says why; a failed exec shows as the
 * peer's exit status 127)
 */
int bench_peer_exec(bench_peer *p, char *const argv[]);

/* Take child @p pid, started otherwise (xipc_spawn), as the peer.
 * @return 0, or -1 (bench_error() says why) */
int bench_peer_adopt(bench_peer *p, uint32_t pid);

/* Child side: 1 when the parent that started us has gone. */
int bench_peer_orphaned(const bench_peer *p);

/* Parent side, never blocks: 1 when the child has exited. */
int bench_peer_gone(bench_peer *p);

/*
 * Wait at most @p timeout_ms for the child to exit, then kill it.
 * @return 0 when it exited with status 0, else -1 (bench_error() says why)
 */
int bench_peer_stop(bench_peer *p, int timeout_ms);

/* User + system CPU seconds of the peers reaped so far (getrusage
 * RUSAGE_CHILDREN; on Windows summed as each peer is reaped), or -1. */
double bench_peer_reaped_cpu_s(void);

#endif
