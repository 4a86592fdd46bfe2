/*
 * What must be true when everything has exited: no object of this run's
 * names in /dev/shm, the runtime directory (shm:// and pipe:// sockets
 * and their pid files, mailslot folders, mq lock files), /tmp (unix://
 * socket files), the message-queue file system, or the abstract socket
 * namespace.
 *
 * On Windows only the runtime directory holds files (lock and pid files);
 * sections, named pipes and mailslots are kernel objects that end with
 * their last handle, so none can outlive every process of the run
 * (docs/fault.md, "Under wine").
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#ifdef _WIN32
#include <windows.h>
#include <tlhelp32.h>
#else
#include <mqueue.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#endif
#include <unistd.h>

#include "core/platform.h"
#include "fault.h"

#ifdef _WIN32
int fault_fd_count(fault_pid pid)
{
    DWORD n;
    if (!GetProcessHandleCount(pid != NULL ? pid : GetCurrentProcess(), &n))
        return -1;
    return (int)n;
}

int fault_thread_count(fault_pid pid)
{
    DWORD id = GetProcessId(pid);
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
    if (snap == INVALID_HANDLE_VALUE)
        return -1;
    THREADENTRY32 te;
    te.dwSize = sizeof(te);
    int n = 0;
    for (BOOL ok = Thread32First(snap, &te); ok; ok = Thread32Next(snap, &te))
        n += te.th32OwnerProcessID == id;
    CloseHandle(snap);
    return n;
}
#else
int fault_fd_count(fault_pid pid)
{
    char path[64];
    if (pid == 0)
        snprintf(path, sizeof(path), "/proc/self/fd");
    else
        snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = xt_readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return pid == 0 ? n - 1 : n; /* not the listing's own descriptor */
}

int fault_thread_count(fault_pid pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    int n = -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    fclose(f);
    return n;
}
#endif

/* ---- known bugs ------------------------------------------------------------- */

_Static_assert(sizeof(F.known) / sizeof(F.known[0]) == KB_COUNT, "one counter per known bug");

static const char *const known_names[KB_COUNT] = {
    "stuck name (listener killed in xipc_listen)",
    "EPROTO from a dial racing a listener's creation",
    "orphaned offer (client killed in xipc_dial)"};

void fault_known(int bug, const char *detail)
{
    if (xipc_plat_getpid() != F.pid)
        return; /* a child: the test process counts what it sees itself */
    F.known[bug]++;
    if (F.strict)
        XT_FAIL("known library bug, %s: %s (FAULT_STRICT is set; see docs/fault.md)",
                known_names[bug], detail);
}

const char *fault_known_name(int bug)
{
    return known_names[bug];
}

#ifndef _WIN32
/* The shared-memory object behind @p url; 0 when it has none. */
static int url_object(const char *url, char *obj, size_t cap)
{
    if (strncmp(url, "shm://", 6) == 0)
        snprintf(obj, cap, "/xipc.%u.%s", (unsigned)geteuid(), url + 6);
    else if (strncmp(url, "pubsub://", 9) == 0)
        snprintf(obj, cap, "/xipc.%u.%s#pub", (unsigned)geteuid(), url + 9);
    else
        return 0;
    return 1;
}

int fault_unstick(const char *url)
{
    char obj[256];
    uint8_t head[64];
    if (!url_object(url, obj, sizeof(obj)))
        return 0;
    int fd = shm_open(obj, O_RDONLY, 0);
    if (fd < 0)
        return 0;
    ssize_t n = pread(fd, head, sizeof(head), 0);
    close(fd);
    if (n != (ssize_t)sizeof(head))
        return 0;
    for (size_t i = 0; i < sizeof(head); i++)
        if (head[i] != 0)
            return 0; /* a header was written: not this bug */
    fault_known(KB_STUCK_NAME, obj);
    shm_unlink(obj);
    return 1;
}

#else
/* Windows: the bug was in POSIX code (an all-zero object in /dev/shm) */
int fault_unstick(const char *url)
{
    (void)url;
    return 0;
}
#endif

int fault_dial_race(const char *url, xipc_err rv)
{
    if (rv != XIPC_EPROTO ||
        (strncmp(url, "shm://", 6) != 0 && strncmp(url, "pubsub://", 9) != 0))
        return 0;
    fault_known(KB_DIAL_EPROTO, url);
    return 1;
}

static int pid_dead(unsigned pid)
{
    return pid != F.pid && !xipc_plat_pid_alive(pid);
}

/* A /dev/shm entry "xipc.<uid>.NAME@<pid>.<id>" of a dead client: an
 * orphaned offer (KB_ORPHAN_OFFER), counted and removed. */
static int orphan_offer(const char *dir, const char *name)
{
#ifdef _WIN32
    (void)dir;
    (void)name;
    (void)pid_dead;
    return 0; /* no /dev/shm */
#else
    const char *at = strchr(name, '@');
    unsigned pid, id;
    char tail;
    if (strcmp(dir, "/dev/shm") != 0 || at == NULL ||
        sscanf(at + 1, "%u.%u%c", &pid, &id, &tail) != 2 || !pid_dead(pid))
        return 0;
    char obj[300];
    snprintf(obj, sizeof(obj), "/%s", name);
    fault_known(KB_ORPHAN_OFFER, obj);
    shm_unlink(obj);
    return 1;
#endif
}

/* ---- leftovers ---------------------------------------------------------------- */

/* Entries of @p dir starting with @p prefix: printed, counted, removed
 * when @p remove (recursively one level, for mailslot folders). */
static int scan_dir(const char *dir, const char *prefix, int quiet, int remove)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    int n = 0;
    size_t plen = strlen(prefix);
    struct dirent *e;
    while ((e = xt_readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, plen) != 0 || !strcmp(e->d_name, ".") ||
            !strcmp(e->d_name, "..") || (!remove && orphan_offer(dir, e->d_name)))
            continue;
        n++;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (!quiet)
            fprintf(stderr, "leftover: %s\n", path);
        if (remove) {
            scan_dir(path, "", 1, 1);
            if (unlink(path) != 0)
                rmdir(path);
        }
    }
    closedir(d);
    return n;
}

/* The runtime directory as xipc finds it (without creating it). */
static int rundir(char *buf, size_t cap)
{
    return xipc_plat_rundir_find(buf, cap, NULL) == XIPC_OK;
}

#ifndef _WIN32
static int scan_abstract(const char *prefix, int quiet)
{
    FILE *f = fopen("/proc/net/unix", "r");
    if (f == NULL)
        return 0;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strstr(line, prefix) != NULL) {
            n++;
            if (!quiet)
                fprintf(stderr, "leftover abstract socket: %s", line);
        }
    }
    fclose(f);
    return n;
}

static int mqueue_mounted(void)
{
    struct stat st;
    return stat("/dev/mqueue", &st) == 0 && S_ISDIR(st.st_mode);
}

/* The queue names this run uses (mq:// only has one). */
static void mq_name(char *buf, size_t cap, const char *tag)
{
    snprintf(buf, cap, "/xipc.%u.%s-%s", (unsigned)geteuid(), F.prefix, tag);
}

#endif

/* What is left in the runtime directory's folders. */
static int leftovers_rundir(int quiet, int remove)
{
    char p[128], dir[600], sub[700];
    int n = 0;
    snprintf(p, sizeof(p), "%s-", F.prefix);
    if (rundir(dir, sizeof(dir))) {
        static const char *subs[] = {"shm", "pubsub", "pipe", "mailslot", "mq"};
        for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
            snprintf(sub, sizeof(sub), "%s/%s", dir, subs[i]);
            n += scan_dir(sub, p, quiet, remove);
        }
    }
    return n;
}

#ifdef _WIN32
static int leftovers(int quiet, int remove)
{
    return leftovers_rundir(quiet, remove);
}
#else
static int leftovers(int quiet, int remove)
{
    char p[128];
    int n = 0;
    snprintf(p, sizeof(p), "xipc.%u.%s-", (unsigned)geteuid(), F.prefix);
    n += scan_dir("/dev/shm", p, quiet, remove);
    if (mqueue_mounted()) {
        n += scan_dir("/dev/mqueue", p, quiet, remove);
    } else {
        char q[128];
        mq_name(q, sizeof(q), "mq");
        mqd_t m = mq_open(q, O_RDONLY);
        if (m != (mqd_t)-1 || errno != ENOENT) {
            n++;
            if (!quiet)
                fprintf(stderr, "leftover message queue: %s\n", q);
            if (m != (mqd_t)-1)
                mq_close(m);
            if (remove)
                mq_unlink(q);
        }
    }
    n += leftovers_rundir(quiet, remove);
    snprintf(p, sizeof(p), "xipc-%s-", F.prefix);
    n += scan_dir("/tmp", p, quiet, remove);
    snprintf(p, sizeof(p), "@xipc-%s-", F.prefix);
    n += scan_abstract(p, quiet);
    return n;
}
#endif

int fault_leftovers(int quiet)
{
    return leftovers(quiet, 0);
}

/* atexit after a failure: do not litter the machine. */
void fault_cleanup(void)
{
    leftovers(1, 1);
}

/* Plant one object in each place and check that exactly it is seen. */
void fault_leftovers_selftest(void)
{
    char name[700], dir[600];
    XT_EQ(fault_leftovers(1), 0);
    /* the runtime directory */
    XT_OK(xipc_plat_rundir(dir, sizeof(dir), "pipe"));
    snprintf(name, sizeof(name), "%s/%s-selftest", dir, F.prefix);
    FILE *f = fopen(name, "wx");
    XT_ASSERT(f != NULL);
    fclose(f);
    XT_EQ(fault_leftovers(1), 1);
    remove(name);
#ifndef _WIN32
    /* /dev/shm */
    snprintf(name, sizeof(name), "/xipc.%u.%s-selftest", (unsigned)geteuid(), F.prefix);
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    XT_ASSERT(fd >= 0);
    close(fd);
    XT_EQ(fault_leftovers(1), 1);
    shm_unlink(name);
    /* the message queue */
    mq_name(name, sizeof(name), "mq");
    struct mq_attr a = {.mq_maxmsg = 1, .mq_msgsize = 8};
    mqd_t m = mq_open(name, O_RDONLY | O_CREAT | O_EXCL, 0600, &a);
    XT_ASSERT(m != (mqd_t)-1);
    XT_EQ(fault_leftovers(1), 1);
    mq_close(m);
    mq_unlink(name);
    /* /tmp */
    snprintf(name, sizeof(name), "/tmp/xipc-%s-selftest", F.prefix);
    fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0600);
    XT_ASSERT(fd >= 0);
    close(fd);
    XT_EQ(fault_leftovers(1), 1);
    unlink(name);
    /* the abstract namespace */
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    XT_ASSERT(fd >= 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int len = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "xipc-%s-selftest", F.prefix);
    XT_ASSERT(bind(fd, (struct sockaddr *)&sa,
                   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len)) == 0);
    XT_EQ(fault_leftovers(1), 1);
    close(fd);
#endif
    XT_EQ(fault_leftovers(1), 0);
}
