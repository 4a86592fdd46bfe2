/* The comparison suites' common part: cases from rows, the run, the table. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/exec.h"
#include "harness/machine.h"
#include "harness/runner.h"
#include "harness/util.h"
#include "suites/compare.h"

typedef struct cmp_test {
    unsigned bit;
    int rtt;
    size_t size;
    unsigned threads;
} cmp_test;

static const cmp_test cmp_tests[] = {
    {CMP_T_RTT64, 1, 64, 0},   {CMP_T_NULL, 1, 0, 0},      {CMP_T_THR64, 0, 64, 0},
    {CMP_T_THR4K, 0, 4096, 0}, {CMP_T_THR64K, 0, 65536, 0}, {CMP_T_CALL1, 0, 0, 1},
    {CMP_T_CALL8, 0, 0, 8},
};

/* The tests of --smoke: what shows that a row runs, each in a short case. */
#define CMP_T_SMOKE (CMP_T_RTT64 | CMP_T_THR64 | CMP_T_NULL | CMP_T_CALL1)

static void cmp_suite_build(cmp_suite *s, unsigned mask)
{
    s->n = 0;
    for (size_t r = 0; r < s->nrows; r++)
        for (size_t t = 0; t < sizeof(cmp_tests) / sizeof(cmp_tests[0]); t++) {
            const cmp_row *row = &s->rows[r];
            if (!(row->tests & mask & cmp_tests[t].bit) || s->n == CMP_MAX_CASES)
                continue;
            bench_case *k = &s->cases[s->n++];
            memset(k, 0, sizeof(*k));
            k->drv = row->drv;
            k->row = row->row;
            k->transport = row->transport;
            k->rtt = cmp_tests[t].rtt;
            k->size = cmp_tests[t].size;
            k->threads = cmp_tests[t].threads;
            k->subs = row->subs;
        }
}

const bench_case *cmp_find(const bench_case *cases, size_t n, const char *row, int rtt,
                           size_t size, unsigned subs, unsigned threads)
{
    for (size_t i = 0; i < n; i++) {
        const bench_case *k = &cases[i];
        if (strcmp(k->row, row) == 0 && k->rtt == rtt && k->size == size &&
            (k->subs ? k->subs : 1) == (subs ? subs : 1) &&
            k->threads == threads)
            return k;
    }
    return NULL;
}

double cmp_value(const bench_case *cases, size_t n, const char *row, int rtt,
                 size_t size, unsigned subs, unsigned threads)
{
    const bench_case *k = cmp_find(cases, n, row, rtt, size, subs, threads);
    return k != NULL && k->state == BENCH_OK ? k->value : -1;
}

/* Share of all CPUs' time between @p a and @p b that other processes
 * used (0..1), or -1 when unknown. */
static double cmp_suite_foreign(const cmp_usage *a, const cmp_usage *b)
{
    if (a->total_s < 0 || b->total_s <= a->total_s || a->ours_s < 0 || b->ours_s < 0)
        return -1;
    double foreign = (b->busy_s - a->busy_s) - (b->ours_s - a->ours_s);
    double share = foreign / (b->total_s - a->total_s);
    return share < 0 ? 0 : share > 1 ? 1 : share;
}

int cmp_suite_run(cmp_suite *s, const bench_args *a, FILE *out)
{
    bench_plan_for(BENCH_UNTIL_STABLE, a->full, a->smoke, &s->plan);
    cmp_suite_build(s, a->smoke ? CMP_T_SMOKE : ~0u);
    char machine[256];
    cmp_machine(machine, sizeof(machine));
    s->load_before = cmp_load();
    char load[48] = ""; /* none on Windows */
    if (s->load_before >= 0)
        snprintf(load, sizeof(load), ", load average %.2f", s->load_before);
    fprintf(out, "xipc bench %s --%s: %zu measurements, each repeated (%u..%u times, "
                 "~%u ms, a new connection each) until the interquartile range of the "
                 "repetitions is within %.0f%% of their median%s; median reported. "
                 "Nothing is pinned to a CPU.\nmachine: %s%s\n\n",
            s->name, s->plan.mode, s->n, s->plan.min_reps, s->plan.max_reps,
            s->plan.rep_ms, s->plan.tol * 100,
            s->plan.budget_s ? " (or, after 3, once a minute has passed)" : "", machine,
            load);
    if (bench_emulated() != NULL)
        fprintf(out, "a 32-bit build (%s): every row is emulated: printed, marked, and "
                     "no target is judged\n\n",
                bench_emulated());
    fflush(out);
    char name[40];
    snprintf(name, sizeof(name), "xb%ld", (long)getpid());
    FILE *progress = isatty(STDERR_FILENO) ? stderr : NULL;
    cmp_usage u0, u1;
    cmp_usage_sample(&u0);
    uint64_t t0 = bench_now_ns();
    size_t failed = bench_run(s->cases, s->n, &s->plan, name, progress);
    bench_tmpdir_remove();
    s->seconds = (double)(bench_now_ns() - t0) / 1e9;
    cmp_usage_sample(&u1);
    s->foreign = cmp_suite_foreign(&u0, &u1);
    s->load_after = cmp_load();
    return failed != 0;
}

/* ---- the channel table -------------------------------------------------------------- */

static const bench_case *cmp_suite_get(const cmp_suite *s, const cmp_row *row, int rtt,
                                     size_t size)
{
    const bench_case *k = cmp_find(s->cases, s->n, row->row, rtt, size, row->subs, 0);
    return k != NULL && k->state == BENCH_OK ? k : NULL;
}

/* "1.23 us" or "1.23 us~" (not stable) or "-". */
static void cmp_cell(char *buf, size_t cap, const bench_case *k, double v, int time)
{
    char num[24];
    if (k == NULL || v < 0) {
        snprintf(buf, cap, "-");
        return;
    }
    if (time)
        cmp_fmt_ns(num, sizeof(num), v);
    else
        cmp_fmt_rate(num, sizeof(num), v, "");
    snprintf(buf, cap, "%s%s", num, k->stable ? "" : "~");
}

void cmp_table_channels(const cmp_suite *s, FILE *out)
{
    fprintf(out, "%-15s %-4s %10s %10s %9s %10s %10s %9s  %-4s %-5s %-8s %-6s %s\n",
            "mechanism", "impl", "rtt 64 B", "rtt p99", "64 B", "4 KiB", "64 KiB",
            "CPU/msg", "net", "32/64", "reliable", "bounds", "readers");
    fprintf(out, "%-15s %-4s %10s %10s %9s %10s %10s %9s\n", "", "", "median", "",
            "msg/s", "B/s", "B/s", "64 B");
    for (size_t r = 0; r < s->nrows; r++) {
        const cmp_row *row = &s->rows[r];
        if (!(row->tests & CMP_T_CHANNEL))
            continue;
        const bench_case *rt = cmp_suite_get(s, row, 1, 64);
        const bench_case *t64 = cmp_suite_get(s, row, 0, 64);
        const bench_case *t4 = cmp_suite_get(s, row, 0, 4096);
        const bench_case *t64k = cmp_suite_get(s, row, 0, 65536);
        char c[7][32];
        cmp_cell(c[0], sizeof(c[0]), rt, rt ? rt->value : -1, 1);
        snprintf(c[1], sizeof(c[1]), "-");
        if (rt != NULL)
            cmp_fmt_ns(c[1], sizeof(c[1]), rt->p99);
        cmp_cell(c[2], sizeof(c[2]), t64, t64 ? t64->value : -1, 0);
        cmp_cell(c[3], sizeof(c[3]), t4, t4 ? t4->value * 4096 : -1, 0);
        cmp_cell(c[4], sizeof(c[4]), t64k, t64k ? t64k->value * 65536 : -1, 0);
        const bench_case *cpu = t64 != NULL && t64->cpu_ns >= 0 ? t64 : NULL;
        snprintf(c[5], sizeof(c[5]), "-");
        if (cpu != NULL)
            cmp_fmt_ns(c[5], sizeof(c[5]), cpu->cpu_ns);
        fprintf(out, "%-15s %-4s %10s %10s %9s %10s %10s %9s  %-4s %-5s %-8s %-6s %s%s\n",
                row->row, row->drv->impl, c[0], c[1], c[2], c[3], c[4], c[5],
                row->props.net, row->props.bits, row->props.reliable, row->props.bounds,
                row->props.readers, bench_emulated() ? "  emulated" : "");
    }
}

void cmp_suite_notes(const cmp_suite *s, FILE *out)
{
    int unstable = 0, lossy = 0;
    for (size_t i = 0; i < s->n; i++) {
        unstable += s->cases[i].state == BENCH_OK && !s->cases[i].stable;
        lossy += s->cases[i].state == BENCH_OK && s->cases[i].lost > 0;
    }
    fputc('\n', out);
    if (unstable)
        fprintf(out, "~ not stable: the interquartile range of %u repetitions stayed "
                     "above %.0f%% of the median (%d of %zu measurements).\n",
                s->plan.max_reps, s->plan.tol * 100, unstable, s->n);
    for (size_t i = 0; lossy && i < s->n; i++) {
        const bench_case *k = &s->cases[i];
        if (k->state != BENCH_OK || k->lost <= 0)
            continue;
        char size[32];
        bench_fmt_size(size, sizeof(size), k->size);
        fprintf(out, "lossy: %s throughput %s%s%.0u%s: %.1f%% of the messages sent never "
                     "arrived (the rate counts the delivered ones)\n",
                k->row, size, k->subs > 1 ? ", " : "", k->subs > 1 ? k->subs : 0,
                k->subs > 1 ? " subscribers" : "", k->lost * 100);
    }
    cmp_report_missing(out, s->cases, s->n);
    char foreign[32] = "an unknown share";
    if (s->foreign >= 0)
        snprintf(foreign, sizeof(foreign), "%.0f%%", s->foreign * 100);
    char load[64] = ""; /* none on Windows */
    if (s->load_before >= 0 && s->load_after >= 0)
        snprintf(load, sizeof(load), "; load average %.2f before, %.2f after", s->load_before,
                 s->load_after);
    fprintf(out, "run: %.0f s; other processes used %s of the CPUs meanwhile%s.\n",
            s->seconds, foreign, load);
    if (s->foreign > 0.1 || s->load_after >= 1.5)
        fprintf(out, "note: the machine was busy: spinning round trips suffer first "
                     "(the two ends compete for a core with other work).\n");
}

int cmp_suite_outputs(const cmp_suite *s, const bench_args *a, FILE *json)
{
    int rc = 0;
    if (json != NULL && cmp_json_write(json, s->cases, s->n) != 0) {
        fprintf(stderr, "xipc: bench: writing %s failed\n", a->json);
        rc = 1;
    }
    if (a->plot != NULL && cmp_plot(s, a->plot) != 0) {
        fprintf(stderr, "xipc: bench: --plot %s: %s\n", a->plot, bench_error());
        rc = 1;
    }
    return rc;
}

int cmp_suite_main(const char *name, const cmp_row *rows, size_t nrows,
                   const cmp_report *r, const bench_args *a, FILE *out, FILE *json)
{
    cmp_suite *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        fprintf(stderr, "xipc: bench: out of memory\n");
        return 1;
    }
    s->name = name;
    s->rows = rows;
    s->nrows = nrows;
    int rc = cmp_suite_run(s, a, out);
    r->table(s, out);
    if (r->legend != NULL)
        fputs(r->legend, out);
    cmp_suite_notes(s, out);
    r->targets(s, out);
    rc |= cmp_suite_outputs(s, a, json);
    free(s);
    return rc;
}
