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

#include "platform/win32/win32.h"
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

/* 1 in a Windows program that runs under wine (whose ntdll has
 * wine_get_version): where a test asserts wine's own behaviour. */
static inline int xt_under_wine(void)
{
#ifdef _WIN32
    HMODULE nt = GetModuleHandleA("ntdll.dll");
    return nt != NULL && GetProcAddress(nt, "wine_get_version") != NULL;
#else
    return 0;
#endif
}


/* Start @p prog with @p argv (argv[0] is replaced by @p prog). */
static inline xt_pid xt_startv(const char *prog, char *const argv[])
{
#ifdef _WIN32
    char *args[XT_EXEC_ARGS + 1];
    size_t n = 0;
    args[n++] = (char *)prog;
    for (size_t i = 1; argv[0] != NULL && argv[i] != NULL && n < XT_EXEC_ARGS; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    wchar_t *cmd, *wprog;
    XT_OK(xipc__win32_cmdline(args, &cmd));
    XT_OK(xipc__win32_wide(prog, &wprog));
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    memset(&si, 0, sizeof(si));
    si.cb = sizeof(si);
    fflush(stdout);
    fflush(stderr);
    /* wine's CreateProcess fails now and then with ERROR_INTERNAL_ERROR
     * (1359) while other wine processes start and die (fault_test mq
     * under ctest -j2): that one is tried again, a few times */
    for (int tries = 0; !CreateProcessW(wprog, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi);
         tries++) {
        if (GetLastError() != ERROR_INTERNAL_ERROR || tries >= 5)
            XT_FAIL("cannot start %s: Windows error %lu", prog, GetLastError());
        Sleep(50);
    }
    free(cmd);
    free(wprog);
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
