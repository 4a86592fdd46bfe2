/*
 * The programs the bench starts with exec rather than fork: this program
 * again (xipc_spawn's child, nng's peer) and the other-bitness xipc of
 * --peer32. A 32-bit one starts through scripts/run32, the one place that
 * knows how (directly, or under qemu-i386 where the kernel cannot run
 * 32-bit programs; docs/testing.md); the build passes its path.
 */
#ifndef XIPC_BENCH_EXEC_H
#define XIPC_BENCH_EXEC_H

#include <stddef.h>

/* Most arguments of a program started here, its name included. */
#define BENCH_EXEC_ARGS 16

/*
 * NULL when this process runs on the CPU; else the "qemu-i386: WHY" text
 * scripts/run32 gave it (a 32-bit build started under emulation). Every
 * row measured so is marked, and no target is judged on it.
 */
const char *bench_emulated(void);

/*
 * How scripts/run32 would start @p prog: "" on the CPU, else
 * "qemu-i386: WHY" into @p how.
 * @return 0, or -1 after bench_set_error() (it cannot be started: why)
 */
int bench_run32_how(const char *prog, char *how, size_t cap);

/*
 * The command line that starts @p prog with @p args (NULL-terminated, no
 * argv[0]): "run32 PROG ARGS...". @p prog NULL: this program again, which
 * runs directly unless this process is emulated (under qemu-i386, exec
 * of /proc/self/exe would start qemu itself).
 * @return the program to exec (@p argv[0]), or NULL after bench_set_error()
 */
const char *bench_exec_argv(char *argv[BENCH_EXEC_ARGS + 3], const char *prog,
                            char *const args[]);

#endif
