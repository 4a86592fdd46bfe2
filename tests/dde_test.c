#define _GNU_SOURCE
/*
 * dde://SERVICE/TOPIC[/ITEM] (docs/dde.md). On Windows (wine in make test,
 * inside an Xvfb display that tests/with_xvfb.sh starts: wine's DDE needs
 * one): pokes arrive in order and byte for byte, binary included; a
 * client's first receive requests the value there is now, and its advise
 * link then brings each value the server sets (or XIPC_ENOENT when there
 * is none yet); pokes after a request all
 * arrive once (wine's stray acknowledgement, win32_dde.c); a second
 * server of a name is refused, a dial with none is refused; limits,
 * a full server's queue and bad names; a killed server's clients see
 * XIPC_ECLOSED. Elsewhere: XIPC_ENOTSUP with the reason.
 *
 *   dde_test                    the test
 *   dde_test serve URL TEXT     (child) serve URL with TEXT as its item's value;
 *                               each poke P of it makes the value "seen: P"
 */
#ifdef _WIN32
#include <windows.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sock_util.h"

#ifdef _WIN32
static char self[MAX_PATH];

static int child(int argc, char **argv)
{
    xipc_sock *s;
    if (argc != 4 || strcmp(argv[1], "serve") != 0)
        return 9;
    if (xipc_listen(&s, argv[2], NULL) != XIPC_OK ||
        xipc_send(s, argv[3], strlen(argv[3]), 5000) != XIPC_OK)
        return 2;
    for (;;) { /* answer each poke with the value "seen: POKE", until killed */
        char buf[256] = "seen: ";
        size_t n;
        if (xipc_recv(s, buf + 6, sizeof(buf) - 6, &n, -1) == XIPC_OK)
            xipc_send(s, buf, n + 6, 5000);
    }
}

int main(int argc, char **argv)
{
    if (argc > 1)
        return child(argc, argv);
    printf("dde_test (pointer width %u bits)\n", (unsigned)(sizeof(void *) * 8));
    GetModuleFileNameA(NULL, self, sizeof(self));
    char svc[64], url[128], url2[160];
    snprintf(svc, sizeof(svc), "xipc-test-%lu", (unsigned long)GetCurrentProcessId());
    snprintf(url, sizeof(url), "dde://%s/topic", svc);
    xipc_sock *srv, *c, *c2, *bad;

    /* no server yet */
    XT_ERR(xipc_dial(&c, url, NULL, 1000), XIPC_ECONNREFUSED);
    XT_OK(xipc_listen(&srv, url, NULL));
    XT_ERR(xipc_listen(&bad, url, NULL), XIPC_EADDRINUSE);
    printf("  no server: ECONNREFUSED; a second server of the name: EADDRINUSE ok\n");

    /* pokes, in order, byte for byte */
    XT_OK(xipc_dial(&c, url, NULL, 1000));
    char msg[64];
    for (int i = 0; i < 200; i++) {
        int n = snprintf(msg, sizeof(msg), "poke %d", i);
        XT_OK(xipc_send(c, msg, (size_t)n, 5000));
    }
    for (int i = 0; i < 200; i++) {
        int n = snprintf(msg, sizeof(msg), "poke %d", i);
        xt_expect_msg(srv, msg, (size_t)n, 5000);
    }
    static const unsigned char bin[] = {0, 1, 2, 0, 255, 0, 'x', 0};
    XT_OK(xipc_send(c, bin, sizeof(bin), 5000));
    xt_expect_msg(srv, bin, sizeof(bin), 5000);
    /* no empty values (dde.c): a 0-byte data handle does not travel */
    XT_ERR(xipc_send(c, "", 0, 5000), XIPC_EINVAL);
    XT_ERR(xipc_send(srv, "", 0, 5000), XIPC_EINVAL);
    XT_OK(xipc_send(c, "now", 3, 5000));
    xt_expect_msg(srv, "now", 3, 5000);
    xt_expect_none(srv);
    printf("  200 pokes in order; binary with NULs exact; empty refused ok\n");

    /* a client's first receive: the value now (the last poke), then each
     * value the server sets, through the advise link */
    XT_OK(xipc_dial(&c2, url, NULL, 1000));
    xt_expect_msg(c2, "now", 3, 5000);
    XT_OK(xipc_send(srv, "set 1", 5, 5000));
    xt_expect_msg(c2, "set 1", 5, 5000);
    for (int i = 0; i < 20; i++) {
        int n = snprintf(msg, sizeof(msg), "value %d", i);
        XT_OK(xipc_send(srv, msg, (size_t)n, 5000));
        xt_expect_msg(c2, msg, (size_t)n, 5000);
    }
    /* a poke by the other client reaches the server and the link */
    XT_OK(xipc_send(c, "from c", 6, 5000));
    xt_expect_msg(srv, "from c", 6, 5000);
    xt_expect_msg(c2, "from c", 6, 5000);
    printf("  request, then advise: each value set once, pokes of others too ok\n");

    /* another item of the topic: no value yet (the first receive says
     * ENOENT, the link is up all the same); a poke of it reaches the link,
     * and the table (a later request), not the server's receive */
    char urlo[160];
    snprintf(urlo, sizeof(urlo), "%s/other", url);
    xipc_sock *o1, *o2;
    XT_OK(xipc_dial(&o1, urlo, NULL, 1000));
    char got[400];
    size_t n;
    XT_ERR(xipc_recv(o1, got, sizeof(got), &n, 5000), XIPC_ENOENT);
    XT_OK(xipc_dial(&o2, urlo, NULL, 1000));
    XT_OK(xipc_send(o2, "other value", 11, 5000));
    xt_expect_msg(o1, "other value", 11, 5000);
    xt_expect_none(srv);
    xipc_close(o2);
    XT_OK(xipc_dial(&o2, urlo, NULL, 1000));
    xt_expect_msg(o2, "other value", 11, 5000);
    xipc_close(o2);
    xipc_close(o1);
    printf("  an item without a value: ENOENT, then its first value through the link; "
           "not the server's item ok\n");

    /* requests then pokes on one conversation, 30 times: wine acknowledges
     * each request once too often (win32_dde.c); no poke may be lost or
     * doubled, and each request must get the value */
    for (int i = 0; i < 30; i++) {
        xipc_sock *k;
        int m = snprintf(msg, sizeof(msg), "round %d", i);
        XT_OK(xipc_send(srv, msg, (size_t)m, 5000));
        XT_OK(xipc_dial(&k, url, NULL, 1000));
        xt_expect_msg(k, msg, (size_t)m, 5000);
        XT_OK(xipc_send(k, "a", 1, 5000));
        XT_OK(xipc_send(k, "b", 1, 5000));
        xt_expect_msg(srv, "a", 1, 5000);
        xt_expect_msg(srv, "b", 1, 5000);
        xipc_close(k);
    }
    xt_expect_none(srv);
    printf("  30 x (request, poke, poke) on fresh conversations: every value, every poke "
           "once ok\n");

    /* a small buffer keeps the value; limits; bad names */
    char big[300];
    memset(big, 'x', sizeof(big));
    XT_OK(xipc_send(c, big, sizeof(big), 5000));
    XT_ERR(xipc_recv(srv, got, 10, &n, 5000), XIPC_EMSGSIZE);
    XT_EQ(n, sizeof(big));
    XT_OK(xipc_recv(srv, got, sizeof(got), &n, 0));
    XT_ASSERT(n == sizeof(big) && memcmp(got, big, n) == 0);
    while (xipc_recv(c2, got, sizeof(got), &n, 200) == XIPC_OK)
        ; /* c2's link brought the last pokes too */
    static char huge[(1u << 20) + 1];
    XT_ERR(xipc_send(c, huge, sizeof(huge), 5000), XIPC_EMSGSIZE);
    xipc_opts small;
    xipc_opts_init(&small);
    small.max_msg = 16;
    snprintf(url2, sizeof(url2), "dde://%s/small/item", svc);
    xipc_sock *s16, *c16;
    XT_OK(xipc_listen(&s16, url2, &small));
    XT_OK(xipc_dial(&c16, url2, NULL, 1000));
    /* a poke the server refuses (larger than its max_msg): Windows reports
     * DDE_FNOTPROCESSED (XIPC_EREMOTE); wine's client reports every
     * answered poke as done (docs/windows.md): there it is OK, and lost */
    XT_ERR(xipc_send(c16, big, 17, 5000), xt_under_wine() ? XIPC_OK : XIPC_EREMOTE);
    xt_expect_none(s16);
    XT_OK(xipc_send(c16, big, 16, 5000));
    xt_expect_msg(s16, big, 16, 5000);
    const char *bad_urls[] = {"dde://", "dde://svc", "dde://svc/", "dde:///topic",
                              "dde://a/b/c/d", "dde://a b/c", "dde://a/b\x7f"};
    for (size_t i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++)
        XT_ERR(xipc_dial(&bad, bad_urls[i], NULL, 0), XIPC_EINVAL);
    char u[200];
    XT_OK(xipc_sock_url(c16, u, sizeof(u)));
    XT_ASSERT(strcmp(u, url2) == 0);
    printf("  small buffer keeps the value; too large here (EMSGSIZE) and for the server "
           "(EREMOTE); bad names ok\n");

    /* a server whose queue is full: a poke waits, then times out; it is
     * not lost (a posted poke cannot be taken back: it arrives once the
     * server's owner reads), and later pokes go through */
    int sent = 0;
    xipc_err rv;
    while ((rv = xipc_send(c16, "q", 1, 300)) == XIPC_OK && sent < 5000)
        sent++;
    XT_ERR(rv, XIPC_ETIMEDOUT);
    XT_EQ(sent, 1024);
    /* the server's owner may send while its queue is full: its own send
     * does not wait for the receive it has not made yet */
    XT_OK(xipc_send(s16, "set", 3, 5000));
    int drained = 0;
    while (xipc_recv(s16, got, sizeof(got), &n, 1000) == XIPC_OK) {
        XT_ASSERT(n == 1 && got[0] == 'q');
        drained++;
    }
    XT_EQ(drained, 1025);
    XT_OK(xipc_send(c16, "again", 5, 5000));
    xt_expect_msg(s16, "again", 5, 5000);
    printf("  a full server queue (%d pokes): the next poke times out, arrives once read; "
           "later pokes go through ok\n", sent);
    xipc_close(c16);
    xipc_close(s16);

    /* another process's server, killed: its client sees the end */
    char url3[160];
    snprintf(url3, sizeof(url3), "dde://%s/child", svc);
    xt_pid p = xt_start(self, "serve", url3, "from child", (char *)NULL);
    xipc_sock *k = NULL;
    for (int i = 0; i < 200 && xipc_dial(&k, url3, NULL, 0) != XIPC_OK; i++)
        Sleep(50);
    XT_ASSERT(k != NULL);
    xt_expect_msg(k, "from child", 10, 5000);
    XT_OK(xipc_send(k, "echo me", 7, 5000));
    xt_expect_msg(k, "echo me", 7, 5000); /* the poke set the item: the link says so */
    xt_expect_msg(k, "seen: echo me", 13, 5000);
    xt_kill(p);
    XT_EQ(xt_wait_child(p), XT_KILLED);
    XT_ERR(xipc_recv(k, got, sizeof(got), &n, 10000), XIPC_ECLOSED);
    XT_ERR(xipc_send(k, "x", 1, 5000), XIPC_ECLOSED);
    xipc_close(k);
    printf("  a server in another process: value, poke, its answer through the link; killed: "
           "ECLOSED ok\n");

    xipc_close(c2);
    xipc_close(c);
    xipc_close(srv);
    printf("dde_test ok\n");
    return 0;
}
#else
int main(void)
{
    printf("dde_test (pointer width %u bits)\n", (unsigned)(sizeof(void *) * 8));
    xipc_sock *s;
    XT_ERR(xipc_listen(&s, "dde://svc/topic", NULL), XIPC_ENOTSUP);
    XT_ASSERT(strstr(xipc_last_detail(), "Dynamic Data Exchange") != NULL);
    XT_ERR(xipc_dial(&s, "dde://svc/topic", NULL, 0), XIPC_ENOTSUP);
    XT_ERR(xipc_dial(&s, "dde://svc", NULL, 0), XIPC_EINVAL);
    printf("  no DDE here: XIPC_ENOTSUP, \"%s\" ok\n", xipc_last_detail());
    printf("dde_test ok\n");
    return 0;
}
#endif
