/* Starting programs with exec: this one again, or the --peer32 xipc. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/exec.h"
#include "harness/runner.h"

#ifndef XIPC_RUN32
#error "XIPC_RUN32 (the path of scripts/run32) must be defined by the build"
#endif

const char *bench_emulated(void)
{
    const char *e = getenv("XIPC_EMULATED"); /* set by scripts/run32 */
    return sizeof(void *) == 4 && e != NULL && e[0] != '\0' ? e : NULL;
}

int bench_run32_how(const char *prog, char *how, size_t cap)
{
    char cmd[1200];
    how[0] = '\0';
    if (strchr(prog, '\'') != NULL ||
        (size_t)snprintf(cmd, sizeof(cmd), "'%s' --how '%s' 2>&1", XIPC_RUN32, prog) >=
            sizeof(cmd)) {
        bench_set_error("%s: not a path run32 can take", prog);
        return -1;
    }
    FILE *p = popen(cmd, "r");
    if (p == NULL) {
        bench_set_error("%s: %s", XIPC_RUN32, strerror(errno));
        return -1;
    }
    char line[512] = "";
    if (fgets(line, sizeof(line), p) == NULL)
        line[0] = '\0';
    int st = pclose(p);
    line[strcspn(line, "\n")] = '\0';
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        bench_set_error("%s", line[0] ? line : "scripts/run32 failed");
        return -1;
    }
    if (strcmp(line, "native") != 0)
        snprintf(how, cap, "%s", line);
    return 0;
}

/* This program's path: qemu-user answers readlink for the guest. */
static const char *exec_self(void)
{
    static char self[4096];
    if (self[0] == '\0') {
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n <= 0) {
            bench_set_error("readlink /proc/self/exe: %s", strerror(errno));
            return NULL;
        }
        self[n] = '\0';
    }
    return self;
}

const char *bench_exec_argv(char *argv[BENCH_EXEC_ARGS + 3], const char *prog,
                            char *const args[])
{
    size_t n = 0;
    if (prog == NULL && bench_emulated() == NULL) {
        argv[n++] = "/proc/self/exe";
    } else {
        if (prog == NULL && (prog = exec_self()) == NULL)
            return NULL;
        if (access(XIPC_RUN32, X_OK) != 0) {
            bench_set_error("%s: %s (a 32-bit program starts through it)", XIPC_RUN32,
                            strerror(errno));
            return NULL;
        }
        argv[n++] = XIPC_RUN32;
        argv[n++] = (char *)prog;
    }
    for (size_t i = 0; args[i] != NULL; i++) {
        if (i == BENCH_EXEC_ARGS) {
            bench_set_error("too many arguments for %s", argv[0]);
            return NULL;
        }
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    return argv[0];
}
