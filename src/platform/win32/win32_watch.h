/*
 * The socket side of a watched process (xipc_plat_proc_watch, in
 * win32_watch.c). xipc_plat_proc_alive and _close reach it through this
 * table, which xipc_plat_proc_watch installs: a process with sock = 1
 * exists only after that ran, so win32_proc.c links without the stream
 * socket group. Not part of the platform contract.
 */
#ifndef XIPC_PLATFORM_WIN32_WATCH_H
#define XIPC_PLATFORM_WIN32_WATCH_H

#include <stdint.h>

typedef struct xipc__win32_watch_ops {
    int (*hung_up)(intptr_t s); /* 1: the peer is gone */
    void (*close)(intptr_t s);
} xipc__win32_watch_ops;

extern const xipc__win32_watch_ops *_Atomic xipc__win32_watch;

#endif
