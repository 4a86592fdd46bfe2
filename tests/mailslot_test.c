/*
 * mailslot://: names, no server, datagram boundaries 0..64 KiB, oversize,
 * too-small buffers, timeouts, three servers in three processes, a full
 * reader queue (drops counted, the writer never blocks), reclaim of a dead
 * server's socket, permissions, long paths, and nothing left after close.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
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

#define BIG (64u << 10)

static char url[128];
static char name[80];

static void set_name(const char *what)
{
    snprintf(name, sizeof(name), "mstest-%d-%s", (int)getpid(), what);
    snprintf(url, sizeof(url), "mailslot://%s", name);
}

/* The folder of the current NAME. */
static void name_dir(char *buf, size_t cap)
{
    char base[512];
    XT_OK(xipc_plat_rundir(base, sizeof(base), "mailslot"));
    snprintf(buf, cap, "%s/%s", base, name);
}

/* Socket files in the folder of NAME; -1 when the folder is gone. */
static int name_files(void)
{
    char dir[600];
    name_dir(dir, sizeof(dir));
    DIR *d = opendir(dir);
    if (d == NULL) {
        XT_ASSERT(errno == ENOENT);
        return -1;
    }
    int n = 0;
    struct dirent *e;
    while ((e = xt_readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* Byte i of message @p seq. */
static uint8_t pat(uint32_t seq, size_t i)
{
    return (uint8_t)(seq * 31u + i * 7u + (i >> 8));
}

static void fill(uint8_t *b, size_t len, uint32_t seq)
{
    for (size_t i = 0; i < len; i++)
        b[i] = pat(seq, i);
}

static int check(const uint8_t *b, size_t len, uint32_t seq)
{
    for (size_t i = 0; i < len; i++)
        if (b[i] != pat(seq, i))
            return 0;
    return 1;
}

static void test_names(void)
{
    /* the last: a 70-byte name, over the 64-byte limit */
    const char *bad[] = {"mailslot://../x", "mailslot://a/b", "mailslot://.hidden",
                         "mailslot://a b",
                         ("mailslot://"
                          "0123456789012345678901234567890123456789012345678901234567890123456789")};
    xt_check_bad_urls(bad, sizeof(bad) / sizeof(bad[0]));
    printf("names ok\n");
}

static void test_no_server(void)
{
    set_name("none");
    xipc_sock *c = (xipc_sock *)1;
    XT_ERR(xipc_dial(&c, url, NULL, 1000), XIPC_ECONNREFUSED);
    XT_ASSERT(c == NULL);
    /* a client alone leaves no folder behind */
    XT_EQ(name_files(), -1);
    printf("no server ok\n");
}

static void test_basic(void)
{
    set_name("basic");
    xipc_sock *srv, *cli;
    XT_OK(xipc_listen(&srv, url, NULL));
    XT_OK(xipc_dial(&cli, url, NULL, 0));
    uint8_t *out = malloc(BIG + 1), *in = malloc(BIG + 1);
    XT_ASSERT(out != NULL && in != NULL);
    size_t len;

    /* url, fd, and who may do what */
    char u[128];
    XT_OK(xipc_sock_url(srv, u, sizeof(u)));
    XT_ASSERT(strcmp(u, url) == 0);
    XT_OK(xipc_sock_url(cli, u, sizeof(u)));
    XT_ASSERT(strcmp(u, url) == 0);
    XT_ERR(xipc_sock_url(cli, u, 5), XIPC_EMSGSIZE);
    intptr_t fd;
    XT_OK(xipc_sock_fd(srv, &fd));
    XT_ERR(xipc_sock_fd(cli, &fd), XIPC_ENOTSUP);
    XT_ERR(xipc_send(srv, "x", 1, 0), XIPC_ENOTSUP);
    XT_ERR(xipc_recv(cli, in, 10, &len, 0), XIPC_ENOTSUP);
    XT_ERR(xipc_accept(srv, &cli, 0), XIPC_EINVAL);
    XT_ERR(xipc_send_prio(cli, "x", 1, 3, 0), XIPC_ENOTSUP);

    /* the descriptor polls readable once a message is queued */
    XT_ERR(xipc_recv(srv, in, BIG, &len, 0), XIPC_ETIMEDOUT);
    XT_OK(xipc_send(cli, "ping", 4, 0));
    struct pollfd pfd = {(int)fd, POLLIN, 0};
    XT_EQ(poll(&pfd, 1, 5000), 1);
    XT_OK(xipc_recv(srv, in, BIG, &len, 0));
    XT_EQ(len, 4);
    XT_ASSERT(memcmp(in, "ping", 4) == 0);

    /* every size 0..64 KiB that matters, one at a time */
    static const size_t sizes[] = {0, 1, 2, 3, 7, 8, 100, 1000, 4095, 4096, 4097,
                                   30000, 65535, 65536};
    uint32_t seq = 1;
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++, seq++) {
        fill(out, sizes[k], seq);
        XT_OK(xipc_send(cli, out, sizes[k], 0));
        memset(in, 0xee, BIG);
        XT_OK(xipc_recv(srv, in, BIG, &len, 1000));
        XT_EQ(len, sizes[k]);
        XT_ASSERT(check(in, len, seq));
    }
    /* random sizes, several queued at once: never merged, never split */
    srand(7);
    for (int round = 0; round < 200; round++) {
        size_t sz[8];
        uint32_t first = seq;
        for (int j = 0; j < 8; j++, seq++) {
            sz[j] = (size_t)rand() % (BIG + 1);
            if (j == 3)
                sz[j] = 0;
            fill(out, sz[j], seq);
            XT_OK(xipc_send(cli, out, sz[j], 0));
        }
        for (int j = 0; j < 8; j++) {
            XT_OK(xipc_recv(srv, in, BIG, &len, 1000));
            XT_EQ(len, sz[j]);
            XT_ASSERT(check(in, len, first + (uint32_t)j));
        }
    }

    /* a buffer too small: EMSGSIZE, the size, and the message stays */
    fill(out, 5000, 99);
    XT_OK(xipc_send(cli, out, 5000, 0));
    len = 0;
    XT_ERR(xipc_recv(srv, in, 4999, &len, 1000), XIPC_EMSGSIZE);
    XT_EQ(len, 5000);
    XT_ERR(xipc_recv(srv, NULL, 0, &len, 0), XIPC_EMSGSIZE);
    XT_EQ(len, 5000);
    XT_OK(xipc_recv(srv, in, 5000, &len, 0));
    XT_EQ(len, 5000);
    XT_ASSERT(check(in, len, 99));
    /* zero bytes fit a zero-byte buffer */
    XT_OK(xipc_send(cli, NULL, 0, 0));
    XT_OK(xipc_recv(srv, NULL, 0, &len, 1000));
    XT_EQ(len, 0);

    /* oversize: refused before anything is sent */
    XT_ERR(xipc_send(cli, out, BIG + 1, 0), XIPC_EMSGSIZE);
    XT_ERR(xipc_recv(srv, in, BIG, &len, 0), XIPC_ETIMEDOUT);

    /* a second server with a smaller maximum: the limit is the smallest */
    xipc_opts o;
    XT_OK(xipc_opts_init(&o));
    o.max_msg = 100;
    xipc_sock *small;
    XT_OK(xipc_listen(&small, url, &o));
    XT_ERR(xipc_send(cli, out, 101, 0), XIPC_EMSGSIZE);
    XT_ERR(xipc_recv(srv, in, BIG, &len, 0), XIPC_ETIMEDOUT);
    XT_ERR(xipc_recv(small, in, BIG, &len, 0), XIPC_ETIMEDOUT);
    fill(out, 100, 5);
    XT_OK(xipc_send(cli, out, 100, 0));
    XT_OK(xipc_recv(srv, in, BIG, &len, 0));
    XT_ASSERT(len == 100 && check(in, len, 5));
    XT_OK(xipc_recv(small, in, 100, &len, 0));
    XT_ASSERT(len == 100 && check(in, len, 5));
    xipc_close(small);

    /* a maximum beyond what the host carries is refused */
    o.max_msg = 1u << 30;
    XT_ERR(xipc_listen(&small, url, &o), XIPC_EINVAL);

    /* timeouts */
    XT_TIMES_OUT(xipc_recv(srv, in, BIG, &len, 100));

    xipc_stats st;
    XT_OK(xipc_stats_get(cli, &st));
    XT_EQ(st.dropped, 0);
    XT_EQ(st.sent, 1 + sizeof(sizes) / sizeof(sizes[0]) + 200 * 8 + 3);
    XT_OK(xipc_stats_get(srv, &st));
    XT_EQ(st.received, 1 + sizeof(sizes) / sizeof(sizes[0]) + 200 * 8 + 3);

    /* the server gone: a write reaches no one */
    xipc_close(srv);
    XT_ERR(xipc_send(cli, "x", 1, 0), XIPC_ECLOSED);
    xipc_close(cli);
    XT_EQ(name_files(), -1);
    free(out);
    free(in);
    printf("basic ok\n");
}

static void test_large_max(void)
{
    set_name("large");
    xipc_opts o;
    XT_OK(xipc_opts_init(&o));
    /* 1 MiB, or what this host's socket buffers allow (net.core.wmem_max) */
    uint32_t limit = xipc_plat_dgram_limit();
    XT_ASSERT(limit >= BIG);
    o.max_msg = limit < (1u << 20) ? limit : 1u << 20;
    xipc_sock *srv, *cli;
    XT_OK(xipc_listen(&srv, url, &o));
    XT_OK(xipc_dial(&cli, url, NULL, 0));
    size_t n = o.max_msg, len;
    uint8_t *out = malloc(n + 1), *in = malloc(n);
    XT_ASSERT(out != NULL && in != NULL);
    fill(out, n, 3);
    XT_OK(xipc_send(cli, out, n, 0));
    XT_OK(xipc_recv(srv, in, n, &len, 1000));
    XT_ASSERT(len == n && check(in, len, 3));
    XT_ERR(xipc_send(cli, out, n + 1, 0), XIPC_EMSGSIZE);
    XT_OK(xipc_send(cli, out, n, 0));
    XT_ERR(xipc_recv(srv, in, n / 2, &len, 1000), XIPC_EMSGSIZE);
    XT_EQ(len, n);
    XT_OK(xipc_recv(srv, in, n, &len, 1000));
    xipc_close(srv);
    xipc_close(cli);
    XT_EQ(name_files(), -1);
    free(out);
    free(in);
    printf("%u-byte maximum ok\n", (unsigned)n);
}

/* Three servers in three processes each get every message of one client. */
#define FAN_SERVERS 3
#define FAN_ROUNDS 60
#define FAN_BATCH 5

static void fan_server(int ready, int ack)
{
    xipc_sock *s;
    if (xipc_listen(&s, url, NULL) != XIPC_OK)
        _exit(2);
    char c = 'r';
    if (write(ready, &c, 1) != 1)
        _exit(3);
    uint8_t *in = malloc(BIG);
    for (uint32_t seq = 0; seq < FAN_ROUNDS * FAN_BATCH; seq++) {
        size_t len;
        xipc_err rv = xipc_recv(s, in, BIG, &len, 10000);
        if (rv != XIPC_OK)
            _exit(4);
        if (len != (seq * 997u) % (BIG + 1) || !check(in, len, seq))
            _exit(5);
        if ((seq + 1) % FAN_BATCH == 0 && write(ack, &c, 1) != 1)
            _exit(6);
    }
    size_t len;
    if (xipc_recv(s, in, BIG, &len, 100) != XIPC_ETIMEDOUT)
        _exit(7); /* nothing extra */
    xipc_close(s);
    free(in);
    _exit(0);
}

static void test_fan_out(void)
{
    set_name("fan");
    int ready[2], ack[2];
    XT_ASSERT(pipe(ready) == 0 && pipe(ack) == 0);
    pid_t pids[FAN_SERVERS];
    for (int i = 0; i < FAN_SERVERS; i++) {
        pids[i] = fork();
        XT_ASSERT(pids[i] >= 0);
        if (pids[i] == 0)
            fan_server(ready[1], ack[1]);
    }
    char c;
    for (int i = 0; i < FAN_SERVERS; i++)
        XT_EQ(read(ready[0], &c, 1), 1);
    XT_EQ(name_files(), FAN_SERVERS);
    xipc_sock *cli;
    XT_OK(xipc_dial(&cli, url, NULL, 0));
    uint8_t *out = malloc(BIG);
    uint32_t seq = 0;
    for (int r = 0; r < FAN_ROUNDS; r++) {
        /* a batch fits every queue; then wait until all three read it */
        for (int j = 0; j < FAN_BATCH; j++, seq++) {
            size_t len = (seq * 997u) % (BIG + 1);
            fill(out, len, seq);
            XT_OK(xipc_send(cli, out, len, 0));
        }
        for (int i = 0; i < FAN_SERVERS; i++)
            XT_EQ(read(ack[0], &c, 1), 1);
    }
    xipc_stats st;
    XT_OK(xipc_stats_get(cli, &st));
    XT_EQ(st.sent, FAN_ROUNDS * FAN_BATCH);
    XT_EQ(st.dropped, 0);
    for (int i = 0; i < FAN_SERVERS; i++)
        XT_EQ(xt_wait_child(pids[i]), 0);
    XT_EQ(name_files(), -1); /* each removed its socket, the last the folder */
    xipc_close(cli);
    close(ready[0]);
    close(ready[1]);
    close(ack[0]);
    close(ack[1]);
    free(out);
    printf("3 servers in 3 processes ok\n");
}

/* A server that never reads: the writer never blocks, drops are counted. */
static void test_full_queue(void)
{
    set_name("full");
    xipc_sock *srv, *cli;
    XT_OK(xipc_listen(&srv, url, NULL));
    XT_OK(xipc_dial(&cli, url, NULL, 0));
    const uint64_t n = 100000;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t v = (uint32_t)i;
        XT_OK(xipc_send(cli, &v, sizeof(v), -1)); /* even "forever" never waits */
    }
    xipc_stats cs, ss;
    XT_OK(xipc_stats_get(cli, &cs));
    XT_EQ(cs.sent, n);
    XT_ASSERT(cs.dropped > 0);
    uint64_t got = 0;
    uint32_t last = 0, v;
    size_t len;
    while (xipc_recv(srv, &v, sizeof(v), &len, 0) == XIPC_OK) {
        XT_EQ(len, sizeof(v));
        XT_ASSERT(got == 0 || v > last); /* in order, gaps where dropped */
        last = v;
        got++;
    }
    XT_OK(xipc_stats_get(srv, &ss));
    XT_EQ(ss.received, got);
    XT_ASSERT(got > 0);
    XT_EQ(cs.dropped + got, n);
    /* drained: writes get through again */
    XT_OK(xipc_send(cli, &v, sizeof(v), 0));
    XT_OK(xipc_recv(srv, &v, sizeof(v), &len, 0));
    XT_OK(xipc_stats_get(cli, &cs));
    XT_EQ(cs.dropped + got, n);
    printf("full queue: %llu of %llu dropped, %llu received ok\n",
           (unsigned long long)cs.dropped, (unsigned long long)n,
           (unsigned long long)got);
    xipc_close(cli);
    xipc_close(srv);
    XT_EQ(name_files(), -1);
}

/* A reader that never reads costs only itself: the others get everything. */
static void test_stuck_reader(void)
{
    set_name("stuck");
    xipc_sock *stuck, *live, *cli;
    XT_OK(xipc_listen(&stuck, url, NULL));
    XT_OK(xipc_listen(&live, url, NULL));
    XT_OK(xipc_dial(&cli, url, NULL, 0));
    uint8_t *out = malloc(BIG), *in = malloc(BIG);
    XT_ASSERT(out != NULL && in != NULL);
    const uint32_t n = 300;
    for (uint32_t seq = 0; seq < n; seq++) {
        fill(out, BIG, seq);
        XT_OK(xipc_send(cli, out, BIG, 0));
        size_t len;
        XT_OK(xipc_recv(live, in, BIG, &len, 1000));
        XT_ASSERT(len == BIG && check(in, len, seq));
    }
    uint32_t held = 0;
    size_t len;
    while (xipc_recv(stuck, in, BIG, &len, 0) == XIPC_OK)
        held++;
    xipc_stats st;
    XT_OK(xipc_stats_get(cli, &st));
    XT_EQ(st.sent, n);
    XT_ASSERT(held > 0 && held < n);
    XT_EQ(st.dropped, n - held); /* every drop was the stuck reader's */
    xipc_close(cli);
    xipc_close(live);
    xipc_close(stuck);
    XT_EQ(name_files(), -1);
    free(out);
    free(in);
    printf("stuck reader: %u of %u kept, the other reader got all ok\n", held, n);
}

/* A server killed with SIGKILL leaves its socket file; it is reclaimed. */
static pid_t start_doomed(void)
{
    int ready[2];
    XT_ASSERT(pipe(ready) == 0);
    pid_t pid = xt_listen_child(url, ready);
    close(ready[0]);
    close(ready[1]);
    kill(pid, SIGKILL);
    XT_EQ(xt_wait_child(pid), 128 + SIGKILL);
    return pid;
}

static void test_reclaim(void)
{
    set_name("stale");
    start_doomed();
    XT_EQ(name_files(), 1); /* the dead server's socket is still there */
    xipc_sock *cli, *srv;
    /* only a stale socket: no server, and the socket is reclaimed */
    XT_ERR(xipc_dial(&cli, url, NULL, 0), XIPC_ECONNREFUSED);
    XT_EQ(name_files(), 0);

    /* a live server and a dead one: the write reclaims the dead one */
    XT_OK(xipc_listen(&srv, url, NULL));
    XT_OK(xipc_dial(&cli, url, NULL, 0));
    start_doomed();
    XT_EQ(name_files(), 2);
    XT_OK(xipc_send(cli, "abc", 3, 0));
    XT_EQ(name_files(), 1);
    char in[8];
    size_t len;
    XT_OK(xipc_recv(srv, in, sizeof(in), &len, 1000));
    XT_ASSERT(len == 3 && memcmp(in, "abc", 3) == 0);
    xipc_stats st;
    XT_OK(xipc_stats_get(cli, &st));
    XT_EQ(st.dropped, 0); /* a dead server is not a drop */

    /* a new server sweeps the dead ones away too */
    start_doomed();
    XT_EQ(name_files(), 2);
    xipc_sock *srv2;
    XT_OK(xipc_listen(&srv2, url, NULL));
    XT_EQ(name_files(), 2); /* srv and srv2 */
    xipc_close(srv2);
    xipc_close(srv);
    xipc_close(cli);
    XT_EQ(name_files(), -1);
    printf("reclaim ok\n");
}

static void test_permissions(void)
{
    set_name("perm");
    mode_t old = umask(0); /* the widest umask must not open anything up */
    xipc_sock *srv;
    XT_OK(xipc_listen(&srv, url, NULL));
    umask(old);
    char dir[600], path[1024];
    name_dir(dir, sizeof(dir));
    struct stat st;
    XT_ASSERT(stat(dir, &st) == 0);
    XT_ASSERT(S_ISDIR(st.st_mode));
    XT_EQ(st.st_mode & 0777, 0700);
    XT_EQ(st.st_uid, geteuid());
    DIR *d = opendir(dir);
    XT_ASSERT(d != NULL);
    struct dirent *e;
    int socks = 0;
    while ((e = xt_readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        XT_ASSERT(stat(path, &st) == 0);
        XT_ASSERT(S_ISSOCK(st.st_mode));
        XT_EQ(st.st_mode & 0777, 0600);
        socks++;
    }
    closedir(d);
    XT_EQ(socks, 1);
    xipc_close(srv);

    /* a NAME folder open to others is refused, by servers and clients */
    XT_ASSERT(mkdir(dir, 0700) == 0);
    XT_ASSERT(chmod(dir, 0755) == 0);
    XT_ERR(xipc_listen(&srv, url, NULL), XIPC_EPERM);
    xipc_sock *cli;
    XT_ERR(xipc_dial(&cli, url, NULL, 0), XIPC_EPERM);
    XT_ASSERT(rmdir(dir) == 0);
    printf("permissions ok\n");
}

/* Socket paths beyond sun_path's 108 bytes still work. */
static void test_long_path(void)
{
    char base[300], old[512] = "";
    const char *x = getenv("XDG_RUNTIME_DIR");
    int had = x != NULL;
    if (had)
        snprintf(old, sizeof(old), "%s", x);
    snprintf(base, sizeof(base), "/tmp/mailslot-test-%d-a-rather-long-runtime-folder-name",
             (int)getpid());
    XT_ASSERT(mkdir(base, 0700) == 0);
    setenv("XDG_RUNTIME_DIR", base, 1);
    snprintf(name, sizeof(name), "%.*s", 64,
             "long-name-0123456789012345678901234567890123456789012345678901234567");
    snprintf(url, sizeof(url), "mailslot://%s", name);
    xipc_sock *srv, *srv2, *cli;
    XT_OK(xipc_listen(&srv, url, NULL));
    XT_OK(xipc_listen(&srv2, url, NULL));
    XT_OK(xipc_dial(&cli, url, NULL, 0));
    XT_OK(xipc_send(cli, "long", 4, 0));
    char in[8];
    size_t len;
    XT_OK(xipc_recv(srv, in, sizeof(in), &len, 1000));
    XT_ASSERT(len == 4 && memcmp(in, "long", 4) == 0);
    XT_OK(xipc_recv(srv2, in, sizeof(in), &len, 1000));
    XT_ASSERT(len == 4 && memcmp(in, "long", 4) == 0);
    xipc_close(srv2);
    xipc_close(srv);
    xipc_close(cli);
    XT_EQ(name_files(), -1);
    char path[512];
    snprintf(path, sizeof(path), "%s/xipc/mailslot", base);
    XT_ASSERT(rmdir(path) == 0);
    snprintf(path, sizeof(path), "%s/xipc", base);
    XT_ASSERT(rmdir(path) == 0);
    XT_ASSERT(rmdir(base) == 0);
    if (had)
        setenv("XDG_RUNTIME_DIR", old, 1);
    else
        unsetenv("XDG_RUNTIME_DIR");
    printf("long paths ok\n");
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    test_names();
    test_no_server();
    test_basic();
    test_large_max();
    test_fan_out();
    test_full_queue();
    test_stuck_reader();
    test_reclaim();
    test_permissions();
    test_long_path();
    printf("mailslot_test ok\n");
    return 0;
}
