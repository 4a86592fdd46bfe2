/* Process identity and liveness for the POSIX port (pidfd on Linux). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "core/platform.h"

uint32_t xipc_plat_getpid(void)
{
    return (uint32_t)getpid();
}

uint32_t xipc_plat_getuid(void)
{
    return (uint32_t)geteuid();
}

/*
 * A zombie (exited, not yet reaped by its parent) still answers kill(0):
 * its state in /proc/PID/stat, after the parenthesised name, is Z (or X).
 * Without /proc the answer is "not a zombie".
 */
static int proc_zombie(uint32_t pid)
{
    char path[32], buf[256];
    snprintf(path, sizeof(path), "/proc/%u/stat", (unsigned)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    const char *end = strrchr(buf, ')'); /* the name may hold ')' too */
    return end != NULL && end[1] == ' ' && (end[2] == 'Z' || end[2] == 'X');
}

/* The fallback where no pidfd exists (old kernels, seccomp, valgrind). */
int xipc_plat_pid_alive(uint32_t pid)
{
    if (pid == 0 || pid > 0x3fffffffu)
        return 0;
    if (kill((pid_t)pid, 0) == 0)
        return !proc_zombie(pid);
    return errno == EPERM; /* exists, but not ours */
}

void xipc_plat_proc_open(xipc_plat_proc *p, uint32_t pid)
{
    p->pid = pid;
    p->handle = -1;
    p->sock = 0;
    atomic_store_explicit(&p->dead, 0, memory_order_relaxed);
#ifdef SYS_pidfd_open
    if (pid != 0 && pid <= 0x3fffffffu) {
        long fd = syscall(SYS_pidfd_open, (pid_t)pid, 0);
        if (fd >= 0)
            p->handle = (intptr_t)fd;
    }
#endif
}

void xipc_plat_proc_watch(xipc_plat_proc *p, intptr_t s, uint32_t pid)
{
    p->pid = pid;
    p->handle = s;
    p->sock = 1;
    atomic_store_explicit(&p->dead, 0, memory_order_relaxed);
}

void xipc_plat_proc_close(xipc_plat_proc *p)
{
    if (p->handle >= 0)
        close((int)p->handle);
    p->handle = -1;
}

int xipc_plat_proc_alive(xipc_plat_proc *p)
{
    if (atomic_load_explicit(&p->dead, memory_order_relaxed))
        return 0;
    int dead;
    if (p->handle >= 0 && p->sock) {
        /* only a hang-up counts: bytes the peer writes (POLLIN) do not */
        struct pollfd pfd = {(int)p->handle, POLLRDHUP, 0};
        dead = poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
    } else if (p->handle >= 0) {
        struct pollfd pfd = {(int)p->handle, POLLIN, 0};
        dead = poll(&pfd, 1, 0) > 0; /* readable: the process has exited */
    } else {
        dead = !xipc_plat_pid_alive(p->pid);
    }
    if (dead)
        atomic_store_explicit(&p->dead, 1, memory_order_relaxed);
    return !dead;
}
