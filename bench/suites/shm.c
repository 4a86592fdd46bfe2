/*
 * bench shm: xipc's shm:// transport between two processes, and in the
 * same run the baselines it is judged against (raw-spin, the hardware
 * floor; raw-pipe and raw-unix, the classic kernel paths; memcpy). With
 * --peer32, also shm:// against the m32 build's xipc (shm-xbit).
 *
 * Emulation (scripts/run32): when this process, or the --peer32 one, runs
 * under qemu-i386, the header says so, its rows end in "emulated", and no
 * target is judged on them; they are still printed.
 *
 * POSIX only so far: the raw baselines' peers are forked functions
 * (posix/raw.c); on Windows the suite says it is not available.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "drivers/drivers.h"
#include "harness/drv.h"
#include "harness/exec.h"
#include "harness/machine.h"
#include "harness/output.h"
#include "harness/peer.h"
#include "harness/runner.h"
#include "suites/suite.h"

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
    {.drv = &bench_drv_raw_spin, .rtt = 0, .size = 65536},
    {.drv = &bench_drv_raw_pipe, .rtt = 1, .size = 64},
    {.drv = &bench_drv_raw_unix, .rtt = 1, .size = 64},
    {.drv = &bench_drv_x_shm, .rtt = 1, .size = 64},
    {.drv = &bench_drv_x_shm_nospin, .rtt = 1, .size = 64},
    {.drv = &bench_drv_x_shm, .rtt = 0, .size = 64},
    {.drv = &bench_drv_x_shm, .rtt = 0, .size = 4096},
    {.drv = &bench_drv_x_shm, .rtt = 0, .size = 65536},
    {.drv = &bench_drv_x_shm_zc, .rtt = 0, .size = 65536},
};

/* With --peer32: the same shm:// against a peer of the other bitness. */
static const bench_case shm_suite_xbit_cases[] = {
    {.drv = &bench_drv_x_shm_xbit, .rtt = 1, .size = 64},
    {.drv = &bench_drv_x_shm_xbit, .rtt = 0, .size = 65536},
};

#define SHM_SUITE_NBASE (sizeof(shm_suite_cases) / sizeof(shm_suite_cases[0]))
#define SHM_SUITE_NXBIT (sizeof(shm_suite_xbit_cases) / sizeof(shm_suite_xbit_cases[0]))

typedef struct shm_suite {
    bench_case cases[SHM_SUITE_NBASE + SHM_SUITE_NXBIT];
    size_t ncases;
    bench_result res[SHM_SUITE_MAX_RESULTS];
    size_t n;
    FILE *out;
    const char *self_emu;  /* this process under qemu-i386, or NULL */
    char peer_emu[256];    /* the --peer32 process: "" or "qemu-i386: WHY" */
} shm_suite;

/* ---- running the cases ---------------------------------------------------- */

static void shm_suite_add(shm_suite *s, const bench_case *k, double scale,
                          const char *unit)
{
    if (s->n == SHM_SUITE_MAX_RESULTS)
        return;
    bench_result *r = &s->res[s->n++];
    r->transport = k->drv->transport;
    r->impl = k->drv->impl;
    r->test = k->rtt ? "rtt" : "throughput";
    r->size = k->size;
    r->value = k->value * scale;
    r->unit = unit;
    r->p50 = k->p50;
    r->p99 = k->p99;
    r->spread = k->spread;
    r->reps = k->reps;
    r->emulated = s->self_emu;
    if (r->emulated == NULL && k->drv == &bench_drv_x_shm_xbit && s->peer_emu[0] != '\0')
        r->emulated = s->peer_emu;
}

/* Results in the order of the cases; failures go to stderr. */
static void shm_suite_collect(shm_suite *s)
{
    for (size_t i = 0; i < s->ncases; i++) {
        const bench_case *k = &s->cases[i];
        if (k->state != BENCH_OK) {
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

/* @p note: NULL, or why the ratio is no figure about the mechanism */
static void shm_suite_print_ratio(FILE *f, const char *what, double r, const char *note)
{
    if (r < 0)
        fprintf(f, "  %-44s %10s\n", what, "n/a");
    else
        fprintf(f, "  %-44s %10.3f%s%s\n", what, r, note ? "  " : "", note ? note : "");
}

/* A target: @p r must be <= @p limit (at_most) or >= it; @p void_why
 * says why the comparison means nothing this time (or NULL). */
static void shm_suite_target(FILE *f, const char *what, double r, int at_most,
                             double limit, const char *void_why)
{
    /* a miss the printed ratio rounds away is said to be one */
    double off = r > limit ? r - limit : limit - r;
    const char *verdict = r < 0      ? "n/a"
                          : void_why ? void_why
                          : (at_most ? r <= limit : r >= limit) ? "met"
                          : off < 0.0005                        ? "MISSED by < 0.0005"
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
    double spin_thr = shm_suite_get(s, "raw-spin", "B/s", 65536);
    double r_spin = shm_suite_ratio(shm, spin);
    double r_pipe = shm_suite_ratio(pipe, shm);
    double r_mem = shm_suite_ratio(thr, mem);
    /* every row emulated: ratios between them still hold, targets do not */
    char emu[300] = "";
    if (s->self_emu != NULL)
        snprintf(emu, sizeof(emu), "not judged: emulated (%s)", s->self_emu);
    fprintf(f, "\nratios (of medians):\n");
    shm_suite_print_ratio(f, "shm rtt / raw-spin rtt", r_spin, NULL);
    shm_suite_print_ratio(f, "raw-pipe rtt / shm rtt", r_pipe, NULL);
    shm_suite_print_ratio(f, "raw-unix rtt / shm rtt", shm_suite_ratio(unx, shm), NULL);
    shm_suite_print_ratio(f, "shm-nospin rtt / shm rtt", shm_suite_ratio(nospin, shm), NULL);
    shm_suite_print_ratio(f, "shm 64 KiB B/s / memcpy 64 KiB B/s", r_mem, NULL);
    shm_suite_print_ratio(f, "shm-zc 64 KiB B/s / memcpy 64 KiB B/s",
                          shm_suite_ratio(zc, mem), NULL);
    shm_suite_print_ratio(f, "raw-spin 64 KiB B/s / memcpy 64 KiB B/s",
                          shm_suite_ratio(spin_thr, mem), NULL);
    shm_suite_print_ratio(f, "shm 64 KiB B/s / raw-spin 64 KiB B/s",
                          shm_suite_ratio(thr, spin_thr), NULL);
    shm_suite_print_ratio(f, "shm-zc 64 KiB B/s / shm 64 KiB B/s", shm_suite_ratio(zc, thr),
                          NULL);
    if (s->ncases > SHM_SUITE_NBASE) {
        /* what crossing the bitness costs; an emulated peer says nothing */
        const char *note = s->self_emu == NULL && s->peer_emu[0] != '\0'
                               ? "(a peer under qemu-i386: not judged)"
                               : NULL;
        shm_suite_print_ratio(f, "shm-xbit rtt / shm rtt",
                              shm_suite_ratio(shm_suite_get(s, "shm-xbit", "ns", 64), shm),
                              note);
        shm_suite_print_ratio(
            f, "shm-xbit 64 KiB B/s / shm 64 KiB B/s",
            shm_suite_ratio(shm_suite_get(s, "shm-xbit", "B/s", 65536), thr), note);
    }
    fprintf(f, "\ntargets:\n");
    shm_suite_target(f, "shm rtt / raw-spin rtt", r_spin, 1, 1.5,
                     emu[0]                          ? emu
                     : spin > SHM_SUITE_SPIN_SANE_NS ? "VOID (raw-spin did not spin: "
                                                       "CPUs were busy)"
                                                     : NULL);
    shm_suite_target(f, "raw-pipe rtt / shm rtt", r_pipe, 0, 10, emu[0] ? emu : NULL);
    shm_suite_target(f, "shm 64 KiB B/s / memcpy B/s", r_mem, 0, 0.6, emu[0] ? emu : NULL);
    shm_suite_target(f, "shm-zc 64 KiB B/s / shm 64 KiB B/s", shm_suite_ratio(zc, thr), 0, 1,
                     emu[0] ? emu : NULL);
}

int bench_suite_shm(const bench_args *a, FILE *out, FILE *json)
{
    if (!bench_peer_forks()) { /* the raw baselines are forked functions */
        fprintf(stderr, "xipc: bench: shm: not available here (POSIX only so far: its "
                        "peers need fork); `xipc bench all` runs here\n");
        return 1;
    }
    shm_suite *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        fprintf(stderr, "xipc: bench: out of memory\n");
        return 1;
    }
    s->out = out;
    bench_plan plan;
    bench_plan_for(BENCH_FIXED, a->full, a->smoke, &plan);
    memcpy(s->cases, shm_suite_cases, sizeof(shm_suite_cases));
    s->ncases = SHM_SUITE_NBASE;
    s->self_emu = bench_emulated();
    if (a->peer32 != NULL) {
        if (bench_run32_how(a->peer32, s->peer_emu, sizeof(s->peer_emu)) != 0) {
            fprintf(stderr, "xipc: bench: --peer32 %s: %s\n", a->peer32, bench_error());
            free(s);
            return 1;
        }
        bench_drv_x_shm_xbit_peer(a->peer32);
        memcpy(s->cases + s->ncases, shm_suite_xbit_cases, sizeof(shm_suite_xbit_cases));
        s->ncases += SHM_SUITE_NXBIT;
    }
    bench_machine m;
    bench_machine_info(&m);
    double busy = bench_machine_busy(SHM_SUITE_BUSY_MS);
    fprintf(out, "xipc bench shm: %u interleaved repetitions of ~%u ms per "
                 "measurement, median reported\ncpu: %s, %ld online, %.0f%% busy "
                 "just before the run; a %u-bit build%s%s%s\n",
            plan.max_reps, plan.rep_ms, m.cpu, m.ncpu, busy < 0 ? 0 : busy,
            (unsigned)(sizeof(void *) * 8), s->self_emu ? " (" : "",
            s->self_emu ? s->self_emu : "", s->self_emu ? ")" : "");
    if (s->self_emu != NULL)
        fprintf(out, "every row is emulated: printed, marked, and no target is judged\n");
    if (a->peer32 != NULL)
        fprintf(out, "shm-xbit: the peer is %s%s%s%s\n", a->peer32,
                s->peer_emu[0] ? " (" : "", s->peer_emu, s->peer_emu[0] ? ")" : "");
    fputc('\n', out);
    fflush(out);
    bench_machine_mark(&m);
    char name[40];
    snprintf(name, sizeof(name), "xipc-bench.%ld", (long)getpid());
    int rc = bench_run(s->cases, s->ncases, &plan, name,
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
