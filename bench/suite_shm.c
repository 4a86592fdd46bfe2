/*
 * bench shm: xipc's shm:// transport between two processes, and in the
 * same run the baselines it is judged against (raw-spin, the hardware
 * floor; raw-pipe and raw-unix, the classic kernel paths; memcpy).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "drv.h"
#include "harness.h"
#include "machine.h"
#include "suite.h"

#define SHM_SUITE_MAX_RESULTS 32
/* Two processes spinning on one cache line answer within a microsecond or
 * so; a slower median means they did not run at the same time (the machine
 * was oversubscribed), and the floor it gives is no floor. */
#define SHM_SUITE_SPIN_SANE_NS 5000.0
/* How long to sample the CPUs before the run; how much use of them by
 * other processes makes the numbers suspect. */
#define SHM_SUITE_BUSY_MS 300u
#define SHM_SUITE_OTHERS_WARN 5.0

static const bench_case shm_suite_cases[] = {
    {.drv = &bench_drv_memcpy, .rtt = 0, .size = 65536},
    {.drv = &bench_drv_raw_spin, .rtt = 1, .size = 64},
    {.drv = &bench_drv_raw_pipe, .rtt = 1, .size = 64},
    {.drv = &bench_drv_raw_unix, .rtt = 1, .size = 64},
    {.drv = &bench_drv_shm, .rtt = 1, .size = 64},
    {.drv = &bench_drv_shm_nospin, .rtt = 1, .size = 64},
    {.drv = &bench_drv_shm, .rtt = 0, .size = 64},
    {.drv = &bench_drv_shm, .rtt = 0, .size = 4096},
    {.drv = &bench_drv_shm, .rtt = 0, .size = 65536},
    {.drv = &bench_drv_shm_zc, .rtt = 0, .size = 65536},
};

#define SHM_SUITE_NCASES (sizeof(shm_suite_cases) / sizeof(shm_suite_cases[0]))

typedef struct shm_suite {
    bench_case cases[SHM_SUITE_NCASES];
    bench_result res[SHM_SUITE_MAX_RESULTS];
    size_t n;
    FILE *out;
} shm_suite;

/* ---- running the cases ---------------------------------------------------- */

static void shm_suite_add(shm_suite *s, const bench_case *k, double scale,
                          const char *unit)
{
    if (s->n == SHM_SUITE_MAX_RESULTS)
        return;
    const bench_stat *st = &k->st;
    bench_result *r = &s->res[s->n++];
    r->transport = k->drv->transport;
    r->impl = k->drv->impl;
    r->test = k->rtt ? "rtt" : "throughput";
    r->size = k->size;
    r->value = st->median * scale;
    r->unit = unit;
    r->p50 = st->p50;
    r->p99 = st->p99;
    r->spread = st->median > 0 ? (st->max - st->min) / st->median : 0;
    r->reps = st->reps;
}

/* Results in the order of the cases; failures go to stderr. */
static void shm_suite_collect(shm_suite *s)
{
    for (size_t i = 0; i < SHM_SUITE_NCASES; i++) {
        const bench_case *k = &s->cases[i];
        if (k->failed) {
            char size[32];
            bench_fmt_size(size, sizeof(size), k->size);
            fprintf(stderr, "xipc: bench: %s %s %s: %s\n", k->drv->transport,
                    k->rtt ? "rtt" : "throughput", size, k->why);
        } else if (k->rtt) {
            shm_suite_add(s, k, 1, "ns");
        } else {
            if (k->drv != &bench_drv_memcpy)
                shm_suite_add(s, k, 1, "msg/s");
            shm_suite_add(s, k, (double)k->size, "B/s");
        }
    }
}

/* ---- ratios and targets ---------------------------------------------------- */

static double shm_suite_get(const shm_suite *s, const char *transport,
                            const char *unit, size_t size)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->res[i].transport, transport) == 0 &&
            strcmp(s->res[i].unit, unit) == 0 && s->res[i].size == size)
            return s->res[i].value;
    return -1;
}

static double shm_suite_ratio(double a, double b)
{
    return a > 0 && b > 0 ? a / b : -1;
}

static void shm_suite_print_ratio(FILE *f, const char *what, double r)
{
    if (r < 0)
        fprintf(f, "  %-44s %10s\n", what, "n/a");
    else
        fprintf(f, "  %-44s %10.3f\n", what, r);
}

/* A target: @p r must be <= @p limit (at_most) or >= it; @p void_why
 * says why the comparison means nothing this time (or NULL). */
static void shm_suite_target(FILE *f, const char *what, double r, int at_most,
                             double limit, const char *void_why)
{
    const char *verdict = r < 0      ? "n/a"
                          : void_why ? void_why
                          : (at_most ? r <= limit : r >= limit) ? "met"
                                                                : "MISSED";
    fprintf(f, "  %-44s %s %-6g ratio %8.3f  %s\n", what, at_most ? "<=" : ">=",
            limit, r, verdict);
}

static void shm_suite_verdicts(const shm_suite *s, FILE *f)
{
    double spin = shm_suite_get(s, "raw-spin", "ns", 64);
    double pipe = shm_suite_get(s, "raw-pipe", "ns", 64);
    double unx = shm_suite_get(s, "raw-unix", "ns", 64);
    double shm = shm_suite_get(s, "shm", "ns", 64);
    double nospin = shm_suite_get(s, "shm-nospin", "ns", 64);
    double thr = shm_suite_get(s, "shm", "B/s", 65536);
    double zc = shm_suite_get(s, "shm-zc", "B/s", 65536);
    double mem = shm_suite_get(s, "memcpy", "B/s", 65536);
    double r_spin = shm_suite_ratio(shm, spin);
    double r_pipe = shm_suite_ratio(pipe, shm);
    double r_mem = shm_suite_ratio(thr, mem);
    fprintf(f, "\nratios (of medians):\n");
    shm_suite_print_ratio(f, "shm rtt / raw-spin rtt", r_spin);
    shm_suite_print_ratio(f, "raw-pipe rtt / shm rtt", r_pipe);
    shm_suite_print_ratio(f, "raw-unix rtt / shm rtt", shm_suite_ratio(unx, shm));
    shm_suite_print_ratio(f, "shm-nospin rtt / shm rtt", shm_suite_ratio(nospin, shm));
    shm_suite_print_ratio(f, "shm 64 KiB B/s / memcpy 64 KiB B/s", r_mem);
    shm_suite_print_ratio(f, "shm-zc 64 KiB B/s / memcpy 64 KiB B/s",
                          shm_suite_ratio(zc, mem));
    fprintf(f, "\ntargets:\n");
    shm_suite_target(f, "shm rtt / raw-spin rtt", r_spin, 1, 2,
                     spin > SHM_SUITE_SPIN_SANE_NS ? "VOID (raw-spin did not spin: "
                                                     "CPUs were busy)"
                                                   : NULL);
    shm_suite_target(f, "raw-pipe rtt / shm rtt", r_pipe, 0, 10, NULL);
    shm_suite_target(f, "shm 64 KiB B/s / memcpy B/s", r_mem, 0, 0.5, NULL);
}

int bench_suite_shm(const bench_args *a, FILE *out, FILE *json)
{
    shm_suite *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        fprintf(stderr, "xipc: bench: out of memory\n");
        return 1;
    }
    s->out = out;
    bench_plan plan;
    bench_plan_for(a, &plan);
    bench_machine m;
    bench_machine_info(&m);
    double busy = bench_machine_busy(SHM_SUITE_BUSY_MS);
    fprintf(out, "xipc bench shm: %u interleaved repetitions of ~%u ms per "
                 "measurement, median reported\ncpu: %s, %ld online, %.0f%% busy "
                 "just before the run; a %u-bit build\n\n",
            plan.reps, plan.rep_ms, m.cpu, m.ncpu, busy < 0 ? 0 : busy,
            (unsigned)(sizeof(void *) * 8));
    fflush(out);
    bench_machine_mark(&m);
    memcpy(s->cases, shm_suite_cases, sizeof(s->cases));
    char name[40];
    snprintf(name, sizeof(name), "xipc-bench.%ld", (long)getpid());
    int rc = bench_run(s->cases, SHM_SUITE_NCASES, &plan, name,
                       isatty(STDERR_FILENO) ? stderr : NULL) != 0;
    double others = bench_machine_others(&m);
    shm_suite_collect(s);
    bench_table_head(out);
    for (size_t i = 0; i < s->n; i++)
        bench_table_row(out, &s->res[i]);
    shm_suite_verdicts(s, out);
    if (others >= 0)
        fprintf(out, "\nother processes used %.1f%% of the CPUs' time during the "
                     "run\n", others);
    if (others > SHM_SUITE_OTHERS_WARN)
        fprintf(out, "note: the numbers are unreliable: spinning round trips "
                     "suffer first (two ends, one free core)\n");
    if (json != NULL && bench_json_write(json, s->res, s->n) != 0) {
        fprintf(stderr, "xipc: bench: writing %s failed\n", a->json);
        rc = 1;
    }
    free(s);
    return rc;
}
