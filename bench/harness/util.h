/* Small helpers the drivers and the runner share. */
#ifndef XIPC_BENCH_UTIL_H
#define XIPC_BENCH_UTIL_H

#include <stddef.h>

/* A TCP port on 127.0.0.1 free right now (bound, read, closed), or -1. */
int bench_free_port(void);

/* Sleep @p us microseconds. */
void bench_nap_us(unsigned us);

/* The directory for socket files of the comparison drivers: created
 * once per run, mode 0700 ("/tmp/xipc-bench.<pid>"; Windows:
 * "%TEMP%\xipc-bench.<pid>"). NULL on failure. */
const char *bench_tmpdir(void);

/* Remove bench_tmpdir() and what is left in it (end of a run). */
void bench_tmpdir_remove(void);

/* A peer that died must be an error, not a SIGPIPE for the caller: ignore
 * it while a suite runs (@p on 1), then restore it (0). Nothing to do on
 * Windows (posix/sig.c, win32/sig.c). */
void bench_sig_pipe(int on);

#endif
