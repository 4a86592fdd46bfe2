/*
 * xipc_proc_list, xipc_proc_modules, xipc_proc_read against a 64-bit
 * target (inspect_target, started with xipc_spawn): its bitness, its
 * modules with 64-bit bases, its bytes above 4 GiB, a read that runs into
 * an unreadable page, bad arguments, and refusals.
 *
 * inspect_test [TARGET [HELPER]]: TARGET is a 64-bit inspect_target
 * (default: the one beside this program); HELPER the 64-bit xipc, put in
 * $XIPC_HELPER64 (default: that variable as it is). Built 64-bit it reads directly; built 32-bit
 * (inspect_test_m32, run by scripts/run32) the high address needs the
 * 64-bit helper ($XIPC_HELPER64) and the test asserts that it was asked.
 * On Linux, the refusals are real: as root, a child drops to uid 65534
 * and reads this process (another user's: EPERM); otherwise pid 1.
 */
#define _GNU_SOURCE /* strdup, setenv, popen, kill */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xipc/inspect.h"

#include "inspect/inspect_helper.h"
#include "inspect_target.h"
#include "xt_proc.h"

#define FOUR_GIB 0x100000000ull

typedef struct target {
    xipc_sock *s;
    uint32_t pid;
    uint64_t high, low;
#ifdef _WIN32
    HANDLE h; /* to wait for its end: Windows has no waitpid */
#endif
} target;

static void list_nothing(const xipc_module_info *m, void *arg)
{
    (void)m;
    (void)arg;
}

static void target_start(target *t, const char *prog)
{
    char *argv[] = {(char *)prog, NULL};
    XT_OK(xipc_spawn(&t->s, prog, argv, &t->pid));
    char m[96];
    size_t n;
    XT_OK(xipc_recv(t->s, m, sizeof(m) - 1, &n, -1));
    m[n] = '\0';
    unsigned pid;
    unsigned long long high, low;
    XT_ASSERT(sscanf(m, "%u %llx %llx", &pid, &high, &low) == 3);
    XT_EQ(pid, t->pid);
    t->high = high;
    t->low = low;
    XT_ASSERT(t->high == INSPECT_TARGET_HIGH + INSPECT_TARGET_PAGE - 16);
#ifdef _WIN32
    t->h = OpenProcess(SYNCHRONIZE, FALSE, t->pid);
    XT_ASSERT(t->h != NULL);
#endif
}

static void target_stop(target *t)
{
    xipc_close(t->s); /* the target sees the end and exits */
    xipc_plat_child_reap(t->pid);
#ifdef _WIN32
    XT_EQ(WaitForSingleObject(t->h, INFINITE), WAIT_OBJECT_0);
    CloseHandle(t->h);
#endif
}

typedef struct found {
    uint32_t pid;
    unsigned bits;
    int seen, self_seen;
} found;

static void list_one(const xipc_proc_info *p, void *arg)
{
    found *f = arg;
    XT_ASSERT(p->name != NULL);
    XT_ASSERT(p->bits == 0 || p->bits == 32 || p->bits == 64);
    if (p->pid == f->pid) {
        f->seen++;
        f->bits = p->bits;
        XT_ASSERT(strstr(p->name, "inspect_target") != NULL);
    }
    if (p->pid == xipc_plat_getpid())
        f->self_seen++;
}

static void test_list(const target *t)
{
    found f = {t->pid, 0, 0, 0};
    XT_OK(xipc_proc_list(list_one, &f));
    XT_EQ(f.seen, 1);
    XT_EQ(f.self_seen, 1);
    XT_EQ(f.bits, 64u);
    XT_ERR(xipc_proc_list(NULL, NULL), XIPC_EINVAL);
}

typedef struct mods {
    uint64_t last, image_base;
    int n, image, sys;
} mods;

static void mods_one(const xipc_module_info *m, void *arg)
{
    mods *s = arg;
    XT_ASSERT(s->n == 0 || m->base > s->last); /* ascending */
    XT_ASSERT(m->size > 0 && m->path[0] != '\0');
    s->last = m->base;
    s->n++;
    if (strstr(m->path, "inspect_target") != NULL) {
        s->image++;
        s->image_base = m->base;
        XT_EQ(m->bits, 64u);
    }
#ifdef _WIN32
    const char *sys = "ntdll.dll";
#else
    const char *sys = "libc.so";
#endif
    if (strstr(m->path, sys) != NULL) {
        s->sys++;
        XT_EQ(m->bits, 64u);
        XT_ASSERT(m->base >= FOUR_GIB);
    }
}

static void test_modules(const target *t)
{
    mods s = {0};
    XT_OK(xipc_proc_modules(t->pid, mods_one, &s));
    XT_EQ(s.image, 1);
    XT_EQ(s.sys, 1);
    /* a 64-bit PIE (Linux, 0x55...) and mingw's default image base
     * (0x140000000) both lie above 4 GiB */
    XT_ASSERT(s.image_base >= FOUR_GIB);
    printf("inspect_test: %d modules, the image at 0x%llx\n", s.n,
           (unsigned long long)s.image_base);
    XT_ERR(xipc_proc_modules(t->pid, NULL, NULL), XIPC_EINVAL);
}

static void test_read(const target *t)
{
    char b[64];
    size_t got = 99;
    XT_OK(xipc_proc_read(t->pid, t->high, b, 16, &got));
    XT_EQ(got, (size_t)16);
    XT_ASSERT(memcmp(b, INSPECT_TARGET_HIGH_BYTES, 16) == 0);
    /* across the end of the page: the readable part only */
    XT_OK(xipc_proc_read(t->pid, t->high, b, 32, &got));
    XT_EQ(got, (size_t)16);
    XT_ASSERT(memcmp(b, INSPECT_TARGET_HIGH_BYTES, 16) == 0);
    /* the unreadable page itself */
    XT_ERR(xipc_proc_read(t->pid, t->high + 16, b, 8, &got), XIPC_EINVAL);
    XT_EQ(got, (size_t)0);
    XT_ASSERT(strstr(xipc_last_detail(), "nothing readable") != NULL);
    XT_OK(xipc_proc_read(t->pid, t->low, b, 16, &got));
    XT_EQ(got, (size_t)16);
    XT_ASSERT(memcmp(b, INSPECT_TARGET_LOW_BYTES, 16) == 0);
}

static void test_args(void)
{
    char b[8];
    size_t got;
    XT_ERR(xipc_proc_read(xipc_plat_getpid(), 0x1000, NULL, 8, &got), XIPC_EINVAL);
    XT_ERR(xipc_proc_read(xipc_plat_getpid(), 0x1000, b, 8, NULL), XIPC_EINVAL);
    XT_ERR(xipc_proc_read(xipc_plat_getpid(), 0x1000, b, 0, &got), XIPC_EINVAL);
    XT_ERR(xipc_proc_read(xipc_plat_getpid(), UINT64_MAX, b, 2, &got), XIPC_EINVAL);
    XT_ASSERT(strstr(xipc_last_detail(), "past the end") != NULL);
    /* no such process: a pid that cannot be one, and one that ended */
    XT_ERR(xipc_proc_modules(0xfffffff0u, list_nothing, NULL), XIPC_ENOENT);
    XT_ERR(xipc_proc_read(0xfffffff0u, 0x1000, b, 8, &got), XIPC_ENOENT);
    XT_ASSERT(strstr(xipc_last_detail(), "no process") != NULL);
}

/* Which path the reads took: in a 64-bit build never the helper; in a
 * 32-bit one the helper for the address above 4 GiB, and under qemu-user
 * for every read (qemu-i386 has no process_vm_readv: ENOSYS). */
static void test_helper(const target *t, unsigned before)
{
    unsigned asked = xipc__helper_calls() - before;
    printf("inspect_test: %u-bit, the 64-bit helper asked %u times\n",
           (unsigned)(sizeof(void *) * 8), asked);
    if (sizeof(void *) == 8) {
        XT_EQ(asked, 0u);
        return;
    }
    /* the three reads at the high address; under qemu-user the low one too */
    XT_EQ(asked, xt_self_emulated() != NULL ? 4u : 3u);
    /* without a helper the high address cannot be read, and says why */
    char b[16];
    size_t got;
    const char *path = getenv(XIPC_HELPER_ENV);
    XT_ASSERT(path != NULL);
    char *keep = strdup(path);
    XT_ASSERT(keep != NULL);
#ifdef _WIN32
    _putenv_s(XIPC_HELPER_ENV, "C:\\no\\such\\xipc.exe");
#else
    setenv(XIPC_HELPER_ENV, "/no/such/xipc", 1);
#endif
    XT_ERR(xipc_proc_read(t->pid, t->high, b, 16, &got), XIPC_ENOTSUP);
    XT_ASSERT(strstr(xipc_last_detail(), "beyond the pointers of this 32-bit process") != NULL);
    XT_ASSERT(strstr(xipc_last_detail(), XIPC_HELPER_ENV) != NULL);
#ifdef _WIN32
    _putenv_s(XIPC_HELPER_ENV, keep);
#else
    setenv(XIPC_HELPER_ENV, keep, 1);
#endif
    free(keep);
}

/*
 * A helper that answers wrongly, for the caller's checks: inspect_test
 * started as "inspect_test inspect-helper" with INSPECT_FAKE naming how.
 */
static int fake_helper(const char *how)
{
    xipc_sock *s;
    uint8_t q[64], a[64] = {0};
    size_t n, len = 0;
    if (how == NULL || xipc_sock_from_parent(&s) != XIPC_OK ||
        xipc_recv(s, q, sizeof(q), &n, -1) != XIPC_OK)
        return 2;
    if (strcmp(how, "long") == 0) { /* 'D' with more bytes than asked */
        a[0] = 'D';
        len = 1 + (size_t)q[16] + 1;
    } else if (strcmp(how, "kind") == 0) {
        a[0] = 'X';
        len = 8;
    } else if (strcmp(how, "err") == 0) { /* an error number that does not exist */
        a[0] = 'E';
        a[4] = 0xe7;
        a[5] = 0x03;
        len = 8;
    } else if (strcmp(how, "nul") == 0) { /* a module path with a NUL */
        a[0] = 'M';
        a[4] = 64;
        memcpy(a + 24, "/a\0b", 4);
        len = 28;
    } else if (strcmp(how, "bits") == 0) { /* a module of 48 bits */
        a[0] = 'M';
        a[4] = 48;
        memcpy(a + 24, "/lib", 4);
        len = 28;
    }
    if (len > 0 && xipc_send(s, a, len, -1) != XIPC_OK)
        return 3;
    xipc_close(s); /* "die": no answer at all */
    return 0;
}

static void hostile_one(const char *self, const char *how, int modules, xipc_err want)
{
    char b[16];
    size_t got;
#ifdef _WIN32
    _putenv_s("INSPECT_FAKE", how);
    _putenv_s(XIPC_HELPER_ENV, self);
#else
    setenv("INSPECT_FAKE", how, 1);
    setenv(XIPC_HELPER_ENV, self, 1);
#endif
    xipc_err rv = modules ? xipc__helper_modules(xipc_plat_getpid(), list_nothing, NULL, "test")
                          : xipc__helper_peek(xipc_plat_getpid(), 0x1000, b, sizeof(b), &got,
                                              "test");
    if (rv != want)
        XT_FAIL("a helper answering '%s': %s (%s), want %s", how, xipc_err_name(rv),
                xipc_last_detail(), xipc_err_name(want));
    printf("inspect_test: a helper answering '%s': %s: %s\n", how, xipc_err_name(rv),
           xipc_last_detail());
}

/* The caller's side against helpers that lie or die: never a crash, never
 * bytes beyond what was asked, XIPC_EPROTO (or XIPC_ECLOSED). 64-bit only:
 * qemu-user cannot start the 32-bit program as its own helper. */
static void test_hostile(const char *self)
{
    const char *keep = getenv(XIPC_HELPER_ENV);
    char *saved = keep != NULL ? strdup(keep) : NULL;
    hostile_one(self, "long", 0, XIPC_EPROTO);
    hostile_one(self, "kind", 0, XIPC_EPROTO);
    hostile_one(self, "err", 0, XIPC_EPROTO);
    hostile_one(self, "die", 0, XIPC_ECLOSED);
    hostile_one(self, "nul", 1, XIPC_EPROTO);
    hostile_one(self, "bits", 1, XIPC_EPROTO);
    hostile_one(self, "die", 1, XIPC_ECLOSED);
#ifdef _WIN32
    _putenv_s(XIPC_HELPER_ENV, saved != NULL ? saved : "");
#else
    if (saved != NULL)
        setenv(XIPC_HELPER_ENV, saved, 1);
    else
        unsetenv(XIPC_HELPER_ENV);
#endif
    free(saved);
}

/* The real helper (the 64-bit xipc in $XIPC_HELPER64) gives what the
 * direct calls give: the same modules, the same bytes. */
static void test_via_helper(const target *t)
{
    if (getenv(XIPC_HELPER_ENV) == NULL)
        XT_FAIL("set %s to the 64-bit xipc (ctest does)", XIPC_HELPER_ENV);
    mods d = {0}, h = {0};
    XT_OK(xipc_proc_modules(t->pid, mods_one, &d));
    XT_OK(xipc__helper_modules(t->pid, mods_one, &h, "test"));
    XT_EQ(h.n, d.n);
    XT_EQ(h.image_base, d.image_base);
    XT_EQ(h.last, d.last);
    char b[64];
    size_t got;
    XT_OK(xipc__helper_peek(t->pid, t->high, b, 32, &got, "test"));
    XT_EQ(got, (size_t)16);
    XT_ASSERT(memcmp(b, INSPECT_TARGET_HIGH_BYTES, 16) == 0);
    XT_ERR(xipc__helper_peek(t->pid, t->high + 16, b, 8, &got, "test"), XIPC_EINVAL);
    XT_ASSERT(strstr(xipc_last_detail(), "nothing readable") != NULL);
}

#ifndef _WIN32
#include <sys/wait.h>
#include <unistd.h>

/* The one child's checks, as the user of uid 65534: this process (root's)
 * may not be read nor its modules listed. Exit 0 when refused so. */
static int perm_child(pid_t victim, uint64_t addr)
{
    if (setgid(65534) != 0 || setuid(65534) != 0)
        return 3;
    char b[8];
    size_t got;
    if (xipc_proc_read((uint32_t)victim, addr, b, sizeof(b), &got) != XIPC_EPERM)
        return 4;
    printf("inspect_test: as uid 65534: %s\n", xipc_last_detail());
    if (strstr(xipc_last_detail(), "belongs to uid 0") == NULL)
        return 5;
    if (xipc_proc_modules((uint32_t)victim, list_nothing, NULL) != XIPC_EPERM)
        return 6;
    if (strstr(xipc_last_detail(), "belongs to uid 0") == NULL)
        return 7;
    fflush(stdout);
    return 0;
}

#endif

static void test_perm(void)
{
#ifdef _WIN32
    /* wine runs every process as one user and grants every OpenProcess:
     * there is no refusal to provoke (docs/inspect.md) */
    printf("inspect_test: permissions: not testable under wine (one user, no refusals)\n");
#else
    static char here[16] = "victim";
    if (geteuid() == 0) {
        fflush(stdout); /* the child's exit would print it again */
        pid_t c = fork();
        XT_ASSERT(c >= 0);
        if (c == 0)
            _exit(perm_child(getppid(), (uint64_t)(uintptr_t)here));
        int st;
        XT_ASSERT(waitpid(c, &st, 0) == c);
        XT_ASSERT(WIFEXITED(st));
        if (WEXITSTATUS(st) != 0)
            XT_FAIL("the child as uid 65534 was not refused as expected (step %d)",
                    WEXITSTATUS(st));
    } else {
        char b[8];
        size_t got;
        XT_ERR(xipc_proc_read(1, 0x1000, b, sizeof(b), &got), XIPC_EPERM);
        printf("inspect_test: pid 1: %s\n", xipc_last_detail());
        XT_ASSERT(strstr(xipc_last_detail(), "permission denied") != NULL);
    }
#endif
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "inspect-helper") == 0)
        return fake_helper(getenv("INSPECT_FAKE"));
    printf("inspect_test (pointer width %u bits)\n", (unsigned)(sizeof(void *) * 8));
    char deflt[4096];
    const char *prog = argc > 1 ? argv[1] : NULL;
    if (prog == NULL) {
        const char *sep = strrchr(argv[0], '/');
#ifdef _WIN32
        const char *bs = strrchr(argv[0], '\\');
        sep = bs != NULL && (sep == NULL || bs > sep) ? bs : sep;
        const char *name = "inspect_target.exe";
#else
        const char *name = "inspect_target";
#endif
        int dir = sep != NULL ? (int)(sep - argv[0] + 1) : 0;
        snprintf(deflt, sizeof(deflt), "%.*s%s", dir, argv[0], name);
        prog = deflt;
    }
    if (argc > 2) {
#ifdef _WIN32
        _putenv_s(XIPC_HELPER_ENV, argv[2]);
#else
        setenv(XIPC_HELPER_ENV, argv[2], 1);
#endif
    }
    unsigned before = xipc__helper_calls();
    target t;
    target_start(&t, prog);
    test_list(&t);
    test_modules(&t);
    test_read(&t);
    test_helper(&t, before);
    test_args();
    if (sizeof(void *) == 8) {
        test_via_helper(&t);
        test_hostile(argv[0]);
    }
    target_stop(&t);
    /* the target is gone: no such process */
    char b[8];
    size_t got;
    XT_ERR(xipc_proc_read(t.pid, t.high, b, 8, &got), XIPC_ENOENT);
    XT_ERR(xipc_proc_modules(t.pid, list_nothing, NULL), XIPC_ENOENT);
    test_perm();
    printf("inspect_test ok\n");
    return 0;
}
