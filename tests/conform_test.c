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
#include <string.h>

#include "core/platform.h"
#include "stream_util.h"

#define CONF_CLIENTS 8
#define CONF_MSGS 200

static const char *scheme;
static const char *peer_exe;
static int peer_emu; /* the peer runs under qemu-i386 (run32) */
static int url_seq;

/* A free TCP port on the loopback address (bound, read back, released). */
static unsigned free_port(int v6)
{
    xipc_plat_sock fd;
    uint16_t port = 0;
    XT_OK(xipc_plat_tcp_listen(v6 ? "::1" : "127.0.0.1", 0, 1, &fd, &port));
    xipc_plat_sock_close(fd);
    XT_ASSERT(port != 0);
    return port;
}

/* A fresh URL of the scheme under test. */
static void make_url(char *buf, size_t cap)
{
    int id = url_seq++;
    if (strcmp(scheme, "unix") == 0)
        snprintf(buf, cap, "unix:///tmp/xipc-conform-%d-%d.sock", (int)xipc_plat_getpid(), id);
    else if (strcmp(scheme, "unix-abstract") == 0)
        snprintf(buf, cap, "unix://@xipc-conform-%d-%d", (int)xipc_plat_getpid(), id);
    else if (strcmp(scheme, "tcp") == 0)
        snprintf(buf, cap, "tcp://127.0.0.1:%u", free_port(0));
    else if (strcmp(scheme, "tcp6") == 0)
        snprintf(buf, cap, "tcp://[::1]:%u", free_port(1));
    else
        snprintf(buf, cap, "%s://conform-%d-%d", scheme, (int)xipc_plat_getpid(), id);
}

static size_t max_msg(void)
{
    if (strcmp(scheme, "shm") == 0)
        return (1u << 20) - 16; /* default ring capacity: xipc_ring_max_msg */
    return 16u << 20;
}

/* ---- the remote side ------------------------------------------------------ */

static xipc_err peer_dial(xipc_sock **s, const char *url)
{
    for (int tries = 0;; tries++) {
        xipc_err rv = xipc_dial(s, url, NULL, 5000);
        if (rv != XIPC_ECONNREFUSED || tries >= 500)
            return rv;
        xt_sleep_ms(10); /* the listener is not up yet */
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
        for (;;) /* until killed */
            xt_sleep_ms(1000);
    }
    return 2;
}

static xt_pid peer_start(const char *mode, const char *url, const char *arg)
{
    return xt_start(peer_exe, "peer", scheme, mode, url, arg, (char *)NULL);
}

/* ---- the cases ---------------------------------------------------------------- */

static void check_sizes(xipc_sock *s)
{
    size_t mx = max_msg();
    size_t sizes[] = {0, 1, 7, 8, 9, 100, 4095, 4096, 65536, 1u << 20, mx - 1, mx};
    xt_check_sizes(s, mx, sizes, sizeof(sizes) / sizeof(sizes[0]));
}

/* On Windows, pipe://NAME is the named pipe \\.\pipe\xipc-<uid>-NAME. */
static void check_real(const char *url)
{
#ifdef _WIN32
    if (strncmp(url, "pipe://", 7) != 0)
        return;
    char pipe[160];
    snprintf(pipe, sizeof(pipe), "\\\\.\\pipe\\xipc-%08x-%s", (unsigned)xipc_plat_getuid(),
             url + 7);
    /* busy (every instance taken) or free: it exists */
    XT_ASSERT(WaitNamedPipeA(pipe, 1) || GetLastError() == ERROR_SEM_TIMEOUT);
#else
    (void)url;
#endif
}

/* Sizes through an echo peer, with us as listener and as dialler. */
static void case_echo(void)
{
    for (int role = 0; role < 2; role++) {
        char url[128];
        make_url(url, sizeof(url));
        xipc_sock *l = NULL, *s;
        xt_pid pid;
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
                xt_sleep_ms(10);
            XT_OK(rv);
        }
        check_sizes(s);
        check_real(url);
        xipc_close(s);
        XT_EQ(xt_wait_child(pid), 0); /* the peer saw ECLOSED after draining */
        xipc_close(l);
    }
}

static void case_many_clients(void)
{
    char url[128], bound[128], id[16];
    make_url(url, sizeof(url));
    xipc_sock *l;
    XT_OK(xipc_listen(&l, url, NULL));
    XT_OK(xipc_sock_url(l, bound, sizeof(bound)));
    xt_pid pids[CONF_CLIENTS];
    for (int k = 0; k < CONF_CLIENTS; k++) {
        snprintf(id, sizeof(id), "%d", k);
        pids[k] = peer_start("client", bound, id);
    }
    unsigned bits = xt_recv_clients(l, CONF_CLIENTS, CONF_MSGS, 3);
    for (int k = 0; k < CONF_CLIENTS; k++)
        XT_EQ(xt_wait_child(pids[k]), 0);
    printf("  %d clients of a %u-bit peer on one listener\n", CONF_CLIENTS, bits);
    xipc_close(l);
}

static void case_peer_death(void)
{
    char url[128], bound[128];
    make_url(url, sizeof(url));
    xipc_sock *l, *s;
    XT_OK(xipc_listen(&l, url, NULL));
    XT_OK(xipc_sock_url(l, bound, sizeof(bound)));
    xt_pid pid = peer_start("hold", bound, NULL);
    XT_OK(xipc_accept(l, &s, 30000));
    uint64_t dt = xt_check_peer_killed(s, pid, peer_emu);
    XT_EQ(xt_wait_child(pid), XT_KILLED);
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
    XT_TIMES_OUT(xipc_accept(l, &c, 100));
    char bound[128];
    XT_OK(xipc_sock_url(l, bound, sizeof(bound)));
    XT_OK(xipc_dial(&s, bound, NULL, 5000));
    XT_OK(xipc_accept(l, &c, 5000));
    /* timeouts, a blocked sender; what it sent arrives after its close */
    xt_check_blocked_sender(s, c);
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

/*
 * Wine has no AF_UNIX (docs/windows.md): there unix:// must refuse with a
 * clear XIPC_ENOTSUP that keeps the system's reason (WSAEAFNOSUPPORT,
 * 10047), for listen and dial alike. Everywhere else it must work: 0.
 */
static int unix_absent(void)
{
#ifdef _WIN32
    if (!xt_under_wine())
        return 0; /* Windows: AF_UNIX exists from Windows 10 1803 on */
    char url[128];
    xipc_sock *s = (xipc_sock *)1;
    make_url(url, sizeof(url));
    XT_ERR(xipc_listen(&s, url, NULL), XIPC_ENOTSUP);
    XT_ASSERT(s == NULL);
    XT_EQ(xipc_last_syserr(), 10047);
    XT_ERR(xipc_dial(&s, url, NULL, 100), XIPC_ENOTSUP);
    XT_EQ(xipc_last_syserr(), 10047);
    printf("  unix:// under wine: XIPC_ENOTSUP (%s), system error 10047 (no AF_UNIX)\n",
           xipc_strerror(XIPC_ENOTSUP));
    printf("conform_test unix ok (absent here, refused clearly)\n");
    return 1;
#else
    return 0;
#endif
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "peer") == 0)
        return peer_main(argc, argv);
    if (argc < 3)
        XT_FAIL("usage: conform_test SCHEME PEER_EXE");
    scheme = argv[1];
    peer_exe = argv[2];
    printf("conformance of %s:// (this side %u-bit, peer %s)\n", scheme,
           (unsigned)(sizeof(void *) * 8), peer_exe);
    peer_emu = xt_peer_emulated("conform_test", peer_exe);
    if (strcmp(scheme, "unix") == 0 && unix_absent())
        return 0;
    case_names();
    case_timeouts_and_refusal();
    case_echo();
    case_many_clients();
    case_peer_death();
    printf("conform_test %s ok\n", scheme);
    return 0;
}
