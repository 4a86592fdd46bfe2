/* The timing harness: clock, repetitions, medians, table and JSON. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

#define HARNESS_MAX_ITERS 1000000000ull

static char harness_err[256];

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bench_set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(harness_err, sizeof(harness_err), fmt, ap);
    va_end(ap);
}

const char *bench_error(void)
{
    return harness_err;
}

/* ---- statistics ----------------------------------------------------------- */

static int harness_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int harness_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), harness_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- measuring ------------------------------------------------------------ */

/* Run @p iters iterations; their wall time goes to @p ns. */
static int harness_run(const bench_drv *d, bench_conn *c, int rtt,
                       uint64_t iters, uint64_t *ns)
{
    int (*op)(bench_conn *) = rtt ? d->rtt : d->put;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++)
        if (op(c) != 0)
            return -1;
    if (!rtt && d->sync(c) != 0)
        return -1;
    *ns = bench_now_ns() - t0;
    if (*ns == 0)
        *ns = 1;
    return 0;
}

/* Find how many iterations take about plan->rep_ms (this warms up too). */
static int harness_calibrate(const bench_drv *d, bench_conn *c, int rtt,
                             const bench_plan *plan, uint64_t *iters)
{
    uint64_t want = (uint64_t)plan->rep_ms * 1000000u;
    uint64_t n = 1, ns = 0;
    for (;;) {
        if (harness_run(d, c, rtt, n, &ns) != 0)
            return -1;
        if (ns >= want / 4 || n >= HARNESS_MAX_ITERS)
            break;
        n *= ns < want / 40 ? 10 : 2;
    }
    double per = (double)ns / (double)n;
    double k = (double)want / per;
    *iters = k < 1 ? 1 : k > (double)HARNESS_MAX_ITERS ? HARNESS_MAX_ITERS : (uint64_t)k;
    return 0;
}

/* The @p pct percentile of @p n sorted samples (nearest rank). */
static double harness_rank(const uint32_t *v, size_t n, unsigned pct)
{
    size_t k = (n * pct + 99) / 100; /* ceil(n pct / 100), 1-based */
    return v[k > 0 ? k - 1 : 0];
}

/* One pass timing each round trip alone: p50 and p99 in ns. */
static int harness_laps(const bench_drv *d, bench_conn *c, uint64_t iters,
                        unsigned lap_max, bench_stat *st)
{
    size_t n = iters < lap_max ? (size_t)iters : lap_max;
    uint32_t *lap = malloc(n * sizeof(*lap));
    if (lap == NULL) {
        bench_set_error("out of memory");
        return -1;
    }
    uint64_t prev = bench_now_ns();
    for (size_t i = 0; i < n; i++) {
        if (d->rtt(c) != 0) {
            free(lap);
            return -1;
        }
        uint64_t t = bench_now_ns();
        lap[i] = t - prev > UINT32_MAX ? UINT32_MAX : (uint32_t)(t - prev);
        prev = t;
    }
    qsort(lap, n, sizeof(*lap), harness_cmp_u32);
    st->p50 = harness_rank(lap, n, 50);
    st->p99 = harness_rank(lap, n, 99);
    free(lap);
    return 0;
}

int bench_measure(const bench_drv *d, bench_conn *c, int rtt,
                  const bench_plan *plan, bench_stat *st)
{
    memset(st, 0, sizeof(*st));
    st->p50 = st->p99 = -1;
    uint64_t iters;
    if (harness_calibrate(d, c, rtt, plan, &iters) != 0)
        return -1;
    double *v = malloc(plan->reps * sizeof(*v));
    if (v == NULL) {
        bench_set_error("out of memory");
        return -1;
    }
    for (unsigned r = 0; r < plan->reps; r++) {
        uint64_t ns;
        if (harness_run(d, c, rtt, iters, &ns) != 0) {
            free(v);
            return -1;
        }
        v[r] = rtt ? (double)ns / (double)iters : (double)iters * 1e9 / (double)ns;
    }
    st->median = bench_median(v, plan->reps);
    st->min = v[0];
    st->max = v[plan->reps - 1];
    st->iters = iters;
    st->reps = plan->reps;
    free(v);
    if (rtt && plan->lap_max > 0)
        return harness_laps(d, c, iters, plan->lap_max, st);
    return 0;
}

/* ---- table ------------------------------------------------------------------ */

void bench_fmt_size(char *buf, size_t cap, size_t size)
{
    if (size >= 1024 && size % 1024 == 0)
        snprintf(buf, cap, "%zu KiB", size / 1024);
    else
        snprintf(buf, cap, "%zu B", size);
}

/* "412.3" + "ns", "98.21" + "us", "12.35" + "GB/s": 4 significant digits. */
static void harness_fmt_value(char *num, size_t ncap, char *unit, size_t ucap,
                              double v, const char *base)
{
    static const char *const time_units[] = {"ns", "us", "ms", "s"};
    static const char *const rate_prefix[] = {"", "k", "M", "G", "T"};
    int i = 0;
    if (strcmp(base, "ns") == 0) {
        for (; v >= 1000 && i < 3; i++)
            v /= 1000;
        snprintf(unit, ucap, "%s", time_units[i]);
    } else {
        for (; v >= 1000 && i < 4; i++)
            v /= 1000;
        snprintf(unit, ucap, "%s%s", rate_prefix[i], base);
    }
    snprintf(num, ncap, "%.4g", v);
}

void bench_table_head(FILE *f)
{
    fprintf(f, "%-10s %-4s %-10s %6s %8s %-6s %6s %-2s %6s %-2s %6s %4s\n",
            "transport", "impl", "test", "size", "median", "unit", "p50", "",
            "p99", "", "spread", "reps");
}

void bench_table_row(FILE *f, const bench_result *r)
{
    char size[32], num[32], unit[16];
    char p50[32] = "-", p50u[16] = "", p99[32] = "-", p99u[16] = "";
    bench_fmt_size(size, sizeof(size), r->size);
    harness_fmt_value(num, sizeof(num), unit, sizeof(unit), r->value, r->unit);
    if (r->p50 >= 0)
        harness_fmt_value(p50, sizeof(p50), p50u, sizeof(p50u), r->p50, r->unit);
    if (r->p99 >= 0)
        harness_fmt_value(p99, sizeof(p99), p99u, sizeof(p99u), r->p99, r->unit);
    fprintf(f, "%-10s %-4s %-10s %6s %8s %-6s %6s %-2s %6s %-2s %5.1f%% %4u\n",
            r->transport, r->impl, r->test, size, num, unit, p50, p50u, p99, p99u,
            r->spread * 100, r->reps);
}

/* ---- JSON ------------------------------------------------------------------- */

static void harness_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void harness_json_field(FILE *f, const char *key, const char *val)
{
    harness_json_str(f, key);
    fputs(": ", f);
    harness_json_str(f, val);
}

int bench_json_write(FILE *f, const bench_result *r, size_t n)
{
    fputs("[\n", f);
    for (size_t i = 0; i < n; i++) {
        fputs("  {", f);
        harness_json_field(f, "transport", r[i].transport);
        fputs(", ", f);
        harness_json_field(f, "impl", r[i].impl);
        fputs(", ", f);
        harness_json_field(f, "test", r[i].test);
        fprintf(f, ", \"size\": %zu, \"value\": %.10g, ", r[i].size, r[i].value);
        harness_json_field(f, "unit", r[i].unit);
        if (r[i].p50 >= 0)
            fprintf(f, ", \"p50\": %.10g", r[i].p50);
        if (r[i].p99 >= 0)
            fprintf(f, ", \"p99\": %.10g", r[i].p99);
        fprintf(f, ", \"spread\": %.4f, \"reps\": %u}%s\n", r[i].spread, r[i].reps,
                i + 1 < n ? "," : "");
    }
    fputs("]\n", f);
    return ferror(f) ? -1 : 0;
}
