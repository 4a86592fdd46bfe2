/*
 * pubsub:// — one publisher, many subscribers over one broadcast ring.
 *
 * Unit cases: roles and URL, message sizes, refusal without a publisher,
 * exact overrun counts (the publisher never waits), end of stream after a
 * clean close and after SIGKILL, reclaim after a crash, no /dev/shm
 * leftovers, hostile segments (headers at attach, stamps/lengths/head
 * scribbled by another process while a subscriber reads between guard
 * pages).
 * The big case: 1 publisher and 8 subscriber processes (3 of them 32-bit
 * when the m32 pubsub_peer is known), 1,000,000 messages; every keeper
 * gets all of them, the slow one is told exactly what it lost.
 *
 * Usage: pubsub_test [M32_PUBSUB_PEER [COUNT]]; the m32 peer also comes
 * from $XIPC_M32_PUBSUB_PEER or the build (cache variable of that name).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/platform.h"
#include "ring/bcast.h"
#include "transport/pubsub_layout.h"
#include "run32.h"
#include "test.h"

#ifndef XIPC_M32_PUBSUB_PEER
#define XIPC_M32_PUBSUB_PEER ""
#endif

static char url[96];
static char name[64];

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint32_t rnd(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static void set_name(const char *what)
{
    snprintf(name, sizeof(name), "pstest-%d-%s", (int)getpid(), what);
    snprintf(url, sizeof(url), "pubsub://%s", name);
}

/* The publisher's lock file and note, as the transport names them. */
static void pub_path(char *buf, size_t cap, const char *suffix)
{
    char dir[256];
    XT_OK(xipc_plat_rundir(dir, sizeof(dir), "pubsub"));
    snprintf(buf, cap, "%s/%s%s", dir, name, suffix);
}

/* The hash of a NAME in the ring's header and the note (FNV-1a, 64 bits),
 * written here again from pubsub_layout.h as the test's own oracle. */
static uint64_t name_hash(const char *n)
{
    uint64_t h = 0xcbf29ce484222325u;
    while (*n != '\0')
        h = (h ^ (uint8_t)*n++) * 0x100000001b3u;
    return h;
}

/* Entries of folder @p dir named @p prefix + this test's name... */
static int count_named(const char *dir, const char *prefix)
{
    char want[160];
    snprintf(want, sizeof(want), "%s%s", prefix, name);
    return xt_count_prefix(dir, want);
}

/* What exists of this test's current name: a publisher's lock file and
 * note (2 while it lives, or after it crashed); nothing in /dev/shm. */
static int leftovers(void)
{
    char dir[256], prefix[64];
    XT_OK(xipc_plat_rundir(dir, sizeof(dir), "pubsub"));
    snprintf(prefix, sizeof(prefix), "xipc.%u.", (unsigned)geteuid());
    return count_named(dir, "") + count_named("/dev/shm", prefix);
}

/*
 * What a subscriber gets, taken by hand: the publisher's pid from its lock
 * file, the note, the ring (mapped read-only) and the signals page from
 * the publisher's descriptor table. Also descriptors of both, opened
 * read-write where the kernel lets us, for the tests that misuse them.
 */
typedef struct handout {
    xipc_plat_shm ring, sig;
    int ring_fd, sig_fd;
} handout;

static void handout_take(handout *o)
{
    char path[400], note[200], fdpath[64];
    uint32_t pid = 0;
    pub_path(path, sizeof(path), ".pid");
    XT_OK(xipc_plat_lockfile_owner(path, &pid));
    XT_ASSERT(pid != 0);
    pub_path(path, sizeof(path), ".fds");
    XT_OK(xipc_plat_textfile_read(path, note, sizeof(note)));
    unsigned version;
    long ring_fd, sig_fd;
    uint64_t size, key, hash;
    XT_EQ(sscanf(note, XIPC_PUBSUB_NOTE_FMT, &version, &ring_fd, &sig_fd, &size, &key, &hash),
          6);
    XT_EQ(hash, name_hash(name));
    XT_OK(xipc_plat_shm_from_peer(&o->ring, pid, ring_fd, (size_t)size, 0));
    XT_OK(xipc_plat_shm_from_peer(&o->sig, pid, sig_fd, XIPC_PUBSUB_SIG_SIZE, 1));
    XT_EQ(((xipc_bcast_hdr *)o->ring.base)->key, key);
    snprintf(fdpath, sizeof(fdpath), "/proc/%u/fd/%ld", (unsigned)pid, ring_fd);
    o->ring_fd = open(fdpath, O_RDWR | O_CLOEXEC); /* opens; writes fail */
    XT_ASSERT(o->ring_fd >= 0);
    snprintf(fdpath, sizeof(fdpath), "/proc/%u/fd/%ld", (unsigned)pid, sig_fd);
    o->sig_fd = open(fdpath, O_RDWR | O_CLOEXEC);
    XT_ASSERT(o->sig_fd >= 0);
}

static void handout_free(handout *o)
{
    xipc_plat_shm_unmap(&o->ring);
    xipc_plat_shm_unmap(&o->sig);
    close(o->ring_fd);
    close(o->sig_fd);
}

static xipc_opts small_opts(uint32_t slots, uint32_t slot_size)
{
    xipc_opts o;
    xipc_opts_init(&o);
    o.pub_slots = slots;
    o.pub_slot_size = slot_size;
    return o;
}

static void send_u32(xipc_sock *p, uint32_t v)
{
    XT_OK(xipc_send(p, &v, sizeof(v), 0));
}

static uint32_t recv_u32(xipc_sock *s, int timeout_ms)
{
    uint32_t v = 0;
    size_t n = 0;
    XT_OK(xipc_recv(s, &v, sizeof(v), &n, timeout_ms));
    XT_EQ(n, sizeof(v));
    return v;
}

/* ---- unit cases ----------------------------------------------------------- */

static void test_roles(void)
{
    set_name("roles");
    xipc_sock *p, *s, *s2, *x;
    XT_OK(xipc_listen(&p, url, NULL));
    XT_ERR(xipc_listen(&x, url, NULL), XIPC_EADDRINUSE);
    XT_OK(xipc_dial(&s, url, NULL, 1000));
    char buf[128];
    XT_OK(xipc_sock_url(p, buf, sizeof(buf)));
    XT_ASSERT(strcmp(buf, url) == 0);
    XT_OK(xipc_sock_url(s, buf, sizeof(buf)));
    XT_ASSERT(strcmp(buf, url) == 0);
    XT_ERR(xipc_sock_url(s, buf, 8), XIPC_EMSGSIZE);
    uint32_t pid = 1;
    XT_OK(xipc_peer_pid(s, &pid));
    XT_EQ(pid, getpid());
    XT_OK(xipc_peer_pid(p, &pid));
    XT_EQ(pid, 0); /* a publisher has many peers */
    /* each end does its half only */
    size_t n;
    const void *m;
    void *w;
    XT_ERR(xipc_recv(p, buf, sizeof(buf), &n, 0), XIPC_ENOTSUP);
    XT_ERR(xipc_peek(p, &m, &n, 0), XIPC_ENOTSUP);
    XT_ERR(xipc_send(s, "x", 1, 0), XIPC_ENOTSUP);
    XT_ERR(xipc_reserve(s, 1, &w, 0), XIPC_ENOTSUP);
    XT_ERR(xipc_accept(p, &x, 0), XIPC_EINVAL); /* not a listener */
    intptr_t fd;
    XT_ERR(xipc_sock_fd(s, &fd), XIPC_ENOTSUP);
    XT_ERR(xipc_recv(s, buf, sizeof(buf), &n, 0), XIPC_ETIMEDOUT);
    uint64_t t0 = now_ms();
    XT_ERR(xipc_recv(s, buf, sizeof(buf), &n, 100), XIPC_ETIMEDOUT);
    XT_ASSERT(now_ms() - t0 >= 99 && now_ms() - t0 < xt_bound_ms("recv timeout", 1000, 0));
    /* copy and zero-copy both ways, an empty message too */
    send_u32(p, 1);
    XT_OK(xipc_reserve(p, 4, &w, 0));
    XT_ERR(xipc_reserve(p, 4, &w, 0), XIPC_ESTATE);
    XT_ERR(xipc_send(p, "x", 1, 0), XIPC_ESTATE);
    memcpy(w, "\2\0\0\0", 4);
    XT_OK(xipc_commit(p, 4));
    XT_ERR(xipc_commit(p, 4), XIPC_ESTATE);
    XT_OK(xipc_send(p, NULL, 0, 0));
    XT_EQ(recv_u32(s, 0), 1);
    XT_OK(xipc_peek(s, &m, &n, 0));
    XT_EQ(n, 4);
    const void *m2;
    XT_OK(xipc_peek(s, &m2, &n, 0)); /* again: the same message */
    XT_ASSERT(m2 == m && n == 4 && memcmp(m, "\2\0\0\0", 4) == 0);
    XT_OK(xipc_release(s));
    XT_ERR(xipc_release(s), XIPC_ESTATE);
    XT_OK(xipc_recv(s, buf, sizeof(buf), &n, 0));
    XT_EQ(n, 0);
    /* a new subscriber sees only what is published after it attached */
    XT_OK(xipc_dial(&s2, url, NULL, 1000));
    send_u32(p, 3);
    XT_EQ(recv_u32(s2, 0), 3);
    XT_EQ(recv_u32(s, 0), 3);
    xipc_stats st;
    XT_OK(xipc_stats_get(p, &st));
    XT_EQ(st.sent, 4);
    XT_OK(xipc_stats_get(s, &st));
    XT_EQ(st.received, 4);
    XT_EQ(st.lost, 0);
    xipc_close(s2);
    xipc_close(s);
    xipc_close(p);
    XT_EQ(leftovers(), 0);
    printf("  roles, URL, copy and zero-copy ok\n");
}

static void test_sizes(void)
{
    set_name("sizes");
    xipc_sock *p, *s;
    xipc_opts o = small_opts(16, 128);
    XT_OK(xipc_listen(&p, url, &o));
    XT_OK(xipc_dial(&s, url, NULL, 1000));
    uint8_t big[256], got[256];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 7 + 1);
    XT_ERR(xipc_send(p, big, 113, 0), XIPC_EMSGSIZE); /* 128 - 16 + 1 */
    void *w;
    XT_ERR(xipc_reserve(p, 113, &w, 0), XIPC_EMSGSIZE);
    XT_OK(xipc_reserve(p, 50, &w, 0));
    XT_ERR(xipc_commit(p, 51), XIPC_EINVAL);
    XT_OK(xipc_commit(p, 50)); /* bytes left as they were: zeros */
    XT_OK(xipc_send(p, big, 112, 0));
    size_t n;
    XT_OK(xipc_recv(s, got, sizeof(got), &n, 0));
    XT_EQ(n, 50);
    XT_ERR(xipc_recv(s, got, 10, &n, 0), XIPC_EMSGSIZE);
    XT_EQ(n, 112); /* the size needed; the message stays next */
    XT_OK(xipc_recv(s, got, 112, &n, 0));
    XT_EQ(n, 112);
    XT_ASSERT(memcmp(got, big, 112) == 0);
    /* options the ring cannot take */
    xipc_sock *x;
    o = small_opts(24, 128);
    XT_ERR(xipc_listen(&x, "pubsub://pstest-bad", &o), XIPC_EINVAL);
    o = small_opts(16, 100);
    XT_ERR(xipc_listen(&x, "pubsub://pstest-bad", &o), XIPC_EINVAL);
    XT_ERR(xipc_listen(&x, "pubsub://a/b", NULL), XIPC_EINVAL);
    XT_ERR(xipc_dial(&x, "pubsub://..", NULL, 0), XIPC_EINVAL);
    xipc_close(s);
    xipc_close(p);
    printf("  sizes: largest message = slot size - 16, EMSGSIZE beyond ok\n");
}

static void test_refused(void)
{
    set_name("refused");
    xipc_sock *s, *p;
    uint64_t t0 = now_ms();
    XT_ERR(xipc_dial(&s, url, NULL, 2000), XIPC_ECONNREFUSED);
    XT_ASSERT(now_ms() - t0 < xt_bound_ms("refused dial", 500, 0)); /* no waiting */
    XT_OK(xipc_listen(&p, url, NULL));
    xipc_close(p);
    XT_ERR(xipc_dial(&s, url, NULL, 0), XIPC_ECONNREFUSED);
    XT_EQ(leftovers(), 0);
    printf("  no publisher: ECONNREFUSED ok\n");
}

/* The publisher never waits; a lapped subscriber learns exactly how much
 * it lost, and goes on with the oldest message still there. */
static void test_overrun(void)
{
    set_name("overrun");
    enum { SLOTS = 64 };
    xipc_sock *p, *s;
    xipc_opts o = small_opts(SLOTS, 64);
    XT_OK(xipc_listen(&p, url, &o));
    XT_OK(xipc_dial(&s, url, NULL, 1000));
    uint32_t seq = 0;
    uint64_t t0 = now_ms();
    for (int i = 0; i < 4 * SLOTS; i++)
        send_u32(p, seq++); /* nobody reads: still never blocks */
    XT_ASSERT(now_ms() - t0 < xt_bound_ms("sends nobody reads", 1000, 0));
    size_t n = 0;
    uint32_t v;
    XT_ERR(xipc_recv(s, &v, sizeof(v), &n, 0), XIPC_EOVERRUN);
    XT_EQ(n, 3 * SLOTS);
    xipc_stats st;
    XT_OK(xipc_stats_get(s, &st));
    XT_EQ(st.lost, 3 * SLOTS);
    for (uint32_t want = 3 * SLOTS; want < 4 * SLOTS; want++)
        XT_EQ(recv_u32(s, 0), want);
    XT_ERR(xipc_recv(s, &v, sizeof(v), &n, 0), XIPC_ETIMEDOUT);
    /* lapped while a message is peeked: release says so */
    for (int i = 0; i < 10; i++)
        send_u32(p, seq++);
    const void *m;
    XT_OK(xipc_peek(s, &m, &n, 0));
    XT_EQ(*(const uint32_t *)m, 4 * SLOTS);
    for (int i = 0; i < SLOTS; i++)
        send_u32(p, seq++);
    XT_ERR(xipc_release(s), XIPC_EOVERRUN);
    /* head 4*64+10+64 = 330, next 257: 330 - 64 - 257 = 9 more lost */
    XT_ERR(xipc_recv(s, &v, sizeof(v), &n, 0), XIPC_EOVERRUN);
    XT_EQ(n, 9);
    uint32_t got = 0;
    while (xipc_recv(s, &v, sizeof(v), &n, 0) == XIPC_OK) {
        XT_EQ(v, 330 - SLOTS + got);
        got++;
    }
    XT_EQ(got, SLOTS);
    XT_OK(xipc_stats_get(s, &st));
    XT_EQ(st.lost, 3 * SLOTS + 1 + 9);
    XT_EQ(st.received + st.lost, seq); /* every message accounted for */
    xipc_close(s);
    xipc_close(p);
    printf("  overrun: lost %llu of %u, each gap reported exactly ok\n",
           (unsigned long long)st.lost, (unsigned)seq);
}

static void test_closed(void)
{
    set_name("closed");
    xipc_sock *p, *s;
    XT_OK(xipc_listen(&p, url, NULL));
    XT_OK(xipc_dial(&s, url, NULL, 1000));
    for (uint32_t i = 0; i < 10; i++)
        send_u32(p, i);
    XT_EQ(leftovers(), 2); /* the publisher's socket and pid file */
    xipc_close(p);
    XT_EQ(leftovers(), 0); /* gone, and the ring still mapped here */
    for (uint32_t i = 0; i < 10; i++)
        XT_EQ(recv_u32(s, -1), i);
    uint32_t v;
    size_t n;
    uint64_t t0 = now_ms();
    XT_ERR(xipc_recv(s, &v, sizeof(v), &n, -1), XIPC_ECLOSED);
    XT_ERR(xipc_recv(s, &v, sizeof(v), &n, 0), XIPC_ECLOSED);
    XT_ASSERT(now_ms() - t0 < xt_bound_ms("recv after close", 100, 0));
    xipc_close(s);
    printf("  clean close: remaining messages, then ECLOSED, no leftovers ok\n");
}

typedef struct killer {
    pid_t pid;
    uint64_t at;
} killer;

static void *killer_run(void *arg)
{
    killer *k = arg;
    usleep(200 * 1000);
    k->at = now_ms();
    kill(k->pid, SIGKILL);
    return NULL;
}

static void test_killed_and_reclaim(void)
{
    set_name("killed");
    int up[2], go[2];
    XT_ASSERT(pipe(up) == 0 && pipe(go) == 0);
    pid_t pid = fork();
    XT_ASSERT(pid >= 0);
    if (pid == 0) {
        xipc_sock *p;
        char c = 'r';
        if (xipc_listen(&p, url, NULL) != XIPC_OK)
            _exit(1);
        if (write(up[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
            _exit(2);
        for (uint32_t i = 0; i < 5; i++)
            send_u32(p, i);
        for (;;)
            pause(); /* killed here */
    }
    char c;
    XT_EQ(read(up[0], &c, 1), 1);
    xipc_sock *s;
    XT_OK(xipc_dial(&s, url, NULL, 1000));
    uint32_t ppid;
    XT_OK(xipc_peer_pid(s, &ppid));
    XT_EQ(ppid, pid);
    XT_EQ(write(go[1], "g", 1), 1);
    for (uint32_t i = 0; i < 5; i++)
        XT_EQ(recv_u32(s, 5000), i);
    killer k = {pid, 0};
    pthread_t th;
    XT_ASSERT(pthread_create(&th, NULL, killer_run, &k) == 0);
    uint32_t v;
    size_t n;
    XT_ERR(xipc_recv(s, &v, sizeof(v), &n, -1), XIPC_ECLOSED);
    uint64_t dt = now_ms() - k.at;
    pthread_join(th, NULL);
    printf("  publisher SIGKILLed: subscriber got ECLOSED after %llu ms\n",
           (unsigned long long)dt);
    XT_ASSERT(dt < xt_bound_ms("publisher death", 1000, 0));
    int st;
    XT_ASSERT(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st));
    xipc_close(s);
    close(up[0]), close(up[1]), close(go[0]), close(go[1]);
    /* the dead publisher's socket file is left behind: refused, then
     * reclaimed */
    XT_EQ(leftovers(), 2);
    XT_ERR(xipc_dial(&s, url, NULL, 0), XIPC_ECONNREFUSED);
    xipc_sock *p;
    XT_OK(xipc_listen(&p, url, NULL));
    XT_OK(xipc_dial(&s, url, NULL, 1000));
    send_u32(p, 42);
    XT_EQ(recv_u32(s, 0), 42);
    xipc_close(s);
    xipc_close(p);
    XT_EQ(leftovers(), 0);
    printf("  reclaim after a crashed publisher ok\n");
}

/* A blocked subscriber sleeps (no CPU); one killed in its sleep leaves no
 * lasting cost: the publisher clears the wake-up flag once. */
static void test_sleepers(void)
{
    set_name("sleeper");
    xipc_sock *p, *s;
    XT_OK(xipc_listen(&p, url, NULL));
    XT_OK(xipc_dial(&s, url, NULL, 0));
    double cpu0 = xt_cpu_ms(RUSAGE_SELF);
    uint32_t v;
    size_t n;
    XT_ERR(xipc_recv(s, &v, sizeof(v), &n, 1000), XIPC_ETIMEDOUT);
    double cpu_ms = xt_cpu_ms(RUSAGE_SELF) - cpu0;
    printf("  1000 ms blocked in recv cost %.1f ms of CPU\n", cpu_ms);
    XT_ASSERT(cpu_ms < 150);
    xipc_close(s);

    handout o;
    handout_take(&o);
    xipc_bcast_sig *h = o.sig.base; /* the wake-up words */
    atomic_store(&h->waiting, 0);
    pid_t pid = fork();
    XT_ASSERT(pid >= 0);
    if (pid == 0) {
        xipc_sock *c;
        if (xipc_dial(&c, url, NULL, 0) != XIPC_OK)
            _exit(1);
        xipc_recv(c, &v, sizeof(v), &n, -1);
        _exit(2); /* never gets here: killed asleep */
    }
    uint64_t t0 = now_ms();
    while (atomic_load(&h->waiting) == 0 && now_ms() - t0 < 5000)
        usleep(1000);
    XT_EQ(atomic_load(&h->waiting), 1);
    usleep(20000);
    kill(pid, SIGKILL);
    int st;
    XT_ASSERT(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st));
    send_u32(p, 1);
    XT_EQ(atomic_load(&h->waiting), 0); /* nobody left to wake */
    for (uint32_t i = 0; i < 1000; i++)
        send_u32(p, i);
    XT_EQ(atomic_load(&h->waiting), 0);
    handout_free(&o);
    xipc_close(p);
    printf("  a subscriber killed asleep leaves no wake-up cost ok\n");
}

/* ---- hostile shared memory ------------------------------------------------- */

static xipc_bcast_sig hh_sig; /* a signals page for the rings made here */

#define SEALS_FIXED (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)
#define H_LIES 10

/* A hostile publisher's lie @p lie, in the child that tells it. */
static void hostile_publisher(int lie, int ready_fd)
{
    enum { SLOTS = 16, SIZE = 128 };
    char lock[400], notepath[400], note[200];
    intptr_t h;
    pub_path(lock, sizeof(lock), ".pid");
    pub_path(notepath, sizeof(notepath), ".fds");
    if (xipc_plat_lockfile_acquire(&h, lock) != XIPC_OK)
        _exit(3);
    /* the ring: 0 unsealed, 1 writable by others, else sealed as it must */
    uint64_t bytes = xipc_bcast_seg_size(SLOTS, SIZE), key = 0x5eed0000u + (unsigned)lie;
    int r = memfd_create("xipc", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    void *p = MAP_FAILED;
    if (r < 0 || ftruncate(r, (off_t)bytes) != 0 ||
        (p = mmap(NULL, (size_t)bytes, PROT_READ | PROT_WRITE, MAP_SHARED, r, 0)) == MAP_FAILED)
        _exit(4);
    xipc_bcast_format(p, SLOTS, SIZE, lie == 9 ? 1 : (uint32_t)getpid()); /* 9: not us */
    xipc_bcast_hdr *hd = p;
    if (lie == 3)
        hd->slot_count = SLOTS * 4; /* 3: more slots than the object has */
    hd->key = key;
    hd->name_hash = name_hash(lie == 8 ? "another" : name); /* 8: another's ring */
    munmap(p, (size_t)bytes);
    int seals = lie == 0 ? 0 : lie == 1 ? SEALS_FIXED : SEALS_FIXED | F_SEAL_FUTURE_WRITE;
    if (seals != 0 && fcntl(r, F_ADD_SEALS, seals) != 0)
        _exit(5);
    /* the signals page: 4 unsealed */
    int g = memfd_create("xipc", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (g < 0 || ftruncate(g, XIPC_PUBSUB_SIG_SIZE) != 0 ||
        (lie != 4 && fcntl(g, F_ADD_SEALS, SEALS_FIXED) != 0))
        _exit(6);
    /* the note: 2 another size, 6 another key, 7 garbage, 5 none */
    snprintf(note, sizeof(note), XIPC_PUBSUB_NOTE_FMT "\n", XIPC_BCAST_VERSION, (long)r,
             (long)g, bytes + (lie == 2 ? 4096u : 0u), key + (lie == 6), name_hash(name));
    if (lie == 7)
        snprintf(note, sizeof(note), "xipc-pubsub %u %ld\n", XIPC_BCAST_VERSION, (long)r);
    if (lie == 5)
        unlink(notepath); /* the last one's: as if we had not written ours yet */
    else if (xipc_plat_textfile_write(notepath, note) != XIPC_OK)
        _exit(7);
    if (write(ready_fd, "r", 1) != 1)
        _exit(8);
    for (;;)
        pause(); /* killed by the test */
}

/* Header lies are refused when a subscriber attaches. */
static void test_hostile_header(void)
{
    enum { SLOTS = 16, SIZE = 128 };
    uint64_t seg_size = xipc_bcast_seg_size(SLOTS, SIZE);
    uint8_t *seg = calloc(1, (size_t)seg_size);
    XT_ASSERT(seg != NULL);
    xipc_bcast_hdr *h = (xipc_bcast_hdr *)seg;
    xipc_bcast b;
    for (int lie = 0; lie < 12; lie++) {
        memset(seg, 0, (size_t)seg_size);
        xipc_bcast_format(seg, SLOTS, SIZE, (uint32_t)getpid());
        XT_OK(xipc_bcast_attach(&b, seg, seg_size, &hh_sig, XIPC_BCAST_SUBSCRIBER, 0, NULL));
        switch (lie) {
        case 0: h->magic ^= 1; break;
        case 1: h->version = XIPC_BCAST_VERSION + 1; break;
        case 2: h->slot_count = 24; break;          /* not a power of two */
        case 3: h->slot_count = 32; break;          /* more than the mapping */
        case 4: h->slot_count = 1; break;
        case 5: h->slot_size = 96; break;           /* not a multiple of 64 */
        case 6: h->slot_size = 32; break;
        case 7: h->total_size = seg_size * 2; break;
        case 8: h->data_off = 192; break;
        case 9: h->pub_pid = 0; break;
        case 10: atomic_store(&h->head, UINT64_MAX - 3); break;
        case 11: h->slot_size = 1u << 31; break;
        }
        XT_ERR(xipc_bcast_attach(&b, seg, seg_size, &hh_sig, XIPC_BCAST_SUBSCRIBER, 0, NULL),
               XIPC_EPROTO);
    }
    h->magic = 0; /* a header being written */
    XT_ERR(xipc_bcast_attach(&b, seg, seg_size, &hh_sig, XIPC_BCAST_SUBSCRIBER, 0, NULL),
           XIPC_EBUSY);
    XT_ERR(xipc_bcast_attach(&b, seg, 100, &hh_sig, XIPC_BCAST_SUBSCRIBER, 0, NULL), XIPC_EPROTO);
    free(seg);

    /* through the transport: a hostile publisher (it holds the lock) names
     * a ring that is not sealed, writable by others, of another size,
     * lying in its header, not its own or another name's; an unsealed
     * signals page; no note or a garbage one. Refused, after the second a
     * dial gives a publisher to finish its note. */
    set_name("planted");
    xipc_sock *s, *p;
    for (int lie = 0; lie < H_LIES; lie++) {
        int up[2];
        XT_ASSERT(pipe(up) == 0);
        pid_t pid = fork();
        XT_ASSERT(pid >= 0);
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            hostile_publisher(lie, up[1]);
        }
        char c;
        XT_EQ(read(up[0], &c, 1), 1);
        XT_ERR(xipc_dial(&s, url, NULL, 0), lie == 5 ? XIPC_ECONNREFUSED : XIPC_EPROTO);
        XT_ERR(xipc_listen(&p, url, NULL), XIPC_EADDRINUSE); /* never taken over */
        kill(pid, SIGKILL);
        int st;
        XT_ASSERT(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st));
        close(up[0]);
        close(up[1]);
    }
    /* the last one's lock file and note are left: a dead publisher's,
     * refused at once, then reclaimed */
    XT_EQ(leftovers(), 2);
    uint64_t t0 = now_ms();
    XT_ERR(xipc_dial(&s, url, NULL, 0), XIPC_ECONNREFUSED);
    XT_ASSERT(now_ms() - t0 < xt_bound_ms("refusal without a publisher", 500, 0));
    XT_OK(xipc_listen(&p, url, NULL));
    XT_OK(xipc_dial(&s, url, NULL, 0));
    xipc_close(s);
    xipc_close(p);
    XT_EQ(leftovers(), 0);
    printf("  %d hostile publishers: EPROTO or ECONNREFUSED, never taken over, "
           "stale files reclaimed ok\n", H_LIES);
}

#define H_SLOTS 16u
#define H_SIZE 128u
#define H_PAGE 4096u
#define H_TIMEOUT_MS 20

static xipc_bcast_sig *hs_sig; /* shared with the scribbler (MAP_SHARED) */

/* Valid messages mixed with random stamps, lengths, head and signals: a
 * publisher that lies (subscribers cannot write the ring at all). */
static void hostile_scribbler(uint8_t *seg, uint64_t seg_size, uint32_t seed)
{
    xipc_bcast w;
    if (xipc_bcast_attach(&w, seg, seg_size, hs_sig, XIPC_BCAST_PUBLISHER, 0, NULL) !=
        XIPC_OK)
        _exit(0);
    xipc_bcast_hdr *h = (xipc_bcast_hdr *)seg;
    uint8_t msg[H_SIZE];
    memset(msg, 0x5a, sizeof(msg));
    for (int op = 0; op < 60; op++) {
        uint32_t r = rnd(&seed);
        uint64_t head = atomic_load(&h->head);
        xipc_bcast_slot *s = (xipc_bcast_slot *)(seg + XIPC_BCAST_DATA_OFF +
                                                 (rnd(&seed) % H_SLOTS) * H_SIZE);
        switch (r % 10) {
        case 0: /* head anywhere: back, far ahead, beyond SEQ_MAX */
            atomic_store(&h->head, (r & 0x200) ? head + rnd(&seed) % (4 * H_SLOTS)
                                   : ((uint64_t)rnd(&seed) << 32 | rnd(&seed)));
            break;
        case 1: /* a random stamp */
            atomic_store(&s->stamp, (uint64_t)rnd(&seed) << (r & 0x400 ? 32 : 0));
            break;
        case 2: /* a plausible stamp of a nearby message */
            atomic_store(&s->stamp, XIPC_BCAST_DONE(head + rnd(&seed) % 8 - 4) +
                                        (rnd(&seed) & 1));
            break;
        case 3: /* a length beyond the slot */
            s->len = (r & 0x800) ? rnd(&seed) : H_SIZE - 16 + rnd(&seed) % 64;
            break;
        case 4: /* signals */
            atomic_store(&hs_sig->waiting, rnd(&seed));
            atomic_store(&hs_sig->data_seq, rnd(&seed));
            if ((r & 0xf000) == 0)
                atomic_store(&h->closed, 1);
            break;
        case 5: /* the fixed line: a subscriber must not re-read it */
            h->slot_count = rnd(&seed);
            h->slot_size = rnd(&seed);
            break;
        default: /* a valid message */
            xipc_bcast_send(&w, msg, rnd(&seed) % (H_SIZE - 16 + 1));
            break;
        }
        if (r & 0x100)
            usleep(r % 300);
    }
    _exit(0);
}

/* mode 0: recv, 1: peek/release, 2: recv into a buffer smaller than most */
static void hostile_round(uint8_t *seg, uint64_t seg_size, uint32_t seed,
                          int mode, int counts[4])
{
    xipc_bcast_format(seg, H_SLOTS, H_SIZE, (uint32_t)getpid());
    memset(seg + XIPC_BCAST_DATA_OFF, 0, H_SLOTS * H_SIZE);
    xipc_plat_proc peer;
    xipc_bcast r;
    XT_OK(xipc_bcast_attach(&r, seg, seg_size, hs_sig, XIPC_BCAST_SUBSCRIBER, 0, &peer));
    pid_t pid = fork();
    XT_ASSERT(pid >= 0);
    if (pid == 0)
        hostile_scribbler(seg, seg_size, seed);
    xipc_plat_proc_open(&peer, (uint32_t)pid);
    const uint8_t *lo = seg + XIPC_BCAST_DATA_OFF, *hi = seg + seg_size;
    size_t cap = mode == 2 ? 40 : H_SIZE - 16; /* exactly sized, for ASan */
    uint8_t *buf = malloc(cap);
    XT_ASSERT(buf != NULL);
    for (int i = 0; i < 1000; i++) {
        uint64_t t0 = now_ms();
        size_t n = 0;
        xipc_err rv;
        if (mode == 1) {
            const void *m = NULL;
            rv = xipc_bcast_peek(&r, &m, &n, H_TIMEOUT_MS);
            if (rv == XIPC_OK) {
                const uint8_t *b = m;
                XT_ASSERT(b >= lo && b + n <= hi && n <= H_SIZE - 16);
                XT_ASSERT((size_t)(b - lo) % H_SIZE == 16); /* a payload start */
                memcpy(buf, m, n);
                rv = xipc_bcast_release(&r);
            }
        } else {
            rv = xipc_bcast_recv(&r, buf, cap, &n, H_TIMEOUT_MS);
        }
        if (now_ms() - t0 > H_TIMEOUT_MS + 1000)
            XT_FAIL("a read blocked %llu ms past a %d ms timeout",
                    (unsigned long long)(now_ms() - t0), H_TIMEOUT_MS);
        if (rv == XIPC_OK) {
            XT_ASSERT(n <= cap);
            counts[0]++;
        } else if (rv == XIPC_EMSGSIZE) {
            XT_ASSERT(mode == 2 && n > cap && n <= H_SIZE - 16);
        } else if (rv == XIPC_EOVERRUN) {
            XT_ASSERT(n >= 1);
            counts[1]++;
        } else if (rv == XIPC_ETIMEDOUT) {
            continue;
        } else if (rv == XIPC_EPROTO) {
            counts[2]++;
            XT_ERR(xipc_bcast_recv(&r, buf, cap, &n, 0), XIPC_EPROTO);
            break;
        } else {
            XT_ERR(rv, XIPC_ECLOSED);
            counts[3]++;
            break;
        }
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    xipc_plat_proc_close(&peer);
    free(buf);
}

static void test_hostile_slots(int rounds)
{
    uint64_t seg_size = xipc_bcast_seg_size(H_SLOTS, H_SIZE);
    XT_ASSERT(seg_size <= H_PAGE);
    /* the segment ends exactly at a guard page; one before it too */
    uint8_t *map = mmap(NULL, 3 * H_PAGE, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    XT_ASSERT(map != MAP_FAILED);
    XT_ASSERT(mprotect(map, H_PAGE, PROT_NONE) == 0);
    XT_ASSERT(mprotect(map + 2 * H_PAGE, H_PAGE, PROT_NONE) == 0);
    uint8_t *seg = map + 2 * H_PAGE - seg_size;
    hs_sig = mmap(NULL, H_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    XT_ASSERT(hs_sig != MAP_FAILED);
    int counts[4] = {0, 0, 0, 0}; /* ok, overrun, proto, closed */
    for (int i = 0; i < rounds; i++)
        hostile_round(seg, seg_size, 0x2545f491u + (uint32_t)i * 7919u, i % 3, counts);
    printf("  %d hostile rounds: %d messages, %d overruns, %d EPROTO, %d ECLOSED\n",
           rounds, counts[0], counts[1], counts[2], counts[3]);
    XT_ASSERT(counts[2] > rounds / 10); /* the lies were caught */
    XT_ASSERT(counts[0] > rounds);      /* and valid traffic got through */
    XT_ASSERT(counts[1] > 0);
    munmap(map, 3 * H_PAGE);
    munmap(hs_sig, H_PAGE);
}

/*
 * A hostile subscriber (issue 11, attack 5) takes the hand-out like any
 * other and tries everything: a writable mapping of the ring, mprotect,
 * write(), truncation, punching a hole, closing the stream for all; then
 * it storms the signals page (clears `waiting`, bumps data_seq, wakes).
 * An honest subscriber meanwhile gets every message, in order, and the
 * end of the stream only when the publisher closes.
 */
static void test_hostile_subscriber(void)
{
    set_name("hostile-sub");
    enum { N = 3000 };
    xipc_sock *p, *s;
    xipc_opts o = small_opts(4096, 64); /* room for all: nobody is lapped */
    XT_OK(xipc_listen(&p, url, &o));
    XT_OK(xipc_dial(&s, url, NULL, 1000));
    int up[2];
    XT_ASSERT(pipe(up) == 0);
    pid_t pid = fork();
    XT_ASSERT(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed test */
        handout h;
        handout_take(&h);
        size_t size = h.ring.size;
        int refused = 0; /* one bit per misuse the kernel refused */
        void *w = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, h.ring_fd, 0);
        refused |= (w == MAP_FAILED) << 0;
        refused |= (mprotect(h.ring.base, size, PROT_READ | PROT_WRITE) != 0) << 1;
        uint64_t zero = 0;
        refused |= (pwrite(h.ring_fd, &zero, sizeof(zero), 128) < 0) << 2; /* closed */
        refused |= (ftruncate(h.ring_fd, 0) != 0) << 3;
        refused |= (fallocate(h.ring_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
                              (off_t)size) != 0) << 4;
        refused |= (ftruncate(h.sig_fd, 0) != 0) << 5; /* the page we may write */
        if (write(up[1], &refused, sizeof(refused)) != sizeof(refused))
            _exit(2);
        xipc_bcast_sig *g = h.sig.base;
        for (;;) { /* the storm, until killed */
            atomic_store(&g->waiting, 0);
            atomic_fetch_add(&g->data_seq, 1);
            xipc_plat_futex_wake((uint32_t *)&g->data_seq);
        }
    }
    int refused = 0;
    XT_EQ(read(up[0], &refused, sizeof(refused)), (ssize_t)sizeof(refused));
    printf("  hostile subscriber: kernel refusals 0x%x (want 0x3f)\n", refused);
    XT_EQ(refused, 0x3f);
    /* the honest subscriber reads while the publisher writes, in bursts */
    uint32_t next = 0;
    for (uint32_t i = 0; i < N; i++) {
        send_u32(p, i);
        if (i % 64 == 63)
            while (next <= i)
                XT_EQ(recv_u32(s, 5000), next++);
    }
    xipc_close(p);
    while (next < N)
        XT_EQ(recv_u32(s, 5000), next++);
    uint32_t v;
    size_t n;
    XT_ERR(xipc_recv(s, &v, sizeof(v), &n, 5000), XIPC_ECLOSED);
    xipc_stats st;
    XT_OK(xipc_stats_get(s, &st));
    XT_EQ(st.lost, 0);
    kill(pid, SIGKILL);
    int ws;
    XT_ASSERT(waitpid(pid, &ws, 0) == pid && WIFSIGNALED(ws));
    close(up[0]);
    close(up[1]);
    xipc_close(s);
    XT_EQ(leftovers(), 0);
    printf("  hostile subscriber: %u messages to an honest one, in order, none lost ok\n",
           (unsigned)N);
}

/* ---- many processes ---------------------------------------------------------- */

static char peer64[512];
static const char *peer32;

typedef struct group {
    const char *what;
    uint64_t count;
    uint32_t slots, slot_size;
    const char *pub_exe;
    int nsubs;
    const char *exe[8];
    const char *mode[8];
} group;

static pid_t spawn(char *const argv[])
{
    pid_t pid = fork();
    XT_ASSERT(pid >= 0);
    if (pid == 0) {
        xt_execv(argv[0], argv);
    }
    return pid;
}

static void run_group(const group *g)
{
    set_name(g->what);
    char board_path[] = "/tmp/pubsub-board-XXXXXX";
    int fd = mkstemp(board_path);
    XT_ASSERT(fd >= 0 && ftruncate(fd, 4096) == 0);
    _Atomic uint64_t *board = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    XT_ASSERT(board != MAP_FAILED);
    close(fd);
    atomic_store(&board[2], g->slots);
    atomic_store(&board[3], g->slot_size);
    char count[32], nsubs[8], keep[16];
    unsigned keepers = 0;
    for (int k = 0; k < g->nsubs; k++)
        if (strncmp(g->mode[k], "slow", 4) != 0)
            keepers |= 1u << k;
    snprintf(count, sizeof(count), "%llu", (unsigned long long)g->count);
    snprintf(nsubs, sizeof(nsubs), "%d", g->nsubs);
    snprintf(keep, sizeof(keep), "0x%x", keepers);
    uint64_t t0 = now_ms();
    pid_t pids[9];
    for (int k = 0; k < g->nsubs; k++) {
        char idx[8];
        snprintf(idx, sizeof(idx), "%d", k);
        char *argv[] = {(char *)g->exe[k], "sub", url, count, board_path, idx,
                        (char *)g->mode[k], NULL};
        pids[k] = spawn(argv);
    }
    char *pargv[] = {(char *)g->pub_exe, "pub", url, count, board_path, nsubs, keep, NULL};
    pids[g->nsubs] = spawn(pargv);
    int failed = 0;
    for (int k = 0; k <= g->nsubs; k++) {
        int st;
        for (;;) { /* a watchdog: nothing may hang the suite */
            pid_t r = waitpid(pids[k], &st, WNOHANG);
            XT_ASSERT(r >= 0);
            if (r == pids[k])
                break;
            if (now_ms() - t0 > 400000) {
                for (int j = 0; j <= g->nsubs; j++)
                    kill(pids[j], SIGKILL);
                unlink(board_path);
                XT_FAIL("%s: processes hung", g->what);
            }
            usleep(10000);
        }
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "%s: %s %d failed (status 0x%x)\n", g->what,
                    k < g->nsubs ? "subscriber" : "publisher", k, st);
            failed++;
        }
    }
    unlink(board_path); /* still mapped here */
    XT_EQ(failed, 0);
    uint64_t ms = now_ms() - t0;
    int bits32 = 0;
    for (int k = 0; k < g->nsubs; k++) {
        _Atomic uint64_t *line = &board[8 * (1 + k)];
        uint64_t got = atomic_load(&line[2]), lost = atomic_load(&line[3]);
        uint64_t gaps = atomic_load(&line[4]), bits = atomic_load(&line[5]);
        XT_EQ(atomic_load(&line[6]), 1);
        XT_EQ(bits, strcmp(g->exe[k], peer64) == 0 ? sizeof(void *) * 8 : 32);
        bits32 += bits == 32;
        XT_EQ(got + lost, g->count);
        if (keepers & (1u << k)) {
            XT_EQ(got, g->count);
            XT_EQ(lost, 0);
        } else {
            XT_ASSERT(lost >= g->slots && gaps >= 1); /* it really was lapped */
        }
    }
    printf("  %s: %d subscribers (%d of them 32-bit), %llu messages, %llu ms\n",
           g->what, g->nsubs, bits32, (unsigned long long)g->count,
           (unsigned long long)ms);
    munmap((void *)board, 4096);
    XT_EQ(leftovers(), 0);
}

static void find_peers(int argc, char **argv)
{
    char self[512];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    XT_ASSERT(n > 0);
    self[n] = 0;
    snprintf(peer64, sizeof(peer64), "%s/pubsub_peer", dirname(self));
    XT_ASSERT(access(peer64, X_OK) == 0);
    peer32 = argc > 1 ? argv[1] : getenv("XIPC_M32_PUBSUB_PEER");
    if (peer32 == NULL || peer32[0] == 0)
        peer32 = XIPC_M32_PUBSUB_PEER;
    if (peer32[0] == 0 || sizeof(void *) == 4)
        peer32 = NULL; /* a 32-bit build's own peer is 32-bit already */
    else
        XT_ASSERT(access(peer32, X_OK) == 0);
    if (peer32 != NULL)
        xt_peer_emulated("pubsub_test", peer32);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    find_peers(argc, argv);
    uint64_t count = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
    printf("pubsub_test (%u-bit; 32-bit peer: %s)\n", (unsigned)(sizeof(void *) * 8),
           peer32 ? peer32 : "none");
    test_roles();
    test_sizes();
    test_refused();
    test_overrun();
    test_closed();
    test_killed_and_reclaim();
    test_sleepers();
    test_hostile_header();
    test_hostile_slots(1500);
    test_hostile_subscriber();

    /* 1 publisher, 8 subscribers, the last one slow */
    const char *x = peer32 ? peer32 : peer64;
    uint32_t slots = 65536; /* a shorter run (argv[2]) gets a smaller ring */
    while (slots > 256 && slots > count / 8)
        slots /= 2;
    group big = {"broadcast", count, slots, 1024, peer64, 8,
                 {peer64, peer64, peer64, peer64, peer64, x, x, x},
                 {"copy", "zc", "copy", "zc", "copy", "copy", "zc", "slow"}};
    run_group(&big);
    if (peer32 != NULL) {
        /* and the other way round: a 32-bit publisher */
        group rev = {"broadcast-from-32-bit", count / 5, slots / 16, 512, peer32, 3,
                     {peer64, peer64, peer64},
                     {"copy", "zc", "slowzc"}};
        run_group(&rev);
    }
    printf("pubsub_test ok\n");
    return 0;
}
