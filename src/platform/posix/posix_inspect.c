/*
 * Process inspection on Linux, without touching the target: the process
 * table is /proc, a process's bitness the ELF class of /proc/PID/exe, its
 * modules the file mappings of /proc/PID/maps (whose addresses are text,
 * so a 32-bit reader gets 64-bit bases as they are), memory
 * process_vm_readv. Both maps and process_vm_readv need ptrace access to
 * the target (PTRACE_MODE_READ, _ATTACH): a refusal says which rule
 * refused (inspect_denied).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/detail.h"
#include "inspect/image.h"
#include "platform/posix/posix.h"

#define INSPECT_YAMA "/proc/sys/kernel/yama/ptrace_scope"
#define INSPECT_LINE 8192 /* a maps line: 80 bytes and a path */

/* 32 or 64 from the ELF header of file @p path; 0 when unreadable, -1
 * when it is not ELF. */
static int inspect_file_bits(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    uint8_t h[XIPC_IMAGE_ELF_HDR];
    ssize_t n = pread(fd, h, sizeof(h), 0);
    close(fd);
    return n < 0 ? 0 : xipc__elf_bits(h, (size_t)n);
}

/* ptrace_scope of Yama, or -1 without Yama. */
static int inspect_yama(void)
{
    FILE *f = fopen(INSPECT_YAMA, "re");
    int v = -1;
    if (f != NULL) {
        if (fscanf(f, "%d", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

/* EPERM/EACCES on @p what of process @p pid: XIPC_EPERM and which rule. */
static xipc_err inspect_denied(uint32_t pid, const char *what, int code)
{
    char p[32];
    struct stat st;
    snprintf(p, sizeof(p), "/proc/%u", (unsigned)pid);
    int yama = inspect_yama();
    if (stat(p, &st) == 0 && st.st_uid != geteuid())
        xipc__set_detail("%s of process %u: permission denied: it belongs to uid %u and this "
                         "process runs as uid %u (another user's process needs CAP_SYS_PTRACE)",
                         what, (unsigned)pid, (unsigned)st.st_uid, (unsigned)geteuid());
    else if (yama > 0)
        xipc__set_detail("%s of process %u: permission denied: %s is %d (1: only a "
                         "process's ancestors may look; 2: only with CAP_SYS_PTRACE; 3: none)",
                         what, (unsigned)pid, INSPECT_YAMA, yama);
    else
        xipc__set_detail("%s of process %u: permission denied (the process is not dumpable, "
                         "or a security module refused)", what, (unsigned)pid);
    return xipc__posix_err(code);
}

/* An errno of @p what on process @p pid as an xipc_err with its detail. */
static xipc_err inspect_fail(uint32_t pid, const char *what, int code)
{
    if (code == EPERM || code == EACCES)
        return inspect_denied(pid, what, code);
    if (code == ENOENT || code == ESRCH)
        xipc__set_detail("%s: no process %u", what, (unsigned)pid);
    else
        xipc__set_detail("%s of process %u: %s", what, (unsigned)pid, strerror(code));
    return xipc__posix_err(code);
}

/* pid as a /proc name; 0 and values over INT_MAX name no process. */
static int inspect_pid_ok(uint32_t pid)
{
    return pid != 0 && pid <= 0x7fffffffu;
}

/* name and ppid from /proc/PID/stat: "pid (comm) state ppid ..."; comm
 * may hold ')' and spaces, so the last ')' ends it. */
static int inspect_stat(const char *pid, char *name, size_t cap, uint32_t *ppid)
{
    char p[300], s[512];
    snprintf(p, sizeof(p), "/proc/%s/stat", pid);
    FILE *f = fopen(p, "re");
    if (f == NULL)
        return -1;
    size_t n = fread(s, 1, sizeof(s) - 1, f);
    fclose(f);
    s[n] = '\0';
    char *a = strchr(s, '('), *b = strrchr(s, ')');
    unsigned long pp;
    if (a == NULL || b == NULL || b < a || sscanf(b + 1, " %*c %lu", &pp) != 1)
        return -1;
    size_t len = (size_t)(b - a - 1) < cap - 1 ? (size_t)(b - a - 1) : cap - 1;
    memcpy(name, a + 1, len);
    name[len] = '\0';
    *ppid = (uint32_t)pp;
    return 0;
}

xipc_err xipc_plat_proc_list(void (*fn)(const xipc_proc_info *p, void *arg), void *arg)
{
    DIR *d = opendir("/proc");
    if (d == NULL) {
        xipc__set_detail("/proc: %s", strerror(errno));
        return xipc__posix_err(errno) == XIPC_EPERM ? XIPC_EPERM : XIPC_ESYS;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        char *end;
        unsigned long pid = strtoul(e->d_name, &end, 10);
        char name[64], exe[300];
        xipc_proc_info pi = {(uint32_t)pid, 0, 0, name};
        if (*end != '\0' || !inspect_pid_ok((uint32_t)pid) ||
            inspect_stat(e->d_name, name, sizeof(name), &pi.ppid) != 0)
            continue; /* not a process, or it ended meanwhile */
        snprintf(exe, sizeof(exe), "/proc/%s/exe", e->d_name);
        int bits = inspect_file_bits(exe);
        pi.bits = bits > 0 ? (unsigned)bits : 0;
        fn(&pi, arg);
    }
    closedir(d);
    return XIPC_OK;
}

/* The module being gathered from consecutive maps lines of one file, and
 * the line being read (16 KiB together: on the heap, not a small stack). */
typedef struct inspect_mod {
    char path[INSPECT_LINE];
    char line[INSPECT_LINE];
    uint64_t base, end;
    int open;
} inspect_mod;

static void inspect_mod_emit(inspect_mod *m, void (*fn)(const xipc_module_info *, void *),
                             void *arg)
{
    if (!m->open)
        return;
    m->open = 0;
    int bits = inspect_file_bits(m->path);
    if (bits < 0)
        return; /* a mapped file that is no executable image (locale data) */
    xipc_module_info mi = {m->path, m->base, m->end - m->base, (unsigned)bits};
    fn(&mi, arg);
}

xipc_err xipc_plat_modules(uint32_t pid, void (*fn)(const xipc_module_info *m, void *arg),
                           void *arg)
{
    char p[32];
    snprintf(p, sizeof(p), "/proc/%u/maps", (unsigned)pid);
    if (!inspect_pid_ok(pid))
        return inspect_fail(pid, "the module list", ESRCH);
    FILE *f = fopen(p, "re");
    if (f == NULL)
        return inspect_fail(pid, "the module list", errno);
    inspect_mod *m = calloc(1, sizeof(*m));
    if (m == NULL) {
        fclose(f);
        return XIPC_ENOMEM;
    }
    char *line = m->line;
    while (fgets(line, INSPECT_LINE, f) != NULL) {
        uint64_t lo, hi, off;
        int at = 0;
        line[strcspn(line, "\n")] = '\0';
        if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64 " %*s %*s %n", &lo, &hi, &off,
                   &at) != 3 || at == 0 || line[at] != '/')
            continue; /* anonymous, [heap], [stack], [vdso] */
        const char *path = line + at;
        if (m->open && strcmp(m->path, path) == 0 && off != 0 && lo >= m->end) {
            m->end = hi; /* the next segment of the same image */
            continue;
        }
        inspect_mod_emit(m, fn, arg);
        snprintf(m->path, sizeof(m->path), "%s", path);
        m->base = lo;
        m->end = hi;
        m->open = 1;
    }
    int failed = ferror(f) ? errno : 0;
    fclose(f);
    inspect_mod_emit(m, fn, arg);
    free(m);
    return failed ? inspect_fail(pid, "the module list", failed) : XIPC_OK;
}

xipc_err xipc_plat_peek(uint32_t pid, uint64_t addr, void *buf, size_t len, size_t *got)
{
    *got = 0;
    if (!inspect_pid_ok(pid))
        return inspect_fail(pid, "process_vm_readv", ESRCH);
    struct iovec local = {buf, len}, remote = {(void *)(uintptr_t)addr, len};
    ssize_t n = process_vm_readv((pid_t)pid, &local, 1, &remote, 1, 0);
    if (n > 0) {
        *got = (size_t)n;
        return XIPC_OK;
    }
    int code = n == 0 ? EFAULT : errno;
    if (code == ENOSYS) {
        /* qemu-user has no process_vm_readv: a 32-bit program it runs
         * gets ENOSYS (docs/inspect.md) */
        xipc__set_detail("process_vm_readv is not available to this process (ENOSYS)");
        return XIPC_PLAT_BEYOND;
    }
    if (code == EFAULT) {
        xipc__set_detail("nothing readable is mapped at 0x%llx in process %u",
                         (unsigned long long)addr, (unsigned)pid);
        return xipc__posix_err(EINVAL);
    }
    return inspect_fail(pid, "process_vm_readv", code);
}

void xipc_plat_child_reap(uint32_t pid)
{
    while (waitpid((pid_t)pid, NULL, 0) < 0 && errno == EINTR)
        ;
}
