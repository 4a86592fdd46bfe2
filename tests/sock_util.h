/*
 * Helpers shared by the tests of the channel schemes (conform_test,
 * tls_test, mailslot_test, mq_test, clip_test, dde_test): a timed-out
 * call, names refused, the next message or none, and
 * (POSIX only) a child that holds a listener until it is killed. Peer
 * processes and the clock: xt_proc.h.
 */
#ifndef XIPC_TESTS_SOCK_UTIL_H
#define XIPC_TESTS_SOCK_UTIL_H

#include <string.h>

#include "test.h"
#include "xt_proc.h"

/* @p expr, a call given a 100 ms timeout, returns XIPC_ETIMEDOUT, and not
 * before 90 ms have passed. */
#define XT_TIMES_OUT(expr)                                                     \
    do {                                                                       \
        uint64_t xt_t0_ = xt_now_ms();                                         \
        XT_ERR(expr, XIPC_ETIMEDOUT);                                          \
        XT_ASSERT(xt_now_ms() - xt_t0_ >= 90);                                 \
    } while (0)

/* Each of the @p count URLs @p bad is refused with EINVAL by listen (which
 * leaves the socket NULL) and by dial. */
static inline void xt_check_bad_urls(const char *const *bad, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        xipc_sock *s = (xipc_sock *)1;
        XT_ERR(xipc_listen(&s, bad[i], NULL), XIPC_EINVAL);
        XT_ASSERT(s == NULL);
        XT_ERR(xipc_dial(&s, bad[i], NULL, 0), XIPC_EINVAL);
    }
}

/* The next message on @p s, within @p timeout_ms, is the @p len bytes at
 * @p want (at most 4096). */
static inline void xt_expect_msg(xipc_sock *s, const void *want, size_t len, int timeout_ms)
{
    char got[4096];
    size_t n = 0;
    XT_OK(xipc_recv(s, got, sizeof(got), &n, timeout_ms));
    XT_EQ(n, len);
    XT_ASSERT(memcmp(got, want, n) == 0);
}

/* No message comes on @p s within 150 ms. */
static inline void xt_expect_none(xipc_sock *s)
{
    char got[256];
    size_t n;
    XT_ERR(xipc_recv(s, got, sizeof(got), &n, 150), XIPC_ETIMEDOUT);
}

#ifndef _WIN32
/* A child that listens at @p url, says so with a byte on the pipe @p ready,
 * then waits to be killed; returns its pid once it listens. The child
 * exits 2 when it cannot listen, 3 when it cannot write. */
static inline pid_t xt_listen_child(const char *url, int ready[2])
{
    pid_t pid = fork();
    XT_ASSERT(pid >= 0);
    if (pid == 0) {
        xipc_sock *s;
        if (xipc_listen(&s, url, NULL) != XIPC_OK)
            _exit(2);
        char c = 'r';
        if (write(ready[1], &c, 1) != 1)
            _exit(3);
        for (;;)
            pause();
    }
    char c;
    XT_EQ(read(ready[0], &c, 1), 1);
    return pid;
}

#endif /* _WIN32 */

#endif
