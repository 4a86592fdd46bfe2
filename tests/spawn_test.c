/*
 * Anonymous pipes: xipc_spawn() and xipc_sock_from_parent(), with a child
 * of the same bitness and, when given, a 32-bit child (the m32 build of
 * this program). Also the pollable descriptor of stream channels.
 *
 *   spawn_test [M32_SELF]
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run32.h"
#include "test.h"

/* The child: echo with a prefix telling its pointer width. */
static int child_main(void)
{
    xipc_sock *s;
    xipc_err rv = xipc_sock_from_parent(&s);
    if (rv != XIPC_OK) {
        fprintf(stderr, "child: %s\n", xipc_strerror(rv));
        return 3;
    }
    static uint8_t buf[1u << 20];
    size_t n;
    while ((rv = xipc_recv(s, buf + 1, sizeof(buf) - 1, &n, 30000)) == XIPC_OK) {
        buf[0] = (uint8_t)(sizeof(void *) * 8);
        if (n == 4 && memcmp(buf + 1, "hang", 4) == 0)
            pause();
        if ((rv = xipc_send(s, buf, n + 1, 30000)) != XIPC_OK)
            break;
    }
    xipc_close(s);
    return rv == XIPC_ECLOSED ? 0 : 4;
}

/* @p exe may be 32-bit: it is started through scripts/run32, whose exec
 * chain keeps the pid and the inherited socket */
static void spawn_echo(const char *exe, unsigned want_bits)
{
    char *argv[] = {(char *)XIPC_RUN32, (char *)exe, "child", NULL};
    xipc_sock *s;
    uint32_t pid = 0;
    XT_OK(xipc_spawn(&s, XIPC_RUN32, argv, &pid));
    XT_ASSERT(pid > 0);
    static uint8_t out[1u << 19], in[(1u << 19) + 1];
    size_t sizes[] = {0, 1, 100, 65536, sizeof(out)};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        for (size_t k = 0; k < sizes[i]; k++)
            out[k] = (uint8_t)(k * 7 + i);
        size_t n;
        XT_OK(xipc_send(s, out, sizes[i], 10000));
        XT_OK(xipc_recv(s, in, sizeof(in), &n, 10000));
        XT_EQ(n, sizes[i] + 1);
        XT_EQ(in[0], want_bits);
        XT_ASSERT(memcmp(in + 1, out, sizes[i]) == 0);
    }
    printf("  echo through a %u-bit child (pid %u) ok\n", (unsigned)in[0], (unsigned)pid);
    /* killing the child ends our blocking calls */
    XT_OK(xipc_send(s, "hang", 4, 1000));
    usleep(20000);
    kill((pid_t)pid, SIGKILL);
    size_t n;
    XT_ERR(xipc_recv(s, in, sizeof(in), &n, 5000), XIPC_ECLOSED);
    int st;
    XT_ASSERT(waitpid((pid_t)pid, &st, 0) == (pid_t)pid);
    xipc_close(s);
}

static void spawn_errors(void)
{
    xipc_sock *s;
    char *argv[] = {"nope", NULL};
    XT_ERR(xipc_spawn(&s, "/nonexistent/program", argv, NULL), XIPC_ENOENT);
    XT_ERR(xipc_spawn(&s, "/bin/true", (char *[]){NULL}, NULL), XIPC_EINVAL);
    XT_ERR(xipc_spawn(NULL, "/bin/true", argv, NULL), XIPC_EINVAL);
    unsetenv("XIPC_PARENT_FD");
    XT_ERR(xipc_sock_from_parent(&s), XIPC_ENOENT);
    const char *bad[] = {"abc", "-1", "99999999999", "0", "12x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        setenv("XIPC_PARENT_FD", bad[i], 1);
        XT_ERR(xipc_sock_from_parent(&s), XIPC_EINVAL); /* 0 is stdin: no socket */
    }
    unsetenv("XIPC_PARENT_FD");
}

/* The descriptor of a stream channel becomes readable when a message comes. */
static void poll_fd(void)
{
    char url[96];
    snprintf(url, sizeof(url), "pipe://spawn-test-fd-%d", (int)getpid());
    xipc_sock *l, *c, *a;
    XT_OK(xipc_listen(&l, url, NULL));
    intptr_t lfd, afd;
    XT_OK(xipc_sock_fd(l, &lfd));
    XT_OK(xipc_dial(&c, url, NULL, 1000));
    struct pollfd p = {(int)lfd, POLLIN, 0};
    XT_EQ(poll(&p, 1, 5000), 1); /* a pending connection */
    XT_OK(xipc_accept(l, &a, 0));
    XT_OK(xipc_sock_fd(a, &afd));
    p.fd = (int)afd;
    p.revents = 0;
    XT_EQ(poll(&p, 1, 0), 0); /* nothing yet */
    XT_OK(xipc_send(c, "ab", 2, 1000));
    XT_OK(xipc_send(c, "cd", 2, 1000));
    XT_EQ(poll(&p, 1, 5000), 1);
    /* the documented loop: drain with timeout 0 until ETIMEDOUT */
    char buf[8];
    size_t n;
    int got = 0;
    while (xipc_recv(a, buf, sizeof(buf), &n, 0) == XIPC_OK)
        got++;
    XT_EQ(got, 2);
    xipc_close(c);
    xipc_close(a);
    xipc_close(l);
    /* shm waits on futexes: no descriptor, and it says so */
    snprintf(url, sizeof(url), "shm://spawn-test-fd-%d", (int)getpid());
    XT_OK(xipc_listen(&l, url, NULL));
    XT_ERR(xipc_sock_fd(l, &lfd), XIPC_ENOTSUP);
    xipc_close(l);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc > 1 && strcmp(argv[1], "child") == 0)
        return child_main();
    char self[4096];
    ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);
    XT_ASSERT(k > 0);
    self[k] = '\0';
    spawn_echo(self, (unsigned)(sizeof(void *) * 8));
    if (argc > 1) {
        xt_peer_emulated("spawn_test", argv[1]);
        spawn_echo(argv[1], 32);
    }
    spawn_errors();
    poll_fd();
    printf("spawn_test ok\n");
    return 0;
}
