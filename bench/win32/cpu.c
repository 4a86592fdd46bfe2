/*
 * CPU time of both sides of a case on Windows: GetProcessTimes, and an
 * anonymous pipe for the peer's report. Nothing is inherited: the peer
 * program takes the write end from its parent with DuplicateHandle (the
 * parent keeps its own until it collects, so the peer may take it at any
 * time before it reports).
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness/cpu.h"
#include "harness/runner.h"

/* FILETIME counts 100 ns. */
static uint64_t cpu_ft_ns(FILETIME t)
{
    return (((uint64_t)t.dwHighDateTime << 32) | t.dwLowDateTime) * 100u;
}

static double cpu_of_process(HANDLE h)
{
    FILETIME created, exited, kernel, user;
    if (!GetProcessTimes(h, &created, &exited, &kernel, &user))
        return -1;
    return (double)(cpu_ft_ns(kernel) + cpu_ft_ns(user));
}

uint64_t bench_cpu_self_ns(void)
{
    double ns = cpu_of_process(GetCurrentProcess());
    return ns < 0 ? 0 : (uint64_t)ns;
}

static void cpu_close_handle(intptr_t *h)
{
    if (*h != -1)
        CloseHandle((HANDLE)*h);
    *h = -1;
}

int bench_cpu_open(bench_cpu *c)
{
    HANDLE r, w;
    c->rfd = c->wfd = -1;
    c->start = 0;
    c->started = 0;
    if (!CreatePipe(&r, &w, NULL, 0)) {
        bench_set_error("CreatePipe: Windows error %lu", (unsigned long)GetLastError());
        return -1;
    }
    c->rfd = (intptr_t)r;
    c->wfd = (intptr_t)w;
    return 0;
}

void bench_cpu_parent(bench_cpu *c)
{
    (void)c; /* the peer takes the write end from us: kept until collected */
}

void bench_cpu_arg(const bench_cpu *c, char *buf, size_t cap)
{
    if (c->wfd == -1)
        snprintf(buf, cap, "-");
    else
        snprintf(buf, cap, "%lu:%llu", (unsigned long)GetCurrentProcessId(),
                 (unsigned long long)(uintptr_t)c->wfd);
}

void bench_cpu_child(bench_cpu *c, const char *arg)
{
    c->rfd = c->wfd = -1;
    c->start = 0;
    c->started = 0;
    char *end;
    unsigned long pid = strtoul(arg, &end, 10);
    if (*end != ':')
        return;
    unsigned long long hv = strtoull(end + 1, &end, 10);
    HANDLE parent = OpenProcess(PROCESS_DUP_HANDLE, FALSE, (DWORD)pid);
    if (*end != '\0' || parent == NULL) {
        if (parent != NULL)
            CloseHandle(parent);
        return;
    }
    HANDLE mine;
    if (DuplicateHandle(parent, (HANDLE)(uintptr_t)hv, GetCurrentProcess(), &mine, 0, FALSE,
                        DUPLICATE_SAME_ACCESS))
        c->wfd = (intptr_t)mine;
    CloseHandle(parent);
}

void bench_cpu_start(bench_cpu *c)
{
    cpu_close_handle(&c->rfd);
    c->start = bench_cpu_self_ns();
    c->started = 1;
}

void bench_cpu_report(bench_cpu *c)
{
    if (c->wfd == -1 || !c->started)
        return;
    uint64_t ns = bench_cpu_self_ns() - c->start;
    DWORD k;
    WriteFile((HANDLE)c->wfd, &ns, sizeof(ns), &k, NULL);
    cpu_close_handle(&c->wfd);
}

double bench_cpu_collect(bench_cpu *c)
{
    double sum = -1;
    cpu_close_handle(&c->wfd);
    uint64_t ns;
    DWORD avail = 0, k;
    while (c->rfd != -1 &&
           PeekNamedPipe((HANDLE)c->rfd, NULL, 0, NULL, &avail, NULL) &&
           avail >= sizeof(ns) && ReadFile((HANDLE)c->rfd, &ns, sizeof(ns), &k, NULL) &&
           k == sizeof(ns))
        sum = (sum < 0 ? 0 : sum) + (double)ns;
    bench_cpu_close(c);
    return sum;
}

void bench_cpu_close(bench_cpu *c)
{
    cpu_close_handle(&c->rfd);
    cpu_close_handle(&c->wfd);
}

double bench_cpu_of_pid(long pid)
{
    HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, (DWORD)pid);
    if (h == NULL)
        return -1;
    double ns = cpu_of_process(h);
    CloseHandle(h);
    return ns;
}
