/*
 * fault_test SCHEME KILLS [SEED] — crash tests (see fault.h, docs/fault.md).
 *
 * SCHEME: shm pipe unix unix-abstract tcp spawn mailslot mq pubsub rpc.
 * Prints one line: kills, messages verified, the longest time a survivor's
 * blocking call took to return after a kill, reconnects. A failure prints
 * the seed that reproduces the run.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <time.h>
#ifndef _WIN32
#include <unistd.h>
#endif

#include "core/platform.h"
#include "fault.h"

static int finished;

void fault_opts(xipc_opts *o)
{
    xipc_opts_init(o);
    o->ring_capacity = 256u << 10; /* shm: the ring fills, senders block */
    o->pub_slots = 64;
    o->pub_slot_size = 4096;
    if (F.scheme != NULL && strcmp(F.scheme, "mq") == 0) {
        o->max_msg = 4096; /* small queues: RLIMIT_MSGQUEUE is per user */
        o->mq_depth = 10;
    }
}

void fault_url(char *buf, size_t cap, const char *kind, const char *tag, int port_idx)
{
    if (strcmp(kind, "unix") == 0)
        snprintf(buf, cap, "unix:///tmp/xipc-%s-%s.sock", F.prefix, tag);
    else if (strcmp(kind, "unix-abstract") == 0)
        snprintf(buf, cap, "unix://@xipc-%s-%s", F.prefix, tag);
    else if (strcmp(kind, "tcp") == 0)
        snprintf(buf, cap, "tcp://127.0.0.1:%u", F.port[port_idx]);
    else
        snprintf(buf, cap, "%s://%s-%s", kind, F.prefix, tag);
}

/* A TCP port below the ephemeral range (where other tests' dials take
 * theirs) that is free now. A name that is bound again and again (a
 * killed listener's) takes a fresh one each round, so that parallel runs
 * cannot meet on one for long. */
unsigned fault_free_port(void)
{
    static fault_rng r;
    if (r.s == 0)
        fault_rng_seed(&r, fault_now() ^ F.pid);
    for (;;) {
        unsigned p = (unsigned)fault_range(&r, 20000, 32000);
        xipc_plat_sock fd;
        uint16_t got;
        int ok = xipc_plat_tcp_listen("127.0.0.1", (uint16_t)p, 1, &fd, &got) == XIPC_OK;
        if (ok)
            xipc_plat_sock_close(fd);
        if (ok && p != F.port[0] && p != F.port[1] && p != F.port[2] && p != F.port[3])
            return p;
    }
}

static void fault_ports(void)
{
    for (int i = 0; i < 4; i++)
        F.port[i] = fault_free_port();
}

void fault_kill_children(void);
void fault_cleanup(void);

static void fault_atexit(void)
{
    if (finished)
        return;
    fault_kill_children();
    fault_cleanup();
    fprintf(stderr, "fault_test %s: FAILED; rerun with: fault_test %s %d %llu\n", F.scheme,
            F.scheme, F.kills_wanted, (unsigned long long)F.seed);
}

/*
 * "fault_test victim|helper KIND SLOT SCHEME ...": a child's mode, in a
 * forked child (the slots are mapped) or a started one (map them).
 */
int fault_role(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    if (F.slots == NULL)
        fault_slots_map(0);
    int slot = atoi(argv[3]);
    if (slot < 0 || slot >= FAULT_SLOTS)
        return 2;
    fault_slot *sl = &F.slots[slot];
    atomic_store(&sl->running, 1);
    F.scheme = argv[4];
    const char *kind = argv[2];
    if (strncmp(kind, "chan", 4) == 0 || strcmp(kind, "spawn") == 0)
        return fault_chan_role(argc, argv, sl);
    if (strncmp(kind, "dg-", 3) == 0)
        return fault_dgram_role(argc, argv, sl);
    if (strncmp(kind, "ps-", 3) == 0)
        return fault_pubsub_role(argc, argv, sl);
    if (strncmp(kind, "rpc-", 4) == 0)
        return fault_rpc_role(argc, argv, sl);
    fault_vfail(sl, "unknown mode %s", kind);
}

/* This program's path, for the children started with exec. */
static void fault_self_path(void)
{
#ifdef _WIN32
    DWORD n = GetModuleFileNameA(NULL, F.exe, sizeof(F.exe));
    XT_ASSERT(n > 0 && n < sizeof(F.exe));
#else
    ssize_t n = readlink("/proc/self/exe", F.exe, sizeof(F.exe) - 1);
    XT_ASSERT(n > 0);
    F.exe[n] = '\0';
#endif
}

/* The message check must see a torn, corrupt or stale message. */
static void fault_msg_selftest(void)
{
    uint8_t m[300];
    char why[200];
    uint64_t seq;
    fault_msg_make(m, sizeof(m), 7, 1, 42);
    XT_ASSERT(fault_msg_check(m, sizeof(m), 7, 1, &seq, why, sizeof(why)) == 0 && seq == 42);
    XT_ASSERT(fault_msg_check(m, sizeof(m) - 1, 7, 1, &seq, why, sizeof(why)) != 0);
    XT_ASSERT(fault_msg_check(m, sizeof(m), 8, 1, &seq, why, sizeof(why)) != 0);
    XT_ASSERT(fault_msg_check(m, sizeof(m), 7, 0, &seq, why, sizeof(why)) != 0);
    for (size_t i = 0; i < sizeof(m); i += 37) {
        m[i] ^= 0x10;
        XT_ASSERT(fault_msg_check(m, sizeof(m), 7, 1, &seq, why, sizeof(why)) != 0);
        m[i] ^= 0x10;
    }
    uint8_t other[300]; /* the first half of one message, the rest of another */
    fault_msg_make(other, sizeof(other), 7, 1, 43);
    memcpy(other, m, 150);
    XT_ASSERT(fault_msg_check(other, sizeof(other), 7, 1, &seq, why, sizeof(why)) != 0);
}

static const char *const phase_names[PH_COUNT] = {
    "start", "connect", "send", "large", "reserve", "commit",
    "recv", "peek", "idle", "call", "serve"};

static void fault_summary(double secs)
{
    char phases[256] = "";
    size_t off = 0;
    for (int i = 0; i < PH_COUNT; i++)
        if (F.phase_kills[i] != 0)
            off += (size_t)snprintf(phases + off, sizeof(phases) - off, "%s%s %llu",
                                    off ? " " : "", phase_names[i],
                                    (unsigned long long)F.phase_kills[i]);
    char lost[64] = "";
    if (strcmp(F.scheme, "mailslot") == 0 || strcmp(F.scheme, "pubsub") == 0)
        snprintf(lost, sizeof(lost), ", %llu lost (allowed)", (unsigned long long)F.lost);
    char detect[128];
    if (F.detect_n != 0)
        snprintf(detect, sizeof(detect), "detection max %.1f ms mean %.1f ms (n=%llu)",
                 (double)F.detect_max_ns / 1e6, (double)F.detect_sum_ns / 1e6 / (double)F.detect_n,
                 (unsigned long long)F.detect_n);
    else
        snprintf(detect, sizeof(detect), "no detection measured");
    char known[256] = "";
    off = 0;
    for (int i = 0; i < KB_COUNT; i++)
        if (F.known[i] != 0)
            off += (size_t)snprintf(known + off, sizeof(known) - off, "%s%llu %s",
                                    off ? ", " : "; KNOWN BUGS met: ",
                                    (unsigned long long)F.known[i], fault_known_name(i));
    printf("fault %s: %llu kills (%llu before connecting), %llu messages verified%s, %s, "
           "%llu reconnects, no leftovers [%s] seed %llu, %.1f s%s\n",
           F.scheme, (unsigned long long)F.kills, (unsigned long long)F.early,
           (unsigned long long)F.verified, lost, detect, (unsigned long long)F.reconnects,
           phases, (unsigned long long)F.seed, secs, known);
}

int main(int argc, char **argv)
{
#ifndef _WIN32
    signal(SIGPIPE, SIG_IGN);
#endif
#ifdef _WIN32
    setvbuf(stdout, NULL, _IONBF, 0); /* its _IOLBF is full buffering */
#else
    setvbuf(stdout, NULL, _IOLBF, 0);
#endif
    if (argc > 1 && (strcmp(argv[1], "victim") == 0 || strcmp(argv[1], "helper") == 0))
        return fault_role(argc, argv);
    if (argc < 3)
        XT_FAIL("usage: fault_test SCHEME KILLS [SEED]\n"
                "  SCHEME: shm pipe unix unix-abstract tcp spawn mailslot mq pubsub rpc");
    F.scheme = argv[1];
    F.kills_wanted = atoi(argv[2]);
    F.strict = getenv("FAULT_STRICT") != NULL && strcmp(getenv("FAULT_STRICT"), "0") != 0;
    F.pid = (unsigned)xipc_plat_getpid();
    F.seed = argc > 3 ? strtoull(argv[3], NULL, 10)
                      : (uint64_t)time(NULL) * 1000003u ^ F.pid;
    /* the clock too: under wine pids are small and come again, and a run
     * that failed may have left names of its own behind */
    snprintf(F.prefix, sizeof(F.prefix), "fault-%u-%x", F.pid,
             (unsigned)(xipc_plat_now_ns() & 0xffffffu));
    fault_self_path();
    XT_ASSERT(F.kills_wanted > 0);
    void (*run)(void) = NULL;
    static const char *chan[] = {"shm", "pipe", "unix", "unix-abstract", "tcp", "spawn"};
    for (size_t i = 0; i < sizeof(chan) / sizeof(chan[0]); i++)
        if (strcmp(F.scheme, chan[i]) == 0)
            run = fault_chan_run;
    if (strcmp(F.scheme, "mailslot") == 0 || strcmp(F.scheme, "mq") == 0)
        run = fault_dgram_run;
    if (strcmp(F.scheme, "pubsub") == 0)
        run = fault_pubsub_run;
    if (strcmp(F.scheme, "rpc") == 0)
        run = fault_rpc_run;
    if (run == NULL)
        XT_FAIL("unknown scheme %s", F.scheme);

    fault_slots_map(1);
    atexit(fault_atexit);
    fault_msg_selftest();
    fault_leftovers_selftest();
    fault_ports();
    fault_killer_start();
    int fds = fault_fd_count(0);
    uint64_t t0 = fault_now();
    run();
    double secs = (double)(fault_now() - t0) / 1e9;
    /* everything has exited: nothing of ours may remain */
    int now_fds = fault_fd_count(0);
    if (now_fds != fds)
        XT_FAIL("%d descriptors open at the end, %d at the start", now_fds, fds);
    int left = fault_leftovers(0);
    if (left != 0)
        XT_FAIL("%d objects left behind (listed above)", left);
    fault_summary(secs);
    finished = 1;
    return 0;
}
