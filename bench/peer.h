/*
 * The peer process of a case: fork, run one function, _exit. The child
 * shares nothing with the parent but what the driver hands it (the
 * mechanism being measured).
 */
#ifndef XIPC_BENCH_PEER_H
#define XIPC_BENCH_PEER_H

#include <sys/types.h>

typedef struct bench_peer {
    pid_t pid;  /* -1: none */
    pid_t parent; /* the parent's pid, for the child to notice orphanhood */
    int status; /* wait status once reaped */
    int reaped;
} bench_peer;

/*
 * Fork; the child runs fn(arg) and _exit()s with its return value.
 * @return 0, or -1 (bench_error() says why)
 */
int bench_peer_start(bench_peer *p, int (*fn)(void *arg), void *arg);

/*
 * Fork and exec @p argv[0] with @p argv (bench_exec_argv() makes it): a
 * peer of another program, or of another bitness. Stopped like the others.
 * @return 0, or -1 (bench_error() says why; a failed exec shows as the
 * peer's exit status 127)
 */
int bench_peer_exec(bench_peer *p, char *const argv[]);

/* Child side: 1 when the parent that started us has gone. */
int bench_peer_orphaned(const bench_peer *p);

/* Parent side, never blocks: 1 when the child has exited. */
int bench_peer_gone(bench_peer *p);

/*
 * Wait at most @p timeout_ms for the child to exit, then kill it.
 * @return 0 when it exited with status 0, else -1 (bench_error() says why)
 */
int bench_peer_stop(bench_peer *p, int timeout_ms);

#endif
