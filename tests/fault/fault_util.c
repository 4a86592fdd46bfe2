/* Crash tests: time, randomness, checksummed messages, child processes. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "run32.h"

fault_run F;

uint64_t fault_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void fault_sleep_us(uint32_t us)
{
    struct timespec ts = {us / 1000000u, (long)(us % 1000000u) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
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

/* Children not reaped yet: killed at exit if the test fails. */
#define FAULT_KIDS 64
static struct {
    pid_t pid;
    int reaped, status;
} kids[FAULT_KIDS];

static void kid_add(pid_t pid)
{
    for (int i = 0; i < FAULT_KIDS; i++) {
        if (kids[i].pid == 0) {
            kids[i].pid = pid;
            kids[i].reaped = 0;
            return;
        }
    }
    XT_FAIL("more than %d children at once", FAULT_KIDS);
}

static int kid_find(pid_t pid)
{
    for (int i = 0; i < FAULT_KIDS; i++)
        if (kids[i].pid == pid)
            return i;
    return -1;
}

/* atexit: a failed test must not leave victims running. */
void fault_kill_children(void)
{
    for (int i = 0; i < FAULT_KIDS; i++) {
        if (kids[i].pid > 0 && !kids[i].reaped) {
            kill(kids[i].pid, SIGKILL);
            waitpid(kids[i].pid, NULL, 0);
        }
        kids[i].pid = 0;
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
    fprintf(stderr, "fault_test child %d: %s\n", (int)getpid(), s->msg);
    _exit(3);
}

pid_t fault_fork(int (*fn)(void *arg, fault_slot *slot), void *arg, fault_slot *slot)
{
    fflush(NULL);
    pid_t pid = fork();
    XT_ASSERT(pid >= 0);
    if (pid == 0)
        _exit(fn(arg, slot));
    kid_add(pid);
    return pid;
}

pid_t fault_exec(char **argv, int stdin_fd)
{
    argv[0] = F.exe;
    fflush(NULL);
    pid_t pid = fork();
    XT_ASSERT(pid >= 0);
    if (pid == 0) {
        if (stdin_fd >= 0 && dup2(stdin_fd, 0) < 0)
            _exit(126);
        xt_execv(F.exe, argv); /* the m32 suite's are 32-bit */
    }
    kid_add(pid);
    return pid;
}

pid_t fault_spawn(xipc_sock **s, char *const args[])
{
    char *argv[16] = {XIPC_RUN32, F.exe};
    size_t n = 2;
    for (size_t i = 0; args[i] != NULL; i++) {
        XT_ASSERT(n + 1 < sizeof(argv) / sizeof(argv[0]));
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    uint32_t pid;
    XT_OK(xipc_spawn(s, XIPC_RUN32, argv, &pid));
    kid_add((pid_t)pid);
    return (pid_t)pid;
}

int fault_gone(pid_t pid, int *status)
{
    int i = kid_find(pid);
    XT_ASSERT(i >= 0);
    if (!kids[i].reaped) {
        int st;
        pid_t w = waitpid(pid, &st, WNOHANG);
        XT_ASSERT(w >= 0);
        if (w == 0)
            return 0;
        kids[i].reaped = 1;
        kids[i].status = st;
    }
    if (status != NULL)
        *status = kids[i].status;
    return 1;
}

int fault_reap(pid_t pid)
{
    int i = kid_find(pid);
    XT_ASSERT(i >= 0);
    int st = kids[i].status;
    if (!kids[i].reaped) {
        while (waitpid(pid, &st, 0) < 0)
            XT_ASSERT(errno == EINTR);
    }
    kids[i].pid = 0;
    return st;
}

static void fault_describe(int st, char *buf, size_t cap)
{
    if (WIFEXITED(st))
        snprintf(buf, cap, "exited with %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(buf, cap, "died of signal %d", WTERMSIG(st));
    else
        snprintf(buf, cap, "status %#x", st);
}

void fault_expect_killed(pid_t pid, fault_slot *s, const char *what)
{
    int st = fault_reap(pid);
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
        return;
    char d[64];
    fault_describe(st, d, sizeof(d));
    XT_FAIL("%s (pid %d) %s instead of being killed: %s", what, (int)pid, d,
            s->msg[0] ? s->msg : "(no message)");
}

void fault_expect_ok(pid_t pid, fault_slot *s, const char *what)
{
    int st = fault_reap(pid);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return;
    char d[64];
    fault_describe(st, d, sizeof(d));
    XT_FAIL("%s (pid %d) %s: %s", what, (int)pid, d, s->msg[0] ? s->msg : "(no message)");
}
