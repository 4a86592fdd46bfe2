/*
 * tls+tcp:// of the Windows build (Schannel, docs/tls.md "Windows"), run
 * under wine by tls_wine_test.sh against the native `tls_test echo`
 * (OpenSSL): messages of 0 B..16 MiB both ways and zero copy; a sending
 * and a receiving thread on one connection; timeouts that lose nothing;
 * clients one after another; verification failures with OpenSSL's texts
 * (wrong CA, host name and IP mismatch); tls_verify 0; servers that are
 * not TLS (silent, plain bytes, closing); option errors; and wine's
 * refusal to listen (asserted as wine's behaviour: no
 * AcceptSecurityContext).
 *
 *   tls_win_test DIR PORT   DIR: tls_interop_test.sh's certificates
 *                           (TLS_KEY=rsa) plus ec.key; PORT: the echo's
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/platform.h"
#include "stream_util.h"

#define TW_MSGS 200

static const char *tw_dir;
static char tw_url[64];

static const char *tw_file(const char *name)
{
    static char ring[8][320];
    static int next;
    char *p = ring[next++ % 8];
    snprintf(p, sizeof(ring[0]), "%s/%s", tw_dir, name);
    return p;
}

static xipc_opts tw_opts(const char *ca)
{
    xipc_opts o;
    XT_OK(xipc_opts_init(&o));
    o.tls_ca = ca != NULL ? tw_file(ca) : NULL;
    return o;
}

static xipc_sock *tw_dial(const xipc_opts *o)
{
    xipc_sock *s;
    xipc_err rv = xipc_dial(&s, tw_url, o, 30000);
    if (rv != XIPC_OK)
        XT_FAIL("dial %s: %s (%s)", tw_url, xipc_err_name(rv), xipc_last_detail());
    return s;
}

static void tw_detail_has(const char *what)
{
    if (strstr(xipc_last_detail(), what) == NULL)
        XT_FAIL("detail \"%s\" lacks \"%s\"", xipc_last_detail(), what);
}

static void case_listen_refused(void)
{
    /* wine 8's Schannel has no AcceptSecurityContext; Windows' has */
    xipc_sock *l;
    xipc_opts o = tw_opts(NULL);
    o.tls_cert = tw_file("server.pem");
    o.tls_key = tw_file("server.key");
    XT_ERR(xipc_listen(&l, "tls+tcp://127.0.0.1:0", &o), XIPC_ENOTSUP);
    tw_detail_has("AcceptSecurityContext not implemented");
    printf("  listen: XIPC_ENOTSUP under wine (no AcceptSecurityContext)\n");
}

static void case_sizes(void)
{
    static const size_t sizes[] = {0, 1, 4, 63, 64, 1000, 16379, 16380, 16384, 16385,
                                   65536, 100000, 1u << 20, (16u << 20) - 1, 16u << 20};
    xipc_opts o = tw_opts("ca.pem");
    xipc_sock *s = tw_dial(&o);
    xt_check_sizes(s, 16u << 20, sizes, sizeof(sizes) / sizeof(sizes[0]));
    xipc_close(s);
    printf("  0 B..16 MiB through the echo, zero copy, EMSGSIZE: intact\n");
}

typedef struct tw_duplex {
    xipc_sock *s;
    xipc_err rv;
} tw_duplex;

static void tw_duplex_send(void *arg)
{
    tw_duplex *d = arg;
    uint8_t *buf = malloc(70000);
    for (int i = 0; buf != NULL && d->rv == XIPC_OK && i < TW_MSGS; i++) {
        size_t n = (size_t)(i * 347) % 70000;
        xt_fill(buf, n, (uint32_t)i);
        d->rv = xipc_send(d->s, buf, n, 30000);
    }
    free(buf);
}

static void case_duplex(void)
{
    xipc_opts o = tw_opts("ca.pem");
    tw_duplex d = {tw_dial(&o), XIPC_OK};
    xipc_plat_thread t;
    XT_OK(xipc_plat_thread_create(&t, tw_duplex_send, &d));
    uint8_t *in = malloc(70000), *want = malloc(70000);
    XT_ASSERT(in != NULL && want != NULL);
    for (int i = 0; i < TW_MSGS; i++) {
        size_t n = (size_t)(i * 347) % 70000, got;
        XT_OK(xipc_recv(d.s, in, 70000, &got, 30000));
        XT_EQ(got, n);
        xt_fill(want, n, (uint32_t)i);
        XT_ASSERT(memcmp(in, want, n) == 0);
    }
    xipc_plat_thread_join(&t);
    XT_OK(d.rv);
    free(in);
    free(want);
    xipc_close(d.s);
    printf("  a sending and a receiving thread on one connection: %d messages\n", TW_MSGS);
}

static void case_timeouts(void)
{
    xipc_opts o = tw_opts("ca.pem");
    xipc_sock *s = tw_dial(&o);
    char buf[64];
    size_t n;
    XT_ERR(xipc_recv(s, buf, sizeof(buf), &n, 0), XIPC_ETIMEDOUT);
    XT_ERR(xipc_recv(s, buf, sizeof(buf), &n, 100), XIPC_ETIMEDOUT);
    XT_OK(xipc_send(s, "after", 5, 5000));
    XT_OK(xipc_recv(s, buf, sizeof(buf), &n, 30000));
    XT_ASSERT(n == 5 && memcmp(buf, "after", 5) == 0);
    xipc_close(s);
    printf("  recv timeouts (0, 100 ms): ETIMEDOUT, nothing lost\n");
}

static void case_clients(void)
{
    for (int i = 0; i < 8; i++) {
        xipc_opts o = tw_opts("ca.pem");
        if (i % 2) { /* every other one with a client certificate */
            o.tls_cert = tw_file("client.pem");
            o.tls_key = tw_file("client.key");
        }
        xipc_sock *s = tw_dial(&o);
        char buf[16], msg[16];
        size_t n;
        snprintf(msg, sizeof(msg), "client %d", i);
        XT_OK(xipc_send(s, msg, strlen(msg), 5000));
        XT_OK(xipc_recv(s, buf, sizeof(buf), &n, 30000));
        XT_ASSERT(n == strlen(msg) && memcmp(buf, msg, n) == 0);
        xipc_close(s);
    }
    printf("  8 clients one after another (4 with a client certificate)\n");
}

/* A dial that must fail with @p want and a detail containing @p text. */
static void tw_refused(const xipc_opts *o, const char *url, xipc_err want, const char *text)
{
    xipc_sock *s;
    XT_ERR(xipc_dial(&s, url, o, 30000), want);
    tw_detail_has(text);
}

static void case_verify(void)
{
    xipc_opts o = tw_opts("ca2.pem");
    tw_refused(&o, tw_url, XIPC_ETLS,
               "certificate verify failed: unable to get local issuer certificate");
    o = tw_opts("ca.pem");
    o.tls_server_name = "wrong.example";
    tw_refused(&o, tw_url, XIPC_ETLS, "certificate verify failed: hostname mismatch");
    o.tls_server_name = "10.9.8.7";
    tw_refused(&o, tw_url, XIPC_ETLS, "certificate verify failed: IP address mismatch");
    o.tls_server_name = "localhost";
    xipc_close(tw_dial(&o));
    o = tw_opts("ca2.pem");
    o.tls_verify = 0;
    xipc_close(tw_dial(&o));
    printf("  wrong CA, host name and IP mismatch: ETLS with OpenSSL's texts; "
           "tls_verify 0 passes\n");
}

/* A tcp:// server for case_not_tls: accepts one client and acts. */
typedef struct tw_plain {
    xipc_sock *l;
    int mode; /* 0: silent until closed, 1: plain bytes, 2: close at once */
} tw_plain;

static void tw_plain_run(void *arg)
{
    tw_plain *p = arg;
    xipc_sock *c;
    char buf[64];
    size_t n;
    if (xipc_accept(p->l, &c, 30000) != XIPC_OK)
        return;
    if (p->mode == 1)
        xipc_send(c, "HTTP/1.0 400 not TLS at all, really not", 40, 5000);
    if (p->mode != 2)
        xipc_recv(c, buf, sizeof(buf), &n, 30000); /* until the client gives up */
    xipc_close(c);
}

static void case_not_tls(void)
{
    static const char *const want[] = {"TLS handshake not finished within the dial timeout",
                                       "the peer does not speak TLS",
                                       "the peer closed the connection during the TLS handshake"};
    for (int mode = 0; mode < 3; mode++) {
        tw_plain p = {NULL, mode};
        char url[80];
        XT_OK(xipc_listen(&p.l, "tcp://127.0.0.1:0", NULL));
        XT_OK(xipc_sock_url(p.l, url, sizeof(url)));
        char tls[96];
        snprintf(tls, sizeof(tls), "tls+%s", url);
        xipc_plat_thread t;
        XT_OK(xipc_plat_thread_create(&t, tw_plain_run, &p));
        xipc_opts o = tw_opts("ca.pem");
        xipc_sock *s;
        XT_ERR(xipc_dial(&s, tls, &o, mode == 0 ? 300 : 30000),
               mode == 0 ? XIPC_ETIMEDOUT : XIPC_ETLS);
        tw_detail_has(want[mode]);
        xipc_plat_thread_join(&t);
        xipc_close(p.l);
    }
    printf("  servers that are not TLS: silent (ETIMEDOUT), plain bytes and closing (ETLS)\n");
}

static void case_options(void)
{
    xipc_opts o = tw_opts(NULL);
    o.tls_ca = tw_file("missing.pem");
    tw_refused(&o, tw_url, XIPC_EINVAL, "missing.pem: No such file or directory");
    o = tw_opts("ca.pem");
    o.tls_cert = tw_file("client.pem");
    o.tls_key = tw_file("ec.key");
    tw_refused(&o, tw_url, XIPC_EINVAL, "not an RSA key");
    o.tls_key = tw_file("server.key");
    tw_refused(&o, tw_url, XIPC_EINVAL, "does not match tls_cert");
    o.tls_key = tw_file("ca.pem"); /* no key in it */
    tw_refused(&o, tw_url, XIPC_EINVAL, "no PEM private key in it");
    o.tls_cert = tw_file("client.key"); /* no certificate in it */
    tw_refused(&o, tw_url, XIPC_EINVAL, "no PEM certificate in it");
    o = tw_opts("client.key");
    tw_refused(&o, tw_url, XIPC_EINVAL, "cannot use tls_ca");
    o = tw_opts(NULL);
    o.tls_key = tw_file("client.key");
    tw_refused(&o, tw_url, XIPC_EINVAL, "given without tls_cert");
    o = tw_opts(NULL);
    o.tls_verify = 2;
    xipc_sock *s;
    XT_ERR(xipc_dial(&s, tw_url, &o, 1000), XIPC_EINVAL);
    printf("  option errors: EINVAL with the file and the reason\n");
}

int main(int argc, char **argv)
{
    printf("tls_win_test (pointer width %u bits)\n", (unsigned)(sizeof(void *) * 8));
    if (argc != 3)
        XT_FAIL("usage: tls_win_test DIR PORT");
    tw_dir = argv[1];
    snprintf(tw_url, sizeof(tw_url), "tls+tcp://127.0.0.1:%s", argv[2]);
    case_listen_refused();
    case_options();
    case_sizes();
    case_duplex();
    case_timeouts();
    case_clients();
    case_verify();
    case_not_tls();
    printf("tls_win_test ok\n");
    return 0;
}
