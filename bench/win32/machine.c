/*
 * The machine on Windows: the CPU's name from the registry, the CPU count,
 * and who else used the CPUs (GetSystemTimes; ours: GetProcessTimes of
 * this process and of the peers reaped). Under wine the name says so:
 * its numbers are of wine on another kernel, not of Windows.
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>

#include "harness/machine.h"
#include "harness/peer.h"

#define MACHINE_CPU_KEY "HARDWARE\\DESCRIPTION\\System\\CentralProcessor\\0"

static void machine_cpu_name(char *buf, size_t cap)
{
    DWORD n = (DWORD)cap;
    if (RegGetValueA(HKEY_LOCAL_MACHINE, MACHINE_CPU_KEY, "ProcessorNameString",
                     RRF_RT_REG_SZ, NULL, buf, &n) != ERROR_SUCCESS)
        snprintf(buf, cap, "unknown");
}

static long machine_ncpu(void)
{
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return (long)si.dwNumberOfProcessors;
}

/* "wine 8.0" when this runs under wine (its ntdll says so), else NULL. */
static const char *machine_wine(void)
{
    HMODULE nt = GetModuleHandleA("ntdll.dll");
    FARPROC fp = nt != NULL ? GetProcAddress(nt, "wine_get_version") : NULL;
    if (fp == NULL)
        return NULL;
    const char *(*version)(void);
    memcpy(&version, &fp, sizeof(version));
    static char what[64];
    snprintf(what, sizeof(what), "wine %s", version());
    return what;
}

static uint64_t machine_ft(FILETIME t)
{
    return ((uint64_t)t.dwHighDateTime << 32) | t.dwLowDateTime;
}

/* Busy and total time of all CPUs so far, in 100 ns (0 when unknown). */
static void machine_ticks(unsigned long long *busy, unsigned long long *total)
{
    FILETIME idle, kernel, user;
    *busy = *total = 0;
    if (!GetSystemTimes(&idle, &kernel, &user))
        return;
    *total = machine_ft(kernel) + machine_ft(user); /* kernel time holds idle time */
    *busy = *total - machine_ft(idle);
}

/* CPU seconds of this process and of the peers reaped so far. */
static double machine_ours_s(void)
{
    FILETIME created, exited, kernel, user;
    if (!GetProcessTimes(GetCurrentProcess(), &created, &exited, &kernel, &user))
        return -1;
    double reaped = bench_peer_reaped_cpu_s();
    return (double)(machine_ft(kernel) + machine_ft(user)) / 1e7 + (reaped > 0 ? reaped : 0);
}

void bench_machine_info(bench_machine *m)
{
    memset(m, 0, sizeof(*m));
    machine_cpu_name(m->cpu, sizeof(m->cpu));
    m->ncpu = machine_ncpu();
}

double bench_machine_busy(unsigned ms)
{
    unsigned long long b0, t0, b1, t1;
    machine_ticks(&b0, &t0);
    Sleep(ms);
    machine_ticks(&b1, &t1);
    return t1 > t0 ? 100.0 * (double)(b1 - b0) / (double)(t1 - t0) : -1;
}

void bench_machine_mark(bench_machine *m)
{
    machine_ticks(&m->busy, &m->total);
    m->own_s = machine_ours_s();
}

double bench_machine_others(const bench_machine *m)
{
    bench_machine now;
    bench_machine_mark(&now);
    if (now.total <= m->total || m->own_s < 0 || now.own_s < 0)
        return -1;
    double busy_s = (double)(now.busy - m->busy) / 1e7;
    double total_s = (double)(now.total - m->total) / 1e7;
    double others = busy_s - (now.own_s - m->own_s);
    return others <= 0 ? 0 : 100.0 * others / total_s;
}

void cmp_machine(char *buf, size_t cap)
{
    bench_machine m;
    bench_machine_info(&m);
    const char *wine = machine_wine();
    snprintf(buf, cap, "%s, %ld CPUs online%s%s%s",
             strcmp(m.cpu, "unknown") ? m.cpu : "unknown CPU", m.ncpu,
             wine ? " (Windows API of " : "", wine ? wine : "",
             wine ? ", not a Windows kernel)" : "");
}

double cmp_load(void)
{
    return -1; /* Windows keeps no load average */
}

void cmp_usage_sample(cmp_usage *u)
{
    unsigned long long busy, total;
    machine_ticks(&busy, &total);
    u->busy_s = total ? (double)busy / 1e7 : -1;
    u->total_s = total ? (double)total / 1e7 : -1;
    u->ours_s = machine_ours_s();
}
