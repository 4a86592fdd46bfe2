/*
 * Starting programs anew on Windows: this one again (a peer program,
 * xipc_spawn's child). There is no scripts/run32 here: a 32-bit xipc.exe
 * runs under WOW64 directly, and --peer32 is for the shm suite, which is
 * POSIX only so far.
 */
#include <windows.h>
#include <stdio.h>

#include "harness/exec.h"
#include "harness/runner.h"

const char *bench_emulated(void)
{
    return NULL;
}

int bench_run32_how(const char *prog, char *how, size_t cap)
{
    (void)cap;
    how[0] = '\0';
    bench_set_error("%s: scripts/run32 is not available here", prog);
    return -1;
}

/* This program's path. */
static const char *exec_self(void)
{
    static char self[MAX_PATH * 4];
    if (self[0] == '\0') {
        DWORD n = GetModuleFileNameA(NULL, self, sizeof(self));
        if (n == 0 || n >= sizeof(self)) {
            self[0] = '\0';
            bench_set_error("GetModuleFileName: Windows error %lu",
                            (unsigned long)GetLastError());
            return NULL;
        }
    }
    return self;
}

const char *bench_exec_argv(char *argv[BENCH_EXEC_ARGS + 3], const char *prog,
                            char *const args[])
{
    if (prog == NULL && (prog = exec_self()) == NULL)
        return NULL;
    size_t n = 0;
    argv[n++] = (char *)prog;
    for (size_t i = 0; args[i] != NULL; i++) {
        if (i == BENCH_EXEC_ARGS) {
            bench_set_error("too many arguments for %s", prog);
            return NULL;
        }
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    return argv[0];
}
