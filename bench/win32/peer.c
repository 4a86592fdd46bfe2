/*
 * The peer process of a case on Windows: no fork, so a peer is this
 * program started again with CreateProcess ("xipc bench --peer NAME CPU
 * ARGS...", drivers/peers.c), waited for with its process handle, and
 * killed with TerminateProcess when stuck. Nothing is inherited (bInheritHandles is
 * FALSE): the peer reaches us through the mechanism being measured, and
 * takes its CPU report's pipe from us (win32/cpu.c).
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/win32/win32.h"

#include "harness/exec.h"
#include "harness/peer.h"
#include "harness/runner.h"

#define PEER_KILLED 137    /* the exit code of a killed peer: 128 + SIGKILL */

static double peer_reaped_s; /* CPU seconds of the peers reaped so far */

/* CreateProcess @p argv[0] with @p argv. */
static int peer_create(bench_peer *p, char *const argv[])
{
    wchar_t *cmd = NULL, *prog = NULL;
    if (xipc__win32_cmdline(argv, &cmd) != XIPC_OK || xipc__win32_wide(argv[0], &prog) != XIPC_OK) {
        free(cmd);
        bench_set_error("command line of %s too long, or not UTF-8", argv[0]);
        return -1;
    }
    p->pid = -1;
    p->parent = (intptr_t)GetCurrentProcessId();
    p->status = 0;
    p->reaped = 0;
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    memset(&si, 0, sizeof(si));
    si.cb = sizeof(si);
    fflush(NULL);
    BOOL ok = CreateProcessW(prog, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi);
    DWORD e = GetLastError();
    free(cmd);
    free(prog);
    if (!ok) {
        bench_set_error("CreateProcess %s: Windows error %lu", argv[0], (unsigned long)e);
        return -1;
    }
    CloseHandle(pi.hThread);
    p->pid = (intptr_t)pi.hProcess;
    return 0;
}

int bench_peer_run(bench_peer *p, const bench_peer_prog *prog, char *const args[],
                   bench_cpu *cpu)
{
    p->pid = -1;
    char cpuarg[64];
    bench_cpu_arg(cpu, cpuarg, sizeof(cpuarg));
    char *all[BENCH_EXEC_ARGS + 1] = {"bench", "--peer", (char *)prog->name, cpuarg};
    size_t n = 4;
    for (size_t i = 0; args[i] != NULL; i++) {
        if (n == BENCH_EXEC_ARGS) {
            bench_set_error("too many arguments for peer %s", prog->name);
            return -1;
        }
        all[n++] = args[i];
    }
    all[n] = NULL;
    char *argv[BENCH_EXEC_ARGS + 3];
    if (bench_exec_argv(argv, NULL, all) == NULL)
        return -1;
    return peer_create(p, argv);
}

int bench_peer_start(bench_peer *p, int (*fn)(void *arg), void *arg)
{
    (void)fn;
    (void)arg;
    p->pid = -1;
    bench_set_error("not available here (this peer needs fork)");
    return -1;
}

int bench_peer_forks(void)
{
    return 0;
}

int bench_peer_exec(bench_peer *p, char *const argv[])
{
    return peer_create(p, argv);
}

int bench_peer_adopt(bench_peer *p, uint32_t pid)
{
    HANDLE h = OpenProcess(SYNCHRONIZE | PROCESS_TERMINATE | PROCESS_QUERY_LIMITED_INFORMATION,
                           FALSE, pid);
    p->parent = (intptr_t)GetCurrentProcessId();
    p->status = 0;
    p->reaped = 0;
    p->pid = h == NULL ? -1 : (intptr_t)h;
    if (h == NULL) {
        bench_set_error("OpenProcess %lu: Windows error %lu", (unsigned long)pid,
                        (unsigned long)GetLastError());
        return -1;
    }
    return 0;
}

int bench_peer_orphaned(const bench_peer *p)
{
    HANDLE h = OpenProcess(SYNCHRONIZE, FALSE, (DWORD)p->parent);
    if (h == NULL)
        return 1;
    int gone = WaitForSingleObject(h, 0) == WAIT_OBJECT_0;
    CloseHandle(h);
    return gone;
}

/* The child has exited: its exit code and CPU time, the handle closed. */
static void peer_reap(bench_peer *p)
{
    HANDLE h = (HANDLE)p->pid;
    DWORD code = 0;
    FILETIME created, exited, kernel, user;
    if (GetProcessTimes(h, &created, &exited, &kernel, &user)) {
        ULARGE_INTEGER k = {.LowPart = kernel.dwLowDateTime, .HighPart = kernel.dwHighDateTime};
        ULARGE_INTEGER u = {.LowPart = user.dwLowDateTime, .HighPart = user.dwHighDateTime};
        peer_reaped_s += (double)(k.QuadPart + u.QuadPart) / 1e7;
    }
    GetExitCodeProcess(h, &code);
    CloseHandle(h);
    p->status = (int)code;
    p->reaped = 1;
}

int bench_peer_gone(bench_peer *p)
{
    if (p->pid == -1 || p->reaped)
        return 1;
    if (WaitForSingleObject((HANDLE)p->pid, 0) != WAIT_OBJECT_0)
        return 0;
    peer_reap(p);
    return 1;
}

int bench_peer_stop(bench_peer *p, int timeout_ms)
{
    if (p->pid == -1)
        return 0;
    int killed = 0;
    if (!p->reaped && WaitForSingleObject((HANDLE)p->pid, (DWORD)timeout_ms) != WAIT_OBJECT_0) {
        TerminateProcess((HANDLE)p->pid, PEER_KILLED);
        WaitForSingleObject((HANDLE)p->pid, INFINITE);
        killed = 1;
    }
    if (!p->reaped)
        peer_reap(p);
    p->pid = -1;
    if (killed) {
        bench_set_error("peer process did not exit within %d ms: killed", timeout_ms);
        return -1;
    }
    if (p->status != 0) {
        bench_set_error("peer process failed (exit code %d)", p->status);
        return -1;
    }
    return 0;
}

double bench_peer_reaped_cpu_s(void)
{
    return peer_reaped_s;
}
