/* The machine: CPU model and count from /proc, and who else used the CPUs
 * (bench_machine_* for the shm suite, cmp_* for the comparison suites). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "harness/machine.h"

void bench_machine_info(bench_machine *m)
{
    memset(m, 0, sizeof(*m));
    snprintf(m->cpu, sizeof(m->cpu), "unknown");
    m->ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL)
        return;
    char line[256];
    while (fgets(line, sizeof(line), f) != NULL) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) != 0 || colon == NULL)
            continue;
        colon += 1 + (colon[1] == ' ');
        colon[strcspn(colon, "\n")] = '\0';
        snprintf(m->cpu, sizeof(m->cpu), "%s", colon);
        break;
    }
    fclose(f);
}

/* Busy and total time of all CPUs so far, in clock ticks (0 when unknown). */
static void machine_ticks(unsigned long long *busy, unsigned long long *total)
{
    unsigned long long v[8] = {0};
    *busy = *total = 0;
    FILE *f = fopen("/proc/stat", "r");
    if (f == NULL)
        return;
    if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
               &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8) {
        for (int i = 0; i < 8; i++)
            *total += v[i];
        *busy = *total - v[3] - v[4]; /* all but idle and iowait */
    }
    fclose(f);
}

static double machine_rusage_s(int who)
{
    struct rusage ru;
    if (getrusage(who, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

double bench_machine_busy(unsigned ms)
{
    unsigned long long b0, t0, b1, t1;
    machine_ticks(&b0, &t0);
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    machine_ticks(&b1, &t1);
    return t1 > t0 ? 100.0 * (double)(b1 - b0) / (double)(t1 - t0) : -1;
}

void bench_machine_mark(bench_machine *m)
{
    machine_ticks(&m->busy, &m->total);
    m->own_s = machine_rusage_s(RUSAGE_SELF) + machine_rusage_s(RUSAGE_CHILDREN);
}

double bench_machine_others(const bench_machine *m)
{
    bench_machine now;
    bench_machine_mark(&now);
    long hz = sysconf(_SC_CLK_TCK);
    if (now.total <= m->total || hz <= 0)
        return -1;
    double busy_s = (double)(now.busy - m->busy) / (double)hz;
    double total_s = (double)(now.total - m->total) / (double)hz;
    double others = busy_s - (now.own_s - m->own_s);
    return others <= 0 ? 0 : 100.0 * others / total_s;
}

void cmp_machine(char *buf, size_t cap)
{
    bench_machine m;
    bench_machine_info(&m);
    snprintf(buf, cap, "%s, %ld CPUs online", strcmp(m.cpu, "unknown") ? m.cpu : "unknown CPU",
             m.ncpu);
}

double cmp_load(void)
{
    double load = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f != NULL) {
        if (fscanf(f, "%lf", &load) != 1)
            load = -1;
        fclose(f);
    }
    return load;
}

void cmp_usage_sample(cmp_usage *u)
{
    u->busy_s = u->total_s = u->ours_s = -1;
    FILE *f = fopen("/proc/stat", "r");
    unsigned long long v[8] = {0};
    if (f != NULL) {
        if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                   &v[3], &v[4], &v[5], &v[6], &v[7]) == 8) {
            double hz = (double)sysconf(_SC_CLK_TCK), total = 0;
            for (int i = 0; i < 8; i++)
                total += (double)v[i];
            u->total_s = total / hz;
            u->busy_s = (total - (double)v[3] - (double)v[4]) / hz;
        }
        fclose(f);
    }
    struct rusage a, b;
    if (getrusage(RUSAGE_SELF, &a) == 0 && getrusage(RUSAGE_CHILDREN, &b) == 0)
        u->ours_s = (double)(a.ru_utime.tv_sec + a.ru_stime.tv_sec + b.ru_utime.tv_sec +
                             b.ru_stime.tv_sec) +
                    (double)(a.ru_utime.tv_usec + a.ru_stime.tv_usec + b.ru_utime.tv_usec +
                             b.ru_stime.tv_usec) / 1e6;
}
