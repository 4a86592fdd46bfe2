/* The peer process of a case: fork, run, reap (kill when stuck). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "peer.h"

/* Fork with nothing buffered that could be written twice.
 * @return the child's pid (0 in the child), or -1 after bench_set_error() */
static pid_t peer_fork(bench_peer *p)
{
    p->pid = -1;
    p->parent = getpid();
    p->status = 0;
    p->reaped = 0;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        bench_set_error("fork: %s", strerror(errno));
    return pid;
}

int bench_peer_start(bench_peer *p, int (*fn)(void *arg), void *arg)
{
    pid_t pid = peer_fork(p);
    if (pid < 0)
        return -1;
    if (pid == 0)
        _exit(fn(arg));
    p->pid = pid;
    return 0;
}

int bench_peer_exec(bench_peer *p, char *const argv[])
{
    pid_t pid = peer_fork(p);
    if (pid < 0)
        return -1;
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    p->pid = pid;
    return 0;
}

int bench_peer_orphaned(const bench_peer *p)
{
    return getppid() != p->parent;
}

int bench_peer_gone(bench_peer *p)
{
    if (p->pid < 0 || p->reaped)
        return 1;
    int st;
    pid_t r = waitpid(p->pid, &st, WNOHANG);
    if (r == p->pid || (r < 0 && errno == ECHILD)) {
        p->status = r == p->pid ? st : 0;
        p->reaped = 1;
        return 1;
    }
    return 0;
}

static void peer_nap(void)
{
    struct timespec ts = {0, 1000000}; /* 1 ms */
    nanosleep(&ts, NULL);
}

int bench_peer_stop(bench_peer *p, int timeout_ms)
{
    if (p->pid < 0)
        return 0;
    uint64_t end = bench_now_ns() + (uint64_t)timeout_ms * 1000000u;
    while (!bench_peer_gone(p) && bench_now_ns() < end)
        peer_nap();
    int killed = 0;
    if (!p->reaped) {
        kill(p->pid, SIGKILL);
        while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR)
            ;
        p->reaped = 1;
        killed = 1;
    }
    int st = p->status;
    p->pid = -1;
    if (killed) {
        bench_set_error("peer process did not exit within %d ms: killed", timeout_ms);
        return -1;
    }
    if (WIFSIGNALED(st)) {
        bench_set_error("peer process died of signal %d", WTERMSIG(st));
        return -1;
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) != 0) {
        bench_set_error("peer process failed (exit status %d)", WEXITSTATUS(st));
        return -1;
    }
    return 0;
}
