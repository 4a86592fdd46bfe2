/*
 * These are the functions a platform port must implement
 * (src/platform/posix/, src/platform/win32/). Nothing above src/platform
 * includes an OS header; everything it needs from the OS is here.
 *
 * All functions are thread-safe. Errors are xipc_err values; where a
 * system call failed the port returns XIPC_ESYS after recording errno with
 * xipc__set_syserr().
 */
#ifndef XIPC_CORE_PLATFORM_H
#define XIPC_CORE_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#include "xipc/xipc.h"

/* ---- time ---------------------------------------------------------------- */

/* Monotonic clock in nanoseconds. */
uint64_t xipc_plat_now_ns(void);

/* Sleep the calling thread for about @p us microseconds. */
void xipc_plat_sleep_us(uint32_t us);

/* A hint to the CPU inside spin loops (pause). */
void xipc_plat_cpu_relax(void);

/* ---- processes ----------------------------------------------------------- */

uint32_t xipc_plat_getpid(void);

/* User id of the caller (for object names and ownership checks). */
uint32_t xipc_plat_getuid(void);

/*
 * A handle that observes another process, opened once and polled cheaply
 * (pidfd on Linux, a process handle on Windows).
 */
typedef struct xipc_plat_proc {
    intptr_t handle; /* -1: none, liveness falls back to a pid probe */
    uint32_t pid;
} xipc_plat_proc;

void xipc_plat_proc_open(xipc_plat_proc *p, uint32_t pid);
void xipc_plat_proc_close(xipc_plat_proc *p);
/* 1 when the process is alive (or cannot be proved dead), 0 when gone. */
int xipc_plat_proc_alive(xipc_plat_proc *p);
/* One-shot check without a handle. */
int xipc_plat_pid_alive(uint32_t pid);

/* ---- futex: wait on a 32-bit word in memory shared between processes --- */

/*
 * Sleep while *addr == expected, at most @p timeout_us microseconds
 * (never forever: callers loop to notice dead peers).
 * Returns XIPC_OK on wake-up or value change, XIPC_ETIMEDOUT.
 */
xipc_err xipc_plat_futex_wait(uint32_t *addr, uint32_t expected,
                              uint32_t timeout_us);
/* Wake every sleeper on @p addr. */
void xipc_plat_futex_wake(uint32_t *addr);

/* ---- named shared memory ------------------------------------------------- */

typedef struct xipc_plat_shm {
    void *base;
    size_t size;
    intptr_t handle;
} xipc_plat_shm;

/*
 * Create a new object @p name (exclusive; owner-only access) of @p size
 * bytes, zero-filled, and map it read-write.
 * XIPC_EADDRINUSE when the name exists.
 */
xipc_err xipc_plat_shm_create(xipc_plat_shm *m, const char *name, size_t size);

/*
 * Open and map an existing object. Refuses (XIPC_EPERM) an object owned by
 * another user or accessible by others. @p size receives the object's
 * real size; the whole object is mapped. XIPC_ENOENT when absent.
 */
xipc_err xipc_plat_shm_open(xipc_plat_shm *m, const char *name);

/* Unmap (does not remove the name). */
void xipc_plat_shm_unmap(xipc_plat_shm *m);

/* Remove the name; mappings stay valid. */
void xipc_plat_shm_unlink(const char *name);

/* Call @p fn for each existing object whose name starts with @p prefix. */
void xipc_plat_shm_list(const char *prefix,
                        void (*fn)(const char *name, void *arg), void *arg);

/* ---- the per-user runtime directory ---------------------------------------- */

/*
 * The folder for this user's endpoints ($XDG_RUNTIME_DIR/xipc, else
 * /tmp/xipc-<uid>), created 0700 when missing; refused (XIPC_EPERM) when it
 * exists but is not a directory owned by us with mode 0700. @p sub, when
 * not NULL, names a subfolder created the same way.
 */
xipc_err xipc_plat_rundir(char *buf, size_t cap, const char *sub);

/* ---- errors -------------------------------------------------------------- */

/* Record the system error code behind an XIPC_ESYS (thread-local). */
void xipc__set_syserr(int code);

#endif
