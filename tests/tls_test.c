/*
 * tls+tcp:// (docs/tls.md): messages of 0 B..16 MiB both ways, many
 * clients, a sender and a receiver thread on one connection, timeouts,
 * peer death; verification failures (wrong CA, system store, hostname and
 * IP mismatch, expired, self-signed) with their error texts; tls_verify 0;
 * mutual TLS; plain TCP and silent clients at a TLS listener; a record
 * changed in transit; option errors; RPC over tls+tcp://.
 *
 *   tls_test SCRIPT          the suite; certificates from "SCRIPT certs DIR"
 *   tls_test absent          a build without OpenSSL refuses the scheme
 *   tls_test port | interop-send | interop-serve | hold | echo
 *                            helpers for tls_interop_test.sh,
 *                            tls_wine_test.sh and the suite
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stream_util.h"
#include "xipc/rpc.h"

#define TT_MAX (16u << 20)
#define TT_CLIENTS 8
#define TT_MSGS 200

static char tt_dir[256];
static const char *tt_self; /* this program, for the child of case_peer_death */

/* The file DIR/NAME of the certificates (several at once: a ring). */
static const char *tt_file(const char *name)
{
    static char ring[16][320];
    static int next;
    char *p = ring[next++ % 16];
    snprintf(p, sizeof(ring[0]), "%s/%s", tt_dir, name);
    return p;
}

/* Server options: certificate @p cert (DIR/cert.pem, key DIR/cert.key),
 * client certificates required when @p ca is not NULL. */
static xipc_opts srv_opts(const char *cert, const char *ca)
{
    char name[64];
    xipc_opts o;
    XT_OK(xipc_opts_init(&o));
    snprintf(name, sizeof(name), "%s.pem", cert);
    o.tls_cert = tt_file(name);
    snprintf(name, sizeof(name), "%s.key", cert);
    o.tls_key = tt_file(name);
    o.tls_ca = ca;
    return o;
}

/* Client options trusting DIR/ca.pem. */
static xipc_opts cli_opts(void)
{
    xipc_opts o;
    XT_OK(xipc_opts_init(&o));
    o.tls_ca = tt_file("ca.pem");
    return o;
}

static unsigned url_port(xipc_sock *l)
{
    char url[160];
    XT_OK(xipc_sock_url(l, url, sizeof(url)));
    XT_ASSERT(strncmp(url, "tls+tcp://127.0.0.1:", 20) == 0);
    return (unsigned)atoi(strrchr(url, ':') + 1);
}

static xipc_sock *tt_listen(const xipc_opts *o)
{
    xipc_sock *l;
    XT_OK(xipc_listen(&l, "tls+tcp://127.0.0.1:0", o));
    XT_ASSERT(url_port(l) > 0);
    return l;
}

/* ---- a client on its own thread ---------------------------------------------- */

typedef struct tt_client {
    pthread_t th;
    char url[160];
    xipc_opts o;
    int id;
    xipc_sock *s;          /* dial_only: the connection */
    xipc_err dial, msg;    /* the dial; then the exchange */
    char dial_detail[256], msg_detail[256];
} tt_client;

static void *tt_dial_only(void *arg)
{
    tt_client *c = arg;
    c->dial = xipc_dial(&c->s, c->url, &c->o, 30000);
    snprintf(c->dial_detail, sizeof(c->dial_detail), "%s", xipc_last_detail());
    return NULL;
}

/* Dial, send "hello", expect "world". */
static void *tt_hello(void *arg)
{
    tt_client *c = arg;
    xipc_sock *s;
    char buf[16];
    size_t n;
    c->dial = xipc_dial(&s, c->url, &c->o, 30000);
    snprintf(c->dial_detail, sizeof(c->dial_detail), "%s", xipc_last_detail());
    if (c->dial != XIPC_OK)
        return NULL;
    c->msg = xipc_send(s, "hello", 5, 10000);
    if (c->msg == XIPC_OK)
        c->msg = xipc_recv(s, buf, sizeof(buf), &n, 10000);
    if (c->msg == XIPC_OK && (n != 5 || memcmp(buf, "world", 5) != 0))
        c->msg = XIPC_EPROTO;
    snprintf(c->msg_detail, sizeof(c->msg_detail), "%s", xipc_last_detail());
    xipc_close(s);
    return NULL;
}

/* Dial, send TT_MSGS messages {id, i}, close. */
static void *tt_sender(void *arg)
{
    tt_client *c = arg;
    xipc_sock *s;
    c->dial = xipc_dial(&s, c->url, &c->o, 30000);
    if (c->dial != XIPC_OK)
        return NULL;
    for (uint32_t i = 0; i < TT_MSGS && c->msg == XIPC_OK; i++) {
        uint32_t m[2] = {(uint32_t)c->id, i};
        c->msg = xipc_send(s, m, sizeof(m), 30000);
    }
    xipc_close(s);
    return NULL;
}

static void tt_client_start(tt_client *c, void *(*fn)(void *), unsigned port,
                            const char *host, const xipc_opts *o, int id)
{
    memset(c, 0, sizeof(*c));
    c->id = id;
    snprintf(c->url, sizeof(c->url), "tls+tcp://%s:%u", host, port);
    c->o = *o;
    XT_ASSERT(pthread_create(&c->th, NULL, fn, c) == 0);
}

static void tt_client_join(tt_client *c)
{
    XT_ASSERT(pthread_join(c->th, NULL) == 0);
}

/* One exchange with a client of options @p co dialling @p host: what
 * each side saw. The server answers "hello" with "world". */
typedef struct tt_pair {
    xipc_err acc, acc_msg;
    char acc_detail[256];
    tt_client c;
} tt_pair;

static void pair(xipc_sock *l, const char *host, const xipc_opts *co, tt_pair *p)
{
    xipc_sock *s;
    memset(p, 0, sizeof(*p));
    tt_client_start(&p->c, tt_hello, url_port(l), host, co, 0);
    p->acc = xipc_accept(l, &s, 30000);
    snprintf(p->acc_detail, sizeof(p->acc_detail), "%s", xipc_last_detail());
    if (p->acc == XIPC_OK) {
        char buf[16];
        size_t n;
        p->acc_msg = xipc_recv(s, buf, sizeof(buf), &n, 10000);
        if (p->acc_msg == XIPC_OK)
            p->acc_msg = n == 5 && memcmp(buf, "hello", 5) == 0
                             ? xipc_send(s, "world", 5, 10000)
                             : XIPC_EPROTO;
        xipc_close(s);
    }
    tt_client_join(&p->c);
}

static void pair_ok(xipc_sock *l, const char *host, const xipc_opts *co)
{
    tt_pair p;
    pair(l, host, co, &p);
    if (p.c.dial != XIPC_OK)
        XT_FAIL("dial: %s (%s)", xipc_err_name(p.c.dial), p.c.dial_detail);
    XT_OK(p.acc);
    XT_OK(p.acc_msg);
    XT_OK(p.c.msg);
}

/* The client's dial fails with ETLS and detail @p want; so does accept. */
static void pair_refused(xipc_sock *l, const char *host, const xipc_opts *co,
                         const char *want)
{
    tt_pair p;
    pair(l, host, co, &p);
    XT_ERR(p.c.dial, XIPC_ETLS);
    if (strcmp(p.c.dial_detail, want) != 0)
        XT_FAIL("detail \"%s\", want \"%s\"", p.c.dial_detail, want);
    XT_ERR(p.acc, XIPC_ETLS);
    XT_ASSERT(p.acc_detail[0] != '\0');
    printf("  refused: client \"%s\", server \"%s\"\n", p.c.dial_detail, p.acc_detail);
}

/* A connected pair: @p c dialled with @p co, @p s accepted on @p l. */
static void connect_pair(xipc_sock *l, const xipc_opts *co, xipc_sock **c, xipc_sock **s)
{
    tt_client d;
    tt_client_start(&d, tt_dial_only, url_port(l), "127.0.0.1", co, 0);
    XT_OK(xipc_accept(l, s, 30000));
    tt_client_join(&d);
    XT_OK(d.dial);
    *c = d.s;
}

/* ---- data ---------------------------------------------------------------------- */

/* Echo every message until the peer closes; the last result. */
static void *tt_echo(void *arg)
{
    xipc_sock *s = arg;
    uint8_t *buf = malloc(TT_MAX);
    size_t n;
    xipc_err rv;
    while ((rv = xipc_recv(s, buf, TT_MAX, &n, 30000)) == XIPC_OK)
        if ((rv = xipc_send(s, buf, n, 30000)) != XIPC_OK)
            break;
    free(buf);
    return (void *)(intptr_t)rv;
}

static void check_sizes(xipc_sock *s)
{
    size_t sizes[] = {0, 1, 7, 8, 9, 100, 4095, 4096, 16380, 16384, 16385,
                      65536, 1u << 20, TT_MAX - 1, TT_MAX};
    xt_check_sizes(s, TT_MAX, sizes, sizeof(sizes) / sizeof(sizes[0]));
}

static void case_sizes(void)
{
    xipc_opts so = srv_opts("server", NULL), co = cli_opts();
    xipc_sock *l = tt_listen(&so);
    for (int role = 0; role < 2; role++) {
        xipc_sock *c, *s;
        pthread_t th;
        void *res;
        connect_pair(l, &co, &c, &s);
        char url[160];
        XT_OK(xipc_sock_url(c, url, sizeof(url)));
        XT_ASSERT(strncmp(url, "tls+tcp://127.0.0.1:", 20) == 0);
        uint32_t id = 1;
        XT_OK(xipc_peer_pid(s, &id));
        XT_EQ(id, 0); /* TCP: unknown */
        XT_ERR(xipc_peer_uid(s, &id), XIPC_ENOTSUP);
        /* role 0: the client checks, the server echoes; role 1 reversed */
        XT_ASSERT(pthread_create(&th, NULL, tt_echo, role ? c : s) == 0);
        check_sizes(role ? s : c);
        xipc_close(role ? s : c);
        XT_ASSERT(pthread_join(th, &res) == 0);
        XT_ERR((xipc_err)(intptr_t)res, XIPC_ECLOSED);
        xipc_close(role ? c : s);
    }
    xipc_close(l);
    printf("  0 B .. 16 MiB both ways, zero copy, EMSGSIZE\n");
}

/* One connection, a sending and a receiving thread at once (the SSL
 * object is shared: its calls must be serialised). */
#define TT_DUPLEX 400
static void *tt_duplex_send(void *arg)
{
    xipc_sock *s = arg;
    uint8_t *m = malloc(70000);
    xipc_err rv = XIPC_OK;
    for (uint32_t i = 0; i < TT_DUPLEX && rv == XIPC_OK; i++) {
        size_t n = (i * 7919u) % 70000;
        xt_fill(m, n, i);
        rv = xipc_send(s, m, n, 30000);
    }
    free(m);
    return (void *)(intptr_t)rv;
}

static void case_duplex(void)
{
    xipc_opts so = srv_opts("server", NULL), co = cli_opts();
    xipc_sock *l = tt_listen(&so), *c, *s;
    pthread_t echo, snd;
    void *res;
    connect_pair(l, &co, &c, &s);
    XT_ASSERT(pthread_create(&echo, NULL, tt_echo, s) == 0);
    XT_ASSERT(pthread_create(&snd, NULL, tt_duplex_send, c) == 0);
    uint8_t *in = malloc(70000), *want = malloc(70000);
    for (uint32_t i = 0; i < TT_DUPLEX; i++) {
        size_t n, len = (i * 7919u) % 70000;
        XT_OK(xipc_recv(c, in, 70000, &n, 30000));
        XT_EQ(n, len);
        xt_fill(want, len, i);
        XT_ASSERT(memcmp(in, want, len) == 0);
    }
    XT_ASSERT(pthread_join(snd, &res) == 0);
    XT_OK((xipc_err)(intptr_t)res);
    xipc_close(c);
    XT_ASSERT(pthread_join(echo, &res) == 0);
    XT_ERR((xipc_err)(intptr_t)res, XIPC_ECLOSED);
    xipc_close(s);
    xipc_close(l);
    free(in);
    free(want);
    printf("  %d messages each way, a sender and a receiver thread on one connection\n",
           TT_DUPLEX);
}

static void case_many_clients(void)
{
    xipc_opts so = srv_opts("server", NULL), co = cli_opts();
    xipc_sock *l = tt_listen(&so);
    tt_client cl[TT_CLIENTS];
    for (int k = 0; k < TT_CLIENTS; k++)
        tt_client_start(&cl[k], tt_sender, url_port(l), "127.0.0.1", &co, k);
    xt_recv_clients(l, TT_CLIENTS, TT_MSGS, 2);
    for (int k = 0; k < TT_CLIENTS; k++) {
        tt_client_join(&cl[k]);
        XT_OK(cl[k].dial);
        XT_OK(cl[k].msg);
    }
    xipc_close(l);
    printf("  %d clients on one listener\n", TT_CLIENTS);
}

/* Timeouts; a sender blocked by a peer that never reads gives up at its
 * timeout, and what it sent (a record half-written included) arrives
 * after it closed. */
static void case_timeouts(void)
{
    xipc_opts so = srv_opts("server", NULL), co = cli_opts();
    xipc_sock *l = tt_listen(&so), *c, *s;
    XT_TIMES_OUT(xipc_accept(l, &s, 100));
    connect_pair(l, &co, &c, &s);
    int sent = xt_check_blocked_sender(c, s);
    xipc_close(s);
    xipc_close(l);
    printf("  timeouts; %d x 64 KiB sent before the peer stopped reading, all delivered\n",
           sent);
}

/* A peer killed with SIGKILL (no close_notify) is ECLOSED at once. */
static void case_peer_death(void)
{
    xipc_opts so = srv_opts("server", NULL);
    xipc_sock *l = tt_listen(&so), *s;
    char url[160];
    snprintf(url, sizeof(url), "tls+tcp://127.0.0.1:%u", url_port(l));
    pid_t pid = fork();
    XT_ASSERT(pid >= 0);
    if (pid == 0) {
        execl(tt_self, tt_self, "hold", url, tt_file("ca.pem"), (char *)NULL);
        _exit(127);
    }
    XT_OK(xipc_accept(l, &s, 30000));
    uint64_t dt = xt_check_peer_killed(s, pid, 0); /* the peer is this program */
    int st;
    XT_ASSERT(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st));
    xipc_close(s);
    xipc_close(l);
    printf("  peer death noticed after %llu ms\n", (unsigned long long)dt);
}

/* ---- verification -------------------------------------------------------------- */

static void case_verify(void)
{
    xipc_opts so = srv_opts("server", NULL), co = cli_opts();
    xipc_sock *l = tt_listen(&so);
    pair_ok(l, "127.0.0.1", &co); /* the IP address in the certificate */
    pair_ok(l, "localhost", &co); /* the DNS name */
    /* a CA that did not sign the server's certificate */
    co.tls_ca = tt_file("ca2.pem");
    pair_refused(l, "127.0.0.1", &co,
                 "certificate verify failed: unable to get local issuer certificate");
    /* the system's store (tls_ca NULL) does not know the test CA */
    co.tls_ca = NULL;
    pair_refused(l, "127.0.0.1", &co,
                 "certificate verify failed: unable to get local issuer certificate");
    /* another name than the certificate's */
    co = cli_opts();
    co.tls_server_name = "db.example";
    pair_refused(l, "127.0.0.1", &co, "certificate verify failed: hostname mismatch");
    co.tls_server_name = "127.0.0.2";
    pair_refused(l, "127.0.0.1", &co, "certificate verify failed: IP address mismatch");
    co.tls_server_name = "localhost";
    pair_ok(l, "127.0.0.1", &co);
    /* no checks at all */
    co = cli_opts();
    co.tls_ca = tt_file("ca2.pem");
    co.tls_server_name = "db.example";
    co.tls_verify = 0;
    pair_ok(l, "127.0.0.1", &co);
    xipc_close(l);

    so = srv_opts("expired", NULL);
    l = tt_listen(&so);
    co = cli_opts();
    pair_refused(l, "127.0.0.1", &co, "certificate verify failed: certificate has expired");
    xipc_close(l);

    so = srv_opts("rogue", NULL);
    l = tt_listen(&so);
    pair_refused(l, "127.0.0.1", &co, "certificate verify failed: self-signed certificate");
    co.tls_verify = 0; /* encrypted, unauthenticated: connects */
    pair_ok(l, "127.0.0.1", &co);
    xipc_close(l);
}

static void case_mutual(void)
{
    xipc_opts so = srv_opts("server", tt_file("ca.pem")), co = cli_opts();
    xipc_sock *l = tt_listen(&so);
    /* no client certificate: with TLS 1.3 the client's dial completes
     * before the server has judged it; the refusal comes as an alert */
    tt_pair p;
    pair(l, "127.0.0.1", &co, &p);
    XT_ERR(p.acc, XIPC_ETLS);
    XT_ASSERT(strcmp(p.acc_detail, "peer did not return a certificate") == 0);
    /* the alert ("tlsv13 alert certificate required"), or the reset that
     * overtakes it when the server closed with our "hello" unread; the
     * detail says that a certificate was asked for either way */
    if (p.c.dial == XIPC_OK)
        XT_ASSERT(p.c.msg == XIPC_ETLS || p.c.msg == XIPC_ECLOSED);
    else
        XT_ERR(p.c.dial, XIPC_ETLS);
    XT_ASSERT(strstr(p.c.dial != XIPC_OK ? p.c.dial_detail : p.c.msg_detail,
                     "the server asked for a client certificate") != NULL);
    printf("  no client certificate: server \"%s\"; client %s \"%s\"\n", p.acc_detail,
           xipc_err_name(p.c.dial != XIPC_OK ? p.c.dial : p.c.msg),
           p.c.dial != XIPC_OK ? p.c.dial_detail : p.c.msg_detail);
    /* a certificate of another CA */
    co.tls_cert = tt_file("client2.pem");
    co.tls_key = tt_file("client2.key");
    pair(l, "127.0.0.1", &co, &p);
    XT_ERR(p.acc, XIPC_ETLS);
    XT_ASSERT(strcmp(p.acc_detail, "certificate verify failed: "
                                   "unable to get local issuer certificate") == 0);
    XT_ASSERT(p.c.dial == XIPC_ETLS || p.c.msg == XIPC_ETLS || p.c.msg == XIPC_ECLOSED);
    /* the listener still serves a client with a good certificate */
    co.tls_cert = tt_file("client.pem");
    co.tls_key = tt_file("client.key");
    pair_ok(l, "127.0.0.1", &co);
    xipc_close(l);
    printf("  mutual TLS: refused without and with a foreign certificate, "
           "accepted with ours\n");
}

/* A TCP proxy between a client and a listener that, when told, flips the
 * last byte of the next chunk the client sends: tampering in the middle. */
typedef struct tt_proxy {
    int lfd;
    unsigned port, to_port;
    atomic_int corrupt;
    pthread_t th;
} tt_proxy;

static void *tt_proxy_run(void *arg)
{
    tt_proxy *p = arg;
    int c = accept(p->lfd, NULL, NULL), s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)p->to_port);
    XT_ASSERT(c >= 0 && s >= 0 && connect(s, (struct sockaddr *)&a, sizeof(a)) == 0);
    for (;;) {
        struct pollfd f[2] = {{c, POLLIN, 0}, {s, POLLIN, 0}};
        uint8_t buf[65536];
        if (poll(f, 2, 30000) <= 0)
            break;
        int from = f[0].revents ? c : s, to = from == c ? s : c;
        ssize_t n = read(from, buf, sizeof(buf));
        if (n <= 0)
            break;
        if (from == c && atomic_exchange(&p->corrupt, 0))
            buf[n - 1] ^= 0x40;
        if (write(to, buf, (size_t)n) != n)
            break;
    }
    close(c);
    close(s);
    return NULL;
}

static void tt_proxy_start(tt_proxy *p, unsigned to_port)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p->lfd = socket(AF_INET, SOCK_STREAM, 0);
    XT_ASSERT(p->lfd >= 0 && bind(p->lfd, (struct sockaddr *)&a, len) == 0 &&
              listen(p->lfd, 1) == 0 &&
              getsockname(p->lfd, (struct sockaddr *)&a, &len) == 0);
    p->port = ntohs(a.sin_port);
    p->to_port = to_port;
    atomic_init(&p->corrupt, 0);
    XT_ASSERT(pthread_create(&p->th, NULL, tt_proxy_run, p) == 0);
}

/* A record changed on the way: the receiver's integrity check fails
 * (EPROTO), and its alert reaches the sender (ETLS). */
static void case_tamper(void)
{
    xipc_opts so = srv_opts("server", NULL), co = cli_opts();
    xipc_sock *l = tt_listen(&so), *s;
    tt_proxy px;
    tt_client d;
    char buf[16];
    size_t n;
    tt_proxy_start(&px, url_port(l));
    tt_client_start(&d, tt_dial_only, px.port, "127.0.0.1", &co, 0);
    XT_OK(xipc_accept(l, &s, 30000));
    tt_client_join(&d);
    XT_OK(d.dial);
    XT_OK(xipc_send(d.s, "intact", 6, 5000));
    XT_OK(xipc_recv(s, buf, sizeof(buf), &n, 5000));
    XT_ASSERT(n == 6 && memcmp(buf, "intact", 6) == 0);
    atomic_store(&px.corrupt, 1);
    XT_OK(xipc_send(d.s, "changed", 7, 5000));
    XT_ERR(xipc_recv(s, buf, sizeof(buf), &n, 5000), XIPC_EPROTO);
    printf("  tampered record: receiver EPROTO \"%s\"", xipc_last_detail());
    XT_ASSERT(xipc_last_detail()[0] != '\0');
    XT_ERR(xipc_recv(s, buf, sizeof(buf), &n, 100), XIPC_EPROTO); /* sticky */
    XT_ERR(xipc_recv(d.s, buf, sizeof(buf), &n, 5000), XIPC_ETLS);
    printf(", sender ETLS \"%s\"\n", xipc_last_detail());
    xipc_close(d.s);
    xipc_close(s);
    XT_ASSERT(pthread_join(px.th, NULL) == 0);
    close(px.lfd);
    xipc_close(l);
}

/* Clients that do not speak TLS hold accept no longer than needed. */
static void case_not_tls(void)
{
    xipc_opts so = srv_opts("server", NULL), co = cli_opts();
    xipc_sock *l = tt_listen(&so), *plain, *s;
    char url[160];
    snprintf(url, sizeof(url), "tcp://127.0.0.1:%u", url_port(l));
    /* a plain tcp:// client sends a frame: not a TLS record */
    XT_OK(xipc_dial(&plain, url, NULL, 5000));
    XT_OK(xipc_send(plain, "plain hello", 11, 5000));
    uint64_t t0 = xt_now_ms();
    XT_ERR(xipc_accept(l, &s, 5000), XIPC_ETLS);
    XT_ASSERT(xt_now_ms() - t0 < 2000);
    XT_ASSERT(xipc_last_detail()[0] != '\0');
    printf("  plain tcp:// client: ETLS \"%s\" after %llu ms\n", xipc_last_detail(),
           (unsigned long long)(xt_now_ms() - t0));
    xipc_close(plain);
    pair_ok(l, "127.0.0.1", &co);
    /* a client that connects and says nothing: 10 s at most */
    XT_OK(xipc_dial(&plain, url, NULL, 5000));
    t0 = xt_now_ms();
    XT_ERR(xipc_accept(l, &s, 60000), XIPC_ETLS);
    uint64_t dt = xt_now_ms() - t0;
    XT_ASSERT(dt >= 9000 && dt < 15000);
    XT_ASSERT(strcmp(xipc_last_detail(),
                     "no TLS handshake from the client within 10000 ms") == 0);
    printf("  silent client: ETLS \"%s\" after %llu ms\n", xipc_last_detail(),
           (unsigned long long)dt);
    xipc_close(plain);
    pair_ok(l, "127.0.0.1", &co);
    xipc_close(l);
}

/* ---- options --------------------------------------------------------------------- */

static void detail_has(const char *what)
{
    if (strstr(xipc_last_detail(), what) == NULL)
        XT_FAIL("detail \"%s\" lacks \"%s\"", xipc_last_detail(), what);
}

static void case_options(void)
{
    xipc_sock *l, *s;
    xipc_opts o;
    XT_OK(xipc_opts_init(&o));
    XT_EQ(o.tls_verify, 1);
    XT_ASSERT(o.tls_cert == NULL && o.tls_key == NULL && o.tls_ca == NULL &&
              o.tls_server_name == NULL);
    XT_ERR(xipc_listen(&l, "tls+tcp://127.0.0.1:0", &o), XIPC_EINVAL);
    detail_has("needs tls_cert");
    o.tls_cert = tt_file("missing.pem");
    XT_ERR(xipc_listen(&l, "tls+tcp://127.0.0.1:0", &o), XIPC_EINVAL);
    detail_has(o.tls_cert);
    detail_has("No such file or directory");
    o = srv_opts("server", NULL);
    o.tls_key = tt_file("openssl.log"); /* not a key */
    XT_ERR(xipc_listen(&l, "tls+tcp://127.0.0.1:0", &o), XIPC_EINVAL);
    detail_has("tls_key");
    detail_has(o.tls_key);
    o.tls_key = tt_file("client.key"); /* a key, not the certificate's */
    XT_ERR(xipc_listen(&l, "tls+tcp://127.0.0.1:0", &o), XIPC_EINVAL);
    detail_has("key values mismatch");
    detail_has(o.tls_key);
    o = srv_opts("server", tt_file("nothere.pem"));
    XT_ERR(xipc_listen(&l, "tls+tcp://127.0.0.1:0", &o), XIPC_EINVAL);
    detail_has("tls_ca");
    o = srv_opts("server", NULL);
    o.tls_verify = 2;
    XT_ERR(xipc_listen(&l, "tls+tcp://127.0.0.1:0", &o), XIPC_EINVAL);
    /* the key inside the certificate file */
    o = srv_opts("server", NULL);
    o.tls_key = NULL;
    XT_ERR(xipc_listen(&l, "tls+tcp://127.0.0.1:0", &o), XIPC_EINVAL);
    detail_has("tls_key");
    /* a success clears the detail */
    o = srv_opts("server", NULL);
    XT_OK(xipc_listen(&l, "TLS+TCP://127.0.0.1:0", &o));
    XT_ASSERT(xipc_last_detail()[0] == '\0');
    /* the tcp:// address rules */
    const char *bad[] = {"tls+tcp://127.0.0.1", "tls+tcp://127.0.0.1:99999",
                         "tls+tcp://:80", "tls+tcp://[::1:80", "tls+tcp://a b:80",
                         "tls+tcp://127.0.0.1:8x", "tls+tcp://127.0.0.1:0"};
    o = cli_opts();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        XT_ERR(xipc_dial(&s, bad[i], &o, 100), XIPC_EINVAL);
    char url[160];
    snprintf(url, sizeof(url), "tls+tcp://127.0.0.1:%u", url_port(l));
    o.tls_key = tt_file("client.key"); /* a key without its certificate */
    XT_ERR(xipc_dial(&s, url, &o, 1000), XIPC_EINVAL);
    detail_has("without tls_cert");
    o = cli_opts();
    o.tls_ca = tt_file("nothere.pem");
    XT_ERR(xipc_dial(&s, url, &o, 1000), XIPC_EINVAL);
    detail_has("tls_ca");
    xipc_close(l);
    /* nobody listening */
    o = cli_opts();
    XT_ERR(xipc_dial(&s, url, &o, 1000), XIPC_ECONNREFUSED);
    printf("  option errors and their details\n");
}

/* ---- RPC ----------------------------------------------------------------------- */

static xipc_err tt_add(xipc_rpc_req *req, void *userdata)
{
    int a, b;
    xipc_err rv = xipc_rpc_req_argsf(req, "ii", &a, &b);
    return rv != XIPC_OK ? rv : xipc_rpc_req_returnf(req, "i", a + b);
}

static void case_rpc(void)
{
    xipc_rpc_server_opts so;
    xipc_rpc_server *srv;
    XT_OK(xipc_rpc_server_opts_init(&so));
    so.workers = 2;
    so.sock.tls_cert = tt_file("server.pem");
    so.sock.tls_key = tt_file("server.key");
    XT_OK(xipc_rpc_server_alloc(&srv, &so));
    XT_OK(xipc_rpc_server_register(srv, "add", "(int a, int b) -> int", tt_add, NULL));
    XT_OK(xipc_rpc_server_serve(srv, "tls+tcp://127.0.0.1:0"));
    char url[512];
    XT_OK(xipc_rpc_server_url(srv, 0, url, sizeof(url)));
    XT_ASSERT(strncmp(url, "tls+tcp://127.0.0.1:", 20) == 0);
    xipc_rpc_client_opts co;
    xipc_rpc_client *c;
    XT_OK(xipc_rpc_client_opts_init(&co));
    co.timeout_ms = 10000;
    co.sock.tls_ca = tt_file("ca.pem");
    XT_OK(xipc_rpc_client_dial(&c, url, &co, 10000));
    for (int i = 0; i < 100; i++) {
        int sum = 0;
        XT_OK(xipc_rpc_callf(c, "add", "ii", i, 1000, "i", &sum));
        XT_EQ(sum, i + 1000);
    }
    xipc_rpc_client_close(c);
    co.sock.tls_ca = tt_file("ca2.pem");
    XT_ERR(xipc_rpc_client_dial(&c, url, &co, 10000), XIPC_ETLS);
    XT_OK(xipc_rpc_server_stop(srv));
    xipc_rpc_server_free(srv);
    printf("  RPC over tls+tcp://: 100 calls; a client trusting another CA refused\n");
}

/* ---- helpers run as separate processes --------------------------------------------- */

static int helper_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, len) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return 1;
    printf("%u\n", (unsigned)ntohs(a.sin_port));
    close(fd);
    return 0;
}

static xipc_err helper_dial(xipc_sock **s, const char *url, const xipc_opts *o)
{
    xipc_err rv;
    for (int tries = 0; tries < 1000; tries++) {
        if ((rv = xipc_dial(s, url, o, 10000)) != XIPC_ECONNREFUSED)
            break;
        usleep(10000); /* the server is starting */
    }
    if (rv != XIPC_OK)
        fprintf(stderr, "dial %s: %s (%s)\n", url, xipc_err_name(rv), xipc_last_detail());
    return rv;
}

/* interop-send URL MSG CA [CERT KEY]: send MSG as one message. */
static int helper_send(int argc, char **argv)
{
    xipc_opts o;
    xipc_sock *s;
    char buf[64];
    size_t n;
    XT_OK(xipc_opts_init(&o));
    o.tls_ca = argv[4];
    if (argc > 6) {
        o.tls_cert = argv[5];
        o.tls_key = argv[6];
    }
    if (helper_dial(&s, argv[2], &o) != XIPC_OK)
        return 1;
    XT_OK(xipc_send(s, argv[3], strlen(argv[3]), 10000));
    /* read what the server may still send (tickets) so that our close is
     * a clean one, not a reset that could overtake the message */
    xipc_err rv = xipc_recv(s, buf, sizeof(buf), &n, 300);
    XT_ASSERT(rv == XIPC_ETIMEDOUT || rv == XIPC_ECLOSED);
    xipc_close(s);
    return 0;
}

/* A listener on a free port with CERT, KEY (and CA), its port written to
 * PORTFILE (whole, by a rename). */
static xipc_sock *helper_listen(const char *portfile, const char *cert, const char *key,
                                const char *ca)
{
    xipc_opts o;
    xipc_sock *l;
    char tmp[300];
    XT_OK(xipc_opts_init(&o));
    o.tls_cert = cert;
    o.tls_key = key;
    o.tls_ca = ca;
    XT_OK(xipc_listen(&l, "tls+tcp://127.0.0.1:0", &o));
    snprintf(tmp, sizeof(tmp), "%s.tmp", portfile);
    FILE *f = fopen(tmp, "w");
    XT_ASSERT(f != NULL);
    fprintf(f, "%u\n", url_port(l));
    XT_ASSERT(fclose(f) == 0 && rename(tmp, portfile) == 0);
    return l;
}

/* interop-serve PORTFILE CERT KEY EXPECT REPLY [CA]: serve one client;
 * EXPECT "-": that client must be refused (accept gives ETLS). */
static int helper_serve(int argc, char **argv)
{
    xipc_sock *l = helper_listen(argv[2], argv[3], argv[4], argc > 7 ? argv[7] : NULL), *s;
    char buf[256];
    size_t n;
    xipc_err rv = xipc_accept(l, &s, 30000);
    if (strcmp(argv[5], "-") == 0) {
        printf("%s: %s\n", xipc_err_name(rv), xipc_last_detail());
        if (rv == XIPC_OK)
            xipc_close(s);
        xipc_close(l);
        return rv == XIPC_ETLS ? 0 : 1;
    }
    if (rv != XIPC_OK)
        XT_FAIL("accept: %s (%s)", xipc_err_name(rv), xipc_last_detail());
    XT_OK(xipc_recv(s, buf, sizeof(buf), &n, 30000));
    XT_ASSERT(n == strlen(argv[5]) && memcmp(buf, argv[5], n) == 0);
    XT_OK(xipc_send(s, argv[6], strlen(argv[6]), 10000));
    xipc_close(s);
    xipc_close(l);
    return 0;
}

/* One connection of helper_echo: every message back, until it ends. */
static void *helper_echo_conn(void *arg)
{
    xipc_sock *s = arg;
    uint8_t *buf = malloc(TT_MAX);
    size_t n;
    while (buf != NULL && xipc_recv(s, buf, TT_MAX, &n, -1) == XIPC_OK &&
           xipc_send(s, buf, n, 30000) == XIPC_OK)
        ;
    free(buf);
    xipc_close(s);
    return NULL;
}

/* echo PORTFILE CERT KEY: echo every message of every client (each on a
 * thread of its own) until killed; for tls_wine_test.sh's tls_win_test. */
static int helper_echo(char **argv)
{
    xipc_sock *l = helper_listen(argv[2], argv[3], argv[4], NULL), *s;
    xipc_err rv;
    /* a client refused in its handshake (ETLS) is no reason to stop */
    while ((rv = xipc_accept(l, &s, -1)) == XIPC_OK || rv == XIPC_ETLS) {
        pthread_t t;
        if (rv == XIPC_OK && pthread_create(&t, NULL, helper_echo_conn, s) == 0)
            pthread_detach(t);
        else if (rv == XIPC_OK)
            xipc_close(s);
    }
    fprintf(stderr, "echo: accept: %s (%s)\n", xipc_err_name(rv), xipc_last_detail());
    xipc_close(l);
    return 1;
}

/* hold URL CA: dial, send "up", wait to be killed. */
static int helper_hold(char **argv)
{
    xipc_opts o;
    xipc_sock *s;
    XT_OK(xipc_opts_init(&o));
    o.tls_ca = argv[3];
    if (helper_dial(&s, argv[2], &o) != XIPC_OK || xipc_send(s, "up", 2, 5000) != XIPC_OK)
        return 3;
    pause();
    return 0;
}

/* Without OpenSSL the scheme does not exist. */
static int helper_absent(void)
{
    xipc_sock *s;
    XT_ERR(xipc_listen(&s, "tls+tcp://127.0.0.1:0", NULL), XIPC_ENOTSUP);
    XT_ERR(xipc_dial(&s, "tls+tcp://127.0.0.1:1", NULL, 100), XIPC_ENOTSUP);
    printf("tls_test absent ok: tls+tcp:// is XIPC_ENOTSUP in this build\n");
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_DFL); /* the library must never raise it */
    if (argc == 2 && strcmp(argv[1], "absent") == 0)
        return helper_absent();
    if (argc == 2 && strcmp(argv[1], "port") == 0)
        return helper_port();
    if (argc >= 5 && strcmp(argv[1], "interop-send") == 0)
        return helper_send(argc, argv);
    if (argc >= 7 && strcmp(argv[1], "interop-serve") == 0)
        return helper_serve(argc, argv);
    if (argc == 4 && strcmp(argv[1], "hold") == 0)
        return helper_hold(argv);
    if (argc == 5 && strcmp(argv[1], "echo") == 0)
        return helper_echo(argv);
    if (argc != 2)
        XT_FAIL("usage: tls_test SCRIPT | absent | port | interop-send ... | "
                "interop-serve ... | hold URL CA");
    tt_self = strchr(argv[0], '/') != NULL ? argv[0] : "/proc/self/exe";
    snprintf(tt_dir, sizeof(tt_dir), "%s/xipc-tls-test.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    XT_ASSERT(mkdtemp(tt_dir) != NULL);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "sh '%s' certs '%s'", argv[1], tt_dir);
    XT_ASSERT(system(cmd) == 0);
    printf("tls+tcp:// (certificates in %s)\n", tt_dir);
    case_options();
    case_sizes();
    case_duplex();
    case_many_clients();
    case_timeouts();
    case_peer_death();
    case_verify();
    case_mutual();
    case_not_tls();
    case_tamper();
    case_rpc();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tt_dir);
    XT_ASSERT(system(cmd) == 0);
    printf("tls_test ok\n");
    return 0;
}
