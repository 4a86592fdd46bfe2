/*
 * Watching a peer through a connected stream object (xipc_plat_proc_watch)
 * for the Windows port, built on the stream-socket group of the contract
 * alone, so it needs no knowledge of what the object is.
 *
 * POSIX asks poll() for a hang-up only (POLLRDHUP): bytes the peer writes
 * neither make it look gone nor hide that it is. The contract has no such
 * question (xipc_plat_sock_wait reports "readable or hung up" alike, and
 * xipc_plat_sock_recv cannot peek), so here a readable socket is drained:
 * nobody reads a watch socket once the connection is made (shm://), so
 * whatever a peer wrote there is junk, and the hang-up comes after it.
 */
#include "platform/win32/win32_watch.h"

#include "core/platform.h"

/* Bytes drained in one liveness check: a dead peer's backlog of junk is
 * gone after a few checks; a live one that keeps writing stays alive. */
#define WATCH_DRAIN 4096

static int watch_hung_up(intptr_t s)
{
    unsigned char junk[512];
    for (size_t drained = 0; drained < WATCH_DRAIN; drained += sizeof(junk)) {
        if (xipc_plat_sock_wait((xipc_plat_sock)s, 0, 0) != XIPC_OK)
            return 0; /* nothing pending (or an error, which proves nothing) */
        size_t got;
        xipc_err rv = xipc_plat_sock_recv((xipc_plat_sock)s, junk, sizeof(junk), &got, 0);
        if (rv == XIPC_ECLOSED)
            return 1;
        if (rv != XIPC_OK)
            return 0;
    }
    return 0;
}

static void watch_close(intptr_t s)
{
    xipc_plat_sock_close((xipc_plat_sock)s);
}

static const xipc__win32_watch_ops watch_ops = {
    .hung_up = watch_hung_up,
    .close = watch_close,
};

void xipc_plat_proc_watch(xipc_plat_proc *p, intptr_t s, uint32_t pid)
{
    atomic_store(&xipc__win32_watch, &watch_ops);
    p->pid = pid;
    p->handle = s;
    p->sock = 1;
    atomic_store_explicit(&p->dead, 0, memory_order_relaxed);
}
