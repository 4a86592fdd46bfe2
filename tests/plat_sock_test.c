#define _GNU_SOURCE
/*
 * The platform contract's stream sockets, waits and poller, the same test
 * for every port: native for POSIX, under wine for the Windows x64 build
 * (win64_plat_sock_test). TCP over IPv4 and IPv6, Unix sockets, message
 * sockets; on Windows also named pipes, handle passing and spawn (the
 * POSIX port's spawn and handles have tests of their own).
 */
#include <stdatomic.h>

#include "core/deadline.h"
#include "core/platform.h"
#include "test.h"
#include "xt_proc.h"

#ifdef _WIN32
#include <windows.h>
#else
#include <unistd.h>
#endif

static unsigned test_pid(void)
{
    return (unsigned)xipc_plat_getpid();
}

static uint64_t ms_since(uint64_t t0)
{
    return (xipc_plat_now_ns() - t0) / 1000000u;
}

/* Read exactly @p len bytes within 5 s. */
static void recv_all(xipc_plat_sock s, void *buf, size_t len)
{
    size_t at = 0, got;
    while (at < len) {
        XT_OK(xipc_plat_sock_recv(s, (char *)buf + at, len - at, &got, 5000));
        XT_ASSERT(got > 0 && got <= len - at);
        at += got;
    }
}

static void send_str(xipc_plat_sock s, const char *str)
{
    xipc_plat_iov v = {str, strlen(str)};
    size_t sent;
    XT_OK(xipc_plat_sock_sendv(s, &v, 1, &sent, 5000));
    XT_EQ(sent, strlen(str));
}

/* A connected TCP pair through listener @p l at @p port. */
static void tcp_pair(xipc_plat_sock l, const char *host, uint16_t port, xipc_plat_sock *c,
                     xipc_plat_sock *a)
{
    XT_OK(xipc_plat_tcp_dial(host, port, 5000, c));
    XT_OK(xipc_plat_sock_accept(l, 5000, a));
}

static void test_tcp(const char *host, int family_len, const uint8_t *loop)
{
    xipc_plat_sock l, c, a;
    uint16_t port = 0;
    XT_OK(xipc_plat_tcp_listen(host, 0, 8, &l, &port));
    XT_ASSERT(port != 0);
    XT_ERR(xipc_plat_sock_accept(l, 0, &a), XIPC_ETIMEDOUT); /* nobody dialled */
    tcp_pair(l, host, port, &c, &a);

    uint8_t addr[16] = {0};
    XT_EQ(xipc_plat_sock_peer_addr(c, addr), family_len);
    XT_ASSERT(memcmp(addr, loop, (size_t)family_len) == 0);
    XT_EQ(xipc_plat_sock_peer_addr(a, addr), family_len);
    XT_EQ(xipc_plat_sock_peer_addr(l, addr), 0); /* listening: no peer */
    uint32_t pid, uid;
    XT_ERR(xipc_plat_sock_peer(c, &pid, &uid), XIPC_ENOTSUP);

    /* several buffers, in order, arrive as one stream */
    xipc_plat_iov v[3] = {{"hello", 5}, {", ", 2}, {"world", 5}};
    size_t sent;
    XT_OK(xipc_plat_sock_sendv(c, v, 3, &sent, 5000));
    XT_EQ(sent, 12);
    char buf[64];
    recv_all(a, buf, 12);
    XT_ASSERT(memcmp(buf, "hello, world", 12) == 0);
    XT_ERR(xipc_plat_sock_sendv(c, v, 0, &sent, 0), XIPC_EINVAL);
    XT_ERR(xipc_plat_sock_sendv(c, v, 9, &sent, 0), XIPC_EINVAL);

    /* nothing queued: a poll and a timed wait both time out */
    size_t got;
    XT_ERR(xipc_plat_sock_recv(a, buf, sizeof(buf), &got, 0), XIPC_ETIMEDOUT);
    uint64_t t0 = xipc_plat_now_ns();
    XT_ERR(xipc_plat_sock_recv(a, buf, sizeof(buf), &got, 60), XIPC_ETIMEDOUT);
    XT_ASSERT(ms_since(t0) >= 55);
    XT_ERR(xipc_plat_sock_wait(a, 0, 0), XIPC_ETIMEDOUT);
    XT_ERR(xipc_plat_sock_wait(a, 0, 30), XIPC_ETIMEDOUT);
    XT_OK(xipc_plat_sock_wait(a, 1, 0)); /* room to write */
    send_str(a, "x");
    XT_OK(xipc_plat_sock_wait(c, 0, 5000));
    XT_OK(xipc_plat_sock_recv(c, buf, sizeof(buf), &got, 0));
    XT_EQ(got, 1);

    /* a peer that reads nothing: the send buffers fill, a send times out
     * with what went out counted */
    static uint8_t big[1 << 20];
    xipc_plat_iov bv = {big, sizeof(big)};
    size_t total = 0;
    xipc_err rv = XIPC_OK;
    for (int i = 0; i < 256 && rv == XIPC_OK; i++) {
        rv = xipc_plat_sock_sendv(c, &bv, 1, &sent, i == 0 ? 0 : 20);
        XT_ASSERT(sent <= sizeof(big));
        XT_ASSERT(rv == XIPC_OK ? sent == sizeof(big) : sent < sizeof(big));
        total += sent;
    }
    XT_ERR(rv, XIPC_ETIMEDOUT);
    XT_ERR(xipc_plat_sock_wait(c, 1, 20), XIPC_ETIMEDOUT); /* no room */

    /* the peer closes: what was sent is still read, then the end */
    xipc_plat_sock_close(a);
    xipc_err end = XIPC_OK;
    for (int i = 0; i < 10000 && end == XIPC_OK; i++)
        end = xipc_plat_sock_recv(c, big, sizeof(big), &got, 5000);
    XT_ERR(end, XIPC_ECLOSED);
    XT_ERR(xipc_plat_sock_recv(c, buf, sizeof(buf), &got, 0), XIPC_ECLOSED);
    xipc_plat_sock_close(c);

    /* nobody listens any more */
    xipc_plat_sock_close(l);
    XT_ERR(xipc_plat_tcp_dial(host, port, 5000, &c), XIPC_ECONNREFUSED);
    printf("  tcp %s: port %u, 3 buffers, timeouts, a full peer (%zu bytes sent), end of stream ok\n",
           host, (unsigned)port, total);
}

typedef struct later {
    xipc_plat_sock s;
    xipc_plat_poller *p;
    int ms;
} later;

static void write_later(void *arg)
{
    later *w = arg;
    xipc_plat_sleep_us((uint32_t)w->ms * 1000u);
    send_str(w->s, "!");
}

static void wake_later(void *arg)
{
    later *w = arg;
    xipc_plat_sleep_us((uint32_t)w->ms * 1000u);
    xipc_plat_poller_wake(w->p);
}

#define NPAIRS 70 /* more than one WaitForMultipleObjects takes */

static void test_waits(void)
{
    xipc_plat_sock l, c[NPAIRS], a[NPAIRS];
    uint16_t port;
    XT_OK(xipc_plat_tcp_listen("127.0.0.1", 0, 128, &l, &port));
    for (int i = 0; i < NPAIRS; i++)
        tcp_pair(l, "127.0.0.1", port, &c[i], &a[i]);

    XT_ERR(xipc_plat_sock_wait_any(a, 0, 0), XIPC_EINVAL);
    XT_ERR(xipc_plat_sock_wait_any(a, 1026, 0), XIPC_EINVAL);
    XT_ERR(xipc_plat_sock_wait_any(a, 3, 0), XIPC_ETIMEDOUT);
    XT_ERR(xipc_plat_sock_wait_any(a, NPAIRS, 30), XIPC_ETIMEDOUT);
    XT_ERR(xipc_plat_sock_wait_any(&l, 1, 0), XIPC_ETIMEDOUT); /* no connection */
    send_str(c[1], "!");
    XT_OK(xipc_plat_sock_wait_any(a, 3, 5000));
    XT_ERR(xipc_plat_sock_wait_any(a + 2, 1, 0), XIPC_ETIMEDOUT); /* not that one */
    char b;
    size_t got;
    XT_OK(xipc_plat_sock_recv(a[1], &b, 1, &got, 0));

    /* a wait that sleeps is woken by the last of 70 */
    later w = {c[NPAIRS - 1], NULL, 50};
    xipc_plat_thread t;
    XT_OK(xipc_plat_thread_create(&t, write_later, &w));
    uint64_t t0 = xipc_plat_now_ns();
    XT_OK(xipc_plat_sock_wait_any(a, NPAIRS, 10000));
    XT_ASSERT(ms_since(t0) < 9000);
    xipc_plat_thread_join(&t);
    XT_OK(xipc_plat_sock_recv(a[NPAIRS - 1], &b, 1, &got, 0));
    XT_ERR(xipc_plat_sock_wait_any(a, NPAIRS, 0), XIPC_ETIMEDOUT);
    /* a hang-up counts as input */
    xipc_plat_sock_close(c[5]);
    XT_OK(xipc_plat_sock_wait_any(a + 5, 1, 5000));

    /* the poller: one-shot until armed, level (input left unread is
     * reported again once armed) */
    xipc_plat_poller *p;
    void *tags[8];
    int n;
    XT_OK(xipc_plat_poller_alloc(&p));
    XT_OK(xipc_plat_poller_add(p, a[0], &a[0]));
    XT_OK(xipc_plat_poller_add(p, a[2], &a[2]));
    XT_OK(xipc_plat_poller_wait(p, tags, 8, &n, 0));
    XT_EQ(n, 0);
    send_str(c[2], "?");
    XT_OK(xipc_plat_poller_wait(p, tags, 8, &n, 5000));
    XT_EQ(n, 1);
    XT_ASSERT(tags[0] == &a[2]);
    XT_OK(xipc_plat_poller_wait(p, tags, 8, &n, 50)); /* still unread, not armed */
    XT_EQ(n, 0);
    XT_OK(xipc_plat_poller_arm(p, a[2], &a[2]));
    XT_OK(xipc_plat_poller_wait(p, tags, 8, &n, 5000));
    XT_EQ(n, 1);
    XT_ASSERT(tags[0] == &a[2]);
    XT_OK(xipc_plat_sock_recv(a[2], &b, 1, &got, 0));
    XT_OK(xipc_plat_poller_arm(p, a[2], &a[2]));
    XT_OK(xipc_plat_poller_wait(p, tags, 8, &n, 30));
    XT_EQ(n, 0);
    /* wake: before a wait, and during one */
    xipc_plat_poller_wake(p);
    t0 = xipc_plat_now_ns();
    XT_OK(xipc_plat_poller_wait(p, tags, 8, &n, 10000));
    XT_EQ(n, 0);
    XT_ASSERT(ms_since(t0) < 5000);
    later wk = {0, p, 50};
    XT_OK(xipc_plat_thread_create(&t, wake_later, &wk));
    t0 = xipc_plat_now_ns();
    XT_OK(xipc_plat_poller_wait(p, tags, 8, &n, -1));
    XT_EQ(n, 0);
    XT_ASSERT(ms_since(t0) >= 40);
    xipc_plat_thread_join(&t);
    /* armed from another thread while the wait sleeps */
    later wr = {c[0], NULL, 50};
    XT_OK(xipc_plat_thread_create(&t, write_later, &wr));
    XT_OK(xipc_plat_poller_wait(p, tags, 8, &n, 10000));
    XT_EQ(n, 1);
    XT_ASSERT(tags[0] == &a[0]);
    xipc_plat_thread_join(&t);
    /* deleted: never reported again */
    xipc_plat_poller_del(p, a[0]);
    XT_OK(xipc_plat_poller_wait(p, tags, 8, &n, 30));
    XT_EQ(n, 0);
    xipc_plat_poller_free(p);
    xipc_plat_poller_free(NULL);

    for (int i = 0; i < NPAIRS; i++) {
        if (i != 5)
            xipc_plat_sock_close(c[i]);
        xipc_plat_sock_close(a[i]);
    }
    xipc_plat_sock_close(l);
    printf("  waits: wait_any over %d sockets, poller one-shot, arm, del, wake ok\n", NPAIRS);
}

static void tmp_path(char *buf, size_t cap, const char *what)
{
#ifdef _WIN32
    char dir[MAX_PATH];
    DWORD n = GetTempPathA(sizeof(dir), dir);
    XT_ASSERT(n > 0 && n < sizeof(dir));
    snprintf(buf, cap, "%sxipc-pst-%s-%u", dir, what, test_pid());
#else
    snprintf(buf, cap, "/tmp/xipc-pst-%s-%u", what, test_pid());
#endif
}

static void test_unix(void)
{
    char path[300];
    xipc_plat_sock l, c, a;
    tmp_path(path, sizeof(path), "unix");
    xipc_err rv = xipc_plat_unix_listen(path, 0, 8, &l);
#ifdef _WIN32
    if (xt_under_wine()) {
        XT_ERR(rv, XIPC_ENOTSUP);
        XT_ERR(xipc_plat_unix_dial(path, 0, 100, &c), XIPC_ENOTSUP);
        printf("  unix: not under wine: %s (%s) ok\n", xipc_err_name(rv), xipc_strerror(rv));
        return;
    }
#endif
    XT_OK(rv);
    XT_OK(xipc_plat_unix_dial(path, 0, 5000, &c));
    XT_OK(xipc_plat_sock_accept(l, 5000, &a));
    xipc_plat_sock l2; /* (its look at the listener leaves a connection queued) */
    XT_ERR(xipc_plat_unix_listen(path, 0, 8, &l2), XIPC_EADDRINUSE);
    uint32_t pid = 0, uid;
    XT_OK(xipc_plat_sock_peer(a, &pid, &uid));
    XT_EQ(pid, test_pid());
    uint8_t addr[16];
    XT_EQ(xipc_plat_sock_peer_addr(a, addr), 0);
    send_str(c, "unix");
    char buf[8];
    recv_all(a, buf, 4);
    XT_ASSERT(memcmp(buf, "unix", 4) == 0);
    xipc_plat_sock_close(c);
    size_t got;
    XT_ERR(xipc_plat_sock_recv(a, buf, sizeof(buf), &got, 5000), XIPC_ECLOSED);
    xipc_plat_sock_close(a);
    xipc_plat_sock_close(l);
    remove(path);
    XT_ERR(xipc_plat_unix_dial(path, 0, 100, &c), XIPC_ECONNREFUSED);
    XT_ERR(xipc_plat_unix_listen("", 0, 8, &l), XIPC_EINVAL);
    printf("  unix: listen, dial, peer pid, end of stream ok\n");
}

/* Message sockets: each send one message, never split or merged. */
static void test_msgsock(void)
{
    char path[300];
    xipc_plat_sock l, c, a;
    tmp_path(path, sizeof(path), "msg");
    XT_OK(xipc_plat_msgsock_listen(path, 8, &l));
    XT_OK(xipc_plat_msgsock_dial(path, 5000, &c));
    XT_OK(xipc_plat_sock_accept(l, 5000, &a));
    char buf[64];
    size_t len;
    intptr_t h;
    XT_ERR(xipc_plat_sock_recv_handle(a, buf, sizeof(buf), &len, &h), XIPC_ETIMEDOUT);
    XT_OK(xipc_plat_sock_send_handle(c, "one", 3, -1));
    XT_OK(xipc_plat_sock_send_handle(c, "two!", 4, -1));
    XT_OK(xipc_plat_sock_send_handle(c, "0123456789", 10, -1));
    XT_OK(xipc_plat_sock_send_handle(a, "back", 4, -1));
    XT_OK(xipc_plat_sock_wait(a, 0, 5000));
    XT_OK(xipc_plat_sock_recv_handle(a, buf, sizeof(buf), &len, &h));
    XT_EQ(len, 3);
    XT_EQ(h, -1);
    XT_ASSERT(memcmp(buf, "one", 3) == 0);
    XT_OK(xipc_plat_sock_wait(a, 0, 5000));
    XT_OK(xipc_plat_sock_recv_handle(a, buf, sizeof(buf), &len, &h));
    XT_EQ(len, 4);
    XT_ASSERT(memcmp(buf, "two!", 4) == 0);
    /* longer than cap: refused whole, the next is intact */
    XT_OK(xipc_plat_sock_wait(a, 0, 5000));
    XT_ERR(xipc_plat_sock_recv_handle(a, buf, 5, &len, &h), XIPC_EPROTO);
    XT_EQ(h, -1);
    XT_OK(xipc_plat_sock_wait(c, 0, 5000));
    XT_OK(xipc_plat_sock_recv_handle(c, buf, sizeof(buf), &len, &h));
    XT_EQ(len, 4);
    XT_ASSERT(memcmp(buf, "back", 4) == 0);
    XT_OK(xipc_plat_sock_send_handle(c, "z", 1, -1));
    XT_OK(xipc_plat_sock_wait(a, 0, 5000));
    XT_OK(xipc_plat_sock_recv_handle(a, buf, sizeof(buf), &len, &h));
    XT_EQ(len, 1);
    XT_ASSERT(buf[0] == 'z');
#ifdef _WIN32
    /* a section: the sender puts a handle to it into the receiver, which
     * maps the same memory even after the sender's handle is gone */
    xipc_plat_shm seg, got;
    XT_OK(xipc_plat_shm_anon(&seg, 65536, 0));
    memcpy(seg.base, "shared", 7);
    XT_OK(xipc_plat_sock_send_handle(c, "sec", 3, seg.handle));
    xipc_plat_handle_close(seg.handle);
    seg.handle = -1;
    XT_OK(xipc_plat_sock_wait(a, 0, 5000));
    XT_OK(xipc_plat_sock_recv_handle(a, buf, sizeof(buf), &len, &h));
    XT_EQ(len, 3);
    XT_ASSERT(h != -1);
    XT_OK(xipc_plat_shm_adopt(&got, h, 65536, 1));
    XT_ASSERT(memcmp(got.base, "shared", 7) == 0);
    memcpy(seg.base, "again", 6);
    XT_ASSERT(memcmp(got.base, "again", 6) == 0); /* the same pages */
    xipc_plat_shm_unmap(&got);
    /* a message naming a handle value of the receiver that is no section
     * given to it (a hostile sender can write any 8 bytes): refused, and
     * the receiver's own handle is neither used nor closed */
    HANDLE ev = CreateEventW(NULL, TRUE, FALSE, NULL);
    XT_ASSERT(ev != NULL);
    int64_t forged = (int64_t)(intptr_t)ev;
    uint8_t msg[3 + sizeof(forged)];
    memcpy(msg, "bad", 3);
    memcpy(msg + 3, &forged, sizeof(forged));
    xipc_plat_iov v = {msg, sizeof(msg)};
    size_t sent;
    XT_OK(xipc_plat_sock_sendv(c, &v, 1, &sent, 5000));
    XT_OK(xipc_plat_sock_wait(a, 0, 5000));
    XT_ERR(xipc_plat_sock_recv_handle(a, buf, sizeof(buf), &len, &h), XIPC_EPROTO);
    XT_EQ(h, -1);
    XT_ASSERT(SetEvent(ev)); /* still ours, still open */
    /* an event is no section: the receiver refuses what it was given */
    XT_OK(xipc_plat_sock_send_handle(c, "ev", 2, (intptr_t)ev));
    XT_OK(xipc_plat_sock_wait(a, 0, 5000));
    XT_ERR(xipc_plat_sock_recv_handle(a, buf, sizeof(buf), &len, &h), XIPC_EPROTO);
    /* a value that is no handle of the sender's: nothing is sent */
    XT_ASSERT(xipc_plat_sock_send_handle(c, "bad", 3, (intptr_t)0x7ffffff0) != XIPC_OK);
    /* a section with a message too long: refused whole */
    xipc_plat_shm seg2;
    XT_OK(xipc_plat_shm_anon(&seg2, 4096, 0));
    XT_OK(xipc_plat_sock_send_handle(c, "0123456789", 10, seg2.handle));
    XT_OK(xipc_plat_sock_wait(a, 0, 5000));
    XT_ERR(xipc_plat_sock_recv_handle(a, buf, 4, &len, &h), XIPC_EPROTO);
    XT_EQ(h, -1);
    xipc_plat_shm_unmap(&seg2);
    xipc_plat_shm_unmap(&seg);
    CloseHandle(ev);
    /* a second listener at the path; a path too long for a pipe name */
    xipc_plat_sock l2;
    XT_ERR(xipc_plat_msgsock_listen(path, 8, &l2), XIPC_EADDRINUSE);
    char lng[300];
    memset(lng, 'a', sizeof(lng) - 1);
    lng[sizeof(lng) - 1] = '\0';
    XT_ERR(xipc_plat_msgsock_listen(lng, 8, &l2), XIPC_EINVAL);
#endif
    xipc_plat_sock_close(c);
    XT_OK(xipc_plat_sock_wait(a, 0, 5000)); /* the hang-up */
    XT_ERR(xipc_plat_sock_recv_handle(a, buf, sizeof(buf), &len, &h), XIPC_ECLOSED);
    xipc_plat_sock_close(a);
    xipc_plat_sock_close(l);
    remove(path);
    XT_ERR(xipc_plat_msgsock_dial(path, 100, &c), XIPC_ECONNREFUSED);
    printf("  msgsock: boundaries, too long refused whole%s ok\n",
#ifdef _WIN32
           ", sections given to the receiver, forged handle values refused"
#else
           ""
#endif
    );
}

#ifdef _WIN32
#define PIPE_CLIENTS 3

typedef struct dialer {
    char name[64];
    xipc_plat_sock c[PIPE_CLIENTS];
    _Atomic int failed;
} dialer;

/* Dial 3 clients at once (the listener has one free instance at a time:
 * the others wait in WaitNamedPipe), each says who it is. */
static void dial_three(void *arg)
{
    dialer *d = arg;
    for (int i = 0; i < PIPE_CLIENTS; i++) {
        char msg[2] = {(char)('0' + i), 0};
        if (xipc_plat_npipe_dial(d->name, 10000, &d->c[i]) != XIPC_OK) {
            d->failed = 1;
            return;
        }
        send_str(d->c[i], msg);
    }
}

static int list_found;

static void list_one(const char *name, void *arg)
{
    list_found += strcmp(name, (const char *)arg) == 0;
}

static void test_npipe(void)
{
    dialer d;
    memset(&d, 0, sizeof(d));
    snprintf(d.name, sizeof(d.name), "xipc-pst-%u", test_pid());
    xipc_plat_sock l, l2, a[PIPE_CLIENTS], c;
    XT_ERR(xipc_plat_npipe_dial(d.name, 100, &c), XIPC_ECONNREFUSED);
    XT_OK(xipc_plat_npipe_listen(d.name, 8, &l));
    XT_ERR(xipc_plat_npipe_listen(d.name, 8, &l2), XIPC_EADDRINUSE);
    XT_ERR(xipc_plat_npipe_listen("", 8, &l2), XIPC_EINVAL);
    XT_ERR(xipc_plat_sock_accept(l, 0, &c), XIPC_ETIMEDOUT);
    XT_ERR(xipc_plat_sock_wait_any(&l, 1, 20), XIPC_ETIMEDOUT);

    /* visible under \\.\pipe\ */
    char full[96];
    snprintf(full, sizeof(full), "\\\\.\\pipe\\%s", d.name);
    xipc_err lr = xipc_plat_npipe_list("xipc-pst-", list_one, d.name);
    if (xt_under_wine() && lr == XIPC_ENOTSUP) { /* wine cannot list \\.\pipe\ */
        XT_EQ(list_found, 0);
    } else {
        XT_OK(lr);
        XT_EQ(list_found, 1);
    }
    XT_ASSERT(WaitNamedPipeA(full, 1000)); /* one name at a time: there */

    xipc_plat_thread t;
    XT_OK(xipc_plat_thread_create(&t, dial_three, &d));
    for (int i = 0; i < PIPE_CLIENTS; i++) {
        XT_OK(xipc_plat_sock_wait_any(&l, 1, 10000)); /* a client to accept */
        XT_OK(xipc_plat_sock_accept(l, 10000, &a[i]));
        char b[2];
        recv_all(a[i], b, 1);
        XT_EQ(b[0], '0' + i);
        uint32_t pid = 0, uid = 0;
        XT_OK(xipc_plat_sock_peer(a[i], &pid, &uid));
        XT_EQ(pid, GetCurrentProcessId());
        XT_EQ(uid, xipc_plat_getuid()); /* the hash of our token's user SID */
    }
    xipc_plat_thread_join(&t);
    XT_EQ(d.failed, 0);

    /* bytes both ways, several buffers as one write, timeouts, waits */
    xipc_plat_iov v[3] = {{"pi", 2}, {"p", 1}, {"e", 1}};
    size_t sent, got;
    XT_OK(xipc_plat_sock_sendv(a[1], v, 3, &sent, 5000));
    XT_EQ(sent, 4);
    char buf[16];
    recv_all(d.c[1], buf, 4);
    XT_ASSERT(memcmp(buf, "pipe", 4) == 0);
    XT_ERR(xipc_plat_sock_recv(d.c[1], buf, sizeof(buf), &got, 0), XIPC_ETIMEDOUT);
    uint64_t t0 = xipc_plat_now_ns();
    XT_ERR(xipc_plat_sock_recv(d.c[1], buf, sizeof(buf), &got, 60), XIPC_ETIMEDOUT);
    XT_ASSERT(ms_since(t0) >= 55);
    XT_ERR(xipc_plat_sock_wait_any(a, PIPE_CLIENTS, 0), XIPC_ETIMEDOUT);
    XT_OK(xipc_plat_sock_wait(a[2], 1, 0));
    XT_EQ(xipc_plat_sock_peer_addr(a[2], (uint8_t *)buf), 0);

    /* a pipe and a TCP socket in one wait and one poller */
    xipc_plat_sock tl, tc, ta;
    uint16_t port;
    XT_OK(xipc_plat_tcp_listen("127.0.0.1", 0, 8, &tl, &port));
    tcp_pair(tl, "127.0.0.1", port, &tc, &ta);
    xipc_plat_sock mix[2] = {ta, a[2]};
    XT_ERR(xipc_plat_sock_wait_any(mix, 2, 20), XIPC_ETIMEDOUT);
    send_str(d.c[2], "m");
    XT_OK(xipc_plat_sock_wait_any(mix, 2, 5000));
    xipc_plat_poller *p;
    void *tags[4];
    int n;
    XT_OK(xipc_plat_poller_alloc(&p));
    XT_OK(xipc_plat_poller_add(p, ta, &ta));
    XT_OK(xipc_plat_poller_add(p, a[2], &a[2]));
    XT_OK(xipc_plat_poller_add(p, l, &l));
    XT_OK(xipc_plat_poller_wait(p, tags, 4, &n, 5000));
    XT_EQ(n, 1);
    XT_ASSERT(tags[0] == &a[2]);
    XT_OK(xipc_plat_poller_wait(p, tags, 4, &n, 30)); /* one-shot */
    XT_EQ(n, 0);
    recv_all(a[2], buf, 1);
    XT_OK(xipc_plat_poller_arm(p, a[2], &a[2]));
    XT_OK(xipc_plat_poller_wait(p, tags, 4, &n, 30));
    XT_EQ(n, 0);
    XT_OK(xipc_plat_npipe_dial(d.name, 5000, &c)); /* the listener has input */
    XT_OK(xipc_plat_poller_wait(p, tags, 4, &n, 5000));
    XT_EQ(n, 1);
    XT_ASSERT(tags[0] == &l);
    xipc_plat_poller_free(p);
    xipc_plat_sock_close(c);
    xipc_plat_sock_close(tc);
    xipc_plat_sock_close(ta);
    xipc_plat_sock_close(tl);

    /* a closed end: the other reads the end of the stream, writes fail */
    send_str(d.c[0], "last");
    xipc_plat_sock_close(d.c[0]);
    recv_all(a[0], buf, 4);
    XT_ASSERT(memcmp(buf, "last", 4) == 0);
    XT_ERR(xipc_plat_sock_recv(a[0], buf, sizeof(buf), &got, 5000), XIPC_ECLOSED);
    XT_ERR(xipc_plat_sock_sendv(a[0], v, 1, &sent, 1000), XIPC_ECLOSED);
    for (int i = 0; i < PIPE_CLIENTS; i++) {
        if (i > 0)
            xipc_plat_sock_close(d.c[i]);
        xipc_plat_sock_close(a[i]);
    }
    xipc_plat_sock_close(l);
    XT_ERR(xipc_plat_npipe_dial(d.name, 100, &c), XIPC_ECONNREFUSED);
    printf("  npipe: %d clients, second listener refused, %s, mixed waits ok\n",
           PIPE_CLIENTS, lr == XIPC_OK ? "listed" : "found by name (no listing here)");
}

#define CHILD_ENV "XIPC_PST_SOCK"

static int child_main(int argc, char **argv)
{
    xipc_plat_sock s;
    /* the arguments came through CommandLineToArgvW's quoting */
    if (argc != 4 || strcmp(argv[2], "a b") != 0 || strcmp(argv[3], "q\"x\\") != 0)
        return 3;
    if (xipc_plat_sock_inherited(CHILD_ENV, &s) != XIPC_OK)
        return 4;
    char buf[256];
    size_t got, sent;
    xipc_err rv;
    while ((rv = xipc_plat_sock_recv(s, buf, sizeof(buf), &got, 10000)) == XIPC_OK) {
        xipc_plat_iov v = {buf, got};
        if (xipc_plat_sock_sendv(s, &v, 1, &sent, 10000) != XIPC_OK)
            return 5;
    }
    xipc_plat_sock_close(s);
    return rv == XIPC_ECLOSED ? 0 : 6;
}

static void test_spawn(void)
{
    char self[MAX_PATH];
    DWORD n = GetModuleFileNameA(NULL, self, sizeof(self));
    XT_ASSERT(n > 0 && n < sizeof(self));
    char *argv[] = {self, "child", "a b", "q\"x\\", NULL};
    xipc_plat_sock s;
    uint32_t pid = 0;
    XT_OK(xipc_plat_spawn(self, argv, CHILD_ENV, &s, &pid));
    XT_ASSERT(pid != 0 && pid != GetCurrentProcessId());
    /* the child waits for our bytes: it is there to be opened */
    HANDLE ph = OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
    XT_ASSERT(ph != NULL);
    uint32_t ppid = 0, uid;
    XT_OK(xipc_plat_sock_peer(s, &ppid, &uid));
    XT_EQ(ppid, pid);
    XT_EQ(uid, xipc_plat_getuid());
    send_str(s, "echo me");
    char buf[16];
    recv_all(s, buf, 7);
    XT_ASSERT(memcmp(buf, "echo me", 7) == 0);
    xipc_plat_sock_close(s);
    DWORD code = 1; /* it saw the end of the stream and said so */
    XT_ASSERT(WaitForSingleObject(ph, 20000) == WAIT_OBJECT_0);
    XT_ASSERT(GetExitCodeProcess(ph, &code));
    XT_EQ(code, 0);
    CloseHandle(ph);
    char *none[] = {"C:\\no\\such\\program.exe", NULL};
    XT_ERR(xipc_plat_spawn(none[0], none, CHILD_ENV, &s, &pid), XIPC_ENOENT);
    XT_ERR(xipc_plat_sock_inherited("XIPC_PST_NO_SUCH_VAR", &s), XIPC_ENOENT);
    printf("  spawn: a child echoes through the inherited pipe, quoted arguments ok\n");
}
#endif

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
#ifdef _WIN32
    if (argc > 1 && strcmp(argv[1], "child") == 0)
        return child_main(argc, argv);
#else
    (void)argc, (void)argv;
#endif
    printf("plat_sock_test (pointer width %u bits)\n", (unsigned)(sizeof(void *) * 8));
    static const uint8_t lo4[4] = {127, 0, 0, 1};
    static const uint8_t lo6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    test_tcp("127.0.0.1", 4, lo4);
    test_tcp("::1", 16, lo6);
    test_waits();
    test_unix();
    test_msgsock();
#ifdef _WIN32
    test_npipe();
    test_spawn();
#endif
    printf("plat_sock_test ok\n");
    return 0;
}
