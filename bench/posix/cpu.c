/* CPU time of both sides of a case: getrusage, and a pipe for the peer's. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "harness/cpu.h"
#include "harness/runner.h"

uint64_t bench_cpu_self_ns(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
           ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
}

static void cpu_close_fd(intptr_t *fd)
{
    if (*fd >= 0)
        close((int)*fd);
    *fd = -1;
}

int bench_cpu_open(bench_cpu *c)
{
    int p[2];
    c->rfd = c->wfd = -1;
    c->start = 0;
    c->started = 0;
    if (pipe(p) != 0) {
        bench_set_error("pipe: %s", strerror(errno));
        return -1;
    }
    c->rfd = p[0];
    c->wfd = p[1];
    fcntl((int)c->rfd, F_SETFD, FD_CLOEXEC);
    return 0;
}

void bench_cpu_parent(bench_cpu *c)
{
    cpu_close_fd(&c->wfd);
}

void bench_cpu_arg(const bench_cpu *c, char *buf, size_t cap)
{
    snprintf(buf, cap, "%d", (int)c->wfd); /* inherited: not close-on-exec */
}

void bench_cpu_child(bench_cpu *c, const char *arg)
{
    c->rfd = -1;
    c->wfd = arg[0] == '-' ? -1 : atoi(arg);
    c->start = 0;
    c->started = 0;
}

void bench_cpu_start(bench_cpu *c)
{
    cpu_close_fd(&c->rfd);
    c->start = bench_cpu_self_ns();
    c->started = 1;
}

void bench_cpu_report(bench_cpu *c)
{
    if (c->wfd < 0 || !c->started)
        return;
    uint64_t ns = bench_cpu_self_ns() - c->start;
    ssize_t k = write((int)c->wfd, &ns, sizeof(ns));
    (void)k;
    cpu_close_fd(&c->wfd);
}

double bench_cpu_collect(bench_cpu *c)
{
    double sum = -1;
    uint64_t ns;
    if (c->rfd >= 0) {
        int fl = fcntl((int)c->rfd, F_GETFL);
        fcntl((int)c->rfd, F_SETFL, fl | O_NONBLOCK);
        while (read((int)c->rfd, &ns, sizeof(ns)) == (ssize_t)sizeof(ns))
            sum = (sum < 0 ? 0 : sum) + (double)ns;
    }
    bench_cpu_close(c);
    return sum;
}

void bench_cpu_close(bench_cpu *c)
{
    cpu_close_fd(&c->rfd);
    cpu_close_fd(&c->wfd);
}

double bench_cpu_of_pid(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the name may hold spaces */
    unsigned long ut, st;
    if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
                            &ut, &st) != 2)
        return -1;
    long hz = sysconf(_SC_CLK_TCK);
    return (double)(ut + st) * 1e9 / (double)(hz > 0 ? hz : 100);
}
