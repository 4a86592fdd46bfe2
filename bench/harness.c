/* The timing harness: clock, repetitions, medians, table and JSON. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/platform.h" /* the clock */

#include "harness.h"

#define HARNESS_MAX_ITERS 1000000000ull
#define HARNESS_CHUNKS 16 /* a repetition is timed in this many chunks */
#define HARNESS_CHECK 128 /* iterations between two looks at the clock */

static char harness_err[256];

uint64_t bench_now_ns(void)
{
    return xipc_plat_now_ns();
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

int bench_close_failed(int (*close_fn)(bench_conn *c), bench_conn *c)
{
    char why[sizeof(harness_err)];
    snprintf(why, sizeof(why), "%s", harness_err);
    close_fn(c);
    bench_set_error("%s", why);
    return -1;
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

/* The @p pct percentile of @p n sorted samples (nearest rank). */
static double harness_rank(const uint32_t *v, size_t n, unsigned pct)
{
    size_t k = (n * pct + 99) / 100; /* ceil(n pct / 100), 1-based */
    return v[k > 0 ? k - 1 : 0];
}

double bench_median(double *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), harness_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- measuring ------------------------------------------------------------ */

/*
 * Run @p iters iterations, or fewer when @p deadline (monotonic ns) passes
 * first (checked every HARNESS_CHECK iterations). How many ran goes to
 * @p done, their wall time to @p ns.
 */
static int harness_run(const bench_case *k, bench_conn *c, uint64_t iters,
                       uint64_t deadline, uint64_t *done, uint64_t *ns)
{
    int (*op)(bench_conn *) = k->rtt ? k->drv->rtt : k->drv->put;
    uint64_t t0 = bench_now_ns(), i = 0;
    while (i < iters) {
        if (op(c) != 0)
            return -1;
        if (++i % HARNESS_CHECK == 0 && bench_now_ns() >= deadline)
            break;
    }
    if (!k->rtt && k->drv->sync(c) != 0)
        return -1;
    *done = i;
    *ns = bench_now_ns() - t0;
    if (*ns == 0)
        *ns = 1;
    return 0;
}

static uint64_t harness_after_ms(uint64_t ms)
{
    return bench_now_ns() + ms * 1000000u;
}

/* The rate of @p iters iterations taking @p ns: ns per round trip, or
 * messages per second. */
static double harness_value(const bench_case *k, uint64_t iters, uint64_t ns)
{
    return k->rtt ? (double)ns / (double)iters : (double)iters * 1e9 / (double)ns;
}

/*
 * One repetition of k->iters iterations, timed in HARNESS_CHUNKS chunks
 * whose median is the repetition's value: a burst of foreign work spoils
 * a chunk or two, not the repetition. When the machine has slowed down
 * since the calibration, the repetition stops after twice its planned
 * time, to keep the run bounded.
 */
static int harness_rep(const bench_case *k, bench_conn *c, const bench_plan *plan,
                       double *value)
{
    double v[HARNESS_CHUNKS];
    uint64_t n = k->iters / HARNESS_CHUNKS + 1, done, ns;
    uint64_t deadline = harness_after_ms(2 * (uint64_t)plan->rep_ms);
    int i = 0;
    do {
        if (harness_run(k, c, n, deadline, &done, &ns) != 0)
            return -1;
        v[i++] = harness_value(k, done, ns);
    } while (i < HARNESS_CHUNKS && bench_now_ns() < deadline);
    *value = bench_median(v, (size_t)i);
    return 0;
}

/* Find how many iterations take about plan->rep_ms (this warms up too). */
static int harness_calibrate(bench_case *k, bench_conn *c, const bench_plan *plan)
{
    uint64_t want = (uint64_t)plan->rep_ms * 1000000u;
    uint64_t deadline = harness_after_ms(2 * (uint64_t)plan->rep_ms);
    uint64_t n = 1, done = 0, ns = 0;
    for (;;) {
        if (harness_run(k, c, n, deadline, &done, &ns) != 0)
            return -1;
        if (ns >= want / 4 || done < n || n >= HARNESS_MAX_ITERS)
            break;
        n *= ns < want / 40 ? 10 : 2;
    }
    double per = (double)ns / (double)done;
    double iters = (double)want / per;
    k->iters = iters < 1 ? 1 : iters > (double)HARNESS_MAX_ITERS ? HARNESS_MAX_ITERS
                                                                 : (uint64_t)iters;
    return 0;
}

/* Time up to @p n round trips one by one into k->lap, for at most @p ms. */
static int harness_laps(bench_case *k, bench_conn *c, size_t n, unsigned ms)
{
    uint64_t prev = bench_now_ns(), end = prev + (uint64_t)ms * 1000000u;
    for (size_t i = 0; i < n && prev < end; i++) {
        if (k->drv->rtt(c) != 0)
            return -1;
        uint64_t t = bench_now_ns();
        k->lap[k->nlap++] = t - prev > UINT32_MAX ? UINT32_MAX : (uint32_t)(t - prev);
        prev = t;
    }
    return 0;
}

/* Open a fresh connection for @p k (unique name per call). */
static int harness_open(bench_case *k, bench_conn **c, const char *name)
{
    static unsigned seq;
    bench_cfg cfg = {.size = k->size, .rtt = k->rtt};
    snprintf(cfg.name, sizeof(cfg.name), "%.40s.%u", name, seq++);
    return k->drv->open(c, &cfg);
}

/* Close, keeping the first error's text. */
static int harness_close(bench_case *k, bench_conn *c, int rc)
{
    char why[sizeof(k->why)] = "";
    if (rc != 0)
        snprintf(why, sizeof(why), "%s", bench_error());
    if (k->drv->close(c) != 0 && rc == 0)
        return -1; /* the peer failed: what it measured is void */
    if (rc != 0)
        bench_set_error("%s", why);
    return rc;
}

static void harness_fail(bench_case *k)
{
    k->failed = 1;
    snprintf(k->why, sizeof(k->why), "%s", bench_error());
}

/* Round 0: a connection, a calibration, room for the samples. */
static void harness_prepare(bench_case *k, const bench_plan *plan, const char *name)
{
    bench_conn *c;
    k->failed = 0;
    k->nlap = 0;
    k->rep = calloc(plan->reps, sizeof(*k->rep));
    k->lap = k->rtt ? calloc(plan->lap_max + 1, sizeof(*k->lap)) : NULL;
    if (k->rep == NULL || (k->rtt && k->lap == NULL)) {
        bench_set_error("out of memory");
        harness_fail(k);
        return;
    }
    if (harness_open(k, &c, name) != 0 ||
        harness_close(k, c, harness_calibrate(k, c, plan)) != 0)
        harness_fail(k);
}

/* One round: warm up, one timed repetition, a share of single laps. */
static void harness_round(bench_case *k, const bench_plan *plan, unsigned r,
                          const char *name)
{
    bench_conn *c;
    uint64_t done, ns;
    if (harness_open(k, &c, name) != 0) {
        harness_fail(k);
        return;
    }
    int rc = harness_run(k, c, k->iters / 10 + 1, harness_after_ms(plan->rep_ms / 5),
                         &done, &ns);
    if (rc == 0)
        rc = harness_rep(k, c, plan, &k->rep[r]);
    if (rc == 0 && k->rtt) {
        size_t share = plan->lap_max / plan->reps, half = (size_t)(k->iters / 2) + 1;
        rc = harness_laps(k, c, share < half ? share : half, plan->rep_ms / 2);
    }
    if (harness_close(k, c, rc) != 0)
        harness_fail(k);
}

static void harness_finish(bench_case *k, const bench_plan *plan)
{
    bench_stat *st = &k->st;
    memset(st, 0, sizeof(*st));
    st->p50 = st->p99 = -1;
    if (!k->failed) {
        st->median = bench_median(k->rep, plan->reps);
        st->min = k->rep[0];
        st->max = k->rep[plan->reps - 1];
        st->iters = k->iters;
        st->reps = plan->reps;
        if (k->nlap > 0) {
            qsort(k->lap, k->nlap, sizeof(*k->lap), harness_cmp_u32);
            st->p50 = harness_rank(k->lap, k->nlap, 50);
            st->p99 = harness_rank(k->lap, k->nlap, 99);
        }
    }
    free(k->rep);
    free(k->lap);
    k->rep = NULL;
    k->lap = NULL;
}

static void harness_progress(FILE *f, const char *what, unsigned i, unsigned n)
{
    if (f != NULL) {
        fprintf(f, "\r%s %u/%u ", what, i, n);
        fflush(f);
    }
}

size_t bench_run(bench_case *cases, size_t n, const bench_plan *plan,
                 const char *name, FILE *progress)
{
    for (size_t i = 0; i < n; i++) {
        harness_progress(progress, "calibrating", (unsigned)i + 1, (unsigned)n);
        harness_prepare(&cases[i], plan, name);
    }
    for (unsigned r = 0; r < plan->reps; r++) {
        harness_progress(progress, "round      ", r + 1, plan->reps);
        for (size_t i = 0; i < n; i++)
            if (!cases[i].failed)
                harness_round(&cases[i], plan, r, name);
    }
    if (progress != NULL)
        fprintf(progress, "\r%24s\r", "");
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        harness_finish(&cases[i], plan);
        failed += cases[i].failed;
    }
    return failed;
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
    fprintf(f, "%-10s %-4s %-10s %6s %8s %-6s %6s %-2s %6s %-2s %5.1f%% %4u%s\n",
            r->transport, r->impl, r->test, size, num, unit, p50, p50u, p99, p99u,
            r->spread * 100, r->reps, r->emulated ? "  emulated" : "");
}

/* ---- JSON ------------------------------------------------------------------- */

void bench_json_str(FILE *f, const char *s)
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
    bench_json_str(f, key);
    fputs(": ", f);
    bench_json_str(f, val);
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
        fprintf(f, ", \"spread\": %.4f, \"reps\": %u", r[i].spread, r[i].reps);
        if (r[i].emulated != NULL) {
            fputs(", ", f);
            harness_json_field(f, "emulated", r[i].emulated);
        }
        fprintf(f, "}%s\n", i + 1 < n ? "," : "");
    }
    fputs("]\n", f);
    return ferror(f) ? -1 : 0;
}
