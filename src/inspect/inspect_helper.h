/*
 * Asking the 64-bit helper (docs/inspect.md, "The 64-bit helper"): what
 * inspect.c does when the platform layer answers XIPC_PLAT_BEYOND. Each
 * call starts the helper, asks, and ends it: no state survives a call, so
 * there is nothing to share between threads or to clean up at exit.
 */
#ifndef XIPC_INSPECT_HELPER_H
#define XIPC_INSPECT_HELPER_H

#include "xipc/inspect.h"

/* The environment variable that names the helper program. */
#define XIPC_HELPER_ENV "XIPC_HELPER64"

/* The helper's path: $XIPC_HELPER64, else the build's XIPC_HELPER64
 * define; NULL when neither names one. */
const char *xipc__helper_path(void);

/* xipc_proc_modules and xipc_proc_read through the helper. @p why is the platform
 * layer's reason for asking, put in the detail when no helper is found. */
xipc_err xipc__helper_modules(uint32_t pid, void (*fn)(const xipc_module_info *m, void *arg),
                              void *arg, const char *why);
xipc_err xipc__helper_peek(uint32_t pid, uint64_t addr, void *buf, size_t len, size_t *got,
                           const char *why);

/* 1 (and the detail says why) when @p len bytes at @p addr lie beyond
 * this process's pointers: a 32-bit process and a 64-bit address. */
int xipc__inspect_beyond(uint64_t addr, size_t len);

/* How many calls went to a helper in this process (for tests). */
unsigned xipc__helper_calls(void);

#endif
