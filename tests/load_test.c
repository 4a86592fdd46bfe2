/*
 * Load: one RPC server process serving unix:// and tcp:// at once, 1,000
 * client connections open at the same time (half on each scheme) from a
 * few client processes, 200,000 "add" calls in total, every result
 * checked. Asserted: every connection opened, the server held them all at
 * once, every call answered with the right sum, the server stopped
 * cleanly. Reported, not asserted: p50/p99/max latency of a call, calls
 * per second, and the server's resident memory at start, with the idle
 * connections open, half-way, at the end, and after the clients left.
 *
 *   load_test [CONNECTIONS [CALLS [CLIENT_PROCESSES]]]   (1000 200000 4)
 *
 * Each client process drives its connections with asynchronous calls: one
 * call in flight per connection, the next one issued from the callback of
 * the previous, so all connections are busy at once. The latency of a
 * call is measured from just before it is issued to its callback, so it
 * includes the time it waited behind the other 999 connections' calls.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/platform.h"
#include "test.h"
#include "xipc/msgpack.h"
#include "xipc/rpc.h"

#define LOAD_WAIT_S 300 /* give up on a stuck run after this long */

/* Shared by all processes (an anonymous shared mapping made before fork). */
typedef struct load_shared {
    atomic_int connected; /* connections open, all processes */
    atomic_int go;        /* the parent says: start calling */
    atomic_int stop;      /* the parent says: close and exit */
    atomic_long done;     /* calls answered (right or wrong) */
    atomic_long ok;       /* calls answered with the right sum */
    atomic_long failed;   /* calls failed or answered wrongly */
    atomic_int first_err; /* xipc_err of the first failure */
    char urls[2][256];    /* unix://..., tcp://... as bound */
    uint32_t lat_us[];    /* one slot per call */
} load_shared;

static load_shared *sh;
static int n_conns = 1000, n_calls = 200000, n_procs = 4;

/* ---- the server process -------------------------------------------------- */

static xipc_err load_add(xipc_rpc_req *req, void *ud)
{
    int64_t a, b;
    xipc_err rv = xipc_rpc_req_argsf(req, "II", &a, &b);
    return rv != XIPC_OK ? rv : xipc_rpc_req_returnf(req, "I", a + b);
}

/* Serve until @p ctl reaches end of file; exit 0 after a clean stop. */
static void load_server(int ready, int ctl)
{
    xipc_rpc_server_opts o;
    xipc_rpc_server *srv;
    char path[128];
    XT_OK(xipc_rpc_server_opts_init(&o));
    /* 1,000 dials at once: with the default backlog (64) the last ones
     * wait for room (a TCP SYN dropped is sent again after 1 s) */
    o.sock.backlog = 1024;
    XT_OK(xipc_rpc_server_alloc(&srv, &o));
    XT_OK(xipc_rpc_server_register(srv, "add", "(int a, int b) -> int", load_add, NULL));
    snprintf(path, sizeof(path), "unix:///tmp/xipc-load-%u.sock", (unsigned)getpid());
    XT_OK(xipc_rpc_server_serve(srv, path));
    XT_OK(xipc_rpc_server_serve(srv, "tcp://127.0.0.1:0"));
    XT_OK(xipc_rpc_server_url(srv, 0, sh->urls[0], sizeof(sh->urls[0])));
    XT_OK(xipc_rpc_server_url(srv, 1, sh->urls[1], sizeof(sh->urls[1])));
    XT_EQ(write(ready, "r", 1), 1);
    char b;
    while (read(ctl, &b, 1) != 0)
        ;
    XT_OK(xipc_rpc_server_stop(srv));
    /* the server's own count: every connection served, none refused or
     * dropped, every call handled */
    xipc_rpc_server_stats st;
    XT_OK(xipc_rpc_server_stats_get(srv, &st));
    printf("load: server counted %llu connections, %llu calls, %llu refused "
           "connections, %llu refused calls, %llu dropped\n",
           (unsigned long long)st.accepted, (unsigned long long)st.calls,
           (unsigned long long)st.refused_conns, (unsigned long long)st.refused_calls,
           (unsigned long long)(st.too_large + st.too_deep + st.malformed));
    XT_EQ(st.accepted, n_conns);
    XT_EQ(st.calls, n_calls);
    XT_EQ(st.conns, 0);
    XT_EQ(st.refused_conns + st.refused_calls + st.too_large + st.too_deep + st.malformed, 0);
    xipc_rpc_server_free(srv);
    exit(0);
}

/* ---- a client process ------------------------------------------------------ */

typedef struct load_conn {
    xipc_rpc_client *c;
    int id;        /* global connection number */
    int left;      /* calls still to make */
    int seq;       /* calls made */
    uint64_t t0;   /* when the call in flight was issued */
    atomic_int *active;
} load_conn;

static void load_fail(xipc_err rv)
{
    int none = 0;
    atomic_compare_exchange_strong(&sh->first_err, &none, rv == XIPC_OK ? -1 : (int)rv);
    atomic_fetch_add(&sh->failed, 1);
}

static void load_cb(xipc_rpc_future *f, void *ud);

/* Issue the next call of @p lc, or retire it. */
static void load_next(load_conn *lc)
{
    if (lc->left == 0) {
        atomic_fetch_sub(lc->active, 1);
        return;
    }
    uint8_t mem[32];
    xipc_mp_buf b;
    xipc_mp_buf_init_fixed(&b, mem, sizeof(mem));
    xipc_mp_write_array(&b, 2);
    xipc_mp_write_int(&b, (int64_t)lc->id * 100000);
    xipc_mp_write_int(&b, lc->seq);
    lc->left--;
    lc->t0 = xipc_plat_now_ns();
    xipc_err rv = xipc_rpc_call_async(lc->c, "add", b.data, b.len, load_cb, lc, NULL);
    if (rv != XIPC_OK) { /* this call and the rest of this connection's */
        for (int i = 0; i <= lc->left; i++)
            load_fail(rv);
        atomic_fetch_add(&sh->done, lc->left + 1);
        lc->left = 0;
        atomic_fetch_sub(lc->active, 1);
    }
}

static void load_cb(xipc_rpc_future *f, void *ud)
{
    load_conn *lc = ud;
    uint64_t us = (xipc_plat_now_ns() - lc->t0) / 1000u;
    xipc_rpc_result res;
    int64_t sum = -1;
    xipc_rpc_result_init(&res);
    xipc_err rv = xipc_rpc_future_result(f, &res);
    if (rv == XIPC_OK)
        rv = xipc_rpc_result_scanf(&res, "I", &sum);
    xipc_rpc_result_fini(&res);
    long slot = atomic_fetch_add(&sh->done, 1);
    if (slot < n_calls)
        sh->lat_us[slot] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    if (rv == XIPC_OK && sum == (int64_t)lc->id * 100000 + lc->seq)
        atomic_fetch_add(&sh->ok, 1);
    else
        load_fail(rv);
    lc->seq++;
    load_next(lc);
}

#define LOAD_CLOSERS 16

typedef struct load_closer {
    load_conn *lc;
    int n, first;
} load_closer;

static void load_close_main(void *arg)
{
    load_closer *cl = arg;
    for (int i = cl->first; i < cl->n; i += LOAD_CLOSERS)
        xipc_rpc_client_close(cl->lc[i].c);
}

static void load_client(int proc)
{
    int first = n_conns * proc / n_procs, last = n_conns * (proc + 1) / n_procs;
    int n = last - first;
    int calls_before = (int)((long)n_calls * first / n_conns);
    int calls_mine = (int)((long)n_calls * last / n_conns) - calls_before;
    load_conn *lc = calloc((size_t)n, sizeof(*lc));
    atomic_int active;
    XT_ASSERT(lc != NULL);
    atomic_init(&active, n);
    xipc_rpc_client_opts o;
    XT_OK(xipc_rpc_client_opts_init(&o));
    o.timeout_ms = 30000; /* for sending */
    for (int i = 0; i < n; i++) {
        int id = first + i;
        const char *url = sh->urls[id % 2]; /* unix, tcp, unix, ... */
        xipc_err rv = xipc_rpc_client_dial(&lc[i].c, url, &o, 30000);
        if (rv != XIPC_OK)
            XT_FAIL("process %d: dial %s (connection %d): %s", proc, url, id,
                    xipc_strerror(rv));
        lc[i].id = id;
        lc[i].left = calls_mine * (i + 1) / n - calls_mine * i / n;
        lc[i].active = &active;
        atomic_fetch_add(&sh->connected, 1);
    }
    while (!atomic_load(&sh->go))
        xipc_plat_sleep_us(1000);
    for (int i = 0; i < n; i++)
        load_next(&lc[i]);
    uint64_t end = xipc_plat_now_ns() + (uint64_t)LOAD_WAIT_S * 1000000000u;
    while (atomic_load(&active) > 0 && xipc_plat_now_ns() < end)
        xipc_plat_sleep_us(2000);
    XT_EQ(atomic_load(&active), 0);
    while (!atomic_load(&sh->stop)) /* hold the connections until told */
        xipc_plat_sleep_us(2000);
    /* a close waits up to 50 ms for the client's reader: close in parallel */
    xipc_plat_thread th[LOAD_CLOSERS];
    load_closer cl[LOAD_CLOSERS];
    for (int t = 0; t < LOAD_CLOSERS; t++) {
        cl[t] = (load_closer){lc, n, t};
        XT_OK(xipc_plat_thread_create(&th[t], load_close_main, &cl[t]));
    }
    for (int t = 0; t < LOAD_CLOSERS; t++)
        xipc_plat_thread_join(&th[t]);
    free(lc);
    exit(0);
}

/* ---- the parent: orchestration and measurements ---------------------------- */

/* Resident memory of process @p pid in KiB (VmRSS), 0 when unknown. */
static long load_rss_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = 0;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* Open descriptors of process @p pid. */
static int load_fds(pid_t pid)
{
    char path[64];
    int n = 0;
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    XT_ASSERT(d != NULL);
    for (struct dirent *e; (e = xt_readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Threads of process @p pid. */
static long load_threads(pid_t pid)
{
    char path[64], line[256];
    long n = 0;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    XT_ASSERT(f != NULL);
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "Threads: %ld", &n) == 1)
            break;
    fclose(f);
    return n;
}

static int load_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static pid_t *kids;
static pid_t server, parent;
static int finished;

/* On a failure of the parent: no process of the test is left behind. */
static void load_cleanup(void)
{
    if (getpid() != parent || finished)
        return;
    if (server > 0)
        kill(server, SIGKILL);
    for (int p = 0; kids != NULL && p < n_procs; p++)
        if (kids[p] > 0)
            kill(kids[p], SIGKILL);
}

/* Fail when a client process has ended before it was told to. */
static void load_check_kids(void)
{
    for (int p = 0; p < n_procs; p++) {
        int st;
        if (kids[p] > 0 && waitpid(kids[p], &st, WNOHANG) == kids[p]) {
            kids[p] = 0; /* reaped: not to be killed */
            XT_FAIL("client process %d ended early (status 0x%x)", p, st);
        }
    }
}

/* Wait until @p cond holds, at most LOAD_WAIT_S; fail with @p what. */
#define LOAD_WAIT(cond, what)                                                  \
    do {                                                                       \
        uint64_t lw_end_ = xipc_plat_now_ns() + (uint64_t)LOAD_WAIT_S * 1000000000u; \
        while (!(cond) && xipc_plat_now_ns() < lw_end_) {                      \
            load_check_kids();                                                 \
            xipc_plat_sleep_us(1000);                                          \
        }                                                                      \
        if (!(cond))                                                           \
            XT_FAIL("timed out waiting for %s", what);                         \
    } while (0)

static void load_raise_nofile(void)
{
    struct rlimit rl;
    XT_ASSERT(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    rlim_t want = (rlim_t)n_conns * 2 + 256;
    if (rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
        XT_ASSERT(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    }
    if (rl.rlim_cur < (rlim_t)n_conns + 64)
        XT_FAIL("RLIMIT_NOFILE %lu is too low for %d connections",
                (unsigned long)rl.rlim_cur, n_conns);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        n_conns = atoi(argv[1]);
    if (argc > 2)
        n_calls = atoi(argv[2]);
    if (argc > 3)
        n_procs = atoi(argv[3]);
    XT_ASSERT(n_conns >= 2 && n_calls >= n_conns && n_procs >= 1 && n_procs <= n_conns);
    uint64_t t_start = xipc_plat_now_ns();
    load_raise_nofile();
    size_t shsize = sizeof(load_shared) + (size_t)n_calls * sizeof(uint32_t);
    sh = mmap(NULL, shsize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    XT_ASSERT(sh != MAP_FAILED);
    signal(SIGPIPE, SIG_IGN);

    int ready[2], ctl[2];
    XT_ASSERT(pipe(ready) == 0 && pipe(ctl) == 0);
    parent = getpid();
    atexit(load_cleanup);
    server = fork();
    XT_ASSERT(server >= 0);
    if (server == 0) {
        close(ready[0]);
        close(ctl[1]);
        load_server(ready[1], ctl[0]);
    }
    close(ready[1]);
    close(ctl[0]);
    char b;
    XT_EQ(read(ready[0], &b, 1), 1);
    close(ready[0]);
    xipc_plat_sleep_us(100000); /* let the server settle */
    long rss_start = load_rss_kib(server);
    long thr_start = load_threads(server);
    printf("load: server %s and %s, %d connections from %d processes, %d calls\n",
           sh->urls[0], sh->urls[1], n_conns, n_procs, n_calls);
    fflush(stdout);

    uint64_t t_dial = xipc_plat_now_ns();
    kids = calloc((size_t)n_procs, sizeof(*kids));
    XT_ASSERT(kids != NULL);
    for (int p = 0; p < n_procs; p++) {
        kids[p] = fork();
        XT_ASSERT(kids[p] >= 0);
        if (kids[p] == 0) {
            close(ctl[1]);
            load_client(p);
        }
    }
    LOAD_WAIT(atomic_load(&sh->connected) == n_conns, "every connection to open");
    double dial_s = (double)(xipc_plat_now_ns() - t_dial) / 1e9;
    xipc_plat_sleep_us(200000); /* the server has accepted them all */
    int fds = load_fds(server);
    long thr_conns = load_threads(server);
    long rss_conns = load_rss_kib(server);
    /* one descriptor per connection at least: all open at the same time */
    XT_ASSERT(fds >= n_conns);

    uint64_t t0 = xipc_plat_now_ns();
    atomic_store(&sh->go, 1);
    LOAD_WAIT(atomic_load(&sh->done) >= n_calls / 2, "half of the calls");
    long rss_mid = load_rss_kib(server);
    LOAD_WAIT(atomic_load(&sh->done) >= n_calls, "every call");
    double run_s = (double)(xipc_plat_now_ns() - t0) / 1e9;
    long rss_end = load_rss_kib(server);
    int fds_end = load_fds(server);
    atomic_store(&sh->stop, 1);
    for (int p = 0; p < n_procs; p++) {
        int st;
        XT_ASSERT(waitpid(kids[p], &st, 0) == kids[p]);
        kids[p] = 0;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            XT_FAIL("client process %d failed (status 0x%x)", p, st);
    }
    xipc_plat_sleep_us(300000); /* the server notices them gone */
    long rss_after = load_rss_kib(server);
    close(ctl[1]); /* stop the server */
    int st;
    XT_ASSERT(waitpid(server, &st, 0) == server);
    server = 0;

    long ok = atomic_load(&sh->ok), failed = atomic_load(&sh->failed);
    qsort(sh->lat_us, (size_t)n_calls, sizeof(uint32_t), load_cmp);
    uint32_t p50 = sh->lat_us[n_calls / 2];
    uint32_t p99 = sh->lat_us[(size_t)((double)n_calls * 0.99)];
    uint32_t pmax = sh->lat_us[n_calls - 1];
    printf("load: %d connections open at once (server: %d descriptors, %ld threads; "
           "%ld threads idle) in %.2f s\n",
           n_conns, fds, thr_conns, thr_start, dial_s);
    printf("load: %ld calls ok, %ld failed in %.2f s: %.0f calls/s\n", ok, failed, run_s,
           (double)n_calls / run_s);
    printf("load: latency p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", p50 / 1000.0,
           p99 / 1000.0, pmax / 1000.0);
    printf("load: server RSS start %ld KiB, connected %ld KiB, middle %ld KiB, "
           "end %ld KiB, clients gone %ld KiB (descriptors at the end %d)\n",
           rss_start, rss_conns, rss_mid, rss_end, rss_after, fds_end);
    if (failed != 0)
        XT_FAIL("%ld calls failed; first error: %s", failed,
                atomic_load(&sh->first_err) < 0
                    ? "wrong sum"
                    : xipc_strerror((xipc_err)atomic_load(&sh->first_err)));
    XT_EQ(ok, n_calls);
    XT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    finished = 1;
    printf("load: whole test %.2f s\n", (double)(xipc_plat_now_ns() - t_start) / 1e9);
    munmap(sh, shsize);
    free(kids);
    printf("load_test ok\n");
    return 0;
}
