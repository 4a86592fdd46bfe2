/*
 * Starting a program that may be 32-bit, and knowing whether a process is
 * emulated. Every test that execs a peer goes through scripts/run32 (the
 * one place that knows how: directly, or under qemu-i386 where the kernel
 * cannot run 32-bit programs; docs/testing.md, "32-bit programs"). The
 * build passes its path as XIPC_RUN32.
 */
#ifndef XIPC_TESTS_RUN32_H
#define XIPC_TESTS_RUN32_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#define XT_EXEC_ARGS 32 /* at most this many arguments, argv[0] included */

/* @p prog and the NULL-terminated arguments @p ap into @p argv (room for
 * XT_EXEC_ARGS + 1), argv[0] = @p prog. */
static inline void xt_args_collect(char **argv, const char *prog, va_list ap)
{
    size_t n = 0;
    argv[n++] = (char *)prog;
    char *a;
    while ((a = va_arg(ap, char *)) != NULL && n < XT_EXEC_ARGS)
        argv[n++] = a;
    argv[n] = NULL;
}

#ifdef _WIN32
/* No 32-bit programs run here under wine (docs/testing.md): every peer of
 * a Windows test runs on the CPU, and timing bounds stay as they are. */
static inline int xt_peer_emulated(const char *who, const char *prog)
{
    (void)who;
    (void)prog;
    return 0;
}

static inline const char *xt_self_emulated(void)
{
    return NULL;
}

static inline uint64_t xt_bound_ms(const char *what, uint64_t ms, int peer_emu)
{
    (void)what;
    (void)peer_emu;
    return ms;
}
#else
#include <unistd.h>

#ifndef XIPC_RUN32
#error "XIPC_RUN32 (the path of scripts/run32) must be defined by the build"
#endif

/* write(2) @p s to stderr: all a forked child of a threaded test may do */
static inline void xt_exec_say(const char *s)
{
    if (write(2, s, strlen(s)) < 0)
        return;
}

/*
 * exec @p prog with @p argv (argv[0] is replaced by @p prog) through
 * scripts/run32. Only returns on failure: says why and _exit(127)s. For a
 * forked child, also of a threaded process: no malloc, no stdio.
 */
static inline void xt_execv(const char *prog, char *const argv[])
{
    char *args[XT_EXEC_ARGS + 2];
    size_t n = 0;
    args[0] = (char *)XIPC_RUN32;
    args[1] = (char *)prog;
    while (argv[0] != NULL && argv[n + 1] != NULL && n + 1 < XT_EXEC_ARGS) {
        args[n + 2] = argv[n + 1];
        n++;
    }
    args[n + 2] = NULL;
    if (argv[0] != NULL && argv[n + 1] != NULL) {
        xt_exec_say("xt_execv: too many arguments\n");
        _exit(127);
    }
    execv(XIPC_RUN32, args);
    xt_exec_say("exec " XIPC_RUN32 ": ");
    xt_exec_say(strerror(errno));
    xt_exec_say("\n");
    _exit(127);
}

/*
 * xt_execv with the arguments after @p prog listed, NULL-terminated:
 * xt_exec(peer, "serve", url, (char *)NULL) runs "peer serve URL".
 */
static inline void xt_exec(const char *prog, ...)
{
    char *argv[XT_EXEC_ARGS + 1];
    va_list ap;
    va_start(ap, prog);
    xt_args_collect(argv, prog, ap);
    va_end(ap);
    xt_execv(prog, argv);
}

/*
 * How run32 starts @p prog: NULL when it runs on the CPU, else the
 * "qemu-i386: <why>" text (in a static buffer). A program that neither the
 * kernel nor qemu-i386 can start fails the test with run32's reason:
 * a cross-bitness test never passes without its peer.
 */
static inline const char *xt_run32_how(const char *prog)
{
    static char how[256];
    char cmd[1024];
    int n = snprintf(cmd, sizeof(cmd), "'%s' --how '%s' 2>&1", XIPC_RUN32, prog);
    XT_ASSERT(n > 0 && (size_t)n < sizeof(cmd) && strchr(prog, '\'') == NULL);
    FILE *p = popen(cmd, "r");
    XT_ASSERT(p != NULL);
    if (fgets(how, sizeof(how), p) == NULL)
        how[0] = 0;
    int st = pclose(p);
    how[strcspn(how, "\n")] = 0;
    if (st != 0)
        XT_FAIL("cannot start %s: %s", prog, how);
    return strcmp(how, "native") == 0 ? NULL : how;
}

/*
 * Announce a peer program: "<who>: peer <prog>: 32-bit (qemu-i386: <why>)"
 * when it will be emulated. @return 1 when it will be, else 0.
 */
static inline int xt_peer_emulated(const char *who, const char *prog)
{
    const char *how = xt_run32_how(prog);
    if (how != NULL)
        printf("%s: peer %s: 32-bit (%s)\n", who, prog, how);
    fflush(stdout);
    return how != NULL;
}

/*
 * This process: NULL when it runs on the CPU, else the "qemu-i386: <why>"
 * text run32 gave it.
 */
static inline const char *xt_self_emulated(void)
{
    const char *e = getenv("XIPC_EMULATED");
    return sizeof(void *) == 4 && e != NULL && e[0] != 0 ? e : NULL;
}

/* How much longer a timing bound may be under emulation: qemu-i386 ran
 * this suite 2-10x slower than the CPU on a 2-vCPU VM. */
#define XT_EMU_SLOWER 10

/*
 * A timing bound of @p ms for @p what: as it is on the CPU; multiplied by
 * XT_EMU_SLOWER when this process is emulated, or the peer the bound
 * involves (@p peer_emu, from xt_peer_emulated()), and then it says so.
 * Only how long things may take is relaxed: every message, its order and
 * what is left behind are checked all the same.
 */
static inline uint64_t xt_bound_ms(const char *what, uint64_t ms, int peer_emu)
{
    const char *self = xt_self_emulated();
    if (self == NULL && !peer_emu)
        return ms;
    printf("%s: emulated (%s): timing bound relaxed from %llu ms to %llu ms\n", what,
           self != NULL ? self : "a peer under qemu-i386", (unsigned long long)ms,
           (unsigned long long)ms * XT_EMU_SLOWER);
    fflush(stdout);
    return ms * XT_EMU_SLOWER;
}

#endif /* _WIN32 */

#endif
