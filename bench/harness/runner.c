/* The runner: plans, connections, repetitions, statistics (runner.h). */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/platform.h" /* the clock, threads on every OS */

#include "harness/cpu.h"
#include "harness/output.h"
#include "harness/runner.h"
#include "harness/util.h"

#define RUNNER_NEVER UINT64_MAX /* a deadline that never comes */
#define RUNNER_MAX_THREADS 64

static char runner_err[256];

uint64_t bench_now_ns(void)
{
    return xipc_plat_now_ns();
}

void bench_set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(runner_err, sizeof(runner_err), fmt, ap);
    va_end(ap);
}

const char *bench_error(void)
{
    return runner_err;
}

int bench_close_failed(int (*close_fn)(bench_conn *c), bench_conn *c)
{
    char why[sizeof(runner_err)];
    snprintf(why, sizeof(why), "%s", runner_err);
    close_fn(c);
    bench_set_error("%s", why);
    return -1;
}

void bench_plan_for(bench_schedule schedule, int full, int smoke, bench_plan *plan)
{
    memset(plan, 0, sizeof(*plan));
    plan->schedule = schedule;
    plan->mode = full ? "full" : smoke ? "smoke" : "quick";
    if (schedule == BENCH_FIXED) {
        plan->min_reps = plan->max_reps = full ? 11 : smoke ? 1 : 9;
        plan->rep_ms = full ? 300 : smoke ? 10 : 100;
        /* 1 000 000, 100 or 200 000 single round trips in all */
        plan->laps = (full ? 1000000 : smoke ? 100 : 200000) / plan->max_reps;
        plan->check = 128;
        plan->max_iters = 1000000000ull;
        return;
    }
    plan->min_reps = full ? 9 : smoke ? 1 : 5;
    plan->max_reps = full ? 25 : smoke ? 1 : 9;
    plan->rep_ms = full ? 250 : smoke ? 50 : 25; /* smoke: a few RPC calls under wine */
    plan->laps = full ? 5000 : smoke ? 50 : 500;
    plan->tol = full ? 0.05 : 0.10;
    plan->budget_s = full || smoke ? 0 : 60;
    plan->check = 64;
    plan->max_iters = 100000000ull;
}

/* ---- one connection ---------------------------------------------------------- */

typedef struct runner_conn {
    bench_case *k;
    const bench_plan *plan;
    bench_conn *c;
    double peer_cpu;
    uint64_t msgs; /* operations done on this connection */
} runner_conn;

/* Open a fresh connection for @p k (a unique name per call). */
static int runner_open(runner_conn *cc, bench_case *k, const bench_plan *plan,
                       const char *name)
{
    static unsigned seq;
    bench_cfg cfg = {.size = k->size, .rtt = k->rtt, .subs = k->subs,
                     .threads = k->threads, .peer_cpu_ns = &cc->peer_cpu};
    snprintf(cfg.name, sizeof(cfg.name), "%.40s.%u", name, seq++);
    cc->k = k;
    cc->plan = plan;
    cc->c = NULL;
    cc->peer_cpu = -1;
    cc->msgs = 0;
    return k->drv->open(&cc->c, &cfg);
}

/* Close after what returned @p rc, keeping the first error's text.
 * @return 0, or -1 (the peer failed: what it measured is void) */
static int runner_close(runner_conn *cc, int rc)
{
    char why[sizeof(runner_err)] = "";
    if (rc != 0)
        snprintf(why, sizeof(why), "%s", bench_error());
    if (cc->k->drv->close(cc->c) != 0 && rc == 0)
        return -1;
    if (rc != 0)
        bench_set_error("%s", why);
    return rc;
}

static uint64_t runner_after_ms(uint64_t ms)
{
    return bench_now_ns() + ms * 1000000u;
}

/*
 * Up to @p n operations (and a sync for streams), fewer when @p deadline
 * (monotonic ns, or RUNNER_NEVER) passes first: the clock is looked at
 * every plan->check operations. How many ran goes to @p done, their wall
 * time to @p ns.
 */
static int runner_ops(runner_conn *cc, uint64_t n, uint64_t deadline, uint64_t *done,
                      uint64_t *ns)
{
    const bench_drv *d = cc->k->drv;
    int (*op)(bench_conn *) = cc->k->rtt ? d->rtt : d->put;
    uint64_t check = cc->plan->check, t0 = bench_now_ns(), i = 0;
    while (i < n) {
        if (op(cc->c) != 0)
            return -1;
        if (++i % check == 0 && deadline != RUNNER_NEVER && bench_now_ns() >= deadline)
            break;
    }
    if (!cc->k->rtt && d->sync(cc->c) != 0)
        return -1;
    *done = i;
    *ns = bench_now_ns() - t0;
    if (*ns == 0)
        *ns = 1;
    cc->msgs += i;
    return 0;
}

/* The rate of @p iters operations taking @p ns: ns per round trip, or
 * messages per second. */
static double runner_value(const bench_case *k, uint64_t iters, uint64_t ns)
{
    return k->rtt ? (double)ns / (double)iters : (double)iters * 1e9 / (double)ns;
}

/* How many iterations take about plan->rep_ms, found before @p deadline
 * (this warms up too). */
static int runner_calibrate(runner_conn *cc, uint64_t deadline)
{
    const bench_plan *plan = cc->plan;
    uint64_t want = (uint64_t)plan->rep_ms * 1000000u, n = 1, done = 0, ns = 0;
    for (;;) {
        if (runner_ops(cc, n, deadline, &done, &ns) != 0)
            return -1;
        if (ns >= want / 4 || done < n || n >= plan->max_iters)
            break;
        n *= ns < want / 40 ? 10 : 2;
    }
    double it = (double)want * (double)done / (double)ns;
    cc->k->iters = it < 1 ? 1 : it > (double)plan->max_iters ? plan->max_iters : (uint64_t)it;
    return 0;
}

/* Time up to @p n round trips one by one, until @p end at most. */
static int runner_laps(runner_conn *cc, size_t n, uint64_t end)
{
    bench_case *k = cc->k;
    if (k->nlap + n > k->lapcap) {
        size_t cap = k->lapcap ? k->lapcap * 2 : 4096;
        while (cap < k->nlap + n)
            cap *= 2;
        uint32_t *p = realloc(k->lap, cap * sizeof(*p));
        if (p == NULL) {
            bench_set_error("out of memory");
            return -1;
        }
        k->lap = p;
        k->lapcap = cap;
    }
    uint64_t prev = bench_now_ns();
    size_t i = 0;
    for (; i < n && prev < end; i++) {
        if (k->drv->rtt(cc->c) != 0)
            return -1;
        uint64_t t = bench_now_ns();
        k->lap[k->nlap++] = t - prev > UINT32_MAX ? UINT32_MAX : (uint32_t)(t - prev);
        prev = t;
    }
    cc->msgs += i;
    return 0;
}

/* ---- several calling threads ------------------------------------------------- */

typedef struct runner_thread {
    xipc_plat_thread tid;
    runner_conn *cc;
    unsigned idx;
    _Atomic int *stop;
    uint64_t calls;
    int rc;
    char why[sizeof(runner_err)];
} runner_thread;

static void runner_thread_main(void *arg)
{
    runner_thread *t = arg;
    while (!atomic_load_explicit(t->stop, memory_order_relaxed)) {
        if (t->cc->k->drv->call(t->cc->c, t->idx) != 0) {
            t->rc = -1;
            snprintf(t->why, sizeof(t->why), "%s", bench_error());
            break;
        }
        t->calls++;
    }
}

/* All threads call for @p ms; calls made go to *calls, wall time to *ns. */
static int runner_threads(runner_conn *cc, unsigned ms, uint64_t *calls, uint64_t *ns)
{
    unsigned n = cc->k->threads > RUNNER_MAX_THREADS ? RUNNER_MAX_THREADS : cc->k->threads;
    runner_thread th[RUNNER_MAX_THREADS];
    _Atomic int stop = 0;
    unsigned started = 0;
    uint64_t t0 = bench_now_ns();
    for (; started < n; started++) {
        th[started] = (runner_thread){.cc = cc, .idx = started, .stop = &stop};
        if (xipc_plat_thread_create(&th[started].tid, runner_thread_main, &th[started]) !=
            XIPC_OK)
            break;
    }
    if (started == n)
        bench_nap_us(ms * 1000u);
    atomic_store(&stop, 1);
    int rc = started == n ? 0 : -1;
    if (rc != 0)
        bench_set_error("cannot start a calling thread");
    *calls = 0;
    for (unsigned i = 0; i < started; i++) {
        xipc_plat_thread_join(&th[i].tid);
        *calls += th[i].calls;
        if (th[i].rc != 0 && rc == 0) {
            rc = -1;
            bench_set_error("%s", th[i].why);
        }
    }
    *ns = bench_now_ns() - t0;
    cc->msgs += *calls;
    return rc;
}

/* ---- a repetition -------------------------------------------------------------- */

static int runner_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int runner_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Median, first and third quartile of @p n values (copied, not changed);
 * the smallest and largest to @p lo and @p hi. */
static void runner_quartiles(const double *v, unsigned n, double *q1, double *med, double *q3,
                             double *lo, double *hi)
{
    double s[BENCH_MAX_REPS > BENCH_CHUNKS ? BENCH_MAX_REPS : BENCH_CHUNKS];
    memcpy(s, v, n * sizeof(*s));
    qsort(s, n, sizeof(*s), runner_cmp_double);
    *med = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    *q1 = s[(n - 1) / 4];
    *q3 = s[n - 1 - (n - 1) / 4];
    *lo = s[0];
    *hi = s[n - 1];
}

static double runner_median(const double *v, unsigned n)
{
    double q1, med, q3, lo, hi;
    runner_quartiles(v, n, &q1, &med, &q3, &lo, &hi);
    return med;
}

/* BENCH_UNTIL_STABLE: the interquartile range of the repetitions so far
 * over their median. */
static double runner_spread(const bench_case *k)
{
    double q1, med, q3, lo, hi;
    runner_quartiles(k->rep, k->reps, &q1, &med, &q3, &lo, &hi);
    return med > 0 ? (q3 - q1) / med : 0;
}

/*
 * BENCH_FIXED: warm up, then k->iters iterations timed in BENCH_CHUNKS
 * chunks whose median is the value: a burst of foreign work spoils a
 * chunk or two, not the repetition. When the machine has slowed down
 * since the calibration, the repetition stops after twice its planned
 * time, to keep the run bounded. Then a share of single round trips.
 */
static int runner_rep_fixed(runner_conn *cc, double *value)
{
    bench_case *k = cc->k;
    const bench_plan *plan = cc->plan;
    double v[BENCH_CHUNKS];
    uint64_t done, ns;
    if (runner_ops(cc, k->iters / 10 + 1, runner_after_ms(plan->rep_ms / 5), &done, &ns) != 0)
        return -1;
    uint64_t n = k->iters / BENCH_CHUNKS + 1;
    uint64_t deadline = runner_after_ms(2 * (uint64_t)plan->rep_ms);
    unsigned i = 0;
    do {
        if (runner_ops(cc, n, deadline, &done, &ns) != 0)
            return -1;
        v[i++] = runner_value(k, done, ns);
    } while (i < BENCH_CHUNKS && bench_now_ns() < deadline);
    *value = runner_median(v, i);
    if (!k->rtt)
        return 0;
    size_t half = (size_t)(k->iters / 2) + 1;
    return runner_laps(cc, plan->laps < half ? plan->laps : half,
                       runner_after_ms(plan->rep_ms / 2));
}

/*
 * BENCH_UNTIL_STABLE: calibrate (the first time) or warm up, then one
 * timed run of k->iters iterations (at most four times the planned time),
 * then single round trips; or the calls/s of k->threads threads. @p loss
 * gets the share of the messages lost.
 */
static int runner_rep_stable(runner_conn *cc, double *value, double *loss)
{
    bench_case *k = cc->k;
    const bench_plan *plan = cc->plan;
    const bench_drv *d = k->drv;
    uint64_t done, ns, l0 = 0;
    *loss = 0;
    if (k->threads > 0) {
        uint64_t calls;
        if (runner_threads(cc, plan->rep_ms / 5 + 1, &calls, &ns) != 0 ||
            runner_threads(cc, plan->rep_ms, &calls, &ns) != 0)
            return -1;
        *value = (double)calls * 1e9 / (double)ns;
        return 0;
    }
    if (k->iters == 0 ? runner_calibrate(cc, RUNNER_NEVER)
                      : runner_ops(cc, k->iters / 10 + 1, RUNNER_NEVER, &done, &ns))
        return -1;
    if (!k->rtt && d->lost != NULL)
        l0 = d->lost(cc->c);
    if (runner_ops(cc, k->iters, runner_after_ms(4 * (uint64_t)plan->rep_ms), &done, &ns) != 0)
        return -1;
    double it = (double)done;
    if (k->rtt) {
        *value = (double)ns / it;
        size_t half = (size_t)(done / 2) + 1;
        return runner_laps(cc, plan->laps < half ? plan->laps : half, RUNNER_NEVER);
    }
    double lost = d->lost != NULL ? (double)(d->lost(cc->c) - l0) : 0;
    if (lost > it)
        lost = it;
    *loss = lost / it;
    *value = (it - lost) * 1e9 / (double)ns;
    return 0;
}

static void runner_fail(bench_case *k, int state, const char *why)
{
    k->state = state;
    snprintf(k->why, sizeof(k->why), "%s", why);
}

/* BENCH_FIXED's round 0: a connection of its own for the calibration. */
static void runner_prepare(bench_case *k, const bench_plan *plan, const char *name)
{
    runner_conn cc;
    uint64_t ms = 2 * (uint64_t)plan->rep_ms; /* at most twice the planned time */
    if (runner_open(&cc, k, plan, name) != 0 ||
        runner_close(&cc, runner_calibrate(&cc, runner_after_ms(ms))) != 0)
        runner_fail(k, BENCH_FAILED, bench_error());
}

/* One repetition of @p k on a fresh connection, with its CPU time. */
static void runner_round(bench_case *k, const bench_plan *plan, const char *name)
{
    runner_conn cc;
    double value = 0, loss = 0;
    if (runner_open(&cc, k, plan, name) != 0) {
        const char *why = bench_error();
        if (strncmp(why, "n/a: ", 5) == 0)
            runner_fail(k, BENCH_SKIPPED, why + 5); /* the mechanism cannot do it */
        else
            runner_fail(k, BENCH_FAILED, why);
        return;
    }
    uint64_t cpu0 = bench_cpu_self_ns();
    int rc = plan->schedule == BENCH_FIXED ? runner_rep_fixed(&cc, &value)
                                           : runner_rep_stable(&cc, &value, &loss);
    uint64_t cpu1 = bench_cpu_self_ns();
    if (runner_close(&cc, rc) != 0) {
        runner_fail(k, BENCH_FAILED, bench_error());
        return;
    }
    unsigned r = k->reps++;
    k->rep[r] = value;
    k->loss[r] = loss;
    k->cpu[r] = cc.peer_cpu >= 0 && cc.msgs > 0
                    ? ((double)(cpu1 - cpu0) + cc.peer_cpu) / (double)cc.msgs
                    : -1;
}

/* ---- statistics ------------------------------------------------------------------ */

/* The @p pct percentile of @p n sorted samples (nearest rank). */
static double runner_rank(const uint32_t *v, size_t n, unsigned pct)
{
    size_t k = (n * pct + 99) / 100; /* ceil(n pct / 100), 1-based */
    return v[k > 0 ? k - 1 : 0];
}

static void runner_finish(bench_case *k, const bench_plan *plan)
{
    k->p50 = k->p99 = -1;
    k->cpu_ns = -1;
    if (k->state == BENCH_OK && k->reps == 0)
        runner_fail(k, BENCH_FAILED, "no repetition");
    if (k->state == BENCH_OK) {
        double q1, q3, lo, hi;
        runner_quartiles(k->rep, k->reps, &q1, &k->value, &q3, &lo, &hi);
        double width = plan->schedule == BENCH_FIXED ? hi - lo : q3 - q1;
        k->spread = k->value > 0 ? width / k->value : 0;
        k->stable = k->spread <= plan->tol;
        k->lost = runner_median(k->loss, k->reps);
        unsigned ncpu = 0;
        double cpu[BENCH_MAX_REPS];
        for (unsigned i = 0; i < k->reps; i++)
            if (k->cpu[i] >= 0)
                cpu[ncpu++] = k->cpu[i];
        if (ncpu > 0)
            k->cpu_ns = runner_median(cpu, ncpu);
        if (k->nlap > 0) {
            qsort(k->lap, k->nlap, sizeof(*k->lap), runner_cmp_u32);
            k->p50 = runner_rank(k->lap, k->nlap, 50);
            k->p99 = runner_rank(k->lap, k->nlap, 99);
        }
    }
    free(k->lap);
    k->lap = NULL;
}

/* ---- the run ----------------------------------------------------------------------- */

/* BENCH_FIXED's progress: "calibrating 3/10", "round 2/9". */
static void runner_progress_fixed(FILE *f, const char *what, unsigned i, unsigned n)
{
    if (f != NULL) {
        fprintf(f, "\r%s %u/%u ", what, i, n);
        fflush(f);
    }
}

/* BENCH_UNTIL_STABLE's progress: the case being measured. */
static void runner_progress(FILE *f, unsigned round, size_t i, size_t n, const bench_case *k)
{
    if (f == NULL)
        return;
    char size[32];
    bench_fmt_size(size, sizeof(size), k->size);
    char what[96];
    if (k->threads > 0)
        snprintf(what, sizeof(what), "%s calls/s, %u thread%s", k->row, k->threads,
                 k->threads > 1 ? "s" : "");
    else if (k->subs > 1)
        snprintf(what, sizeof(what), "%s throughput %s, %u subscribers", k->row, size,
                 k->subs);
    else
        snprintf(what, sizeof(what), "%s %s %s", k->row, k->rtt ? "rtt" : "throughput",
                 size);
    fprintf(f, "\r\033[K[round %u, %zu/%zu] %s", round, i + 1, n, what);
    fflush(f);
}

/* Call each driver's setup once; skip the cases of those that fail. */
static void runner_setup(bench_case *cases, size_t n, int up)
{
    for (size_t i = 0; i < n; i++) {
        const bench_drv *d = cases[i].drv;
        int first = 1;
        for (size_t j = 0; j < i; j++)
            first &= cases[j].drv != d;
        if (!first)
            continue;
        if (!up) {
            if (d->teardown != NULL)
                d->teardown();
            continue;
        }
        if (d->setup == NULL || d->setup() == 0)
            continue;
        for (size_t j = i; j < n; j++)
            if (cases[j].drv == d)
                runner_fail(&cases[j], BENCH_SKIPPED, bench_error());
    }
}

/* BENCH_FIXED: a calibration each, then every case in every round. */
static void runner_fixed(bench_case *cases, size_t n, const bench_plan *plan,
                         const char *name, FILE *progress)
{
    for (size_t i = 0; i < n; i++) {
        runner_progress_fixed(progress, "calibrating", (unsigned)i + 1, (unsigned)n);
        if (cases[i].state == BENCH_OK)
            runner_prepare(&cases[i], plan, name);
    }
    for (unsigned r = 0; r < plan->max_reps; r++) {
        runner_progress_fixed(progress, "round      ", r + 1, plan->max_reps);
        for (size_t i = 0; i < n; i++)
            if (cases[i].state == BENCH_OK)
                runner_round(&cases[i], plan, name);
    }
    if (progress != NULL)
        fprintf(progress, "\r%24s\r", "");
}

/* BENCH_UNTIL_STABLE: rounds of the cases not yet stable. */
static void runner_until_stable(bench_case *cases, size_t n, const bench_plan *plan,
                                const char *name, FILE *progress)
{
    uint64_t t0 = bench_now_ns();
    for (unsigned r = 0; r < plan->max_reps; r++) {
        /* over budget: no more rounds once every case has 3 repetitions */
        if (plan->budget_s > 0 && r >= 3 &&
            bench_now_ns() - t0 > (uint64_t)plan->budget_s * 1000000000u)
            break;
        int any = 0;
        for (size_t i = 0; i < n; i++) {
            bench_case *k = &cases[i];
            if (k->done || k->state != BENCH_OK)
                continue;
            runner_progress(progress, r + 1, i, n, k);
            runner_round(k, plan, name);
            if (k->state != BENCH_OK ||
                (k->reps >= plan->min_reps && runner_spread(k) <= plan->tol))
                k->done = 1;
            any = 1;
        }
        if (!any)
            break;
    }
    if (progress != NULL) {
        fprintf(progress, "\r\033[K");
        fflush(progress);
    }
}

size_t bench_run(bench_case *cases, size_t n, const bench_plan *in, const char *name,
                 FILE *progress)
{
    bench_plan plan = *in;
    if (plan.max_reps > BENCH_MAX_REPS)
        plan.max_reps = BENCH_MAX_REPS;
    for (size_t i = 0; i < n; i++) {
        bench_case *k = &cases[i];
        k->done = k->state != BENCH_OK;
        k->reps = 0;
        k->iters = 0;
        k->nlap = k->lapcap = 0;
        k->lap = NULL;
        k->lost = 0;
    }
    runner_setup(cases, n, 1);
    if (plan.schedule == BENCH_FIXED)
        runner_fixed(cases, n, &plan, name, progress);
    else
        runner_until_stable(cases, n, &plan, name, progress);
    runner_setup(cases, n, 0);
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        runner_finish(&cases[i], &plan);
        failed += cases[i].state == BENCH_FAILED;
    }
    return failed;
}
