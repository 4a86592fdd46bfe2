/* The comparison runner: interleaved rounds until stable, CPU per message. */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/platform.h" /* threads on every OS */

#include "cmp.h"
#include "cpu.h"
#include "harness.h"
#include "util.h"

#define CMP_MAX_ITERS 100000000ull
#define CMP_MAX_THREADS 64

void cmp_plan_for(int full, int smoke, cmp_plan *plan)
{
    plan->min_reps = full ? 9 : smoke ? 1 : 5;
    plan->max_reps = full ? 25 : smoke ? 1 : 9;
    plan->rep_ms = full ? 250 : smoke ? 50 : 25; /* smoke: a few RPC calls under wine */
    plan->laps = full ? 5000 : smoke ? 50 : 500;
    plan->tol = full ? 0.05 : 0.10;
    plan->mode = full ? "full" : smoke ? "smoke" : "quick";
    plan->budget_s = full || smoke ? 0 : 60;
}

/* ---- one connection ---------------------------------------------------------- */

typedef struct cmp_conn {
    cmp_case *k;
    bench_conn *c;
    double peer_cpu;
    uint64_t msgs; /* operations done on this connection */
} cmp_conn;

static int cmp_open(cmp_conn *cc, cmp_case *k, const char *name)
{
    static unsigned seq;
    bench_cfg cfg = {.size = k->size, .rtt = k->rtt, .subs = k->subs,
                     .threads = k->threads, .peer_cpu_ns = &cc->peer_cpu};
    snprintf(cfg.name, sizeof(cfg.name), "%.40s.%u", name, seq++);
    cc->k = k;
    cc->c = NULL;
    cc->peer_cpu = -1;
    cc->msgs = 0;
    return k->drv->open(&cc->c, &cfg);
}

/* Up to @p n operations (and a sync for streams), fewer when they take
 * over @p max_ns (a slowed machine must not stretch the run): the count
 * done goes back in @p n, the wall time to @p ns. */
static int cmp_ops_max(cmp_conn *cc, uint64_t *n, uint64_t max_ns, uint64_t *ns)
{
    const bench_drv *d = cc->k->drv;
    int (*op)(bench_conn *) = cc->k->rtt ? d->rtt : d->put;
    uint64_t t0 = bench_now_ns(), i = 0;
    for (; i < *n; i++) {
        if (op(cc->c) != 0)
            return -1;
        if ((i & 63) == 63 && bench_now_ns() - t0 > max_ns) {
            i++;
            break;
        }
    }
    *n = i;
    if (!cc->k->rtt && d->sync(cc->c) != 0)
        return -1;
    *ns = bench_now_ns() - t0;
    if (*ns == 0)
        *ns = 1;
    cc->msgs += i;
    return 0;
}

/* @p n operations (and a sync for streams); wall time to @p ns. */
static int cmp_ops(cmp_conn *cc, uint64_t n, uint64_t *ns)
{
    const bench_drv *d = cc->k->drv;
    int (*op)(bench_conn *) = cc->k->rtt ? d->rtt : d->put;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < n; i++)
        if (op(cc->c) != 0)
            return -1;
    if (!cc->k->rtt && d->sync(cc->c) != 0)
        return -1;
    *ns = bench_now_ns() - t0;
    if (*ns == 0)
        *ns = 1;
    cc->msgs += n;
    return 0;
}

/* Iterations for about plan->rep_ms (this warms up too). */
static int cmp_calibrate(cmp_conn *cc, const cmp_plan *plan)
{
    uint64_t want = (uint64_t)plan->rep_ms * 1000000u, n = 1, ns = 0;
    for (;;) {
        if (cmp_ops(cc, n, &ns) != 0)
            return -1;
        if (ns >= want / 4 || n >= CMP_MAX_ITERS)
            break;
        n *= ns < want / 40 ? 10 : 2;
    }
    double it = (double)want * (double)n / (double)ns;
    cc->k->iters = it < 1 ? 1 : it > (double)CMP_MAX_ITERS ? CMP_MAX_ITERS : (uint64_t)it;
    return 0;
}

static int cmp_laps(cmp_conn *cc, size_t n)
{
    cmp_case *k = cc->k;
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
    for (size_t i = 0; i < n; i++) {
        if (k->drv->rtt(cc->c) != 0)
            return -1;
        uint64_t t = bench_now_ns();
        k->lap[k->nlap++] = t - prev > UINT32_MAX ? UINT32_MAX : (uint32_t)(t - prev);
        prev = t;
    }
    cc->msgs += n;
    return 0;
}

/* ---- several calling threads ------------------------------------------------- */

typedef struct cmp_thread {
    xipc_plat_thread tid;
    cmp_conn *cc;
    unsigned idx;
    _Atomic int *stop;
    uint64_t calls;
    int rc;
    char why[200];
} cmp_thread;

static void cmp_thread_main(void *arg)
{
    cmp_thread *t = arg;
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
static int cmp_threads(cmp_conn *cc, unsigned ms, uint64_t *calls, uint64_t *ns)
{
    unsigned n = cc->k->threads > CMP_MAX_THREADS ? CMP_MAX_THREADS : cc->k->threads;
    cmp_thread th[CMP_MAX_THREADS];
    _Atomic int stop = 0;
    unsigned started = 0;
    uint64_t t0 = bench_now_ns();
    for (; started < n; started++) {
        th[started] = (cmp_thread){.cc = cc, .idx = started, .stop = &stop};
        if (xipc_plat_thread_create(&th[started].tid, cmp_thread_main, &th[started]) !=
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

static void cmp_fail(cmp_case *k, int state, const char *why)
{
    k->state = state;
    snprintf(k->why, sizeof(k->why), "%s", why);
}

static int cmp_measure(cmp_conn *cc, const cmp_plan *plan, double *value, double *loss)
{
    cmp_case *k = cc->k;
    const bench_drv *d = k->drv;
    uint64_t ns, l0 = 0;
    *loss = 0;
    if (k->threads > 0) {
        uint64_t calls;
        if (cmp_threads(cc, plan->rep_ms / 5 + 1, &calls, &ns) != 0 ||
            cmp_threads(cc, plan->rep_ms, &calls, &ns) != 0)
            return -1;
        *value = (double)calls * 1e9 / (double)ns;
        return 0;
    }
    if (k->iters == 0 ? cmp_calibrate(cc, plan) : cmp_ops(cc, k->iters / 10 + 1, &ns))
        return -1;
    if (!k->rtt && d->lost != NULL)
        l0 = d->lost(cc->c);
    uint64_t done = k->iters;
    if (cmp_ops_max(cc, &done, (uint64_t)plan->rep_ms * 4000000u, &ns) != 0)
        return -1;
    double it = (double)done;
    if (k->rtt) {
        *value = (double)ns / it;
        size_t half = (size_t)(done / 2) + 1;
        return cmp_laps(cc, plan->laps < half ? plan->laps : half);
    }
    double lost = d->lost != NULL ? (double)(d->lost(cc->c) - l0) : 0;
    if (lost > it)
        lost = it;
    *loss = lost / it;
    *value = (it - lost) * 1e9 / (double)ns;
    return 0;
}

static void cmp_round(cmp_case *k, const cmp_plan *plan, const char *name)
{
    cmp_conn cc;
    double value = 0, loss = 0;
    if (cmp_open(&cc, k, name) != 0) {
        const char *why = bench_error();
        if (strncmp(why, "n/a: ", 5) == 0)
            cmp_fail(k, CMP_SKIPPED, why + 5); /* the mechanism cannot do it */
        else
            cmp_fail(k, CMP_FAILED, why);
        return;
    }
    uint64_t cpu0 = bench_cpu_self_ns();
    int rc = cmp_measure(&cc, plan, &value, &loss);
    uint64_t cpu1 = bench_cpu_self_ns();
    char why[200] = "";
    if (rc != 0)
        snprintf(why, sizeof(why), "%s", bench_error());
    if (k->drv->close(cc.c) != 0 && rc == 0) {
        rc = -1;
        snprintf(why, sizeof(why), "%s", bench_error());
    }
    if (rc != 0) {
        cmp_fail(k, CMP_FAILED, why);
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

static int cmp_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Median, first and third quartile of @p n values (copied, not changed). */
static void cmp_quartiles(const double *v, unsigned n, double *q1, double *med, double *q3)
{
    double s[CMP_MAX_REPS];
    memcpy(s, v, n * sizeof(*s));
    qsort(s, n, sizeof(*s), cmp_cmp_double);
    *med = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    *q1 = s[(n - 1) / 4];
    *q3 = s[n - 1 - (n - 1) / 4];
}

static double cmp_spread(const cmp_case *k)
{
    double q1, med, q3;
    cmp_quartiles(k->rep, k->reps, &q1, &med, &q3);
    return med > 0 ? (q3 - q1) / med : 0;
}

static void cmp_finish(cmp_case *k, const cmp_plan *plan)
{
    k->p50 = k->p99 = -1;
    k->cpu_ns = -1;
    if (k->state != CMP_OK || k->reps == 0) {
        if (k->state == CMP_OK)
            cmp_fail(k, CMP_FAILED, "no repetition");
        free(k->lap);
        k->lap = NULL;
        return;
    }
    double q1, q3, x;
    cmp_quartiles(k->rep, k->reps, &q1, &k->value, &q3);
    k->spread = k->value > 0 ? (q3 - q1) / k->value : 0;
    k->stable = k->spread <= plan->tol;
    cmp_quartiles(k->loss, k->reps, &q1, &k->lost, &q3);
    unsigned ncpu = 0;
    double cpu[CMP_MAX_REPS];
    for (unsigned i = 0; i < k->reps; i++)
        if (k->cpu[i] >= 0)
            cpu[ncpu++] = k->cpu[i];
    if (ncpu > 0)
        cmp_quartiles(cpu, ncpu, &q1, &k->cpu_ns, &x);
    if (k->nlap > 0) {
        qsort(k->lap, k->nlap, sizeof(*k->lap), cmp_cmp_u32);
        k->p50 = k->lap[(k->nlap * 50 + 99) / 100 - 1];
        k->p99 = k->lap[(k->nlap * 99 + 99) / 100 - 1];
    }
    free(k->lap);
    k->lap = NULL;
}

/* ---- the run ----------------------------------------------------------------------- */

static void cmp_progress(FILE *f, unsigned round, size_t i, size_t n, const cmp_case *k)
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
static void cmp_setup(cmp_case *cases, size_t n, int up)
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
                cmp_fail(&cases[j], CMP_SKIPPED, bench_error());
    }
}

size_t cmp_run(cmp_case *cases, size_t n, const cmp_plan *plan, const char *name,
               FILE *progress)
{
    for (size_t i = 0; i < n; i++) {
        cmp_case *k = &cases[i];
        k->done = k->state != CMP_OK;
        k->reps = 0;
        k->iters = 0;
        k->nlap = k->lapcap = 0;
        k->lap = NULL;
        k->lost = 0;
    }
    cmp_setup(cases, n, 1);
    unsigned maxr = plan->max_reps > CMP_MAX_REPS ? CMP_MAX_REPS : plan->max_reps;
    uint64_t t0 = bench_now_ns();
    for (unsigned r = 0; r < maxr; r++) {
        /* over budget: no more rounds once every case has 3 repetitions */
        if (plan->budget_s > 0 && r >= 3 &&
            bench_now_ns() - t0 > (uint64_t)plan->budget_s * 1000000000u)
            break;
        int any = 0;
        for (size_t i = 0; i < n; i++) {
            cmp_case *k = &cases[i];
            if (k->done || k->state != CMP_OK)
                continue;
            cmp_progress(progress, r + 1, i, n, k);
            cmp_round(k, plan, name);
            if (k->state != CMP_OK || (k->reps >= plan->min_reps && cmp_spread(k) <= plan->tol))
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
    cmp_setup(cases, n, 0);
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        cmp_finish(&cases[i], plan);
        failed += cases[i].state == CMP_FAILED;
    }
    return failed;
}
