/*
 * Slow and idle peers (docs/limits.md, issue 11): the RPC server closes a
 * connection that has not delivered a complete message within
 * first_request_timeout_ms — one that sends nothing, one byte, or a
 * message a byte at a time — and one idle (no input, no call in flight)
 * for idle_timeout_ms, while an honest client keeps getting answers; a
 * call in flight is not idleness. And an idle connection holds no
 * buffer: after a 15 MiB echo its receive buffer is freed (the
 * connections' buffers, read through xipc__rpc_server_conn_bytes), a
 * connection holding a partial message holds at most about twice what it
 * sent, and the server process's anonymous memory comes back down with
 * three idle clients that each sent 15 MiB. Over unix:// and tcp:// (the
 * poller) and shm:// and pipe:// (a reader thread each).
 */
#define _POSIX_C_SOURCE 200809L /* popen (run32.h), kill */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "rpc/rpc_server.h" /* xipc__rpc_server_conn_bytes */
#include "rpc_util.h"
#include "run32.h"

/* Sanitizers keep freed memory (quarantine): no RSS figures there. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SLOW_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SLOW_SANITIZED 1
#endif
#endif

static const char *kinds[] = {"unix", "tcp", "shm", "pipe"};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))
#define BIG (15u << 20) /* the large message */
#define MSG_MAX (32u << 20)

static uint64_t now_ms(void)
{
    return xipc_plat_now_ns() / 1000000u;
}

static int is_stream(const char *kind)
{
    return strcmp(kind, "unix") == 0 || strcmp(kind, "tcp") == 0;
}

static xipc_rpc_server_stats stats(xipc_rpc_server *srv)
{
    xipc_rpc_server_stats st;
    XT_OK(xipc_rpc_server_stats_get(srv, &st));
    return st;
}

/* One checked call of @p c. */
static void good_call(xipc_rpc_client *c, int i)
{
    int64_t v = 0;
    XT_OK(xipc_rpc_callf(c, "add", "II", (int64_t)i, (int64_t)1000, "I", &v));
    XT_EQ(v, i + 1000);
}

/* A raw connection to the server at @p url: a socket in stream mode, an
 * xipc connection in message mode; it sends nothing by itself. */
typedef struct raw_peer {
    xipc_plat_sock fd;
    xipc_sock *sock;
} raw_peer;

static void raw_dial(raw_peer *p, const char *kind, const char *url)
{
    p->fd = XIPC_PLAT_SOCK_NONE;
    p->sock = NULL;
    if (strcmp(kind, "unix") == 0)
        XT_OK(xipc_plat_unix_dial(url + 8, 1, 10000, &p->fd)); /* unix://@NAME */
    else if (strcmp(kind, "tcp") == 0)
        XT_OK(xipc_plat_tcp_dial("127.0.0.1", (uint16_t)atoi(strrchr(url, ':') + 1), 10000,
                                 &p->fd));
    else
        XT_OK(xipc_dial(&p->sock, url, NULL, 10000));
}

/* Stream mode: write @p n bytes. */
static void raw_send(raw_peer *p, const void *buf, size_t n)
{
    xipc_plat_iov iov = {buf, n};
    size_t sent;
    XT_OK(xipc_plat_sock_sendv(p->fd, &iov, 1, &sent, 10000));
}

/* The server closed the connection (waits up to @p ms). */
static void raw_expect_closed(raw_peer *p, int ms)
{
    uint8_t b[64];
    size_t n;
    if (p->sock != NULL)
        XT_ERR(xipc_recv(p->sock, b, sizeof(b), &n, ms), XIPC_ECLOSED);
    else
        XT_ERR(xipc_plat_sock_recv(p->fd, b, sizeof(b), &n, ms), XIPC_ECLOSED);
}

static void raw_close(raw_peer *p)
{
    if (p->sock != NULL)
        xipc_close(p->sock);
    else
        xipc_plat_sock_close(p->fd);
}

/* ---- first_request_timeout_ms: slowloris ---------------------------------- */

#define ATTACKERS 12

static void t_first_request(const char *kind)
{
    xipc_rpc_server_opts o;
    XT_OK(xipc_rpc_server_opts_init(&o));
    o.first_request_timeout_ms = 300;
    o.idle_timeout_ms = -1;
    xipc_rpc_server *srv = rt_server(2, &o);
    char url[512];
    rt_serve(srv, kind, url, sizeof(url));
    xipc_rpc_client *good = rt_dial(url);
    good_call(good, 0);
    /* one complete message, even a notification, meets the deadline */
    xipc_rpc_client *quiet = rt_dial(url);
    XT_OK(xipc_rpc_notifyf(quiet, "note", ""));

    /* stream mode: a third send nothing, a third the byte 0x94 (the start
     * of a request), a third a request whose method name is announced as
     * 65535 bytes and arrives one byte per turn below (each byte is
     * activity: it must not move the deadline). Message mode: nothing. */
    static const uint8_t start[] = {0x94, 0x00, 0x01, 0xda, 0xff, 0xff};
    raw_peer a[ATTACKERS];
    int n = is_stream(kind) ? ATTACKERS : 4; /* message mode: a thread each */
    uint64_t t_last = 0;
    for (int i = 0; i < n; i++) {
        t_last = now_ms();
        raw_dial(&a[i], kind, url);
        if (is_stream(kind) && i % 3 == 1)
            raw_send(&a[i], start, 1);
        else if (is_stream(kind) && i % 3 == 2)
            raw_send(&a[i], start, sizeof(start));
    }
    /* all served (the server accepts them in its own time) */
    uint64_t bound = xt_bound_ms("first request timeout", 5000, 0);
    while (stats(srv).conns < (uint64_t)n + 2 && now_ms() - t_last < bound)
        xipc_plat_sleep_us(1000);
    XT_EQ(stats(srv).conns, n + 2);
    /* the honest client goes on meanwhile; the drippers drip */
    int calls = 1;
    while (stats(srv).conns > 2 && now_ms() - t_last < bound) {
        good_call(good, calls++);
        for (int i = 2; is_stream(kind) && i < n; i += 3)
            if (xipc_plat_sock_sendv(a[i].fd, &(xipc_plat_iov){"a", 1}, 1, &(size_t){0}, 0) !=
                XIPC_OK)
                break; /* closed already */
        xipc_plat_sleep_us(20000);
    }
    uint64_t ms = now_ms() - t_last;
    xipc_rpc_server_stats st = stats(srv);
    XT_EQ(st.conns, 2);
    XT_ASSERT(ms >= 290); /* not before its time */
    XT_EQ(st.first_request_timeouts, (uint64_t)n);
    XT_EQ(st.idle_timeouts, 0);
    for (int i = 0; i < n; i++) {
        raw_expect_closed(&a[i], 5000);
        raw_close(&a[i]);
    }
    good_call(good, calls);
    good_call(quiet, 1); /* it had spoken: not closed */
    XT_EQ(stats(srv).first_request_timeouts, (uint64_t)n);
    printf("rpc_slow_test %s: %d slow connections closed after %llu ms, %d honest calls "
           "answered meanwhile\n",
           kind, n, (unsigned long long)ms, calls);
    xipc_rpc_client_close(quiet);
    xipc_rpc_client_close(good);
    xipc_rpc_server_free(srv);
}

/* ---- idle_timeout_ms ------------------------------------------------------- */

static void t_idle(const char *kind)
{
    atomic_store(&rt_gate_open, 0);
    xipc_rpc_server_opts o;
    XT_OK(xipc_rpc_server_opts_init(&o));
    o.idle_timeout_ms = 400;
    xipc_rpc_server *srv = rt_server(2, &o);
    char url[512];
    rt_serve(srv, kind, url, sizeof(url));
    xipc_rpc_client *busy = rt_dial(url);
    xipc_rpc_client *idle = rt_dial(url);
    xipc_rpc_client *slow = rt_dial(url);
    good_call(idle, 0);
    uint64_t t0 = now_ms();
    /* a call in flight for longer than the idle timeout */
    xipc_rpc_future *f;
    XT_OK(xipc_rpc_call_async(slow, "wait_gate", NULL, 0, NULL, NULL, &f));
    rt_gate_wait_for(1);

    /* idle is closed after 400 ms; busy, calling every 50 ms, is not */
    uint64_t bound = xt_bound_ms("idle timeout", 5000, 0);
    int calls = 0;
    while (stats(srv).idle_timeouts == 0 && now_ms() - t0 < bound) {
        good_call(busy, calls++);
        xipc_plat_sleep_us(50000);
    }
    uint64_t ms = now_ms() - t0;
    XT_EQ(stats(srv).idle_timeouts, 1);
    /* the server counts from the end of the call, which is a little
     * before this thread has its answer */
    XT_ASSERT(ms >= 350);
    int v;
    XT_ERR(xipc_rpc_callf(idle, "add", "II", (int64_t)1, (int64_t)2, "i", &v), XIPC_ECLOSED);
    /* 600 ms more: the call in flight keeps slow, the calls keep busy */
    uint64_t t1 = now_ms();
    while (now_ms() - t1 < 600) {
        good_call(busy, calls++);
        xipc_plat_sleep_us(50000);
    }
    XT_EQ(stats(srv).idle_timeouts, 1);
    atomic_store(&rt_gate_open, 1);
    XT_OK(xipc_rpc_future_wait(f, 30000));
    xipc_rpc_result res;
    xipc_rpc_result_init(&res);
    XT_OK(xipc_rpc_future_result(f, &res));
    char *text = NULL;
    XT_OK(xipc_rpc_result_scanf(&res, "s", &text));
    XT_ASSERT(strcmp(text, "opened") == 0);
    xipc_rpc_free(text);
    xipc_rpc_result_fini(&res);
    xipc_rpc_future_free(f);
    /* its call answered, slow is idle from then on */
    uint64_t t2 = now_ms();
    while (stats(srv).idle_timeouts == 1 && now_ms() - t2 < bound) {
        good_call(busy, calls++);
        xipc_plat_sleep_us(50000);
    }
    XT_EQ(stats(srv).idle_timeouts, 2);
    XT_ASSERT(now_ms() - t2 >= 350);
    good_call(busy, calls);
    xipc_rpc_server_stats st = stats(srv);
    XT_EQ(st.conns, 1);
    XT_EQ(st.first_request_timeouts, 0);
    printf("rpc_slow_test %s: idle connection closed after %llu ms, one with a call in "
           "flight kept, %d calls of a busy one answered\n",
           kind, (unsigned long long)ms, calls);
    xipc_rpc_client_close(slow);
    xipc_rpc_client_close(idle);
    xipc_rpc_client_close(busy);
    xipc_rpc_server_free(srv);
}

/* ---- buffers ------------------------------------------------------------- */

/* Options of a server and a client that carry BIG bytes on every scheme
 * (the shm ring is the client's choice). */
static void big_opts(xipc_rpc_server_opts *so, xipc_rpc_client_opts *co)
{
    if (so != NULL) {
        XT_OK(xipc_rpc_server_opts_init(so));
        so->max_msg = MSG_MAX;
        so->sock.max_msg = MSG_MAX; /* pipe:// */
    }
    if (co != NULL) {
        XT_OK(xipc_rpc_client_opts_init(co));
        co->max_msg = MSG_MAX;
        co->sock.max_msg = MSG_MAX;
        co->sock.ring_capacity = MSG_MAX; /* shm:// */
        co->timeout_ms = 60000;
    }
}

static xipc_rpc_client *big_dial(const char *url)
{
    xipc_rpc_client_opts co;
    xipc_rpc_client *c;
    big_opts(NULL, &co);
    XT_OK(xipc_rpc_client_dial(&c, url, &co, 10000));
    return c;
}

/* Echo BIG bytes through @p c. */
static void big_echo(xipc_rpc_client *c, const char *buf)
{
    void *back;
    size_t n;
    XT_OK(xipc_rpc_callf(c, "echo", "b", buf, (size_t)BIG, "m", &back, &n));
    XT_EQ(n, 1 + 5 + BIG); /* [bin 32 of BIG bytes] */
    xipc_rpc_free(back);
}

/* Wait (up to 5 s) until the connections hold at most @p max bytes of
 * buffers; @return what they hold. */
static size_t wait_conn_bytes(xipc_rpc_server *srv, size_t max)
{
    uint64_t t0 = now_ms(), bound = xt_bound_ms("buffers trimmed", 5000, 0);
    size_t n;
    while ((n = xipc__rpc_server_conn_bytes(srv)) > max && now_ms() - t0 < bound)
        xipc_plat_sleep_us(10000);
    return n;
}

static void t_buffers(const char *kind)
{
    xipc_rpc_server_opts so;
    big_opts(&so, NULL);
    xipc_rpc_server *srv = rt_server(2, &so);
    char url[512];
    rt_serve(srv, kind, url, sizeof(url));
    char *buf = malloc(BIG);
    XT_ASSERT(buf != NULL);
    memset(buf, 'x', BIG);
    xipc_rpc_client *c = big_dial(url);
    good_call(c, 0);
    big_echo(c, buf);
    /* idle: its receive buffer (16 MiB a moment ago) is gone */
    size_t held = wait_conn_bytes(srv, 0);
    XT_EQ(held, 0);
    good_call(c, 1); /* and it grows again as needed */
    big_echo(c, buf);
    XT_EQ(wait_conn_bytes(srv, 0), 0);
    if (is_stream(kind)) {
        /* a partial message costs about twice what was sent: the first
         * byte 1 KiB, then the buffer doubles with the bytes */
        raw_peer p;
        raw_dial(&p, kind, url);
        raw_send(&p, "\x94", 1);
        uint64_t t0 = now_ms();
        while (xipc__rpc_server_conn_bytes(srv) == 0 && now_ms() - t0 < 5000)
            xipc_plat_sleep_us(1000);
        held = xipc__rpc_server_conn_bytes(srv);
        if (!(held > 0 && held <= 1024))
            XT_FAIL("one byte: %zu bytes held", held);
        static const uint8_t hdr[] = {0x00, 0x01, 0xdb, 0x00, 0x20, 0x00, 0x00}; /* str 2 MiB */
        raw_send(&p, hdr, sizeof(hdr));
        for (size_t sent = 0; sent < (1u << 20); sent += 4096)
            raw_send(&p, buf, 4096);
        size_t want = 1 + sizeof(hdr) + (1u << 20);
        t0 = now_ms();
        while (xipc__rpc_server_conn_bytes(srv) < want && now_ms() - t0 < 5000)
            xipc_plat_sleep_us(1000);
        held = xipc__rpc_server_conn_bytes(srv);
        XT_ASSERT(held >= want && held <= 2 * want + (64u << 10));
        raw_close(&p);
        XT_EQ(wait_conn_bytes(srv, 0), 0);
    }
    good_call(c, 2);
    printf("rpc_slow_test %s: buffers freed after %u-byte echoes\n", kind, BIG);
    free(buf);
    xipc_rpc_client_close(c);
    xipc_rpc_server_free(srv);
}

/* ---- the server process's memory ----------------------------------------- */

#if defined(__GLIBC__) && !defined(SLOW_SANITIZED)
/* Anonymous memory of process @p pid in KiB (shm:// rings are shared
 * memory, not counted). */
static long anon_kib(int pid)
{
    char path[64], line[256];
    long kib = -1;
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    XT_ASSERT(f != NULL);
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "RssAnon: %ld", &kib) == 1)
            break;
    fclose(f);
    XT_ASSERT(kib >= 0);
    return kib;
}

/* The server process: serve @p url, write the bound URL to @p out, stop
 * at the end of @p ctl. */
static void rss_server(const char *url, int out, int ctl)
{
    /* glibc otherwise keeps what is freed in its arenas (up to twice its
     * mmap threshold, which rises with each large free): with a fixed
     * threshold the figure is what the server holds, not what malloc
     * caches */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    xipc_rpc_server_opts so;
    big_opts(&so, NULL);
    xipc_rpc_server *srv = rt_server(2, &so);
    char bound[512];
    XT_OK(xipc_rpc_server_serve(srv, url));
    XT_OK(xipc_rpc_server_url(srv, 0, bound, sizeof(bound)));
    XT_ASSERT(write(out, bound, sizeof(bound)) == (ssize_t)sizeof(bound));
    char b;
    while (read(ctl, &b, 1) > 0)
        ;
    xipc_rpc_server_free(srv);
    _exit(0);
}

/* Three idle clients that each sent 15 MiB cost the server no more
 * memory than none: before, each kept its 16 MiB receive buffer. */
static void t_rss(const char *kind)
{
    char url[512];
    int up[2], ctl[2];
    rt_url(url, sizeof(url), kind);
    XT_ASSERT(pipe(up) == 0 && pipe(ctl) == 0);
    fflush(stdout);
    int pid = fork();
    XT_ASSERT(pid >= 0);
    if (pid == 0) {
        close(up[0]);
        close(ctl[1]);
        rss_server(url, up[1], ctl[0]);
    }
    close(up[1]);
    close(ctl[0]);
    XT_ASSERT(read(up[0], url, sizeof(url)) == (ssize_t)sizeof(url));
    char *buf = malloc(BIG);
    XT_ASSERT(buf != NULL);
    memset(buf, 'x', BIG);
    /* warm up (the code paths, the heap), then the baseline */
    xipc_rpc_client *c[4];
    c[0] = big_dial(url);
    big_echo(c[0], buf);
    xipc_plat_sleep_us(300000);
    long base = anon_kib(pid);
    for (int i = 1; i < 4; i++) {
        c[i] = big_dial(url);
        big_echo(c[i], buf);
    }
    /* all four idle now: within a few idle turns the memory is back */
    long after = anon_kib(pid);
    uint64_t t0 = now_ms(), bound = xt_bound_ms("memory returned", 5000, 0);
    while ((after = anon_kib(pid)) > base + 4096 && now_ms() - t0 < bound)
        xipc_plat_sleep_us(50000);
    printf("rpc_slow_test %s: server anonymous memory %ld KiB with one idle client, "
           "%ld KiB with four (each sent %u bytes)\n",
           kind, base, after, BIG);
    XT_ASSERT(after <= base + 4096);
    for (int i = 0; i < 4; i++)
        xipc_rpc_client_close(c[i]);
    free(buf);
    close(ctl[1]);
    int st;
    XT_ASSERT(waitpid(pid, &st, 0) == pid);
    XT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(up[0]);
}
#endif

int main(void)
{
#if defined(__GLIBC__) && !defined(SLOW_SANITIZED)
    /* first, while this process has no thread to fork with */
    t_rss("shm");
    t_rss("unix");
#else
    printf("rpc_slow_test: no memory figures under a sanitizer (freed memory is kept)\n");
#endif
    for (size_t i = 0; i < NKINDS; i++) {
        t_first_request(kinds[i]);
        t_idle(kinds[i]);
        t_buffers(kinds[i]);
    }
    printf("rpc_slow_test ok\n");
    return 0;
}
