/*
 * Peer processes for tests, the same calls on both ports: start a program
 * with arguments, wait for it, kill it; the clock and a sleep. POSIX
 * starts peers through scripts/run32 (run32.h), so a 32-bit peer runs
 * wherever this machine can run one; Windows with CreateProcess.
 */
#ifndef XIPC_TESTS_XT_PROC_H
#define XIPC_TESTS_XT_PROC_H

#include <stdarg.h>
#include <stdint.h>

#include "core/platform.h"
#include "test.h"

/* The exit code a killed peer reports: 128 + SIGKILL, on both ports. */
#define XT_KILLED 137

#ifdef _WIN32
#include <windows.h>
typedef HANDLE xt_pid;
#else
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
typedef pid_t xt_pid;
#endif

#include "run32.h"

static inline uint64_t xt_now_ms(void)
{
    return xipc_plat_now_ns() / 1000000u;
}

static inline void xt_sleep_ms(unsigned ms)
{
    xipc_plat_sleep_us(ms * 1000u);
}

#ifdef _WIN32
/* Append @p a to @p cmd quoted as CommandLineToArgvW parses it back. */
static inline void xt_quote_arg(char *cmd, size_t cap, const char *a)
{
    size_t n = strlen(cmd);
    int plain = a[0] != '\0' && strpbrk(a, " \t\n\v\"") == NULL;
    if (n > 0 && n + 1 < cap)
        cmd[n++] = ' ';
    if (!plain && n + 1 < cap)
        cmd[n++] = '"';
    for (const char *p = a; *p != '\0' && n + 4 < cap; p++) {
        size_t bs = 0;
        while (p[bs] == '\\')
            bs++;
        if (bs > 0 && (p[bs] == '"' || (p[bs] == '\0' && !plain))) {
            for (size_t i = 0; i < 2 * bs && n + 4 < cap; i++)
                cmd[n++] = '\\'; /* backslashes before a quote are doubled */
            p += bs - 1;
            continue;
        }
        if (*p == '"')
            cmd[n++] = '\\';
        cmd[n++] = *p;
    }
    if (!plain && n + 1 < cap)
        cmd[n++] = '"';
    XT_ASSERT(n + 1 < cap);
    cmd[n] = '\0';
}
#endif

/* Start @p prog with @p argv (argv[0] is replaced by @p prog). */
static inline xt_pid xt_startv(const char *prog, char *const argv[])
{
#ifdef _WIN32
    static char cmd[32768];
    cmd[0] = '\0';
    xt_quote_arg(cmd, sizeof(cmd), prog);
    for (size_t i = 1; argv[0] != NULL && argv[i] != NULL; i++)
        xt_quote_arg(cmd, sizeof(cmd), argv[i]);
    STARTUPINFOA si;
    PROCESS_INFORMATION pi;
    memset(&si, 0, sizeof(si));
    si.cb = sizeof(si);
    fflush(stdout);
    fflush(stderr);
    /* wine's CreateProcess fails now and then with ERROR_INTERNAL_ERROR
     * (1359) while other wine processes start and die (fault_test mq
     * under ctest -j2): that one is tried again, a few times */
    for (int tries = 0; !CreateProcessA(prog, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi);
         tries++) {
        if (GetLastError() != ERROR_INTERNAL_ERROR || tries >= 5)
            XT_FAIL("cannot start %s: Windows error %lu", prog, GetLastError());
        Sleep(50);
    }
    CloseHandle(pi.hThread);
    return pi.hProcess;
#else
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    XT_ASSERT(pid >= 0);
    if (pid == 0)
        xt_execv(prog, argv);
    return pid;
#endif
}

/* xt_startv with the arguments after @p prog listed, NULL-terminated:
 * xt_start(peer, "serve", url, (char *)NULL) runs "peer serve URL". */
static inline xt_pid xt_start(const char *prog, ...)
{
    char *argv[XT_EXEC_ARGS + 1];
    va_list ap;
    va_start(ap, prog);
    xt_args_collect(argv, prog, ap);
    va_end(ap);
    return xt_startv(prog, argv);
}

/* Wait for the child @p pid: its exit code, or 128 + the signal that
 * ended it (XT_KILLED after xt_kill, on both ports). */
static inline int xt_wait_child(xt_pid pid)
{
#ifdef _WIN32
    DWORD code = 0;
    XT_ASSERT(WaitForSingleObject(pid, INFINITE) == WAIT_OBJECT_0);
    XT_ASSERT(GetExitCodeProcess(pid, &code));
    CloseHandle(pid);
    return (int)code;
#else
    int st;
    XT_ASSERT(waitpid(pid, &st, 0) == pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
#endif
}

/* Kill @p pid at once, without letting it clean up (SIGKILL,
 * TerminateProcess). */
static inline void xt_kill(xt_pid pid)
{
#ifdef _WIN32
    XT_ASSERT(TerminateProcess(pid, XT_KILLED));
#else
    XT_ASSERT(kill(pid, SIGKILL) == 0);
#endif
}

#endif
