/*
 * xipc/inspect.h — looking at other processes across bitness: the
 * processes of this host and their bitness, the modules (executable
 * images) a process has mapped, and reading its memory. Nothing is
 * injected into the target; docs/inspect.md says what each port uses.
 *
 * Addresses are uint64_t in every build, so a 32-bit caller can name any
 * address of a 64-bit process. Where the caller cannot reach such an
 * address itself (a 32-bit process: process_vm_readv's and
 * ReadProcessMemory's pointers are 32 bits wide), the library asks a
 * 64-bit helper — the 64-bit `xipc` program — over an xipc_spawn()
 * channel, and the caller sees the same answers (docs/inspect.md, "The
 * 64-bit helper").
 *
 * Results come to a callback, as xipc_endpoints() does: @p fn is called
 * once per item with @p arg; the item and its strings are valid during the
 * call only. Every function sets xipc_last_detail() on failure; a
 * permission failure says why (another user's process, ptrace_scope).
 */
#ifndef XIPC_INSPECT_H
#define XIPC_INSPECT_H

#include "xipc/xipc.h"

#ifdef __cplusplus
extern "C" {
#endif

/*! One process found by xipc_proc_list(). */
typedef struct xipc_proc_info {
    uint32_t pid;
    uint32_t ppid;      /*!< the parent's pid; 0 when unknown */
    unsigned bits;      /*!< 32 or 64; 0 when it cannot be known (no
                         *   executable image, or no access to it) */
    const char *name;   /*!< the program's name (Linux: comm; Windows: the
                         *   executable's file name); never NULL */
} xipc_proc_info;

/*!
 * List the processes of this host. Processes that end while the list is
 * made are left out.
 * @return XIPC_OK; XIPC_EINVAL when @p fn is NULL; XIPC_ESYS when the
 *         process table cannot be read at all
 */
XIPC_API xipc_err xipc_proc_list(void (*fn)(const xipc_proc_info *p, void *arg),
                                 void *arg);

/*! One module (an executable image: the program, a shared library, a
 *  DLL) of a process, found by xipc_proc_modules(). */
typedef struct xipc_module_info {
    const char *path; /*!< its file as the target's OS names it */
    uint64_t base;    /*!< the address its image starts at in the target */
    uint64_t size;    /*!< bytes from base to the end of its last mapping */
    unsigned bits;    /*!< 32 or 64 from its headers; 0 when unreadable */
} xipc_module_info;

/*!
 * List the modules of process @p pid, in ascending base address order.
 * @return XIPC_OK; XIPC_EINVAL (@p fn NULL); XIPC_ENOENT (no such
 *         process); XIPC_EPERM (not allowed to look: xipc_last_detail()
 *         says why); XIPC_ENOTSUP (the target is beyond this process's
 *         reach and no 64-bit helper could be asked: the detail says why);
 *         XIPC_EPROTO (the helper answered garbage); XIPC_ESYS
 */
XIPC_API xipc_err xipc_proc_modules(uint32_t pid,
                               void (*fn)(const xipc_module_info *m, void *arg),
                               void *arg);

/*!
 * Read @p len bytes at address @p addr of process @p pid into @p buf.
 * @p got receives how many bytes were read from @p addr on: @p len, or
 * fewer when the range runs into memory the target has not mapped.
 * @return XIPC_OK (at least one byte read); XIPC_EINVAL (NULL @p buf or
 *         @p got, @p len 0, the range wraps past 2^64, or nothing is
 *         mapped at @p addr: the detail says which); XIPC_ENOENT (no such
 *         process); XIPC_EPERM (the detail says why: another user's
 *         process, ptrace_scope, ...); XIPC_ENOTSUP, XIPC_EPROTO as for
 *         xipc_proc_modules(); XIPC_ESYS
 */
XIPC_API xipc_err xipc_proc_read(uint32_t pid, uint64_t addr, void *buf, size_t len,
                            size_t *got);

/*!
 * The 64-bit helper's side: answer the inspection requests that arrive on
 * @p s (the channel from xipc_sock_from_parent()) until the peer closes
 * it. The `xipc` program runs this as its hidden `inspect-helper`
 * command; another 64-bit program may serve the same way.
 * @return XIPC_OK when the peer closed; XIPC_EPROTO (a malformed request:
 *         the channel is not used further), or the channel's error
 */
XIPC_API xipc_err xipc_inspect_serve(xipc_sock *s);

#ifdef __cplusplus
}
#endif
#endif /* XIPC_INSPECT_H */
