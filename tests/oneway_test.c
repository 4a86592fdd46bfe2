/*
 * The schemes that are not connected streams, across processes, the same
 * test on every OS (natively, and under wine for the Windows build):
 *
 *   oneway_test mailslot|mq|pubsub PEER_EXE
 *
 * mailslot://  two servers of one NAME in two processes each get every
 *              message a client writes, in order; too large is refused.
 * mq://        a receiver in another process gets the queued messages
 *              highest priority first, in order within one; a second
 *              receiver of the name is refused; once the receiver has
 *              gone, a sender is told.
 * pubsub://    two subscribers in two processes follow one publisher,
 *              every message in order, and see it go.
 *
 * The peers are PEER_EXE ("oneway_test peer ..."), started with
 * xipc_spawn: the anonymous channel to each is how the test hears from
 * it, so spawn is exercised between real processes too. On Windows it
 * also checks that the mechanisms are the real ones: the receiver's
 * message-only window, the mailslot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/platform.h"
#include "test.h"

#ifdef _WIN32
#include <windows.h>

#include "platform/win32/win32.h"
#endif

#define MSGS 50
#define WAIT_MS 20000

static const char *peer_exe;
static char name[64];

/* ---- the peers ---------------------------------------------------------------- */

static int say(xipc_sock *p, const char *text)
{
    return xipc_send(p, text, strlen(text), WAIT_MS) == XIPC_OK ? 0 : 1;
}

/* Wait for @p text from the other side of @p p. */
static int hear(xipc_sock *p, const char *text)
{
    char buf[64];
    size_t n;
    return xipc_recv(p, buf, sizeof(buf), &n, WAIT_MS) == XIPC_OK && n == strlen(text) &&
                   memcmp(buf, text, n) == 0
               ? 0
               : 1;
}

/* A mailslot server or a subscriber: say "up", then pass every message on
 * to the test until "end" (mailslot) or the publisher goes (pubsub). */
static int peer_relay(xipc_sock *p, const char *url, int subscriber)
{
    xipc_sock *s;
    xipc_err rv = subscriber ? xipc_dial(&s, url, NULL, WAIT_MS) : xipc_listen(&s, url, NULL);
    if (rv != XIPC_OK || say(p, "up") != 0)
        return 3;
    char buf[256];
    size_t n;
    while ((rv = xipc_recv(s, buf, sizeof(buf), &n, WAIT_MS)) == XIPC_OK) {
        if (n == 3 && memcmp(buf, "end", 3) == 0)
            break;
        if (xipc_send(p, buf, n, WAIT_MS) != XIPC_OK)
            return 4;
    }
    xipc_close(s);
    if (subscriber && rv != XIPC_ECLOSED)
        return 5; /* the publisher's end must be seen as such */
    return say(p, "bye");
}

/* An mq receiver: say "up", wait for "go" (the test fills the queue
 * first), pass each message on as "<prio>:<text>", then close. */
static int peer_mq(xipc_sock *p, const char *url)
{
    xipc_sock *s;
    if (xipc_listen(&s, url, NULL) != XIPC_OK || say(p, "up") != 0 || hear(p, "go") != 0)
        return 3;
    char buf[256], out[300];
    size_t n;
    unsigned prio;
    for (int i = 0; i < 6; i++) {
        if (xipc_recv_prio(s, buf, sizeof(buf), &n, &prio, WAIT_MS) != XIPC_OK)
            return 4;
        int k = snprintf(out, sizeof(out), "%u:%.*s", prio, (int)n, buf);
        if (xipc_send(p, out, (size_t)k, WAIT_MS) != XIPC_OK)
            return 5;
    }
    xipc_close(s);
    return say(p, "bye");
}

static int peer_main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    xipc_sock *p;
    if (xipc_sock_from_parent(&p) != XIPC_OK)
        return 2;
    int rc = 2;
    if (strcmp(argv[2], "relay") == 0)
        rc = peer_relay(p, argv[3], 0);
    else if (strcmp(argv[2], "sub") == 0)
        rc = peer_relay(p, argv[3], 1);
    else if (strcmp(argv[2], "mq") == 0)
        rc = peer_mq(p, argv[3]);
    xipc_close(p);
    return rc;
}

/* ---- the test's side ------------------------------------------------------------ */

/* A peer in role @p role; on POSIX through scripts/run32, so that a
 * 32-bit peer runs where the kernel cannot (its exec chain keeps the
 * inherited channel). */
static xipc_sock *peer_start(const char *role, const char *url)
{
#ifdef _WIN32
    const char *prog = peer_exe;
    char *argv[] = {(char *)peer_exe, "peer", (char *)role, (char *)url, NULL};
#else
    const char *prog = XIPC_RUN32;
    char *argv[] = {(char *)XIPC_RUN32, (char *)peer_exe, "peer", (char *)role,
                    (char *)url, NULL};
#endif
    xipc_sock *p;
    uint32_t pid = 0;
    XT_OK(xipc_spawn(&p, prog, argv, &pid));
    XT_ASSERT(pid != 0);
    XT_EQ(hear(p, "up"), 0);
    return p;
}

/* The peer's "bye", then the end of its channel: it exited. */
static void peer_done(xipc_sock *p)
{
    char buf[16];
    size_t n;
    XT_EQ(hear(p, "bye"), 0);
    XT_ERR(xipc_recv(p, buf, sizeof(buf), &n, WAIT_MS), XIPC_ECLOSED);
    xipc_close(p);
}

/* Each of @p np peers passes on exactly the messages "m0".."m<MSGS-1>". */
static void expect_all(xipc_sock **peers, int np)
{
    for (int k = 0; k < np; k++)
        for (int i = 0; i < MSGS; i++) {
            char want[16], got[64];
            size_t n;
            int w = snprintf(want, sizeof(want), "m%d", i);
            XT_OK(xipc_recv(peers[k], got, sizeof(got), &n, WAIT_MS));
            if (n != (size_t)w || memcmp(got, want, n) != 0)
                XT_FAIL("peer %d: message %d is \"%.*s\", want \"%s\"", k, i, (int)n, got,
                        want);
        }
}

static void send_all(xipc_sock *s)
{
    for (int i = 0; i < MSGS; i++) {
        char m[16];
        int w = snprintf(m, sizeof(m), "m%d", i);
        XT_OK(xipc_send(s, m, (size_t)w, WAIT_MS));
    }
}

#ifdef _WIN32
typedef struct slot_count {
    char dir[600];
    int n;
} slot_count;

/* A server's lock file in the folder of NAME: its mailslot opens. */
static void slot_one(const char *file, void *arg)
{
    slot_count *c = arg;
    char path[700];
    wchar_t slot[XIPC_WIN32_MAILSLOT_MAX];
    snprintf(path, sizeof(path), "%s/%s", c->dir, file);
    xipc__win32_mailslot_name(slot, path);
    HANDLE h = CreateFileW(slot, GENERIC_WRITE, FILE_SHARE_READ, NULL, OPEN_EXISTING,
                           FILE_ATTRIBUTE_NORMAL, NULL);
    if (h != INVALID_HANDLE_VALUE) {
        c->n++;
        CloseHandle(h);
    }
}

/* How many servers of mailslot://NAME have a real mailslot. */
static int mailslots_open(void)
{
    slot_count c = {"", 0};
    char sub[128];
    snprintf(sub, sizeof(sub), "mailslot/%s", name);
    XT_OK(xipc_plat_rundir_find(c.dir, sizeof(c.dir), sub));
    XT_OK(xipc_plat_dir_list(c.dir, slot_one, &c));
    return c.n;
}
#endif

static void test_mailslot(void)
{
    char url[128];
    snprintf(url, sizeof(url), "mailslot://%s", name);
    xipc_sock *peers[2] = {peer_start("relay", url), peer_start("relay", url)};
#ifdef _WIN32
    XT_EQ(mailslots_open(), 2); /* \\.\mailslot\xipc\<hash>, one per server */
#endif
    xipc_sock *c;
    XT_OK(xipc_dial(&c, url, NULL, WAIT_MS));
    /* in lockstep: a mailslot drops what a full queue cannot take, and
     * the relays are slower than a writer */
    for (int i = 0; i < MSGS; i++) {
        char m[16], got[64];
        size_t n;
        int w = snprintf(m, sizeof(m), "m%d", i);
        XT_OK(xipc_send(c, m, (size_t)w, WAIT_MS));
        for (int k = 0; k < 2; k++) {
            XT_OK(xipc_recv(peers[k], got, sizeof(got), &n, WAIT_MS));
            XT_ASSERT(n == (size_t)w && memcmp(got, m, n) == 0);
        }
    }
    static char big[(64u << 10) + 1];
    XT_ERR(xipc_send(c, big, sizeof(big), WAIT_MS), XIPC_EMSGSIZE);
    xipc_stats st;
    XT_OK(xipc_stats_get(c, &st));
    XT_EQ(st.dropped, 0);
    XT_OK(xipc_send(c, "end", 3, WAIT_MS));
    peer_done(peers[0]);
    peer_done(peers[1]);
    xipc_close(c);
    printf("  mailslot: 2 servers in 2 processes each got all %d messages in order; "
           "too large refused ok\n", MSGS);
}

/*
 * A server that does not read: the writer never blocks (under wine a
 * write to a full mailslot did, forever), what does not fit is dropped
 * and counted, what arrives is in order, and once drained writes get
 * through again.
 */
static void test_mailslot_full(void)
{
    char url[128];
    snprintf(url, sizeof(url), "mailslot://%s-full", name);
    xipc_sock *srv, *cli;
    XT_OK(xipc_listen(&srv, url, NULL));
    XT_OK(xipc_dial(&cli, url, NULL, WAIT_MS));
    static uint8_t m[1000];
    const uint32_t n = 3000; /* 3 MB: more than either OS queues */
    for (uint32_t i = 0; i < n; i++) {
        memcpy(m, &i, sizeof(i));
        XT_OK(xipc_send(cli, m, sizeof(m), -1)); /* even "forever" never waits */
    }
    xipc_stats cs;
    XT_OK(xipc_stats_get(cli, &cs));
    XT_ASSERT(cs.dropped > 0);
    uint64_t got = 0;
    uint32_t last = 0, v;
    size_t len;
    while (xipc_recv(srv, m, sizeof(m), &len, 0) == XIPC_OK) {
        XT_EQ(len, sizeof(m));
        memcpy(&v, m, sizeof(v));
        XT_ASSERT(got == 0 || v > last); /* in order, gaps where dropped */
        last = v;
        got++;
    }
    XT_ASSERT(got > 0);
    XT_EQ(cs.dropped + got, n);
    XT_OK(xipc_send(cli, m, sizeof(m), 0));
    XT_OK(xipc_recv(srv, m, sizeof(m), &len, WAIT_MS));
    XT_OK(xipc_stats_get(cli, &cs));
    XT_EQ(cs.dropped + got, n);
    xipc_close(cli);
    xipc_close(srv);
    printf("  mailslot: a server that does not read: %llu of %u dropped, %llu received in "
           "order, none waited; drained, writes go through ok\n",
           (unsigned long long)cs.dropped, (unsigned)n, (unsigned long long)got);
}

#ifdef _WIN32
/* The receiver of mq://NAME is a message-only window of that title. */
static HWND mq_window(const char *obj_suffix)
{
    wchar_t title[128];
    char t[128];
    snprintf(t, sizeof(t), "/xipc.%u.%s", (unsigned)xipc_plat_getuid(), obj_suffix);
    for (size_t i = 0; i <= strlen(t); i++)
        title[i] = (wchar_t)t[i];
    return FindWindowExW(HWND_MESSAGE, NULL, L"xipc-mq", title);
}

static int mq_window_exists(const char *obj_suffix)
{
    return mq_window(obj_suffix) != NULL;
}

/* What the receiver's window answers a WM_COPYDATA of ours: 1 stored,
 * 0 full, 2 refused. */
static LRESULT mq_copydata(HWND w, ULONG_PTR prio, const void *p, DWORD n)
{
    COPYDATASTRUCT cd = {prio, n, (PVOID)p};
    DWORD_PTR res = 99;
    XT_ASSERT(SendMessageTimeoutW(w, WM_COPYDATA, 0, (LPARAM)&cd, SMTO_ABORTIFHUNG, WAIT_MS,
                                  &res) != 0);
    return (LRESULT)res;
}

/* A hostile sender writes to the window itself: whatever breaks the
 * queue's rules is refused, and the receiver goes on (test_mq checks that
 * it then gets exactly the valid messages). */
static void mq_hostile(const char *obj_suffix)
{
    HWND w = mq_window(obj_suffix);
    XT_ASSERT(w != NULL);
    static char big[(8u << 10) + 1];
    XT_EQ(mq_copydata(w, 0, big, sizeof(big)), 2); /* beyond its msgsize */
    XT_EQ(mq_copydata(w, 32768, "p", 1), 2);       /* priority too high */
    XT_EQ(mq_copydata(w, (ULONG_PTR)-1, "p", 1), 2);
}
#endif

static void test_mq(void)
{
    char url[128];
    snprintf(url, sizeof(url), "mq://%s", name);
    xipc_sock *p = peer_start("mq", url);
    xipc_sock *s, *l;
    XT_OK(xipc_dial(&s, url, NULL, WAIT_MS));
    XT_ERR(xipc_listen(&l, url, NULL), XIPC_EADDRINUSE);
#ifdef _WIN32
    XT_ASSERT(mq_window_exists(name));
#endif
    static const unsigned prios[6] = {1, 5, 3, 5, 0, 31};
    static const char *texts[6] = {"one", "five-a", "three", "five-b", "zero", "top"};
    for (int i = 0; i < 6; i++)
        XT_OK(xipc_send_prio(s, texts[i], strlen(texts[i]), prios[i], WAIT_MS));
    static char big[(8u << 10) + 1];
    XT_ERR(xipc_send(s, big, sizeof(big), WAIT_MS), XIPC_EMSGSIZE);
#ifdef _WIN32
    mq_hostile(name);
#endif
    XT_EQ(say(p, "go"), 0);
    static const char *want[6] = {"31:top", "5:five-a", "5:five-b", "3:three", "1:one", "0:zero"};
    for (int i = 0; i < 6; i++) {
        char got[64];
        size_t n;
        XT_OK(xipc_recv(p, got, sizeof(got), &n, WAIT_MS));
        XT_EQ(n, strlen(want[i]));
        XT_ASSERT(memcmp(got, want[i], n) == 0);
    }
    peer_done(p); /* the receiver closed and exited */
#ifdef _WIN32
    XT_ASSERT(!mq_window_exists(name));
#endif
    xipc_err rv = xipc_send(s, "late", 4, 2000);
    XT_ASSERT(rv == XIPC_ECLOSED);
    xipc_close(s);
    printf("  mq: a receiver in another process got 6 messages by priority, FIFO within one; "
           "a second receiver and too large refused%s; its end seen by the sender ok\n",
#ifdef _WIN32
           ", and a hostile WM_COPYDATA's too large or out-of-range priorities"
#else
           ""
#endif
    );
}

static void test_pubsub(void)
{
    char url[128];
    snprintf(url, sizeof(url), "pubsub://%s", name);
    xipc_sock *pub;
    XT_OK(xipc_listen(&pub, url, NULL));
    xipc_sock *peers[2] = {peer_start("sub", url), peer_start("sub", url)};
    send_all(pub);
    expect_all(peers, 2);
    xipc_close(pub); /* the subscribers see the publisher go */
    peer_done(peers[0]);
    peer_done(peers[1]);
    printf("  pubsub: 2 subscribers in 2 processes followed the publisher, all %d messages "
           "in order, and saw it go ok\n", MSGS);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "peer") == 0)
        return peer_main(argc, argv);
    if (argc < 3)
        XT_FAIL("usage: oneway_test mailslot|mq|pubsub PEER_EXE");
    peer_exe = argv[2];
    snprintf(name, sizeof(name), "oneway-%u", (unsigned)xipc_plat_getpid());
    printf("oneway_test %s (pointer width %u bits)\n", argv[1], (unsigned)(sizeof(void *) * 8));
    if (strcmp(argv[1], "mailslot") == 0) {
        test_mailslot();
        test_mailslot_full();
    }
    else if (strcmp(argv[1], "mq") == 0)
        test_mq();
    else if (strcmp(argv[1], "pubsub") == 0)
        test_pubsub();
    else
        XT_FAIL("unknown scheme %s", argv[1]);
    printf("oneway_test %s ok\n", argv[1]);
    return 0;
}
