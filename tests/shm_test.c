/*
 * shm:// between processes: handshake, many clients, oversize, full ring,
 * timeouts, peer death, reclaim after a crash, clean-up, no CPU while
 * blocked, refusal of objects with wrong permissions.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/platform.h"
#include "run32.h"
#include "test.h"

static char url[96];
static char name[64];

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Entries of folder @p dir named @p prefix + this test's name... */
static int count_named(const char *dir, const char *prefix)
{
    char want[160];
    snprintf(want, sizeof(want), "%s%s", prefix, name);
    return xt_count_prefix(dir, want);
}

/* A listener's socket file and pid file, in <rundir>/shm: 2 while it
 * listens (or after it crashed), 0 once closed. Offers wait in the
 * kernel's queue and connections have no name: neither shows here. */
static int rundir_entries(void)
{
    char dir[256];
    XT_OK(xipc_plat_rundir(dir, sizeof(dir), "shm"));
    return count_named(dir, "");
}

/* Everything of this test's name: shm:// puts nothing in /dev/shm. */
static int shm_leftovers(void)
{
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "xipc.%u.", (unsigned)geteuid());
    return rundir_entries() + count_named("/dev/shm", prefix);
}

static void set_name(const char *what)
{
    snprintf(name, sizeof(name), "shmtest-%d-%s", (int)getpid(), what);
    snprintf(url, sizeof(url), "shm://%s", name);
}

static int wait_child(pid_t pid)
{
    int st;
    XT_ASSERT(waitpid(pid, &st, 0) == pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* In a child: exit with 10 + error number on failure. */
#define CHILD_OK(expr)                                                         \
    do {                                                                       \
        xipc_err c_rv_ = (expr);                                               \
        if (c_rv_ != XIPC_OK) {                                                \
            fprintf(stderr, "child: %s: %s\n", #expr, xipc_strerror(c_rv_));   \
            _exit(10 + (int)c_rv_);                                            \
        }                                                                      \
    } while (0)

static void test_echo(void)
{
    set_name("echo");
    xipc_sock *l, *c;
    XT_OK(xipc_listen(&l, url, NULL));
    pid_t pid = fork();
    if (pid == 0) {
        xipc_sock *s;
        char buf[256];
        size_t n;
        CHILD_OK(xipc_dial(&s, url, NULL, 2000));
        for (int i = 0; i < 1000; i++) {
            int len = snprintf(buf, sizeof(buf), "message %d", i);
            CHILD_OK(xipc_send(s, buf, (size_t)len, 2000));
            CHILD_OK(xipc_recv(s, buf, sizeof(buf), &n, 2000));
            char want[64];
            snprintf(want, sizeof(want), "echo message %d", i);
            if (n != strlen(want) || memcmp(buf, want, n) != 0)
                _exit(3);
        }
        xipc_close(s);
        _exit(0);
    }
    XT_OK(xipc_accept(l, &c, 5000));
    uint32_t peer;
    XT_OK(xipc_peer_pid(c, &peer));
    XT_EQ(peer, pid);
    char buf[256];
    size_t n;
    for (int i = 0; i < 1000; i++) {
        memcpy(buf, "echo ", 5);
        XT_OK(xipc_recv(c, buf + 5, sizeof(buf) - 5, &n, 5000));
        XT_OK(xipc_send(c, buf, n + 5, 5000));
    }
    XT_ERR(xipc_recv(c, buf, sizeof(buf), &n, 5000), XIPC_ECLOSED);
    XT_EQ(wait_child(pid), 0);
    xipc_close(c);
    xipc_close(l);
    XT_EQ(shm_leftovers(), 0);
}

static void test_many_clients(void)
{
    enum { CLIENTS = 12, MSGS = 2000 };
    set_name("many");
    xipc_opts o;
    XT_OK(xipc_opts_init(&o));
    o.backlog = 4; /* fewer slots than clients: dialers must wait their turn */
    xipc_sock *l;
    XT_OK(xipc_listen(&l, url, &o));
    pid_t pids[CLIENTS];
    for (int k = 0; k < CLIENTS; k++) {
        pids[k] = fork();
        if (pids[k] == 0) {
            xipc_sock *s;
            CHILD_OK(xipc_dial(&s, url, NULL, 10000));
            for (uint32_t i = 0; i < MSGS; i++) {
                uint32_t m[2] = {(uint32_t)k, i};
                CHILD_OK(xipc_send(s, m, sizeof(m), 10000));
            }
            xipc_close(s);
            _exit(0);
        }
    }
    xipc_sock *conns[CLIENTS];
    for (int k = 0; k < CLIENTS; k++)
        XT_OK(xipc_accept(l, &conns[k], 10000));
    for (int k = 0; k < CLIENTS; k++) {
        uint32_t who = UINT32_MAX, m[2];
        size_t n;
        for (uint32_t i = 0; i < MSGS; i++) {
            XT_OK(xipc_recv(conns[k], m, sizeof(m), &n, 10000));
            XT_EQ(n, sizeof(m));
            if (i == 0)
                who = m[0];
            XT_EQ(m[0], who); /* each connection carries one client only */
            XT_EQ(m[1], i);   /* in order, none lost */
        }
        XT_ERR(xipc_recv(conns[k], m, sizeof(m), &n, 10000), XIPC_ECLOSED);
        xipc_close(conns[k]);
    }
    for (int k = 0; k < CLIENTS; k++)
        XT_EQ(wait_child(pids[k]), 0);
    xipc_close(l);
    XT_EQ(shm_leftovers(), 0);
}

static void *dial_thread(void *arg)
{
    xipc_sock **out = arg;
    xipc_opts o;
    xipc_opts_init(&o);
    o.ring_capacity = 4096;
    xipc_err rv = xipc_dial(out, url, &o, 5000);
    return (void *)(intptr_t)rv;
}

static void local_pair(xipc_sock **l, xipc_sock **srv, xipc_sock **cli)
{
    XT_OK(xipc_listen(l, url, NULL));
    pthread_t th;
    XT_ASSERT(pthread_create(&th, NULL, dial_thread, cli) == 0);
    XT_OK(xipc_accept(*l, srv, 5000));
    void *rv;
    pthread_join(th, &rv);
    XT_OK((xipc_err)(intptr_t)rv);
}

static void test_sizes_and_timeouts(void)
{
    set_name("sizes");
    xipc_sock *l, *srv, *cli;
    local_pair(&l, &srv, &cli);
    static uint8_t buf[8192];
    size_t n;
    /* ring of 4096: the largest message is 4080 bytes (ring.h) */
    XT_ERR(xipc_send(cli, buf, 4081, 0), XIPC_EMSGSIZE);
    XT_ERR(xipc_send(cli, buf, 100000, -1), XIPC_EMSGSIZE);
    memset(buf, 0xab, 4080);
    XT_OK(xipc_send(cli, buf, 4080, 0));
    /* the ring is full now: a send blocks until its timeout */
    uint64_t t0 = now_ms();
    XT_ERR(xipc_send(cli, buf, 1, 150), XIPC_ETIMEDOUT);
    XT_ASSERT(now_ms() - t0 >= 140);
    XT_ERR(xipc_send(cli, buf, 1, 0), XIPC_ETIMEDOUT);
    memset(buf, 0, sizeof(buf));
    XT_OK(xipc_recv(srv, buf, sizeof(buf), &n, 0));
    XT_EQ(n, 4080);
    XT_EQ(buf[0], 0xab);
    XT_EQ(buf[4079], 0xab);
    /* empty: recv times out */
    t0 = now_ms();
    XT_ERR(xipc_recv(srv, buf, sizeof(buf), &n, 120), XIPC_ETIMEDOUT);
    XT_ASSERT(now_ms() - t0 >= 110);
    /* zero-length messages keep their boundary */
    XT_OK(xipc_send(cli, buf, 0, 0));
    XT_OK(xipc_send(cli, "x", 1, 0));
    XT_OK(xipc_recv(srv, buf, sizeof(buf), &n, 0));
    XT_EQ(n, 0);
    XT_OK(xipc_recv(srv, buf, sizeof(buf), &n, 0));
    XT_EQ(n, 1);
    /* zero copy both ways */
    void *w;
    XT_OK(xipc_reserve(srv, 64, &w, 0));
    memcpy(w, "zero-copy", 9);
    XT_OK(xipc_commit(srv, 9));
    const void *r;
    XT_OK(xipc_peek(cli, &r, &n, 0));
    XT_EQ(n, 9);
    XT_ASSERT(memcmp(r, "zero-copy", 9) == 0);
    XT_OK(xipc_release(cli));
    XT_ERR(xipc_release(cli), XIPC_ESTATE);
    /* listener calls on a connection and vice versa */
    XT_ERR(xipc_send(l, buf, 1, 0), XIPC_EINVAL);
    xipc_sock *x;
    XT_ERR(xipc_accept(srv, &x, 0), XIPC_EINVAL);
    XT_ERR(xipc_accept(l, &x, 0), XIPC_ETIMEDOUT);
    xipc_close(cli);
    XT_ERR(xipc_recv(srv, buf, sizeof(buf), &n, 1000), XIPC_ECLOSED);
    XT_ERR(xipc_send(srv, buf, 1, 1000), XIPC_ECLOSED);
    xipc_close(srv);
    xipc_close(l);
    XT_EQ(shm_leftovers(), 0);
}

static void test_refused_and_in_use(void)
{
    set_name("refused");
    xipc_sock *s, *l, *l2;
    XT_ERR(xipc_dial(&s, url, NULL, 100), XIPC_ECONNREFUSED);
    XT_OK(xipc_listen(&l, url, NULL));
    XT_ERR(xipc_listen(&l2, url, NULL), XIPC_EADDRINUSE);
    /* a dial completes once its offer is queued, like connect() into a
     * backlog; what it sent before closing arrives after the accept */
    XT_OK(xipc_dial(&s, url, NULL, 150));
    XT_EQ(shm_leftovers(), 2); /* the listener's socket and pid file */
    XT_OK(xipc_send(s, "bye", 3, 0));
    xipc_close(s);
    XT_OK(xipc_accept(l, &s, 0));
    XT_EQ(shm_leftovers(), 2); /* the connection has no name */
    char bye[8];
    size_t bn;
    XT_OK(xipc_recv(s, bye, sizeof(bye), &bn, 0));
    XT_EQ(bn, 3);
    XT_ERR(xipc_recv(s, bye, sizeof(bye), &bn, 0), XIPC_ECLOSED);
    xipc_close(s);
    /* an offer left queued at the listener's close goes with it */
    XT_OK(xipc_dial(&s, url, NULL, 150));
    xipc_close(s);
    xipc_close(l);
    XT_EQ(shm_leftovers(), 0);
    /* a full backlog makes the dial wait until its timeout */
    xipc_opts o;
    XT_OK(xipc_opts_init(&o));
    o.backlog = 1;
    XT_OK(xipc_listen(&l, url, &o));
    xipc_sock *s2;
    XT_OK(xipc_dial(&s, url, NULL, 150));
    uint64_t t0 = now_ms();
    XT_ERR(xipc_dial(&s2, url, NULL, 150), XIPC_ETIMEDOUT);
    XT_ASSERT(now_ms() - t0 >= 140);
    /* data sent before the accept is there after it */
    XT_OK(xipc_send(s, "early", 5, 0));
    xipc_sock *a;
    XT_OK(xipc_accept(l, &a, 0));
    char buf[8];
    size_t n;
    XT_OK(xipc_recv(a, buf, sizeof(buf), &n, 0));
    XT_EQ(n, 5);
    /* a listener that closes with an offer queued refuses it */
    XT_OK(xipc_dial(&s2, url, NULL, 150));
    xipc_close(l);
    XT_ERR(xipc_recv(s2, buf, sizeof(buf), &n, 1000), XIPC_ECLOSED);
    XT_ERR(xipc_send(s2, buf, 1, 1000), XIPC_ECLOSED);
    xipc_close(s2);
    xipc_close(a);
    xipc_close(s);
    XT_EQ(shm_leftovers(), 0);
    XT_ERR(xipc_dial(&s, "shm://../etc", NULL, 0), XIPC_EINVAL);
    XT_ERR(xipc_listen(&l, "shm://a/b", NULL), XIPC_EINVAL);
}

/* A peer killed with SIGKILL turns blocking calls into ECLOSED. */
static void test_peer_death(void)
{
    set_name("death");
    for (int side = 0; side < 2; side++) {
        xipc_sock *l, *c;
        XT_OK(xipc_listen(&l, url, NULL));
        pid_t pid = fork();
        if (pid == 0) {
            xipc_sock *s;
            CHILD_OK(xipc_dial(&s, url, NULL, 2000));
            CHILD_OK(xipc_send(s, "hello", 5, 2000));
            pause();
            _exit(0);
        }
        XT_OK(xipc_accept(l, &c, 5000));
        char buf[64];
        size_t n;
        XT_OK(xipc_recv(c, buf, sizeof(buf), &n, 5000));
        XT_EQ(n, 5);
        /* side 0: blocked receiver; side 1: sender blocked on a full ring */
        if (side == 1) {
            static uint8_t big[60000];
            while (xipc_send(c, big, sizeof(big), 0) == XIPC_OK)
                ;
        }
        usleep(50000);
        kill(pid, SIGKILL);
        uint64_t t0 = now_ms();
        if (side == 0)
            XT_ERR(xipc_recv(c, buf, sizeof(buf), &n, 5000), XIPC_ECLOSED);
        else
            XT_ERR(xipc_send(c, buf, 60000, 5000), XIPC_ECLOSED);
        uint64_t dt = now_ms() - t0;
        printf("  peer death noticed by the %s after %llu ms\n",
               side ? "sender" : "receiver", (unsigned long long)dt);
        XT_ASSERT(dt < xt_bound_ms("peer death", 1000, 0)); /* functional, not speed */
        XT_EQ(wait_child(pid), 128 + SIGKILL);
        xipc_close(c);
        xipc_close(l);
    }
    XT_EQ(shm_leftovers(), 0);
}

/* A listener that crashed leaves its socket and pid files; the next one
 * reclaims the name, and the offer queued to the dead one is gone. */
static void test_reclaim_after_crash(void)
{
    set_name("reclaim");
    int up[2];
    XT_ASSERT(pipe(up) == 0);
    pid_t lp = fork();
    if (lp == 0) {
        xipc_sock *l;
        CHILD_OK(xipc_listen(&l, url, NULL));
        if (write(up[1], "l", 1) != 1)
            _exit(5);
        pause();
        _exit(0);
    }
    char b;
    XT_EQ(read(up[0], &b, 1), 1);
    /* a client offers a connection, and dies before it is accepted */
    pid_t cp = fork();
    if (cp == 0) {
        xipc_sock *s;
        CHILD_OK(xipc_dial(&s, url, NULL, -1));
        if (write(up[1], "c", 1) != 1)
            _exit(5);
        pause();
        _exit(0);
    }
    XT_EQ(read(up[0], &b, 1), 1);
    XT_EQ(rundir_entries(), 2);
    kill(cp, SIGKILL);
    kill(lp, SIGKILL);
    wait_child(cp);
    wait_child(lp);
    close(up[0]);
    close(up[1]);
    XT_EQ(rundir_entries(), 2); /* the crash left both behind */
    xipc_sock *l, *s;
    XT_OK(xipc_listen(&l, url, NULL)); /* reclaimed, no manual clean-up */
    XT_EQ(shm_leftovers(), 2);          /* ours now */
    XT_ERR(xipc_accept(l, &s, 50), XIPC_ETIMEDOUT);
    xipc_close(l);
    XT_EQ(shm_leftovers(), 0);
}

/* A receiver blocked for a while uses (almost) no CPU: the CPU time of
 * the receive alone, measured in the child around it (the child's start
 * and dial, slow under valgrind, are not the point). */
static void test_blocked_uses_no_cpu(void)
{
    set_name("idle");
    xipc_sock *l, *c;
    int fds[2];
    XT_ASSERT(pipe(fds) == 0);
    XT_OK(xipc_listen(&l, url, NULL));
    pid_t pid = fork();
    if (pid == 0) {
        xipc_sock *s;
        char buf[16];
        size_t n;
        CHILD_OK(xipc_dial(&s, url, NULL, 2000));
        double t0 = xt_cpu_ms(RUSAGE_SELF);
        xipc_err rv = xipc_recv(s, buf, sizeof(buf), &n, 1000);
        double ms = xt_cpu_ms(RUSAGE_SELF) - t0;
        if (write(fds[1], &ms, sizeof(ms)) != (ssize_t)sizeof(ms))
            _exit(21);
        _exit(rv == XIPC_ETIMEDOUT ? 0 : 20);
    }
    close(fds[1]);
    XT_OK(xipc_accept(l, &c, 5000));
    int st;
    XT_ASSERT(waitpid(pid, &st, 0) == pid);
    XT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    double cpu_ms = -1;
    XT_ASSERT(read(fds[0], &cpu_ms, sizeof(cpu_ms)) == (ssize_t)sizeof(cpu_ms));
    close(fds[0]);
    printf("  1000 ms blocked in recv cost %.1f ms of CPU\n", cpu_ms);
    XT_ASSERT(cpu_ms >= 0 && cpu_ms < 150); /* spinning through it would cost ~1000 */
    xipc_close(c);
    xipc_close(l);
}

/*
 * What stands at a listener's path and is not one. The runtime folder is
 * this process's own for the test (XDG_RUNTIME_DIR), so that other tests
 * running meanwhile never see its folders opened up.
 */
static void test_refuse_foreign(void)
{
    set_name("foreign");
    char tmp[] = "/tmp/shmtest-rundir-XXXXXX", dir[300], path[400];
    XT_ASSERT(mkdtemp(tmp) != NULL);
    const char *old = getenv("XDG_RUNTIME_DIR");
    char *saved = old != NULL ? strdup(old) : NULL;
    XT_ASSERT(setenv("XDG_RUNTIME_DIR", tmp, 1) == 0);
    XT_OK(xipc_plat_rundir(dir, sizeof(dir), "shm"));
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    xipc_sock *s, *l;
    /* a folder others may enter is not ours to trust */
    XT_ASSERT(chmod(dir, 0755) == 0);
    XT_ERR(xipc_dial(&s, url, NULL, 100), XIPC_EPERM);
    XT_ERR(xipc_listen(&l, url, NULL), XIPC_EPERM);
    XT_ASSERT(chmod(dir, 0700) == 0);
    /* a plain file at the path: nobody listens, and it is not replaced */
    FILE *f = fopen(path, "w");
    XT_ASSERT(f != NULL && fclose(f) == 0);
    XT_ERR(xipc_dial(&s, url, NULL, 100), XIPC_ECONNREFUSED);
    XT_ERR(xipc_listen(&l, url, NULL), XIPC_EADDRINUSE);
    XT_ASSERT(unlink(path) == 0);
    /* a stream socket listening there: another kind of endpoint */
    xipc_plat_sock fd;
    XT_OK(xipc_plat_unix_listen(path, 0, 4, &fd));
    XT_ERR(xipc_dial(&s, url, NULL, 100), XIPC_ECONNREFUSED);
    XT_ERR(xipc_listen(&l, url, NULL), XIPC_EADDRINUSE);
    xipc_plat_sock_close(fd);
    XT_OK(xipc_listen(&l, url, NULL)); /* stale now: replaced */
    xipc_close(l);
    XT_EQ(shm_leftovers(), 0);
    if (saved != NULL)
        setenv("XDG_RUNTIME_DIR", saved, 1);
    else
        unsetenv("XDG_RUNTIME_DIR");
    free(saved);
    char sub[400];
    snprintf(sub, sizeof(sub), "%s/xipc", tmp);
    XT_ASSERT(rmdir(dir) == 0 && rmdir(sub) == 0 && rmdir(tmp) == 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    test_echo();
    test_many_clients();
    test_sizes_and_timeouts();
    test_refused_and_in_use();
    test_peer_death();
    test_reclaim_after_crash();
    test_blocked_uses_no_cpu();
    test_refuse_foreign();
    printf("shm_test ok\n");
    return 0;
}
