/*
 * `xipc host` (docs/host.md): the pieces cmd_host.c puts together.
 *
 *   supervisor (cmd_host.c, posix/host_run.c)  the xipc that was started:
 *       checks the signatures, finds LIB's bitness, starts the host of
 *       that bitness as a child and watches it; reports its death, and
 *       with --restart starts it again.
 *   host (host_serve.c, host_call.c)  `xipc host --child ...`, this xipc
 *       or the m32 build's one (through scripts/run32): loads LIB and
 *       serves its functions at the URLs.
 */
#ifndef XIPC_TOOLS_HOST_H
#define XIPC_TOOLS_HOST_H

#include <stddef.h>

#include "host_sig.h"

typedef struct host_cfg {
    const char *lib;
    char **sigs;      /* the values of --sig and --fn, in order (into argv) */
    int *sig_is_file; /* per sigs[i]: 1 for --sig FILE */
    int nsigs;
    char **urls;
    int nurls;
    long workers; /* 0: 1 (a library need not be thread-safe) */
    int restart;
    int inline_calls; /* --inline: XIPC_RPC_INLINE */
    int child;
    const char *host32; /* --host32 PROG, else $XIPC_HOST32 */
    const char *run32;  /* --run32 PROG, else $XIPC_RUN32 */
} host_cfg;

/*
 * The bitness of the library file @p path: 32 or 64 from the ELF class
 * (x86 and x86-64 only), or from a PE file's machine.
 * @return 32, 64, or 0 with the reason in @p why
 */
int host_lib_bits(const char *path, char *why, size_t cap);

/*
 * Parse every --sig FILE and --fn of @p cfg into @p s; on an error print
 * "xipc: host: WHERE:LINE:COL: WHY".
 * @return 0, or -1
 */
int host_sigs_load(const host_cfg *cfg, host_sigs *s);

/* The host: load the library, serve its functions until a signal.
 * @return an exit code */
int host_serve(const host_cfg *cfg, const host_sigs *s);

/*
 * The supervisor: run @p argv (the host, NULL-terminated) as a child
 * until a signal; after the child's death by a signal, say so and, with
 * cfg->restart, start it again. @return an exit code
 */
int host_supervise(const host_cfg *cfg, char *const argv[]);

/* The path that starts this program again ("/proc/self/exe"). */
const char *host_self_path(void);

/* This process's id. */
long host_self_pid(void);

#endif
