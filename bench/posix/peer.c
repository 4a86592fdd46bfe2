/* The peer process of a case on POSIX: fork, run, reap (kill when stuck). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness/peer.h"
#include "harness/runner.h"

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

int bench_peer_forks(void)
{
    return 1;
}

int bench_peer_run(bench_peer *p, const bench_peer_prog *prog, char *const args[],
                   bench_cpu *cpu)
{
    pid_t pid = peer_fork(p);
    if (pid < 0)
        return -1;
    if (pid == 0)
        _exit(prog->main(args, cpu));
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

int bench_peer_adopt(bench_peer *p, uint32_t pid)
{
    p->pid = (pid_t)pid;
    p->parent = getpid();
    p->status = 0;
    p->reaped = 0;
    return 0;
}

int bench_peer_orphaned(const bench_peer *p)
{
    return getppid() != (pid_t)p->parent;
}

int bench_peer_gone(bench_peer *p)
{
    if (p->pid < 0 || p->reaped)
        return 1;
    int st;
    pid_t r = waitpid((pid_t)p->pid, &st, WNOHANG);
    if (r == (pid_t)p->pid || (r < 0 && errno == ECHILD)) {
        p->status = r == (pid_t)p->pid ? st : 0;
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
        kill((pid_t)p->pid, SIGKILL);
        while (waitpid((pid_t)p->pid, &p->status, 0) < 0 && errno == EINTR)
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

double bench_peer_reaped_cpu_s(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_CHILDREN, &ru) != 0)
        return -1;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}
