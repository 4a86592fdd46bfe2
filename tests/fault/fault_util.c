/* Crash tests: time, randomness, checksummed messages, child processes. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#ifdef _WIN32
#include <windows.h>
#else
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "core/platform.h"
#include "fault.h"
#include "run32.h"

fault_run F;

/* The monotonic clock of every process of the run (kill times are
 * compared across processes). */
uint64_t fault_now(void)
{
    return xipc_plat_now_ns();
}

void fault_sleep_us(uint32_t us)
{
    xipc_plat_sleep_us(us);
}

/* ---- randomness ------------------------------------------------------------ */

static uint64_t fault_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

void fault_rng_seed(fault_rng *r, uint64_t seed)
{
    r->s = fault_mix(seed) | 1;
}

uint64_t fault_rand(fault_rng *r)
{
    uint64_t x = r->s; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545f4914f6cdd1dull;
}

uint64_t fault_range(fault_rng *r, uint64_t lo, uint64_t hi)
{
    return lo + fault_rand(r) % (hi - lo + 1);
}

size_t fault_size(fault_rng *r, size_t max)
{
    uint64_t p = fault_rand(r) % 100;
    size_t n;
    if (p < 50)
        n = (size_t)fault_range(r, FAULT_HDR, 256);
    else if (p < 80)
        n = (size_t)fault_range(r, 257, 8192);
    else if (p < 95)
        n = (size_t)fault_range(r, 8193, 65536);
    else
        n = max > 65537 ? (size_t)fault_range(r, 65537, max) : max;
    return n > max ? max : n;
}

/* ---- messages --------------------------------------------------------------- */

#define FAULT_MAGIC 0x544c5546u /* "FULT" */

typedef struct fault_hdr {
    uint32_t magic;
    uint32_t round;
    uint64_t seq;
    uint32_t len;
    uint32_t stream;
    uint64_t sum;
} fault_hdr;

_Static_assert(sizeof(fault_hdr) == FAULT_HDR, "header size");

static uint64_t fault_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* A 64-bit checksum of @p n bytes, a word at a time. */
static uint64_t fault_sum(const uint8_t *p, size_t n, uint64_t h)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h ^= w * 0x87c37b91114253d5ull;
        h = fault_rotl(h, 31) * 0x4cf5ad432745937full;
    }
    for (; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return fault_mix(h ^ n);
}

static uint64_t fault_msg_sum(const fault_hdr *h, const uint8_t *payload, size_t n)
{
    fault_hdr z = *h;
    z.sum = 0;
    return fault_sum(payload, n, fault_sum((const uint8_t *)&z, sizeof(z), 0x5eed));
}

void fault_msg_make(void *buf, size_t len, uint32_t round, uint32_t stream,
                    uint64_t seq)
{
    fault_hdr h = {FAULT_MAGIC, round, seq, (uint32_t)len, stream, 0};
    uint8_t *p = (uint8_t *)buf + sizeof(h);
    size_t n = len - sizeof(h);
    uint64_t x = fault_mix(((uint64_t)round << 40) ^ ((uint64_t)stream << 32) ^ seq) | 1;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        memcpy(p + i, &x, 8);
    }
    for (; i < n; i++)
        p[i] = (uint8_t)(x >> (i % 8 * 8));
    h.sum = fault_msg_sum(&h, p, n);
    memcpy(buf, &h, sizeof(h));
}

int fault_msg_check(const void *buf, size_t len, uint32_t round,
                    uint32_t stream, uint64_t *seq, char *why, size_t cap)
{
    fault_hdr h;
    if (len < sizeof(h)) {
        snprintf(why, cap, "%zu bytes, shorter than a header", len);
        return -1;
    }
    memcpy(&h, buf, sizeof(h));
    if (h.magic != FAULT_MAGIC || h.len != len) {
        snprintf(why, cap, "torn: %zu bytes, header magic %08x length %u", len,
                 (unsigned)h.magic, (unsigned)h.len);
        return -1;
    }
    if (h.sum != fault_msg_sum(&h, (const uint8_t *)buf + sizeof(h), len - sizeof(h))) {
        snprintf(why, cap, "corrupt: checksum of %zu bytes (seq %llu) wrong", len,
                 (unsigned long long)h.seq);
        return -1;
    }
    if (h.round != round || h.stream != stream) {
        snprintf(why, cap, "stale: round %u stream %u, want round %u stream %u",
                 (unsigned)h.round, (unsigned)h.stream, (unsigned)round, (unsigned)stream);
        return -1;
    }
    *seq = h.seq;
    return 0;
}

/* ---- processes ---------------------------------------------------------------- */

/*
 * The slots live in memory every child maps: POSIX, a memfd whose number
 * FAULT_MEMFD names (inherited across fork and exec); Windows, a named
 * section whose name FAULT_SLOTS names.
 */
void fault_slots_map(int create)
{
    size_t size = sizeof(fault_slot) * FAULT_SLOTS;
#ifdef _WIN32
    HANDLE h;
    if (create) {
        char name[96];
        snprintf(name, sizeof(name), "Local\\xipc-%s-slots", F.prefix);
        h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, (DWORD)size, name);
        XT_ASSERT(h != NULL);
        XT_ASSERT(SetEnvironmentVariableA("FAULT_SLOTS", name)); /* for CreateProcess */
    } else {
        const char *name = getenv("FAULT_SLOTS");
        XT_ASSERT(name != NULL);
        h = OpenFileMappingA(FILE_MAP_ALL_ACCESS, FALSE, name);
        XT_ASSERT(h != NULL);
    }
    void *p = MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, size);
    XT_ASSERT(p != NULL); /* the handle stays open for the whole run */
#else
    int fd;
    if (create) {
        fd = memfd_create("fault_test", 0); /* inherited by exec'ed children */
        XT_ASSERT(fd >= 0);
        XT_ASSERT(ftruncate(fd, (off_t)size) == 0);
        char v[16];
        snprintf(v, sizeof(v), "%d", fd);
        setenv("FAULT_MEMFD", v, 1);
    } else {
        const char *v = getenv("FAULT_MEMFD");
        XT_ASSERT(v != NULL);
        fd = atoi(v);
    }
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    XT_ASSERT(p != MAP_FAILED);
#endif
    F.slots = p;
}

unsigned fault_pid_num(fault_pid pid)
{
#ifdef _WIN32
    return (unsigned)GetProcessId(pid);
#else
    return (unsigned)pid;
#endif
}

/* Children not reaped yet: killed at exit if the test fails. */
#define FAULT_KIDS 64
static struct {
    fault_pid pid;
    int used, reaped, status;
} kids[FAULT_KIDS];

static void kid_add(fault_pid pid)
{
    for (int i = 0; i < FAULT_KIDS; i++) {
        if (!kids[i].used) {
            kids[i].pid = pid;
            kids[i].used = 1;
            kids[i].reaped = 0;
            return;
        }
    }
    XT_FAIL("more than %d children at once", FAULT_KIDS);
}

static int kid_find(fault_pid pid)
{
    for (int i = 0; i < FAULT_KIDS; i++)
        if (kids[i].used && kids[i].pid == pid)
            return i;
    return -1;
}

/* Reap kids[i] (blocking when @p block): 1 when it is gone. */
static int kid_reap(int i, int block)
{
#ifdef _WIN32
    DWORD code;
    DWORD w = WaitForSingleObject(kids[i].pid, block ? INFINITE : 0);
    if (w == WAIT_TIMEOUT)
        return 0;
    XT_ASSERT(w == WAIT_OBJECT_0 && GetExitCodeProcess(kids[i].pid, &code));
    CloseHandle(kids[i].pid);
    kids[i].status = (int)code;
#else
    int st;
    pid_t w;
    while ((w = waitpid(kids[i].pid, &st, block ? 0 : WNOHANG)) < 0)
        XT_ASSERT(errno == EINTR);
    if (w == 0)
        return 0;
    kids[i].status = st;
#endif
    kids[i].reaped = 1;
    return 1;
}

/* atexit: a failed test must not leave victims running. */
void fault_kill_children(void)
{
    for (int i = 0; i < FAULT_KIDS; i++) {
        if (kids[i].used && !kids[i].reaped) {
#ifdef _WIN32
            TerminateProcess(kids[i].pid, XT_KILLED);
#else
            kill(kids[i].pid, SIGKILL);
#endif
            kid_reap(i, 1);
        }
        kids[i].used = 0;
    }
}

fault_slot *fault_slot_reset(int i)
{
    fault_slot *s = &F.slots[i];
    memset(s, 0, sizeof(*s));
    return s;
}

void fault_vfail(fault_slot *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->msg, sizeof(s->msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "fault_test child %u: %s\n", (unsigned)xipc_plat_getpid(), s->msg);
    fflush(stderr);
    _exit(3);
}

fault_pid fault_start(char *const args[], int exec)
{
    char *argv[XT_EXEC_ARGS + 1] = {F.exe};
    int argc = 1;
    for (size_t i = 0; args[i] != NULL; i++) {
        XT_ASSERT(argc < XT_EXEC_ARGS);
        argv[argc++] = args[i];
    }
    argv[argc] = NULL;
    fault_pid pid;
#ifdef _WIN32
    (void)exec; /* no fork: this program again, in the mode args name */
    pid = xt_startv(F.exe, argv);
#else
    fflush(NULL);
    pid = fork();
    XT_ASSERT(pid >= 0);
    if (pid == 0) {
        if (exec)
            xt_execv(F.exe, argv); /* the m32 suite's are 32-bit */
        _exit(fault_role(argc, argv));
    }
#endif
    kid_add(pid);
    return pid;
}

fault_pid fault_start_round(const char *who, const char *kind, int slot, uint32_t round,
                            uint64_t seed, const char *url)
{
    char sl[8], rd[16], sd[32];
    snprintf(sl, sizeof(sl), "%d", slot);
    snprintf(rd, sizeof(rd), "%u", (unsigned)round);
    snprintf(sd, sizeof(sd), "%llu", (unsigned long long)seed);
    char *args[] = {(char *)who, (char *)kind, sl, (char *)F.scheme, rd, sd, (char *)url, NULL};
    return fault_start(args, 0);
}

void fault_round_args(fault_round_cfg *c, int argc, char **argv, fault_slot *sl)
{
    if (argc < 8)
        fault_vfail(sl, "usage: victim|helper KIND SLOT SCHEME ROUND SEED URL");
    memset(c, 0, sizeof(*c));
    c->round = (uint32_t)strtoul(argv[5], NULL, 10);
    c->seed = strtoull(argv[6], NULL, 10);
    snprintf(c->url, sizeof(c->url), "%s", argv[7]);
}

fault_pid fault_spawn(xipc_sock **s, char *const args[])
{
#ifdef _WIN32
    char *argv[16] = {F.exe};
    size_t n = 1;
    const char *prog = F.exe;
#else
    char *argv[16] = {XIPC_RUN32, F.exe};
    size_t n = 2;
    const char *prog = XIPC_RUN32;
#endif
    for (size_t i = 0; args[i] != NULL; i++) {
        XT_ASSERT(n + 1 < sizeof(argv) / sizeof(argv[0]));
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    uint32_t id;
    XT_OK(xipc_spawn(s, prog, argv, &id));
#ifdef _WIN32
    /* the child lives until killed or until it has talked to us: its id
     * cannot have been reused yet */
    fault_pid pid = OpenProcess(SYNCHRONIZE | PROCESS_TERMINATE | PROCESS_QUERY_INFORMATION,
                                FALSE, id);
    XT_ASSERT(pid != NULL);
#else
    fault_pid pid = (pid_t)id;
#endif
    kid_add(pid);
    return pid;
}

int fault_gone(fault_pid pid, int *status)
{
    int i = kid_find(pid);
    XT_ASSERT(i >= 0);
    if (!kids[i].reaped && !kid_reap(i, 0))
        return 0;
    if (status != NULL)
        *status = kids[i].status;
    return 1;
}

int fault_reap(fault_pid pid)
{
    int i = kid_find(pid);
    XT_ASSERT(i >= 0);
    if (!kids[i].reaped)
        kid_reap(i, 1);
    kids[i].used = 0;
    return kids[i].status;
}

static int fault_status_killed(int st)
{
#ifdef _WIN32
    return st == XT_KILLED; /* TerminateProcess(.., XT_KILLED): the killer's */
#else
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
#endif
}

static int fault_status_ok(int st)
{
#ifdef _WIN32
    return st == 0;
#else
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
#endif
}

static void fault_describe(int st, char *buf, size_t cap)
{
#ifdef _WIN32
    snprintf(buf, cap, "exited with %d", st);
#else
    if (WIFEXITED(st))
        snprintf(buf, cap, "exited with %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(buf, cap, "died of signal %d", WTERMSIG(st));
    else
        snprintf(buf, cap, "status %#x", st);
#endif
}

void fault_expect_killed(fault_pid pid, fault_slot *s, const char *what)
{
    unsigned num = fault_pid_num(pid);
    int st = fault_reap(pid);
    if (fault_status_killed(st))
        return;
    char d[64];
    fault_describe(st, d, sizeof(d));
    XT_FAIL("%s (pid %u) %s instead of being killed: %s", what, num, d,
            s->msg[0] ? s->msg : "(no message)");
}

void fault_expect_ok(fault_pid pid, fault_slot *s, const char *what)
{
    unsigned num = fault_pid_num(pid);
    int st = fault_reap(pid);
    if (fault_status_ok(st))
        return;
    char d[64];
    fault_describe(st, d, sizeof(d));
    XT_FAIL("%s (pid %u) %s: %s", what, num, d, s->msg[0] ? s->msg : "(no message)");
}
