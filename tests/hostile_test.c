/*
 * Hostile peers against a real victim process (docs/SECURITY.md, the
 * attacks of issue 11), 64-bit or 32-bit: the victim is `xipc serve` or
 * `xipc send` of the build given, started through scripts/run32 (under
 * qemu-i386 where the kernel cannot run 32-bit programs). Each attack runs
 * for real; the victim must answer it with a clear error or ignore it,
 * never crash, and go on serving honest peers (a ping after each attack).
 *
 *   hostile_test XIPC [ATTACK...]
 *
 * Attacks (all by default):
 *   shrink    offers with an unsealed segment, truncated after sending;
 *             a sealed one cannot be truncated at all
 *   squat     connections that never offer, fill the backlog, and come
 *             back for 3 s
 *   vanish    clients that send half a request and exit without closing,
 *             again and again: the victim's descriptors and mappings come
 *             back to where they were
 *   listener  a hostile shm:// listener against `xipc send`: junk on the
 *             socket, handles, then the client's rings overwritten
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/platform.h"
#include "ring/ring.h"
#include "run32.h"
#include "test.h"
#include "transport/shm_layout.h"
#include "xipc/rpc.h"

static const char *xipc_exe;
/* timing bounds, longer when the victim runs under qemu-i386 (main) */
static int ping_ms, refusal_ms, accept_ms, release_ms;
static char url[96], path[300];
static pid_t victim;

static uint32_t rnd(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

/* ---- the victim ------------------------------------------------------------------ */

/* Start `xipc serve -w URL` and wait for its -w line. */
static void victim_start(void)
{
    int p[2];
    XT_ASSERT(pipe(p) == 0);
    victim = fork();
    XT_ASSERT(victim >= 0);
    if (victim == 0) {
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        xt_exec(xipc_exe, "serve", "-w", url, (char *)NULL);
    }
    close(p[1]);
    FILE *f = fdopen(p[0], "r");
    XT_ASSERT(f != NULL);
    char line[512];
    int up = 0;
    while (!up && fgets(line, sizeof(line), f) != NULL)
        up = strncmp(line, "serve: pid ", 11) == 0;
    XT_ASSERT(up);
    fclose(f); /* later lines: the victim's stderr goes nowhere */
}

/* The victim is still there and answers a ping within the bound. */
static void victim_serves(const char *after)
{
    int st;
    XT_EQ(waitpid(victim, &st, WNOHANG), 0);
    xipc_rpc_client *c;
    XT_OK(xipc_rpc_client_dial(&c, url, NULL, ping_ms));
    char *pong = NULL;
    XT_OK(xipc_rpc_callf(c, "ping", "", "s", &pong));
    XT_ASSERT(strcmp(pong, "pong") == 0);
    xipc_rpc_free(pong);
    xipc_rpc_client_close(c);
    printf("  %s: the victim still serves\n", after);
    fflush(stdout);
}

static void victim_stop(void)
{
    int st;
    kill(victim, SIGTERM);
    XT_EQ(waitpid(victim, &st, 0), victim);
    XT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* The victim's open descriptors. */
static int victim_fds(void)
{
    char dir[64];
    snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)victim);
    DIR *d = opendir(dir);
    XT_ASSERT(d != NULL);
    int n = 0;
    for (struct dirent *e; (e = xt_readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* The victim's mappings of connection segments (memfds named "xipc"). */
static int victim_segs(void)
{
    char file[64], line[512];
    snprintf(file, sizeof(file), "/proc/%d/maps", (int)victim);
    FILE *f = fopen(file, "r");
    XT_ASSERT(f != NULL);
    int n = 0;
    while (fgets(line, sizeof(line), f) != NULL)
        n += strstr(line, "/memfd:xipc") != NULL;
    fclose(f);
    return n;
}

/* ---- attacks ---------------------------------------------------------------------- */

/* Connect to the victim's listener socket as a client would. */
static xipc_plat_sock raw_dial(void)
{
    xipc_plat_sock fd;
    XT_OK(xipc_plat_msgsock_dial(path, 2000, &fd));
    return fd;
}

static const xipc_shm_offer good_offer = {XIPC_OFFER_MAGIC, XIPC_SHM_VERSION, 64, 0, 4096};
#define SEG_SIZE (XIPC_CONN_DATA_OFF + 2 * 4096)

/* A client segment that is formatted right (the victim would accept it). */
static void format_seg(void *base)
{
    xipc_conn_hdr *h = base;
    memset(base, 0, XIPC_CONN_DATA_OFF);
    h->magic = XIPC_CONN_MAGIC;
    h->version = XIPC_SHM_VERSION;
    h->total_size = SEG_SIZE;
    h->ring_capacity = 4096;
    h->ring_off[0] = XIPC_CONN_RING0_OFF;
    h->ring_off[1] = XIPC_CONN_RING1_OFF;
    uint8_t *b = base;
    xipc_ring_format((xipc_ring_hdr *)(b + XIPC_CONN_RING0_OFF), 4096, XIPC_CONN_DATA_OFF);
    xipc_ring_format((xipc_ring_hdr *)(b + XIPC_CONN_RING1_OFF), 4096,
                     XIPC_CONN_DATA_OFF + 4096);
}

/* 1. An unsealed segment, truncated once sent, and a sealed one the
 * attacker tries to truncate. The first is refused, the second cannot
 * shrink: the victim never maps memory that can vanish under it. */
static void attack_shrink(void)
{
    for (int i = 0; i < 20; i++) {
        xipc_plat_sock fd = raw_dial();
        int m = memfd_create("hostile", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        XT_ASSERT(m >= 0 && ftruncate(m, SEG_SIZE) == 0);
        void *p = mmap(NULL, SEG_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
        XT_ASSERT(p != MAP_FAILED);
        format_seg(p);
        if (i % 2) /* sealed against growing only: it can still shrink */
            XT_ASSERT(fcntl(m, F_ADD_SEALS, F_SEAL_GROW) == 0);
        XT_OK(xipc_plat_sock_send_handle(fd, &good_offer, sizeof(good_offer), m));
        xipc_plat_sleep_us(2000); /* let the victim look at it */
        XT_ASSERT(ftruncate(m, 0) == 0);
        munmap(p, SEG_SIZE);
        close(m);
        /* refused: the victim hangs up on us */
        XT_OK(xipc_plat_sock_wait(fd, 0, refusal_ms));
        xipc_plat_sock_close(fd);
    }
    /* what the library makes cannot be truncated by its maker either */
    xipc_plat_shm seg;
    XT_OK(xipc_plat_shm_anon(&seg, SEG_SIZE, 0));
    XT_ASSERT(ftruncate((int)seg.handle, 0) != 0 && errno == EPERM);
    XT_ASSERT(ftruncate((int)seg.handle, 2 * SEG_SIZE) != 0 && errno == EPERM);
    xipc_plat_shm_unmap(&seg);
    victim_serves("shrink");
}

/* 3. Connections that never offer: as many as the backlog holds, and more
 * coming for 3 s. Each is dropped after a while; honest ones get through. */
static void attack_squat(void)
{
    pid_t pid = fork();
    XT_ASSERT(pid >= 0);
    if (pid == 0) {
        uint64_t end = xipc_plat_now_ns() + 3000000000ull;
        xipc_plat_sock held[256];
        int n = 0;
        while (xipc_plat_now_ns() < end) {
            xipc_plat_sock fd;
            if (xipc_plat_msgsock_dial(path, 10, &fd) == XIPC_OK) {
                if (n == 256) {
                    xipc_plat_sock_close(held[0]);
                    memmove(held, held + 1, sizeof(held) - sizeof(held[0]));
                    n--;
                }
                held[n++] = fd;
            }
        }
        _exit(0);
    }
    xipc_plat_sleep_us(500000); /* the squatter is at it */
    victim_serves("squat (during)");
    xipc_plat_sleep_us(1000000);
    victim_serves("squat (during, later)");
    int st;
    XT_EQ(waitpid(pid, &st, 0), pid);
    victim_serves("squat (after)");
}

/* 4. Clients that make a good offer, send half a request and vanish
 * without closing. The victim notices each one through the socket, not a
 * pid it was told, and frees what it held. */
static void attack_vanish(void)
{
    victim_serves("vanish (before)");
    int fds0 = victim_fds(), maps0 = victim_segs();
    for (int i = 0; i < 40; i++) {
        pid_t pid = fork();
        XT_ASSERT(pid >= 0);
        if (pid == 0) {
            xipc_sock *s;
            if (xipc_dial(&s, url, NULL, 2000) != XIPC_OK)
                _exit(3);
            static const uint8_t half[] = {0x94, 0x00, 0x01}; /* [0, 1, ... */
            xipc_send(s, half, sizeof(half), 1000);
            _exit(0); /* no close */
        }
        int st;
        XT_EQ(waitpid(pid, &st, 0), pid);
        XT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    victim_serves("vanish (after)");
    /* each vanished client's socket and mapping go within a poll period */
    int fds = 0, maps = 0;
    for (int k = 0; k < 100; k++) {
        fds = victim_fds();
        maps = victim_segs();
        if (fds <= fds0 + 2 && maps <= maps0 + 2)
            break;
        xipc_plat_sleep_us((unsigned)release_ms * 1000u);
    }
    printf("  vanish: victim descriptors %d -> %d, mappings %d -> %d\n", fds0, fds, maps0,
           maps);
    XT_ASSERT(fds <= fds0 + 2);   /* not 40 more */
    XT_ASSERT(maps <= maps0 + 2); /* not 40 more */
}

/* 2. A hostile listener against `xipc send`: the victim's offer is taken,
 * junk comes back on the socket, its rings are overwritten with lies, and
 * then the listener goes. The victim ends with a clear error or success,
 * never with a signal. */
static void attack_listener(void)
{
    char name[64], lpath[400], dir[256];
    snprintf(name, sizeof(name), "hostile-l-%d", (int)getpid());
    XT_OK(xipc_plat_rundir(dir, sizeof(dir), "shm"));
    snprintf(lpath, sizeof(lpath), "%s/%s", dir, name);
    char lurl[96];
    snprintf(lurl, sizeof(lurl), "shm://%s", name);
    uint32_t seed = 4242;
    for (int i = 0; i < 10; i++) {
        xipc_plat_sock l;
        XT_OK(xipc_plat_msgsock_listen(lpath, 4, &l));
        pid_t pid = fork();
        XT_ASSERT(pid >= 0);
        if (pid == 0) {
            int dn = open("/dev/null", O_WRONLY);
            dup2(dn, 1);
            xt_exec(xipc_exe, "send", "-t", "1500", lurl, "one", "two", (char *)NULL);
        }
        xipc_plat_sock c;
        XT_OK(xipc_plat_sock_accept(l, accept_ms, &c));
        uint8_t b[64];
        size_t n;
        intptr_t h = -1;
        for (int k = 0; k < 200 && h < 0; k++) {
            xipc_err rv = xipc_plat_sock_recv_handle(c, b, sizeof(b), &n, &h);
            if (rv == XIPC_ETIMEDOUT)
                xipc_plat_sleep_us(10000);
            else
                XT_OK(rv);
        }
        XT_ASSERT(h >= 0);
        void *seg = mmap(NULL, SEG_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, (int)h, 0);
        XT_ASSERT(seg != MAP_FAILED);
        /* junk and a handle back on the socket: the victim reads nothing */
        int pp[2];
        XT_ASSERT(pipe(pp) == 0);
        for (size_t k = 0; k < sizeof(b); k++)
            b[k] = (uint8_t)rnd(&seed);
        xipc_plat_sock_send_handle(c, b, sizeof(b), pp[0]);
        close(pp[0]);
        close(pp[1]);
        /* lies in the victim's rings: positions past the capacity */
        uint8_t *base = seg;
        xipc_ring_hdr *r0 = (xipc_ring_hdr *)(base + XIPC_CONN_RING0_OFF);
        xipc_ring_hdr *r1 = (xipc_ring_hdr *)(base + XIPC_CONN_RING1_OFF);
        atomic_store(&r0->tail, (uint64_t)rnd(&seed) << 20);
        atomic_store(&r1->head, (uint64_t)rnd(&seed) * 8u);
        uint32_t *w = (uint32_t *)(base + XIPC_CONN_DATA_OFF);
        for (int k = 0; k < 2048; k++)
            w[k] = rnd(&seed);
        xipc_plat_sleep_us(50000);
        munmap(seg, SEG_SIZE);
        close((int)h);
        xipc_plat_sock_close(c);
        xipc_plat_sock_close(l);
        unlink(lpath);
        int st;
        XT_EQ(waitpid(pid, &st, 0), pid);
        if (!WIFEXITED(st) || (WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 1))
            XT_FAIL("xipc send against a hostile listener: status 0x%x", st);
    }
    printf("  listener: 10 hostile listeners, xipc send exited 0 or 1 each time\n");
}

int main(int argc, char **argv)
{
    if (argc < 2)
        XT_FAIL("usage: hostile_test XIPC [shrink|squat|vanish|listener...]");
    signal(SIGPIPE, SIG_IGN);
    xipc_exe = argv[1];
    int emu = xt_peer_emulated("hostile_test", xipc_exe);
    ping_ms = (int)xt_bound_ms("ping", 5000, emu);
    refusal_ms = (int)xt_bound_ms("refusal", 3000, emu);
    accept_ms = (int)xt_bound_ms("accept", 5000, emu);
    release_ms = (int)xt_bound_ms("release poll", 50, emu);
    snprintf(url, sizeof(url), "shm://hostile-%d", (int)getpid());
    char dir[256];
    XT_OK(xipc_plat_rundir(dir, sizeof(dir), "shm"));
    snprintf(path, sizeof(path), "%s/hostile-%d", dir, (int)getpid());
    victim_start();
    victim_serves("start");
    int all = argc == 2;
    for (int i = all ? 0 : 2; all ? i < 1 : i < argc; i++) {
        const char *a = all ? NULL : argv[i];
        if (a == NULL || strcmp(a, "shrink") == 0)
            attack_shrink();
        if (a == NULL || strcmp(a, "squat") == 0)
            attack_squat();
        if (a == NULL || strcmp(a, "vanish") == 0)
            attack_vanish();
        if (a == NULL || strcmp(a, "listener") == 0)
            attack_listener();
    }
    victim_stop();
    printf("hostile_test ok\n");
    return 0;
}
