/*
 * mq://: names, no receiver, priorities, timeouts, a message larger than
 * the caller's buffer kept, limits, a closed or killed receiver seen by
 * senders (ECLOSED), reclaim after SIGKILL, a second receiver refused,
 * permissions, a forked sender, and nothing left after close.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/platform.h"
#include "sock_util.h"

static char url[128];
static char name[80];
static char obj[128]; /* the queue: "/xipc.<uid>.NAME" */

static void set_name(const char *what)
{
    snprintf(name, sizeof(name), "mqtest-%d-%s", (int)getpid(), what);
    snprintf(url, sizeof(url), "mq://%s", name);
    snprintf(obj, sizeof(obj), "/xipc.%u.%s", (unsigned)geteuid(), name);
}

static void pid_path(char *buf, size_t cap)
{
    char dir[512];
    XT_OK(xipc_plat_rundir(dir, sizeof(dir), "mq"));
    snprintf(buf, cap, "%s/%s.pid", dir, name);
}

/* 1 when the queue of NAME exists. */
static int queue_exists(void)
{
    mqd_t d = mq_open(obj, O_RDONLY);
    if (d == (mqd_t)-1) {
        XT_ASSERT(errno == ENOENT);
        return 0;
    }
    mq_close(d);
    return 1;
}

static int pidfile_exists(void)
{
    char p[600];
    pid_path(p, sizeof(p));
    struct stat st;
    return stat(p, &st) == 0;
}

/* Nothing of NAME is left: no queue, no pid file. */
static void assert_gone(void)
{
    XT_ASSERT(!queue_exists());
    XT_ASSERT(!pidfile_exists());
}

static void test_names(void)
{
    const char *bad[] = {"mq://../x", "mq://a/b", "mq://.q", "mq://a b"};
    xt_check_bad_urls(bad, sizeof(bad) / sizeof(bad[0]));
    set_name("none");
    xipc_sock *c;
    XT_ERR(xipc_dial(&c, url, NULL, 0), XIPC_ECONNREFUSED);
    assert_gone();
    printf("names, no receiver ok\n");
}

static void test_priorities(void)
{
    set_name("prio");
    xipc_sock *r, *s;
    XT_OK(xipc_listen(&r, url, NULL));
    XT_OK(xipc_dial(&s, url, NULL, 0));
    static const unsigned in[] = {0, 5, 31, 2}, want[] = {31, 5, 2, 0};
    for (int i = 0; i < 4; i++) {
        char m[8];
        snprintf(m, sizeof(m), "p%u", in[i]);
        XT_OK(xipc_send_prio(s, m, strlen(m) + 1, in[i], 0));
    }
    XT_ERR(xipc_send_prio(s, "x", 1, 32, 0), XIPC_EINVAL);
    for (int i = 0; i < 4; i++) {
        char m[8192], expect[8];
        size_t len;
        unsigned prio = 99;
        XT_OK(xipc_recv_prio(r, m, sizeof(m), &len, &prio, 1000));
        XT_EQ(prio, want[i]);
        snprintf(expect, sizeof(expect), "p%u", want[i]);
        XT_ASSERT(len == strlen(expect) + 1 && strcmp(m, expect) == 0);
    }
    /* one priority: first in, first out; plain send is priority 0 */
    for (uint32_t i = 0; i < 10; i++)
        XT_OK(xipc_send(s, &i, sizeof(i), 0));
    for (uint32_t i = 0; i < 10; i++) {
        uint32_t v;
        size_t len;
        unsigned prio = 99;
        XT_OK(xipc_recv_prio(r, &v, sizeof(v), &len, &prio, 1000));
        XT_ASSERT(len == sizeof(v) && v == i && prio == 0);
    }
    /* who may do what; url; descriptors */
    char u[128], b[16];
    size_t len;
    XT_ERR(xipc_send(r, "x", 1, 0), XIPC_ENOTSUP);
    XT_ERR(xipc_recv(s, b, sizeof(b), &len, 0), XIPC_ENOTSUP);
    XT_OK(xipc_sock_url(r, u, sizeof(u)));
    XT_ASSERT(strcmp(u, url) == 0);
    XT_OK(xipc_sock_url(s, u, sizeof(u)));
    XT_ASSERT(strcmp(u, url) == 0);
    intptr_t rfd, sfd;
    XT_OK(xipc_sock_fd(r, &rfd));
    XT_OK(xipc_sock_fd(s, &sfd));
    struct pollfd p = {(int)rfd, POLLIN, 0};
    XT_EQ(poll(&p, 1, 0), 0);
    XT_OK(xipc_send(s, "z", 1, 0));
    XT_EQ(poll(&p, 1, 5000), 1);
    XT_OK(xipc_recv(r, b, sizeof(b), &len, 0));
    uint32_t pid = 0;
    XT_OK(xipc_peer_pid(s, &pid));
    XT_EQ(pid, getpid());
    xipc_stats st;
    XT_OK(xipc_stats_get(s, &st));
    XT_EQ(st.sent, 15);
    XT_OK(xipc_stats_get(r, &st));
    XT_EQ(st.received, 15);
    xipc_close(s);
    xipc_close(r);
    assert_gone();
    printf("priorities ok\n");
}

static void test_timeouts(void)
{
    set_name("time");
    xipc_sock *r, *s;
    XT_OK(xipc_listen(&r, url, NULL));
    XT_OK(xipc_dial(&s, url, NULL, 0));
    int n = 0;
    while (xipc_send(s, &n, sizeof(n), 0) == XIPC_OK)
        n++;
    XT_EQ(n, 10); /* the default depth */
    XT_ERR(xipc_send(s, &n, sizeof(n), 0), XIPC_ETIMEDOUT);
    XT_TIMES_OUT(xipc_send(s, &n, sizeof(n), 100));
    int v;
    size_t len;
    for (int i = 0; i < 10; i++) {
        XT_OK(xipc_recv(r, &v, sizeof(v), &len, 0));
        XT_EQ(v, i);
    }
    XT_ERR(xipc_recv(r, &v, sizeof(v), &len, 0), XIPC_ETIMEDOUT);
    XT_TIMES_OUT(xipc_recv(r, &v, sizeof(v), &len, 100));
    xipc_close(s);
    xipc_close(r);
    assert_gone();
    printf("timeouts ok\n");
}

static void test_sizes(void)
{
    set_name("size");
    uint32_t dmax, smax;
    xipc_plat_mq_limits(&dmax, &smax);
    xipc_opts o;
    xipc_sock *r, *s;
    XT_OK(xipc_opts_init(&o));
    o.max_msg = smax + 1;
    XT_ERR(xipc_listen(&r, url, &o), XIPC_EINVAL);
    o.max_msg = 0;
    o.mq_depth = dmax + 1;
    XT_ERR(xipc_listen(&r, url, &o), XIPC_EINVAL);
    assert_gone();
    o.mq_depth = 4;
    o.max_msg = 300;
    XT_OK(xipc_listen(&r, url, &o));
    XT_OK(xipc_dial(&s, url, NULL, 0));
    uint8_t out[301], in[301];
    for (int i = 0; i < 301; i++)
        out[i] = (uint8_t)(i * 13 + 1);
    XT_ERR(xipc_send(s, out, 301, 0), XIPC_EMSGSIZE);
    XT_OK(xipc_send_prio(s, out, 300, 1, 0));
    XT_OK(xipc_send_prio(s, out, 0, 0, 0));
    XT_OK(xipc_send_prio(s, out, 7, 0, 0));
    /* too small a buffer: EMSGSIZE with the size, as often as asked */
    size_t len = 0;
    unsigned prio;
    XT_ERR(xipc_recv(r, in, 10, &len, 1000), XIPC_EMSGSIZE);
    XT_EQ(len, 300);
    /* a message of higher priority arriving now does not overtake it */
    XT_OK(xipc_send_prio(s, out, 1, 9, 0));
    XT_ERR(xipc_recv(r, NULL, 0, &len, 0), XIPC_EMSGSIZE);
    XT_EQ(len, 300);
    memset(in, 0, sizeof(in));
    XT_OK(xipc_recv_prio(r, in, 300, &len, &prio, 0));
    XT_ASSERT(len == 300 && prio == 1 && memcmp(in, out, 300) == 0);
    XT_OK(xipc_recv_prio(r, in, 1, &len, &prio, 0));
    XT_ASSERT(len == 1 && prio == 9 && in[0] == out[0]);
    XT_OK(xipc_recv(r, NULL, 0, &len, 0)); /* zero bytes, small buffer */
    XT_EQ(len, 0);
    XT_OK(xipc_recv(r, in, sizeof(in), &len, 0)); /* large buffer: direct */
    XT_ASSERT(len == 7 && memcmp(in, out, 7) == 0);
    XT_ERR(xipc_recv(r, in, sizeof(in), &len, 0), XIPC_ETIMEDOUT);
    /* the depth asked for */
    int n = 0;
    while (xipc_send(s, out, 1, 0) == XIPC_OK)
        n++;
    XT_EQ(n, 4);
    xipc_close(s);
    xipc_close(r);
    assert_gone();
    printf("sizes ok\n");
}

/* A sender learns that its receiver closed: at once, and while blocked. */
static void test_closed(void)
{
    set_name("closed");
    xipc_sock *r, *s;
    XT_OK(xipc_listen(&r, url, NULL));
    XT_OK(xipc_dial(&s, url, NULL, 0));
    XT_OK(xipc_send(s, "a", 1, 0));
    xipc_close(r);
    XT_ERR(xipc_send(s, "b", 1, 0), XIPC_ECLOSED);
    /* a new receiver under the name is another queue: still closed */
    XT_OK(xipc_listen(&r, url, NULL));
    XT_ERR(xipc_send(s, "c", 1, -1), XIPC_ECLOSED);
    xipc_close(s);
    size_t len;
    char b[8];
    XT_ERR(xipc_recv(r, b, sizeof(b), &len, 0), XIPC_ETIMEDOUT);

    /* a child blocked forever on a full queue gets ECLOSED when we close */
    int ready[2];
    XT_ASSERT(pipe(ready) == 0);
    pid_t pid = fork();
    XT_ASSERT(pid >= 0);
    if (pid == 0) {
        xipc_sock *cs;
        if (xipc_dial(&cs, url, NULL, 0) != XIPC_OK)
            _exit(2);
        while (xipc_send(cs, "f", 1, 0) == XIPC_OK)
            ;
        char c = 'r';
        if (write(ready[1], &c, 1) != 1)
            _exit(3);
        xipc_err rv = xipc_send(cs, "g", 1, -1);
        xipc_close(cs);
        _exit(rv == XIPC_ECLOSED ? 0 : 10 + (int)rv);
    }
    char c;
    XT_EQ(read(ready[0], &c, 1), 1);
    usleep(50000); /* let it block */
    xipc_close(r);
    XT_EQ(xt_wait_child(pid), 0);
    close(ready[0]);
    close(ready[1]);
    assert_gone();
    printf("closed receiver ok\n");
}

static void test_killed(void)
{
    set_name("killed");
    int ready[2];
    XT_ASSERT(pipe(ready) == 0);
    pid_t pid = xt_listen_child(url, ready);
    xipc_sock *s, *r, *r2, *s2;
    XT_OK(xipc_dial(&s, url, NULL, 0));
    uint32_t peer = 0;
    XT_OK(xipc_peer_pid(s, &peer));
    XT_EQ(peer, pid);
    XT_OK(xipc_send(s, "a", 1, 0));
    /* alive: nobody else may take the name */
    XT_ERR(xipc_listen(&r, url, NULL), XIPC_EADDRINUSE);
    kill(pid, SIGKILL);
    XT_EQ(xt_wait_child(pid), 128 + SIGKILL);
    XT_ASSERT(queue_exists()); /* left behind */
    XT_ERR(xipc_send(s, "b", 1, 0), XIPC_ECLOSED);
    XT_ERR(xipc_dial(&s2, url, NULL, 0), XIPC_ECONNREFUSED);
    /* the next receiver reclaims it: a fresh, empty queue */
    XT_OK(xipc_listen(&r, url, NULL));
    XT_ERR(xipc_listen(&r2, url, NULL), XIPC_EADDRINUSE);
    char b[16];
    size_t len;
    XT_ERR(xipc_recv(r, b, sizeof(b), &len, 0), XIPC_ETIMEDOUT);
    XT_ERR(xipc_send(s, "c", 1, 0), XIPC_ECLOSED);
    XT_OK(xipc_dial(&s2, url, NULL, 0));
    XT_OK(xipc_send(s2, "d", 1, 0));
    XT_OK(xipc_recv(r, b, sizeof(b), &len, 1000));
    XT_ASSERT(len == 1 && b[0] == 'd');
    xipc_close(s);
    xipc_close(s2);
    xipc_close(r);
    assert_gone();

    /* a second receiver in another process while the first lives */
    XT_OK(xipc_listen(&r, url, NULL));
    pid = fork();
    XT_ASSERT(pid >= 0);
    if (pid == 0)
        _exit(xipc_listen(&r2, url, NULL) == XIPC_EADDRINUSE ? 0 : 1);
    XT_EQ(xt_wait_child(pid), 0);
    xipc_close(r);
    assert_gone();
    pid = xt_listen_child(url, ready);
    XT_ERR(xipc_listen(&r2, url, NULL), XIPC_EADDRINUSE);
    kill(pid, SIGKILL);
    XT_EQ(xt_wait_child(pid), 128 + SIGKILL);
    XT_OK(xipc_listen(&r2, url, NULL));
    xipc_close(r2);
    assert_gone();
    close(ready[0]);
    close(ready[1]);
    printf("killed receiver, reclaim, address in use ok\n");
}

static void test_permissions(void)
{
    set_name("perm");
    char p[600];
    pid_path(p, sizeof(p)); /* the folders exist before the umask games */
    mode_t old = umask(0777); /* the strictest umask must not lock us out */
    xipc_sock *r, *s;
    XT_OK(xipc_listen(&r, url, NULL));
    umask(0); /* nor the widest open it up */
    struct stat st;
    char dev[200];
    snprintf(dev, sizeof(dev), "/dev/mqueue%s", obj);
    if (stat("/dev/mqueue", &st) == 0 && stat(dev, &st) == 0) {
        XT_EQ(st.st_mode & 0777, 0600);
        XT_EQ(st.st_uid, geteuid());
    } else { /* mqueue not mounted here: ask the descriptor */
        mqd_t d = mq_open(obj, O_RDONLY);
        XT_ASSERT(d != (mqd_t)-1);
        XT_ASSERT(fstat((int)d, &st) == 0);
        XT_EQ(st.st_mode & 0777, 0600);
        XT_EQ(st.st_uid, geteuid());
        mq_close(d);
    }
    XT_ASSERT(stat(p, &st) == 0);
    XT_EQ(st.st_mode & 0777, 0600);
    FILE *f = fopen(p, "r");
    XT_ASSERT(f != NULL);
    unsigned pid = 0;
    XT_EQ(fscanf(f, "%u", &pid), 1);
    fclose(f);
    XT_EQ(pid, getpid());
    umask(old);
    xipc_close(r);
    assert_gone();

    /* a queue of our name open to others is refused to senders */
    struct mq_attr a;
    memset(&a, 0, sizeof(a));
    a.mq_maxmsg = 2;
    a.mq_msgsize = 16;
    mqd_t d = mq_open(obj, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
    XT_ASSERT(d != (mqd_t)-1);
    XT_ASSERT(fchmod((int)d, 0666) == 0);
    XT_ERR(xipc_dial(&s, url, NULL, 0), XIPC_EPERM);
    /* and a receiver will not reclaim it */
    XT_ERR(xipc_listen(&r, url, NULL), XIPC_EPERM);
    mq_close(d);
    mq_unlink(obj);
    assert_gone();
    printf("permissions ok\n");
}

/* A forked sender, all sizes and priorities, FIFO within a priority. */
static void test_cross_process(void)
{
    set_name("fork");
    xipc_sock *r;
    XT_OK(xipc_listen(&r, url, NULL));
    const uint32_t n = 5000;
    pid_t pid = fork();
    XT_ASSERT(pid >= 0);
    if (pid == 0) {
        xipc_sock *s;
        if (xipc_dial(&s, url, NULL, 0) != XIPC_OK)
            _exit(2);
        uint8_t m[8192];
        for (uint32_t i = 0; i < n; i++) {
            size_t len = 4 + (i * 37u) % (sizeof(m) - 3);
            memcpy(m, &i, 4);
            for (size_t k = 4; k < len; k++)
                m[k] = (uint8_t)(i + k);
            if (xipc_send_prio(s, m, len, i % 3, 5000) != XIPC_OK)
                _exit(3);
        }
        xipc_close(s);
        _exit(0);
    }
    uint8_t m[8192];
    uint32_t last[3] = {0, 0, 0}, count[3] = {0, 0, 0};
    for (uint32_t got = 0; got < n; got++) {
        size_t len;
        unsigned prio;
        XT_OK(xipc_recv_prio(r, m, sizeof(m), &len, &prio, 5000));
        uint32_t i;
        XT_ASSERT(len >= 4 && prio < 3);
        memcpy(&i, m, 4);
        XT_EQ(prio, i % 3);
        XT_EQ(len, 4 + (i * 37u) % (sizeof(m) - 3));
        for (size_t k = 4; k < len; k++)
            XT_ASSERT(m[k] == (uint8_t)(i + k));
        XT_ASSERT(count[prio] == 0 || i > last[prio]);
        last[prio] = i;
        count[prio]++;
    }
    XT_EQ(xt_wait_child(pid), 0);
    XT_EQ(count[0] + count[1] + count[2], n);
    size_t len;
    XT_ERR(xipc_recv(r, m, sizeof(m), &len, 0), XIPC_ETIMEDOUT);
    xipc_close(r);
    assert_gone();
    printf("cross-process ok\n");
}

int main(void)
{
    test_names();
    test_priorities();
    test_timeouts();
    test_sizes();
    test_closed();
    test_killed();
    test_permissions();
    test_cross_process();
    printf("mq_test ok\n");
    return 0;
}
