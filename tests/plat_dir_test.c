/*
 * The platform contract's processes (all but starting one) and folders
 * and lock files, the same test for every port: native for POSIX, under
 * wine for the Windows x64 build (win64_plat_dir_test). Child processes
 * are the one thing each OS makes its own way: fork on POSIX, this very
 * program started again on Windows ("exit", "lock <pid>").
 */
#ifdef _WIN32
#include <windows.h>
#include <sddl.h>

#include "platform/win32/win32.h"
#define SEP "\\"
#else
#define _GNU_SOURCE
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#define SEP "/"
#endif

#include "core/pidfile.h"
#include "core/platform.h"
#include "test.h"

static char dir[1024]; /* this run's folder in the runtime folder */
static char dir_sub[64]; /* its name there */

static void path_in(char *buf, size_t cap, const char *name)
{
    int n = snprintf(buf, cap, "%s" SEP "%s", dir, name);
    XT_ASSERT(n > 0 && (size_t)n < cap);
}

/* Wait up to @p ms for @p cond, checking every 10 ms. */
#define WAIT_UNTIL(cond, ms)                                                   \
    do {                                                                       \
        for (int wait_i_ = 0; !(cond) && wait_i_ < (ms) / 10; wait_i_++)       \
            xipc_plat_sleep_us(10000);                                         \
    } while (0)

/* ---- what each OS does its own way: folders open to others, children ---- */

#ifdef _WIN32
static WCHAR *wide(const char *s)
{
    static WCHAR w[1024];
    XT_ASSERT(MultiByteToWideChar(CP_UTF8, 0, s, -1, w, 1024) > 0);
    return w;
}

/* A security descriptor with no DACL: everyone may do everything. */
static SECURITY_ATTRIBUTES *open_to_all(void)
{
    static SECURITY_DESCRIPTOR sd;
    static SECURITY_ATTRIBUTES sa;
    XT_ASSERT(InitializeSecurityDescriptor(&sd, SECURITY_DESCRIPTOR_REVISION));
    XT_ASSERT(SetSecurityDescriptorDacl(&sd, TRUE, NULL, FALSE));
    sa.nLength = sizeof(sa);
    sa.lpSecurityDescriptor = &sd;
    sa.bInheritHandle = FALSE;
    return &sa;
}

/* A descriptor that gives our user alone full access, inherited inside:
 * given explicitly, as wine applies no inherited entries (docs/windows.md). */
static SECURITY_ATTRIBUTES *private_to_us(void)
{
    static SECURITY_ATTRIBUTES sa;
    union {
        TOKEN_USER user;
        unsigned char bytes[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
    } info;
    HANDLE token;
    DWORD n;
    WCHAR *sid, sddl[256];
    PSECURITY_DESCRIPTOR sd;
    XT_ASSERT(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token));
    XT_ASSERT(GetTokenInformation(token, TokenUser, &info, sizeof(info), &n));
    CloseHandle(token);
    XT_ASSERT(ConvertSidToStringSidW(info.user.User.Sid, &sid));
    _snwprintf(sddl, 256, L"D:P(A;OICI;FA;;;%ls)", sid);
    sddl[255] = L'\0';
    LocalFree(sid);
    XT_ASSERT(ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, &sd,
                                                                   NULL));
    sa.nLength = sizeof(sa);
    sa.lpSecurityDescriptor = sd; /* kept for the run */
    sa.bInheritHandle = FALSE;
    return &sa;
}

static void make_dir(const char *path, int open)
{
    XT_ASSERT(CreateDirectoryW(wide(path), open ? open_to_all() : private_to_us()));
}

/* A file that everyone may read and write. */
static void make_open_file(const char *path)
{
    HANDLE h = CreateFileW(wide(path), GENERIC_WRITE, 0, open_to_all(), CREATE_ALWAYS,
                           FILE_ATTRIBUTE_NORMAL, NULL);
    XT_ASSERT(h != INVALID_HANDLE_VALUE);
    DWORD n;
    XT_ASSERT(WriteFile(h, "1\n", 2, &n, NULL) && n == 2);
    CloseHandle(h);
}

static int make_symlink(const char *link, const char *target)
{
    WCHAR t[1024];
    XT_ASSERT(MultiByteToWideChar(CP_UTF8, 0, target, -1, t, 1024) > 0);
    /* wine 8 answers success and makes nothing */
    return CreateSymbolicLinkW(wide(link), t, SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE) &&
           GetFileAttributesW(wide(link)) != INVALID_FILE_ATTRIBUTES;
}

typedef struct child {
    HANDLE process, thread;
    uint32_t pid;
} child;

/* Start this program again with @p args; suspended with @p suspended. */
static void child_start(child *c, const char *args, int suspended)
{
    WCHAR exe[MAX_PATH], cmd[2 * MAX_PATH];
    DWORD n = GetModuleFileNameW(NULL, exe, MAX_PATH);
    XT_ASSERT(n > 0 && n < MAX_PATH);
    _snwprintf(cmd, 2 * MAX_PATH, L"\"%ls\" %hs", exe, args);
    cmd[2 * MAX_PATH - 1] = L'\0';
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    memset(&si, 0, sizeof(si));
    si.cb = sizeof(si);
    XT_ASSERT(CreateProcessW(exe, cmd, NULL, NULL, FALSE, suspended ? CREATE_SUSPENDED : 0, NULL,
                             NULL, &si, &pi));
    c->process = pi.hProcess;
    c->thread = pi.hThread;
    c->pid = (uint32_t)pi.dwProcessId;
}

/* A child that exits once let go (started suspended). */
static void child_waiting(child *c)
{
    child_start(c, "exit", 1);
}

static void child_let_go(child *c)
{
    XT_ASSERT(ResumeThread(c->thread) != (DWORD)-1);
}

static int child_running(child *c)
{
    return WaitForSingleObject(c->process, 0) == WAIT_TIMEOUT;
}

/* Wait until it has exited and forget it. */
static void child_reap(child *c)
{
    XT_ASSERT(WaitForSingleObject(c->process, 30000) == WAIT_OBJECT_0);
    CloseHandle(c->thread);
    CloseHandle(c->process);
}

/* A child that takes lock file @p path and holds it until killed. */
static void child_locker(child *c, const char *path)
{
    (void)path; /* it finds the path from our pid */
    char args[32];
    snprintf(args, sizeof(args), "lock %u", (unsigned)xipc_plat_getpid());
    child_start(c, args, 0);
}

static void child_kill(child *c)
{
    XT_ASSERT(TerminateProcess(c->process, 9));
}
#else
static void make_dir(const char *path, int open)
{
    XT_ASSERT(mkdir(path, 0700) == 0);
    if (open)
        XT_ASSERT(chmod(path, 0755) == 0);
}

static void make_open_file(const char *path)
{
    FILE *f = fopen(path, "w");
    XT_ASSERT(f != NULL);
    fputs("1\n", f);
    fclose(f);
    XT_ASSERT(chmod(path, 0644) == 0);
}

static int make_symlink(const char *link, const char *target)
{
    return symlink(target, link) == 0;
}

typedef struct child {
    pid_t pid;
    int fd; /* the pipe it waits on or reports through */
} child;

static void child_waiting(child *c)
{
    int p[2];
    XT_ASSERT(pipe(p) == 0);
    c->pid = fork();
    XT_ASSERT(c->pid >= 0);
    if (c->pid == 0) {
        char b;
        close(p[1]);
        while (read(p[0], &b, 1) < 0)
            ;
        _exit(0);
    }
    close(p[0]);
    c->fd = p[1];
}

static void child_let_go(child *c)
{
    close(c->fd);
}

static int child_running(child *c)
{
    return waitpid(c->pid, NULL, WNOHANG) == 0;
}

static void child_reap(child *c)
{
    XT_ASSERT(waitpid(c->pid, NULL, 0) == c->pid);
}

static void child_locker(child *c, const char *path)
{
    int p[2];
    XT_ASSERT(pipe(p) == 0);
    c->pid = fork();
    XT_ASSERT(c->pid >= 0);
    if (c->pid == 0) {
        intptr_t h;
        close(p[0]);
        if (xipc_plat_lockfile_acquire(&h, path) != XIPC_OK)
            _exit(2);
        for (;;)
            pause();
    }
    close(p[1]);
    c->fd = p[0];
}

static void child_kill(child *c)
{
    XT_ASSERT(kill(c->pid, SIGKILL) == 0);
    close(c->fd);
}
#endif

/* ---- processes ------------------------------------------------------------ */

static void test_identity(void)
{
    uint32_t pid = xipc_plat_getpid(), uid = xipc_plat_getuid();
    XT_ASSERT(pid != 0);
    XT_EQ(xipc_plat_getpid(), pid);
    XT_EQ(xipc_plat_getuid(), uid);
    XT_EQ(xipc_plat_pid_alive(pid), 1);
    XT_EQ(xipc_plat_pid_alive(0), 0);
#ifdef _WIN32
    XT_EQ(pid, GetCurrentProcessId());
    XT_ASSERT(uid != 0 && uid != UINT32_MAX); /* the hash of a SID we could read */
    uint32_t other = 0;
    XT_OK(xipc__win32_uid_of_pid(pid, &other));
    XT_EQ(other, uid);
    XT_EQ(xipc__win32_same_user(pid), 1);
    XT_ERR(xipc__win32_uid_of_pid(0, &other), XIPC_ENOENT);
    XT_ERR(xipc__win32_uid_of_pid(pid + 1, &other), XIPC_ENOENT); /* not a multiple of 4 */
    XT_EQ(xipc__win32_same_user(0), 0);
    XT_EQ(xipc_plat_pid_alive(pid + 1), 0);
#else
    XT_EQ(pid, getpid());
    XT_EQ(uid, geteuid());
#endif
    printf("  identity: pid %u, uid %u, stable ok\n", (unsigned)pid, (unsigned)uid);
}

static void test_proc(void)
{
    xipc_plat_proc p;
    xipc_plat_proc_open(&p, xipc_plat_getpid());
    XT_ASSERT(p.handle != -1);
    XT_EQ(xipc_plat_proc_alive(&p), 1);
    XT_EQ(xipc_plat_proc_alive(&p), 1);
    xipc_plat_proc_close(&p);
    XT_EQ(p.handle, -1);

    /* no such process: no handle, and the probe says gone, for good */
    xipc_plat_proc_open(&p, 0);
    XT_EQ(p.handle, -1);
    XT_EQ(xipc_plat_proc_alive(&p), 0);
    XT_EQ(atomic_load(&p.dead), 1);
    xipc_plat_proc_close(&p);

    /* a child: alive while it waits, gone once it exited, and stays gone */
    child c;
    child_waiting(&c);
    xipc_plat_proc_open(&p, (uint32_t)c.pid);
    XT_ASSERT(p.handle != -1);
    XT_EQ(xipc_plat_proc_alive(&p), 1);
    XT_EQ(xipc_plat_pid_alive((uint32_t)c.pid), 1);
#ifdef _WIN32
    XT_EQ(xipc__win32_same_user(c.pid), 1);
#endif
    child_let_go(&c);
    WAIT_UNTIL(!xipc_plat_proc_alive(&p), 20000);
    XT_EQ(xipc_plat_proc_alive(&p), 0);
    XT_EQ(atomic_load(&p.dead), 1);
    /* exited but not yet reaped (a zombie; a process object we hold) */
    XT_EQ(xipc_plat_pid_alive((uint32_t)c.pid), 0);
    child_reap(&c);
    XT_EQ(xipc_plat_proc_alive(&p), 0); /* sticky */
    xipc_plat_proc_close(&p);
    XT_EQ(xipc_plat_pid_alive((uint32_t)c.pid), 0);
    printf("  processes: ourselves alive, an exited child gone (sticky), pid probe ok\n");
}

/* ---- folders ---------------------------------------------------------------- */

typedef struct names {
    int n;
    char name[8][64];
} names;

static void collect(const char *name, void *arg)
{
    names *s = arg;
    XT_ASSERT(s->n < 8 && strlen(name) < 64);
    strcpy(s->name[s->n++], name);
}

static int names_has(const names *s, const char *name)
{
    int k = 0;
    for (int i = 0; i < s->n; i++)
        k += strcmp(s->name[i], name) == 0;
    return k;
}

static void test_rundir(void)
{
    char base[1024], found[1024], small[4];
    XT_OK(xipc_plat_rundir(base, sizeof(base), NULL));
    XT_OK(xipc_plat_rundir_find(found, sizeof(found), NULL));
    XT_ASSERT(strcmp(base, found) == 0);
    XT_ERR(xipc_plat_rundir(small, sizeof(small), NULL), XIPC_EINVAL);
    XT_ERR(xipc_plat_rundir_find(NULL, 0, NULL), XIPC_EINVAL);

    snprintf(dir_sub, sizeof(dir_sub), "plat_dir_test.%u", (unsigned)xipc_plat_getpid());
    XT_ERR(xipc_plat_rundir_find(found, sizeof(found), dir_sub), XIPC_ENOENT);
    XT_OK(xipc_plat_rundir(dir, sizeof(dir), dir_sub));
    XT_OK(xipc_plat_rundir_find(found, sizeof(found), dir_sub));
    XT_ASSERT(strcmp(dir, found) == 0);
    XT_OK(xipc_plat_rundir(found, sizeof(found), dir_sub)); /* exists: accepted */
    XT_ASSERT(strncmp(dir, base, strlen(base)) == 0);
    XT_EQ(xipc_plat_file_kind(dir), XIPC_PLAT_FILE_DIR);
#ifndef _WIN32
    struct stat st;
    XT_ASSERT(lstat(dir, &st) == 0);
    XT_EQ(st.st_mode & 0777, 0700);
    XT_EQ(st.st_uid, geteuid());
#endif

    /* a folder open to others is refused, found or made */
    char open_sub[80], open_path[1024];
    snprintf(open_sub, sizeof(open_sub), "%s.open", dir_sub);
    snprintf(open_path, sizeof(open_path), "%s" SEP "%s", base, open_sub);
    make_dir(open_path, 1);
    XT_ERR(xipc_plat_rundir_find(found, sizeof(found), open_sub), XIPC_EPERM);
    XT_ERR(xipc_plat_rundir(found, sizeof(found), open_sub), XIPC_EPERM);
    names seen = {0};
    XT_ERR(xipc_plat_dir_list(open_path, collect, &seen), XIPC_EPERM);
    xipc_plat_dir_remove(open_path);
    XT_EQ(xipc_plat_file_kind(open_path), XIPC_PLAT_FILE_NONE);
    printf("  runtime folder %s: made, found, private; one open to others refused ok\n", base);
}

/* Take stamps of @p path until one says "settled" (5 s at most). */
static void stamp_settled(const char *path, uint64_t stamp[2])
{
    int settled = 0;
    for (int i = 0; i < 500 && !settled; i++) {
        XT_OK(xipc_plat_dir_stamp(path, stamp, &settled));
        if (!settled)
            xipc_plat_sleep_us(10000);
    }
    XT_EQ(settled, 1);
}

static void test_files(void)
{
    char a[1100], b[1100], sub[1100], utf[1100], link[1100], none[1100];
    path_in(a, sizeof(a), "a");
    path_in(b, sizeof(b), "b.pid");
    path_in(sub, sizeof(sub), "sub");
    path_in(utf, sizeof(utf), "\xc3\xbc\xe2\x82\xac"); /* u-umlaut, euro sign */
    path_in(none, sizeof(none), "none");

    /* the stamp of the empty folder, then one entry more: another stamp */
    uint64_t s0[2], s1[2], s2[2];
    int settled;
    stamp_settled(dir, s0);
    XT_OK(xipc_plat_textfile_write(a, "text"));
    XT_OK(xipc_plat_dir_stamp(dir, s1, &settled));
    XT_ASSERT(s1[0] != s0[0]);
    XT_EQ(s1[1], s0[1]); /* the same folder */
    stamp_settled(dir, s1);
    XT_OK(xipc_plat_dir_stamp(dir, s2, &settled)); /* nothing changed */
    XT_EQ(s2[0], s1[0]);
    XT_EQ(settled, 1);
    xipc_plat_unlink(a);
    XT_OK(xipc_plat_dir_stamp(dir, s2, &settled));
    XT_ASSERT(s2[0] != s1[0]);
    XT_ERR(xipc_plat_dir_stamp(none, s2, &settled), XIPC_ENOENT);

    /* kinds, and a listing of exactly what is there */
    XT_OK(xipc_plat_textfile_write(a, "text"));
    XT_OK(xipc__pidfile_write(b));
    XT_OK(xipc_plat_textfile_write(utf, ""));
    make_dir(sub, 0);
    XT_EQ(xipc_plat_file_kind(a), XIPC_PLAT_FILE_REG);
    XT_EQ(xipc_plat_file_kind(utf), XIPC_PLAT_FILE_REG);
    XT_EQ(xipc_plat_file_kind(sub), XIPC_PLAT_FILE_DIR);
    XT_EQ(xipc_plat_file_kind(none), XIPC_PLAT_FILE_NONE);
    names seen = {0};
    XT_OK(xipc_plat_dir_list(dir, collect, &seen));
    XT_EQ(seen.n, 4);
    XT_EQ(names_has(&seen, "a"), 1);
    XT_EQ(names_has(&seen, "b.pid"), 1);
    XT_EQ(names_has(&seen, "sub"), 1);
    XT_EQ(names_has(&seen, "\xc3\xbc\xe2\x82\xac"), 1);
    seen.n = 0;
    XT_OK(xipc_plat_dir_list(sub, collect, &seen)); /* made inside: private too */
    XT_EQ(seen.n, 0);
    XT_ERR(xipc_plat_dir_list(none, collect, &seen), XIPC_ENOENT);

    /* a link is OTHER, not what it points to (where links can be made) */
    path_in(link, sizeof(link), "link");
    const char *links = "links cannot be made here";
    if (make_symlink(link, a)) {
        XT_EQ(xipc_plat_file_kind(link), XIPC_PLAT_FILE_OTHER);
        xipc_plat_unlink(link);
        XT_EQ(xipc_plat_file_kind(link), XIPC_PLAT_FILE_NONE);
        links = "a link is OTHER";
    }

    /* dir_remove keeps a folder that is not empty */
    xipc_plat_textfile_write(none, "x");
    xipc_plat_dir_remove(dir);
    XT_EQ(xipc_plat_file_kind(dir), XIPC_PLAT_FILE_DIR);
    xipc_plat_unlink(none);
    xipc_plat_unlink(a);
    xipc_plat_unlink(b);
    xipc_plat_unlink(utf);
    xipc_plat_dir_remove(sub);
    XT_EQ(xipc_plat_file_kind(sub), XIPC_PLAT_FILE_NONE);
    XT_EQ(xipc_plat_file_kind(a), XIPC_PLAT_FILE_NONE);
    printf("  folders: stamp changes with the entries, kinds, an exact UTF-8 listing, %s ok\n",
           links);
}

static void test_textfiles(void)
{
    char t[1100], o[1100], buf[64];
    path_in(t, sizeof(t), "note");
    path_in(o, sizeof(o), "open");

    XT_ERR(xipc_plat_textfile_read(t, buf, sizeof(buf)), XIPC_ENOENT);
    XT_OK(xipc_plat_textfile_write(t, "hello\nworld"));
    XT_OK(xipc_plat_textfile_read(t, buf, sizeof(buf)));
    XT_ASSERT(strcmp(buf, "hello\nworld") == 0);
    XT_OK(xipc_plat_textfile_write(t, "hi")); /* shorter: nothing of the old left */
    XT_OK(xipc_plat_textfile_read(t, buf, sizeof(buf)));
    XT_ASSERT(strcmp(buf, "hi") == 0);
    XT_OK(xipc_plat_textfile_write(t, "0123456789"));
    XT_OK(xipc_plat_textfile_read(t, buf, 5));
    XT_ASSERT(strcmp(buf, "0123") == 0);

    XT_OK(xipc__pidfile_write(t));
    XT_EQ(xipc__pidfile_read(t), xipc_plat_getpid());
    XT_OK(xipc_plat_textfile_write(t, "garbage\n"));
    XT_EQ(xipc__pidfile_read(t), 0);
    XT_OK(xipc_plat_textfile_write(t, "12x\n"));
    XT_EQ(xipc__pidfile_read(t), 0);
    xipc_plat_unlink(t);
    XT_EQ(xipc__pidfile_read(t), 0);
    XT_EQ(xipc_plat_file_kind(t), XIPC_PLAT_FILE_NONE);

    /* a file open to others is not read; writing it makes it ours again */
    make_open_file(o);
    XT_ERR(xipc_plat_textfile_read(o, buf, sizeof(buf)), XIPC_EPERM);
    XT_EQ(xipc__pidfile_read(o), 0);
    XT_OK(xipc__pidfile_write(o));
    XT_EQ(xipc__pidfile_read(o), xipc_plat_getpid());
    xipc_plat_unlink(o);
    /* a folder is not a text file */
    XT_ERR(xipc_plat_textfile_read(dir, buf, sizeof(buf)), XIPC_EPERM);
#ifdef _WIN32
    XT_ERR(xipc_plat_textfile_write("\xff\xfe", "x"), XIPC_EINVAL); /* not UTF-8 */
    XT_ERR(xipc_plat_textfile_read(NULL, buf, sizeof(buf)), XIPC_EINVAL);
    XT_ERR(xipc_plat_textfile_read(t, buf, 0), XIPC_EINVAL);
#endif
    printf("  text and pid files: round trips, in place, garbage reads 0, open files refused ok\n");
}

/* ---- lock files --------------------------------------------------------------- */

static void test_lock(void)
{
    char l[1100], text[32], want[32];
    intptr_t h, h2;
    uint32_t pid;
    path_in(l, sizeof(l), "lock");
    snprintf(want, sizeof(want), "%u\n", (unsigned)xipc_plat_getpid());

    XT_ERR(xipc_plat_lockfile_owner(l, &pid), XIPC_ENOENT);
    XT_OK(xipc_plat_lockfile_acquire(&h, l));
    XT_ERR(xipc_plat_lockfile_acquire(&h2, l), XIPC_EADDRINUSE);
    XT_OK(xipc_plat_lockfile_owner(l, &pid));
    XT_EQ(pid, xipc_plat_getpid());
    XT_OK(xipc_plat_lockfile_owner(l, &pid)); /* looking takes nothing */
    XT_ERR(xipc_plat_lockfile_acquire(&h2, l), XIPC_EADDRINUSE);
    XT_OK(xipc_plat_textfile_read(l, text, sizeof(text))); /* the pid is not locked */
    XT_ASSERT(strcmp(text, want) == 0);
    xipc_plat_lockfile_release(h, l);
    XT_ERR(xipc_plat_lockfile_owner(l, &pid), XIPC_ENOENT);
    XT_EQ(xipc_plat_file_kind(l), XIPC_PLAT_FILE_NONE);

    /* a lock file nobody holds (its holder died) is no one's, and is taken */
    XT_OK(xipc_plat_textfile_write(l, "1\n"));
    XT_ERR(xipc_plat_lockfile_owner(l, &pid), XIPC_ENOENT);
    XT_OK(xipc_plat_lockfile_acquire(&h, l));
    XT_OK(xipc_plat_lockfile_owner(l, &pid));
    XT_EQ(pid, xipc_plat_getpid());
    xipc_plat_lockfile_release(h, l);

    /* removing the name of a file someone holds: the name goes at once
     * (POSIX; Windows 10 1809+ on NTFS) or stays until the holder closes
     * it (older Windows, other file systems); either way it is gone then */
    XT_OK(xipc_plat_lockfile_acquire(&h, l));
    xipc_plat_unlink(l);
    int kind = xipc_plat_file_kind(l);
    XT_ASSERT(kind == XIPC_PLAT_FILE_NONE || kind == XIPC_PLAT_FILE_REG);
    xipc_plat_lockfile_release(h, l);
    XT_EQ(xipc_plat_file_kind(l), XIPC_PLAT_FILE_NONE);
    const char *unlinked = kind == XIPC_PLAT_FILE_NONE ? "went at once" : "stayed until closed";

    /* one open to others is refused */
    make_open_file(l);
    XT_ERR(xipc_plat_lockfile_acquire(&h, l), XIPC_EPERM);
    XT_ERR(xipc_plat_lockfile_owner(l, &pid), XIPC_EPERM);
    xipc_plat_unlink(l);

    /* a child takes it and is killed: the lock is free afterwards */
    child c;
    child_locker(&c, l);
    xipc_err rv = XIPC_ENOENT;
    for (int i = 0; i < 3000 && child_running(&c); i++) {
        rv = xipc_plat_lockfile_owner(l, &pid);
        if (rv == XIPC_OK && pid != 0)
            break;
        xipc_plat_sleep_us(10000);
    }
    XT_OK(rv);
    XT_EQ(pid, (uint32_t)c.pid);
    XT_ERR(xipc_plat_lockfile_acquire(&h, l), XIPC_EADDRINUSE);
    child_kill(&c);
    child_reap(&c);
    uint64_t t0 = xipc_plat_now_ns();
    WAIT_UNTIL((rv = xipc_plat_lockfile_owner(l, &pid)) == XIPC_ENOENT, 10000);
    XT_ERR(rv, XIPC_ENOENT);
    double freed_ms = (double)(xipc_plat_now_ns() - t0) / 1e6;
    XT_OK(xipc_plat_lockfile_acquire(&h, l));
    xipc_plat_lockfile_release(h, l);
    XT_EQ(xipc_plat_file_kind(l), XIPC_PLAT_FILE_NONE);
    printf("  lock files: exclusive, owner, release, stale taken, open refused, "
           "a killed holder's lock free after %.1f ms ok\n", freed_ms);
    printf("  (the name of a held lock file, removed, %s)\n", unlinked);
}

#ifdef _WIN32
/* The child's side: "exit", or "lock <pid>": hold <pid>'s lock file. */
static int child_main(int argc, char **argv)
{
    if (strcmp(argv[1], "exit") == 0)
        return 0;
    if (argc < 3 || strcmp(argv[1], "lock") != 0)
        return 2;
    char sub[64], path[1100];
    intptr_t h;
    snprintf(sub, sizeof(sub), "plat_dir_test.%s", argv[2]);
    if (xipc_plat_rundir_find(dir, sizeof(dir), sub) != XIPC_OK)
        return 3;
    path_in(path, sizeof(path), "lock");
    if (xipc_plat_lockfile_acquire(&h, path) != XIPC_OK)
        return 4;
    Sleep(60000); /* killed long before */
    return 0;
}
#endif

int main(int argc, char **argv)
{
#ifdef _WIN32
    if (argc > 1)
        return child_main(argc, argv);
#else
    (void)argc;
    (void)argv;
#endif
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("plat_dir_test (pointer width %u bits)\n", (unsigned)(sizeof(void *) * 8));
    test_identity();
    test_proc();
    test_rundir();
    test_files();
    test_textfiles();
    test_lock();
    xipc_plat_dir_remove(dir);
    XT_EQ(xipc_plat_file_kind(dir), XIPC_PLAT_FILE_NONE);
    printf("plat_dir_test ok\n");
    return 0;
}
