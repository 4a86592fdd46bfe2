/*
 * The platform contract's shared memory and wait/wake on shared words,
 * the same test for every port: native for POSIX, under wine for the
 * Windows x64 build (win64_plat_shm_test). Children are copies of this
 * program (fork on POSIX; on Windows the exe started again with "child
 * ..." arguments) that map the parent's section with
 * xipc_plat_shm_from_peer and report back through it.
 *
 * "plat_shm_test bench [ROUNDS]" measures a ping-pong between two
 * processes through the futex (each side sleeps) and through spinning,
 * and prints the median round trip; the test itself runs a short one and
 * asserts nothing about its timing.
 */
#include <stdatomic.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "core/platform.h"
#include "test.h"

#define NCHILD 3
#define SEG_SIZE 4096u
#define BOUND_NS 30000000000ull /* generous: the machine is loaded */

/* The section the children map (fixed-width words only). */
typedef struct seg {
    _Atomic uint32_t go; /* the word the children sleep on */
    _Atomic uint32_t ready[NCHILD];
    _Atomic uint32_t done[NCHILD]; /* 1: woken with XIPC_OK, 2: timed out */
    _Alignas(64) _Atomic uint32_t ping;
    _Alignas(64) _Atomic uint32_t pong;
    _Atomic uint32_t stop;
} seg;

_Static_assert(sizeof(seg) <= SEG_SIZE, "seg fits the section");

static uint32_t self_pid(void)
{
#ifdef _WIN32
    return (uint32_t)GetCurrentProcessId();
#else
    return xipc_plat_getpid();
#endif
}

/* Another handle to the object @p h (for adopt, which takes it). */
static intptr_t dup_handle(intptr_t h)
{
#ifdef _WIN32
    HANDLE d;
    XT_ASSERT(DuplicateHandle(GetCurrentProcess(), (HANDLE)h, GetCurrentProcess(), &d, 0,
                              FALSE, DUPLICATE_SAME_ACCESS));
    return (intptr_t)d;
#else
    int d = dup((int)h);
    XT_ASSERT(d >= 0);
    return d;
#endif
}

/* A handle to something that is not a shared memory object. */
static intptr_t other_handle(void)
{
#ifdef _WIN32
    HANDLE e = CreateEventW(NULL, TRUE, FALSE, NULL);
    XT_ASSERT(e != NULL);
    return (intptr_t)e;
#else
    int p[2];
    XT_ASSERT(pipe(p) == 0);
    close(p[1]);
    return p[0];
#endif
}

static void test_anon(void)
{
    static const size_t sizes[] = {1, 4096, 4097, 65536, (1u << 20) + 3};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        xipc_plat_shm m;
        XT_OK(xipc_plat_shm_anon(&m, sizes[i], (int)(i & 1)));
        XT_ASSERT(m.base != NULL && m.size == sizes[i] && m.handle != -1);
        unsigned char *p = m.base;
        for (size_t k = 0; k < sizes[i]; k++)
            XT_EQ(p[k], 0);
        for (size_t k = 0; k < sizes[i]; k++)
            p[k] = (unsigned char)(k * 7 + i);
        for (size_t k = 0; k < sizes[i]; k++)
            XT_EQ(p[k], (unsigned char)(k * 7 + i));
        xipc_plat_shm_unmap(&m);
        XT_ASSERT(m.base == NULL && m.handle == -1);
        xipc_plat_shm_unmap(&m); /* twice: nothing */
    }
    xipc_plat_shm m;
    XT_ERR(xipc_plat_shm_anon(&m, 0, 0), XIPC_EINVAL);
    printf("  anon: 5 sizes zero-filled and writable, size 0 refused ok\n");
}

static void test_peer(void)
{
    uint32_t pid = self_pid();
    xipc_plat_shm w, r, x;
    XT_OK(xipc_plat_shm_anon(&w, 8192, 1));
    XT_OK(xipc_plat_shm_from_peer(&r, pid, w.handle, 8192, 0));
    XT_ASSERT(r.base != w.base);
    strcpy((char *)w.base + 5000, "from the writer");
    XT_ASSERT(strcmp((char *)r.base + 5000, "from the writer") == 0);
#ifdef _WIN32
    MEMORY_BASIC_INFORMATION mi;
    XT_ASSERT(VirtualQuery(r.base, &mi, sizeof(mi)) == sizeof(mi));
    XT_EQ(mi.Protect, PAGE_READONLY);
    XT_ASSERT(VirtualQuery(w.base, &mi, sizeof(mi)) == sizeof(mi));
    XT_EQ(mi.Protect, PAGE_READWRITE);
#endif
    /* only its creator writes it */
    XT_ERR(xipc_plat_shm_from_peer(&x, pid, w.handle, 8192, 1), XIPC_EPROTO);
    xipc_plat_shm_unmap(&r);

    /* one anyone may write cannot be mapped read-only as if it were safe */
    xipc_plat_shm s;
    XT_OK(xipc_plat_shm_anon(&s, 4096, 0));
    XT_ERR(xipc_plat_shm_from_peer(&x, pid, s.handle, 4096, 0), XIPC_EPROTO);
    XT_OK(xipc_plat_shm_from_peer(&x, pid, s.handle, 4096, 1));
    ((volatile char *)x.base)[7] = 42;
    XT_EQ(((volatile char *)s.base)[7], 42);
    xipc_plat_shm_unmap(&x);

    XT_ERR(xipc_plat_shm_from_peer(&x, 0, w.handle, 8192, 0), XIPC_EINVAL);
    XT_ERR(xipc_plat_shm_from_peer(&x, pid, 1000000, 8192, 0), XIPC_ENOENT);
    XT_ERR(xipc_plat_shm_from_peer(&x, 0x7ffffffcu, w.handle, 8192, 0), XIPC_ENOENT);

    /* adopt: exactly the size, and a shared memory object at all */
    XT_ERR(xipc_plat_shm_adopt(&x, dup_handle(w.handle), 8192 + 8192, 0), XIPC_EPROTO);
    XT_ERR(xipc_plat_shm_adopt(&x, dup_handle(w.handle), 4096, 0), XIPC_EPROTO);
    XT_ERR(xipc_plat_shm_adopt(&x, dup_handle(s.handle), 4096 * 3, 1), XIPC_EPROTO);
    XT_ERR(xipc_plat_shm_adopt(&x, other_handle(), 4096, 1), XIPC_EPROTO);
    XT_ERR(xipc_plat_shm_adopt(&x, other_handle(), 4096, 0), XIPC_EPROTO);
    XT_OK(xipc_plat_shm_adopt(&x, dup_handle(w.handle), 8192, 0));
    XT_ASSERT(strcmp((char *)x.base + 5000, "from the writer") == 0);
    xipc_plat_shm_unmap(&x);
    XT_OK(xipc_plat_shm_adopt(&x, dup_handle(s.handle), 4096, 1));
    XT_EQ(((volatile char *)x.base)[7], 42);
    xipc_plat_shm_unmap(&x);
#ifdef _WIN32
    /* sections not made by xipc_plat_shm_anon: no name of ours (no
     * wake-up events), pages reserved but not committed */
    HANDLE u = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE | SEC_COMMIT, 0,
                                  4096, NULL);
    HANDLE v = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE | SEC_RESERVE, 0,
                                  4096, L"Local\\xipc-shm-00000000000000000000000000000000");
    XT_ASSERT(u != NULL && v != NULL);
    XT_ERR(xipc_plat_shm_adopt(&x, (intptr_t)u, 4096, 1), XIPC_EPROTO);
    XT_ERR(xipc_plat_shm_adopt(&x, (intptr_t)v, 4096, 1), XIPC_EPROTO);
#endif
    xipc_plat_shm_unmap(&s);
    xipc_plat_shm_unmap(&w);
    printf("  from_peer: read-only sees the writer, refuses writable and unsafe read-only;"
           " adopt refuses wrong sizes and other objects ok\n");
}

/* ---- futex within one process ------------------------------------------------ */

typedef struct bumper {
    _Atomic uint32_t *word;
} bumper;

static void bump_later(void *arg)
{
    bumper *b = arg;
    xipc_plat_sleep_us(50000);
    atomic_fetch_add(b->word, 1);
    xipc_plat_futex_wake((uint32_t *)b->word);
}

/*
 * Sleep on @p w (0) until another thread bumps it. A wait that ran out
 * its timeout also returns XIPC_OK once the word changed, so the waits
 * are twice as long as the bound: only a wake-up returns within it.
 */
static void wait_bumped(_Atomic uint32_t *w)
{
    uint64_t t0 = xipc_plat_now_ns(), end = t0 + 2 * BOUND_NS;
    while (atomic_load(w) == 0) {
        uint64_t now = xipc_plat_now_ns();
        XT_ASSERT(now < end);
        XT_OK(xipc_plat_futex_wait((uint32_t *)w, 0, (uint32_t)((end - now) / 1000u)));
    }
    XT_ASSERT(xipc_plat_now_ns() - t0 < BOUND_NS);
}

static void test_futex_on(_Atomic uint32_t *w, const char *what)
{
    atomic_store(w, 0);
    XT_OK(xipc_plat_futex_wait((uint32_t *)w, 1, 10000000)); /* differs: at once */
    uint64_t t0 = xipc_plat_now_ns();
    XT_ERR(xipc_plat_futex_wait((uint32_t *)w, 0, 20000), XIPC_ETIMEDOUT);
    uint64_t took = xipc_plat_now_ns() - t0;
    XT_ASSERT(took >= 19000000u); /* not early (1 ms of slack) */
    XT_ERR(xipc_plat_futex_wait((uint32_t *)w, 0, 0), XIPC_ETIMEDOUT);
    xipc_plat_futex_wake((uint32_t *)w); /* nobody asleep: nothing */

    bumper b = {w};
    xipc_plat_thread t;
    XT_OK(xipc_plat_thread_create(&t, bump_later, &b));
    wait_bumped(w);
    xipc_plat_thread_join(&t);
    XT_EQ(atomic_load(w), 1);
    printf("  futex (%s): value differs, 20 ms timeout (took %.1f ms), woken by a thread ok\n",
           what, (double)took / 1e6);
}

static void test_futex(void)
{
    xipc_plat_shm m;
    XT_OK(xipc_plat_shm_anon(&m, SEG_SIZE, 0));
    test_futex_on(&((seg *)m.base)->ping, "shared memory");
    xipc_plat_shm_unmap(&m);
    static _Atomic uint32_t local;
    test_futex_on(&local, "process memory");
}

/* ---- children ---------------------------------------------------------------- */

/* Child @p idx: sleep on go until woken, say how it went. */
static int child_wake(seg *s, unsigned idx)
{
    if (idx >= NCHILD)
        return 2;
    atomic_store(&s->ready[idx], 1);
    uint64_t end = xipc_plat_now_ns() + 2 * BOUND_NS;
    uint32_t how = 1;
    while (atomic_load(&s->go) == 0) {
        uint64_t now = xipc_plat_now_ns();
        if (now >= end ||
            xipc_plat_futex_wait((uint32_t *)&s->go, 0, (uint32_t)((end - now) / 1000u)) ==
                XIPC_ETIMEDOUT) {
            how = 2;
            break;
        }
    }
    atomic_store(&s->done[idx], how);
    return 0;
}

/* Wait for ping to move from @p last; futex sleeps unless @p spin. */
static uint32_t await_change(_Atomic uint32_t *w, uint32_t last, int spin)
{
    uint32_t v;
    while ((v = atomic_load(w)) == last) {
        if (spin)
            xipc_plat_cpu_relax();
        else
            xipc_plat_futex_wait((uint32_t *)w, last, 10000);
    }
    return v;
}

/* The pong side of the ping-pong: answer every ping until stop. */
static int child_pong(seg *s, int spin)
{
    uint32_t last = 0;
    for (;;) {
        last = await_change(&s->ping, last, spin);
        if (atomic_load(&s->stop))
            return 0;
        atomic_fetch_add(&s->pong, 1);
        if (!spin)
            xipc_plat_futex_wake((uint32_t *)&s->pong);
    }
}

static int child_main(const char *mode, uint32_t pid, intptr_t h, unsigned arg)
{
    xipc_plat_shm m;
    xipc_err rv = xipc_plat_shm_from_peer(&m, pid, h, SEG_SIZE, 1);
    if (rv != XIPC_OK) {
        fprintf(stderr, "child: from_peer: %s\n", xipc_strerror(rv));
        return 3;
    }
    int code = strcmp(mode, "wake") == 0 ? child_wake(m.base, arg) : child_pong(m.base, (int)arg);
    xipc_plat_shm_unmap(&m);
    return code;
}

typedef struct child {
#ifdef _WIN32
    HANDLE proc;
#else
    pid_t pid;
#endif
} child;

static void child_start(child *c, const char *mode, intptr_t h, unsigned arg)
{
    uint32_t me = self_pid();
#ifdef _WIN32
    wchar_t path[MAX_PATH], cmd[MAX_PATH + 96];
    DWORD n = GetModuleFileNameW(NULL, path, MAX_PATH);
    XT_ASSERT(n > 0 && n < MAX_PATH);
    swprintf(cmd, sizeof(cmd) / sizeof(cmd[0]), L"\"%ls\" child %hs %u %lld %u", path, mode,
             (unsigned)me, (long long)h, arg);
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    memset(&si, 0, sizeof(si));
    si.cb = sizeof(si);
    XT_ASSERT(CreateProcessW(path, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi));
    CloseHandle(pi.hThread);
    c->proc = pi.hProcess;
#else
    fflush(stdout);
    c->pid = fork();
    XT_ASSERT(c->pid >= 0);
    if (c->pid == 0)
        _exit(child_main(mode, me, h, arg));
#endif
}

/* Wait for the child to exit (within BOUND_NS); its exit code must be 0. */
static void child_reap(child *c)
{
#ifdef _WIN32
    DWORD code = 99;
    XT_EQ(WaitForSingleObject(c->proc, (DWORD)(BOUND_NS / 1000000u)), WAIT_OBJECT_0);
    XT_ASSERT(GetExitCodeProcess(c->proc, &code));
    CloseHandle(c->proc);
    XT_EQ(code, 0);
#else
    uint64_t end = xipc_plat_now_ns() + BOUND_NS;
    int st = 0;
    pid_t r;
    while ((r = waitpid(c->pid, &st, WNOHANG)) == 0 && xipc_plat_now_ns() < end)
        xipc_plat_sleep_us(10000);
    XT_EQ(r, c->pid);
    XT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
#endif
}

/* Wait until *w is @p want, within BOUND_NS. */
static void await_value(_Atomic uint32_t *w, uint32_t want)
{
    uint64_t end = xipc_plat_now_ns() + BOUND_NS;
    while (atomic_load(w) != want) {
        XT_ASSERT(xipc_plat_now_ns() < end);
        xipc_plat_sleep_us(1000);
    }
}

static void test_wake_processes(void)
{
    xipc_plat_shm m;
    XT_OK(xipc_plat_shm_anon(&m, SEG_SIZE, 0));
    seg *s = m.base;
    child c[NCHILD];
    for (unsigned i = 0; i < NCHILD; i++)
        child_start(&c[i], "wake", m.handle, i);
    for (unsigned i = 0; i < NCHILD; i++)
        await_value(&s->ready[i], 1);
    xipc_plat_sleep_us(300000); /* most likely all asleep by now */
    uint64_t t0 = xipc_plat_now_ns();
    atomic_store(&s->go, 1);
    xipc_plat_futex_wake((uint32_t *)&s->go);
    for (unsigned i = 0; i < NCHILD; i++)
        await_value(&s->done[i], 1); /* 2 (timed out) fails within the bound */
    double ms = (double)(xipc_plat_now_ns() - t0) / 1e6;
    for (unsigned i = 0; i < NCHILD; i++)
        child_reap(&c[i]);
    xipc_plat_shm_unmap(&m);
    printf("  futex across processes: %d children asleep on one word all woken by one wake"
           " (%.1f ms) ok\n", NCHILD, ms);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Ping-pong @p rounds times with a child; the median round trip in ns. */
static uint64_t pingpong(int spin, unsigned rounds)
{
    xipc_plat_shm m;
    XT_OK(xipc_plat_shm_anon(&m, SEG_SIZE, 0));
    seg *s = m.base;
    uint64_t *rt = malloc(rounds * sizeof(*rt));
    XT_ASSERT(rt != NULL);
    child c;
    child_start(&c, "pong", m.handle, (unsigned)spin);
    uint32_t pong = 0;
    for (unsigned i = 0; i < rounds + 1; i++) {
        uint64_t t0 = xipc_plat_now_ns();
        atomic_fetch_add(&s->ping, 1);
        if (!spin)
            xipc_plat_futex_wake((uint32_t *)&s->ping);
        pong = await_change(&s->pong, pong, spin);
        if (i > 0) /* the first waits for the child to start */
            rt[i - 1] = xipc_plat_now_ns() - t0;
    }
    atomic_store(&s->stop, 1);
    atomic_fetch_add(&s->ping, 1);
    xipc_plat_futex_wake((uint32_t *)&s->ping);
    child_reap(&c);
    xipc_plat_shm_unmap(&m);
    qsort(rt, rounds, sizeof(*rt), cmp_u64);
    uint64_t med = rt[rounds / 2];
    free(rt);
    return med;
}

static void test_pingpong(unsigned rounds)
{
    uint64_t sleep = pingpong(0, rounds), spin = pingpong(1, rounds * 10);
    printf("  ping-pong between processes, median round trip: %.2f us sleeping on the futex"
           " (%u rounds), %.2f us spinning (%u rounds)\n",
           (double)sleep / 1e3, rounds, (double)spin / 1e3, rounds * 10);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc == 6 && strcmp(argv[1], "child") == 0)
        return child_main(argv[2], (uint32_t)strtoul(argv[3], NULL, 10),
                          (intptr_t)strtoll(argv[4], NULL, 10),
                          (unsigned)strtoul(argv[5], NULL, 10));
    printf("plat_shm_test (pointer width %u bits)\n", (unsigned)(sizeof(void *) * 8));
    if (argc >= 2 && strcmp(argv[1], "bench") == 0) {
        test_pingpong(argc >= 3 ? (unsigned)strtoul(argv[2], NULL, 10) : 5000);
        return 0;
    }
    test_anon();
    test_peer();
    test_futex();
    test_wake_processes();
    test_pingpong(200);
    printf("plat_shm_test ok\n");
    return 0;
}
