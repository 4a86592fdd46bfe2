/*
 * The supervisor of `xipc host` (host.h): the host runs as a child, so
 * that a crash in the library it called ends only that child. A death by
 * a signal is reported with the signal's name; with --restart the host
 * is started again at once, and its clients dial again. A host that
 * exits by itself (it could not load the library, bind a URL...) said
 * why already: that ends the supervisor with its exit code, restarting
 * would only repeat it; so does a host that dies RUN_QUICK_DEATHS times
 * in a row within a second of its start (a library that crashes as it
 * loads), instead of restarting forever.
 *
 * On Linux the host dies with its supervisor (PR_SET_PDEATHSIG): a
 * supervisor killed outright leaves no host behind holding the URLs.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "cli.h"
#include "host.h"

#define RUN_QUICK_DEATHS 5 /* deaths within a second of the start, in a row */

const char *host_self_path(void)
{
    return "/proc/self/exe";
}

long host_self_pid(void)
{
    return (long)getpid();
}

/* fork and exec @p argv. @return the child, or -1 after a message */
static pid_t run_child(char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
        execv(argv[0], argv);
        fprintf(stderr, "xipc: host: %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    if (pid < 0)
        cli_fail_errno("host: fork", errno);
    return pid;
}

/* Wait for @p pid to end; on a signal to us, pass SIGTERM on first.
 * @return its wait status */
static int run_wait(pid_t pid, int *stopped)
{
    int st = 0;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return st;
        if (cli_signal_caught() != 0 && !*stopped) {
            *stopped = 1;
            kill(pid, SIGTERM);
        }
        cli_sleep_ms(CLI_SLICE_MS / 10);
    }
}

static double run_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int host_supervise(const host_cfg *cfg, char *const argv[])
{
    int stopped = 0, quick = 0;
    cli_signals_init();
    for (;;) {
        double t0 = run_now_s();
        pid_t pid = run_child(argv);
        if (pid < 0)
            return CLI_EXIT_FAIL;
        fprintf(stderr, "host: host process %ld started\n", (long)pid);
        fflush(stderr);
        int st = run_wait(pid, &stopped);
        if (stopped)
            return CLI_EXIT_OK;
        if (WIFEXITED(st))
            return WEXITSTATUS(st) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
        int sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
        quick = run_now_s() - t0 < 1.0 ? quick + 1 : 0;
        int again = cfg->restart && quick < RUN_QUICK_DEATHS;
        fprintf(stderr,
                "xipc: host: %s: the host process %ld died of signal %d (%s): the library "
                "crashed in a call; the calls in flight failed (connection closed)%s\n",
                cfg->lib, (long)pid, sig, strsignal(sig),
                again ? "; restarting it (--restart)" : "");
        if (cfg->restart && !again)
            fprintf(stderr, "xipc: host: %s: it died %d times in a row within a second of "
                    "its start: not restarting it again\n", cfg->lib, quick);
        fflush(stderr);
        if (!again)
            return CLI_EXIT_FAIL;
    }
}
