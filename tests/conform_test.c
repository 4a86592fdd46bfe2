/*
 * The conformance suite every channel scheme passes: send/recv of sizes
 * 0 B..max, oversize refusal, many clients on one listener, both roles
 * across processes, peer death, timeouts, refused dials, close.
 *
 *   conform_test SCHEME PEER_EXE
 *
 * The remote side of each case runs in PEER_EXE ("conform_test peer ...").
 * Passing this program itself tests 64-bit against 64-bit; passing the m32
 * build's conform_test tests 64-bit against 32-bit.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

#define CONF_CLIENTS 8
#define CONF_MSGS 200

static const char *scheme;
static const char *peer_exe;
static int url_seq;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A free TCP port on @p host (bound, read back, released). */
static unsigned free_port(int v6)
{
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    XT_ASSERT(fd >= 0);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t len;
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        len = sizeof(*a);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof(*a);
    }
    XT_ASSERT(bind(fd, (struct sockaddr *)&ss, len) == 0);
    XT_ASSERT(getsockname(fd, (struct sockaddr *)&ss, &len) == 0);
    unsigned port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                             : ((struct sockaddr_in *)&ss)->sin_port);
    close(fd);
    return port;
}

/* A fresh URL of the scheme under test. */
static void make_url(char *buf, size_t cap)
{
    int id = url_seq++;
    if (strcmp(scheme, "unix") == 0)
        snprintf(buf, cap, "unix:///tmp/xipc-conform-%d-%d.sock", (int)getpid(), id);
    else if (strcmp(scheme, "unix-abstract") == 0)
        snprintf(buf, cap, "unix://@xipc-conform-%d-%d", (int)getpid(), id);
    else if (strcmp(scheme, "tcp") == 0)
        snprintf(buf, cap, "tcp://127.0.0.1:%u", free_port(0));
    else if (strcmp(scheme, "tcp6") == 0)
        snprintf(buf, cap, "tcp://[::1]:%u", free_port(1));
    else
        snprintf(buf, cap, "%s://conform-%d-%d", scheme, (int)getpid(), id);
}

static size_t max_msg(void)
{
    if (strcmp(scheme, "shm") == 0)
        return (1u << 20) - 8; /* default ring capacity minus the record header */
    return 16u << 20;
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)((i * 131u + seed) ^ (i >> 8));
}

/* ---- the remote side ------------------------------------------------------ */

static xipc_err peer_dial(xipc_sock **s, const char *url)
{
    for (int tries = 0;; tries++) {
        xipc_err rv = xipc_dial(s, url, NULL, 5000);
        if (rv != XIPC_ECONNREFUSED || tries >= 500)
            return rv;
        usleep(10000); /* the listener is not up yet */
    }
}

/* Echo every message back until the other side closes. */
static int peer_echo(xipc_sock *s)
{
    size_t cap = max_msg(), n;
    uint8_t *buf = malloc(cap);
    xipc_err rv;
    while ((rv = xipc_recv(s, buf, cap, &n, 30000)) == XIPC_OK)
        if ((rv = xipc_send(s, buf, n, 30000)) != XIPC_OK)
            break;
    free(buf);
    xipc_close(s);
    return rv == XIPC_ECLOSED ? 0 : 10 + (int)rv;
}

static int peer_main(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    scheme = argv[2];
    const char *mode = argv[3], *url = argv[4];
    xipc_sock *s, *l;
    if (strcmp(mode, "echo-dial") == 0) {
        if (peer_dial(&s, url) != XIPC_OK)
            return 3;
        return peer_echo(s);
    }
    if (strcmp(mode, "echo-listen") == 0) {
        if (xipc_listen(&l, url, NULL) != XIPC_OK || xipc_accept(l, &s, 30000) != XIPC_OK)
            return 3;
        int rc = peer_echo(s);
        xipc_close(l);
        return rc;
    }
    if (strcmp(mode, "client") == 0 && argc > 5) {
        uint32_t id = (uint32_t)atoi(argv[5]);
        if (peer_dial(&s, url) != XIPC_OK)
            return 3;
        for (uint32_t i = 0; i < CONF_MSGS; i++) {
            uint32_t m[3] = {id, i, (uint32_t)(sizeof(void *) * 8)};
            if (xipc_send(s, m, sizeof(m), 30000) != XIPC_OK)
                return 4;
        }
        xipc_close(s);
        return 0;
    }
    if (strcmp(mode, "hold") == 0) {
        if (peer_dial(&s, url) != XIPC_OK || xipc_send(s, "up", 2, 5000) != XIPC_OK)
            return 3;
        pause();
        return 0;
    }
    return 2;
}

static pid_t peer_start(const char *mode, const char *url, const char *arg)
{
    pid_t pid = fork();
    XT_ASSERT(pid >= 0);
    if (pid == 0) {
        execl(peer_exe, peer_exe, "peer", scheme, mode, url, arg, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int peer_wait(pid_t pid)
{
    int st;
    XT_ASSERT(waitpid(pid, &st, 0) == pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- the cases ---------------------------------------------------------------- */

static void check_sizes(xipc_sock *s)
{
    size_t mx = max_msg();
    size_t sizes[] = {0, 1, 7, 8, 9, 100, 4095, 4096, 65536, 1u << 20, mx - 1, mx};
    uint8_t *out = malloc(mx + 1), *in = malloc(mx + 1);
    XT_ASSERT(out && in);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t n = sizes[i], got = 0;
        if (n > mx)
            continue;
        fill(out, n, (uint32_t)i);
        XT_OK(xipc_send(s, out, n, 30000));
        XT_OK(xipc_recv(s, in, mx, &got, 30000));
        XT_EQ(got, n);
        XT_ASSERT(memcmp(in, out, n) == 0);
    }
    /* larger than the maximum: refused before anything is sent */
    XT_ERR(xipc_send(s, out, mx + 1, 1000), XIPC_EMSGSIZE);
    /* a too-small buffer: EMSGSIZE, the size, and the message stays */
    fill(out, 5000, 99);
    XT_OK(xipc_send(s, out, 5000, 30000));
    size_t got = 0;
    XT_ERR(xipc_recv(s, in, 100, &got, 30000), XIPC_EMSGSIZE);
    XT_EQ(got, 5000);
    XT_OK(xipc_recv(s, in, mx, &got, 30000));
    XT_EQ(got, 5000);
    XT_ASSERT(memcmp(in, out, 5000) == 0);
    /* zero copy: reserve/commit and peek/release */
    void *w;
    XT_OK(xipc_reserve(s, 300, &w, 30000));
    fill(w, 200, 7);
    XT_OK(xipc_commit(s, 200));
    const void *r;
    XT_OK(xipc_peek(s, &r, &got, 30000));
    XT_EQ(got, 200);
    fill(out, 200, 7);
    XT_ASSERT(memcmp(r, out, 200) == 0);
    XT_OK(xipc_release(s));
    free(out);
    free(in);
}

/* Sizes through an echo peer, with us as listener and as dialler. */
static void case_echo(void)
{
    for (int role = 0; role < 2; role++) {
        char url[128];
        make_url(url, sizeof(url));
        xipc_sock *l = NULL, *s;
        pid_t pid;
        if (role == 0) {
            XT_OK(xipc_listen(&l, url, NULL));
            char bound[128];
            XT_OK(xipc_sock_url(l, bound, sizeof(bound)));
            pid = peer_start("echo-dial", bound, NULL);
            XT_OK(xipc_accept(l, &s, 30000));
        } else {
            pid = peer_start("echo-listen", url, NULL);
            xipc_err rv;
            for (int t = 0; (rv = xipc_dial(&s, url, NULL, 5000)) == XIPC_ECONNREFUSED && t < 500; t++)
                usleep(10000);
            XT_OK(rv);
        }
        check_sizes(s);
        xipc_close(s);
        XT_EQ(peer_wait(pid), 0); /* the peer saw ECLOSED after draining */
        xipc_close(l);
    }
}

static void case_many_clients(void)
{
    char url[128], bound[128], id[16];
    make_url(url, sizeof(url));
    xipc_sock *l, *c[CONF_CLIENTS];
    XT_OK(xipc_listen(&l, url, NULL));
    XT_OK(xipc_sock_url(l, bound, sizeof(bound)));
    pid_t pids[CONF_CLIENTS];
    for (int k = 0; k < CONF_CLIENTS; k++) {
        snprintf(id, sizeof(id), "%d", k);
        pids[k] = peer_start("client", bound, id);
    }
    unsigned seen = 0, bits = 0;
    for (int k = 0; k < CONF_CLIENTS; k++)
        XT_OK(xipc_accept(l, &c[k], 30000));
    for (int k = 0; k < CONF_CLIENTS; k++) {
        uint32_t m[3], who = 0;
        size_t n;
        for (uint32_t i = 0; i < CONF_MSGS; i++) {
            XT_OK(xipc_recv(c[k], m, sizeof(m), &n, 30000));
            XT_EQ(n, sizeof(m));
            if (i == 0)
                who = m[0];
            XT_EQ(m[0], who);
            XT_EQ(m[1], i);
            bits = m[2];
        }
        XT_ASSERT(who < CONF_CLIENTS && !(seen & (1u << who)));
        seen |= 1u << who;
        XT_ERR(xipc_recv(c[k], m, sizeof(m), &n, 30000), XIPC_ECLOSED);
        xipc_close(c[k]);
    }
    XT_EQ(seen, (1u << CONF_CLIENTS) - 1);
    for (int k = 0; k < CONF_CLIENTS; k++)
        XT_EQ(peer_wait(pids[k]), 0);
    printf("  %d clients of a %u-bit peer on one listener\n", CONF_CLIENTS, bits);
    xipc_close(l);
}

static void case_peer_death(void)
{
    char url[128], bound[128], buf[16];
    make_url(url, sizeof(url));
    xipc_sock *l, *s;
    XT_OK(xipc_listen(&l, url, NULL));
    XT_OK(xipc_sock_url(l, bound, sizeof(bound)));
    pid_t pid = peer_start("hold", bound, NULL);
    XT_OK(xipc_accept(l, &s, 30000));
    size_t n;
    XT_OK(xipc_recv(s, buf, sizeof(buf), &n, 30000));
    kill(pid, SIGKILL);
    uint64_t t0 = now_ms();
    XT_ERR(xipc_recv(s, buf, sizeof(buf), &n, 10000), XIPC_ECLOSED);
    uint64_t dt = now_ms() - t0;
    XT_ASSERT(dt < 1000);
    XT_ERR(xipc_send(s, buf, 1, 1000), XIPC_ECLOSED);
    XT_EQ(peer_wait(pid), 128 + SIGKILL);
    printf("  peer death noticed after %llu ms\n", (unsigned long long)dt);
    xipc_close(s);
    xipc_close(l);
}

static void case_timeouts_and_refusal(void)
{
    char url[128];
    make_url(url, sizeof(url));
    xipc_sock *l, *s, *c;
    XT_ERR(xipc_dial(&s, url, NULL, 1000), XIPC_ECONNREFUSED);
    XT_OK(xipc_listen(&l, url, NULL));
    uint64_t t0 = now_ms();
    XT_ERR(xipc_accept(l, &c, 100), XIPC_ETIMEDOUT);
    XT_ASSERT(now_ms() - t0 >= 90);
    char bound[128];
    XT_OK(xipc_sock_url(l, bound, sizeof(bound)));
    XT_OK(xipc_dial(&s, bound, NULL, 5000));
    XT_OK(xipc_accept(l, &c, 5000));
    char buf[8];
    size_t n;
    t0 = now_ms();
    XT_ERR(xipc_recv(c, buf, sizeof(buf), &n, 100), XIPC_ETIMEDOUT);
    XT_ASSERT(now_ms() - t0 >= 90);
    XT_ERR(xipc_recv(c, buf, sizeof(buf), &n, 0), XIPC_ETIMEDOUT);
    /* a sender blocked by a peer that never reads gives up at its timeout */
    static uint8_t big[1u << 16];
    xipc_err rv;
    int sent = 0;
    while ((rv = xipc_send(s, big, sizeof(big), 200)) == XIPC_OK && sent < 100000)
        sent++;
    XT_ERR(rv, XIPC_ETIMEDOUT);
    /* messages sent before a close still arrive, then ECLOSED */
    xipc_close(s);
    for (int i = 0; i < sent; i++) {
        XT_OK(xipc_recv(c, big, sizeof(big), &n, 5000));
        XT_EQ(n, sizeof(big));
    }
    /* a partly written frame may have been committed when the timeout hit */
    while ((rv = xipc_recv(c, big, sizeof(big), &n, 5000)) == XIPC_OK)
        XT_EQ(n, sizeof(big));
    XT_ERR(rv, XIPC_ECLOSED);
    xipc_close(c);
    xipc_close(l);
}

static void case_names(void)
{
    xipc_sock *s;
    char url[128];
    if (strcmp(scheme, "tcp") == 0 || strcmp(scheme, "tcp6") == 0) {
        const char *bad[] = {"tcp://127.0.0.1", "tcp://127.0.0.1:99999", "tcp://:80",
                             "tcp://[::1:80", "tcp://a b:80", "tcp://127.0.0.1:8x"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
            XT_ERR(xipc_dial(&s, bad[i], NULL, 100), XIPC_EINVAL);
        return;
    }
    if (strncmp(scheme, "unix", 4) == 0) {
        XT_ERR(xipc_dial(&s, "unix://relative/path", NULL, 100), XIPC_EINVAL);
        XT_ERR(xipc_dial(&s, "unix://@", NULL, 100), XIPC_EINVAL);
        char longp[200];
        memset(longp, 'a', sizeof(longp) - 1);
        longp[sizeof(longp) - 1] = '\0';
        snprintf(url, sizeof(url), "unix:///%.110s", longp);
        XT_ERR(xipc_dial(&s, url, NULL, 100), XIPC_EINVAL);
        return;
    }
    const char *bad[] = {"../x", "a/b", ".hidden", "..", "x y"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(url, sizeof(url), "%s://%s", scheme, bad[i]);
        XT_ERR(xipc_dial(&s, url, NULL, 100), XIPC_EINVAL);
        XT_ERR(xipc_listen(&s, url, NULL), XIPC_EINVAL);
    }
    char longn[80];
    memset(longn, 'n', 65);
    longn[65] = '\0';
    snprintf(url, sizeof(url), "%s://%s", scheme, longn);
    XT_ERR(xipc_listen(&s, url, NULL), XIPC_EINVAL);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc > 1 && strcmp(argv[1], "peer") == 0)
        return peer_main(argc, argv);
    if (argc < 3)
        XT_FAIL("usage: conform_test SCHEME PEER_EXE");
    scheme = argv[1];
    peer_exe = argv[2];
    printf("conformance of %s:// (this side %u-bit, peer %s)\n", scheme,
           (unsigned)(sizeof(void *) * 8), peer_exe);
    case_names();
    case_timeouts_and_refusal();
    case_echo();
    case_many_clients();
    case_peer_death();
    printf("conform_test %s ok\n", scheme);
    return 0;
}
