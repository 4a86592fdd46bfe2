/*
 * Process identity and liveness for the Windows port: process handles,
 * and a 32-bit hash of the token user SID where POSIX has a uid
 * (win32.h); a peer watched through a connected stream object.
 */
#include <windows.h>

#include "platform/win32/win32_sec.h"

/* What a process handle of ours may do: wait for it, ask who runs it. */
#define PROC_ACCESS (SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION)

uint32_t xipc_plat_getpid(void)
{
    return (uint32_t)GetCurrentProcessId();
}

/* FNV-1a over the SID's bytes; never 0, which stays "no user". */
static uint32_t proc_sid_hash(PSID sid)
{
    const unsigned char *b = sid;
    DWORD n = GetLengthSid(sid);
    uint32_t h = 2166136261u;
    for (DWORD i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h != 0 ? h : 1;
}

uint32_t xipc_plat_getuid(void)
{
    PSID sid = xipc__win32_user_sid();
    return sid != NULL ? proc_sid_hash(sid) : UINT32_MAX; /* unreadable token: nobody */
}

/*
 * OpenProcess, with "no such process" told apart: Windows answers
 * ERROR_INVALID_PARAMETER for a pid that names nothing. It also ignores
 * the two low bits of a pid (pids are multiples of 4): 4n+1 would open
 * process 4n, so the pid of what was opened must be the one asked for.
 */
static xipc_err proc_handle(uint32_t pid, DWORD access, HANDLE *out)
{
    if (pid == 0) /* the idle process: never one of ours */
        return XIPC_ENOENT;
    *out = OpenProcess(access, FALSE, (DWORD)pid);
    if (*out != NULL) {
        if (GetProcessId(*out) == (DWORD)pid)
            return XIPC_OK;
        CloseHandle(*out);
        return XIPC_ENOENT;
    }
    DWORD e = GetLastError();
    xipc_err rv = xipc__win32_err(e);
    return e == ERROR_INVALID_PARAMETER ? XIPC_ENOENT : rv;
}

/* The token user SID of process @p pid. */
static xipc_err proc_sid(uint32_t pid, unsigned char sid[SECURITY_MAX_SID_SIZE])
{
    HANDLE h;
    xipc_err rv = proc_handle(pid, PROCESS_QUERY_LIMITED_INFORMATION, &h);
    if (rv != XIPC_OK)
        return rv;
    rv = xipc__win32_process_sid(h, sid);
    CloseHandle(h);
    return rv;
}

xipc_err xipc__win32_uid_of_pid(uint32_t pid, uint32_t *uid)
{
    unsigned char sid[SECURITY_MAX_SID_SIZE];
    xipc_err rv = proc_sid(pid, sid);
    if (rv == XIPC_OK)
        *uid = proc_sid_hash(sid);
    return rv;
}

int xipc__win32_same_user(uint32_t pid)
{
    unsigned char sid[SECURITY_MAX_SID_SIZE];
    PSID user = xipc__win32_user_sid();
    return user != NULL && proc_sid(pid, sid) == XIPC_OK && EqualSid(sid, user);
}

/*
 * A one-shot probe. A process object outlives its process while anyone
 * holds a handle to it (as a zombie does on POSIX): it is alive only if
 * it has not exited. A process we may not open exists (as EPERM does).
 */
int xipc_plat_pid_alive(uint32_t pid)
{
    HANDLE h;
    xipc_err rv = proc_handle(pid, PROC_ACCESS, &h);
    if (rv == XIPC_EPERM) {
        /* not allowed to wait for it: perhaps to ask for its exit code */
        if (proc_handle(pid, PROCESS_QUERY_LIMITED_INFORMATION, &h) != XIPC_OK)
            return 1;
        DWORD code;
        int alive = !GetExitCodeProcess(h, &code) || code == STILL_ACTIVE;
        CloseHandle(h);
        return alive;
    }
    if (rv != XIPC_OK)
        return rv != XIPC_ENOENT; /* an unknown failure proves nothing */
    int alive = WaitForSingleObject(h, 0) != WAIT_OBJECT_0;
    CloseHandle(h);
    return alive;
}

/*
 * A peer watched through a connected stream object (xipc_plat_proc_watch).
 * POSIX asks poll() for a hang-up only (POLLRDHUP): bytes the peer writes
 * neither make it look gone nor hide that it is. The contract has no such
 * question (xipc_plat_sock_wait reports "readable or hung up" alike, and
 * xipc_plat_sock_recv cannot peek), so here a readable socket is drained:
 * nobody reads a watch socket once the connection is made (shm://), so
 * whatever a peer wrote there is junk, and the hang-up comes after it.
 */
/* Bytes drained in one liveness check: a dead peer's backlog of junk is
 * gone after a few checks; a live one that keeps writing stays alive. */
#define WATCH_DRAIN 4096

static int proc_hung_up(xipc_plat_sock s)
{
    unsigned char junk[512];
    for (size_t drained = 0; drained < WATCH_DRAIN; drained += sizeof(junk)) {
        if (xipc_plat_sock_wait(s, 0, 0) != XIPC_OK)
            return 0; /* nothing pending (or an error, which proves nothing) */
        size_t got;
        xipc_err rv = xipc_plat_sock_recv(s, junk, sizeof(junk), &got, 0);
        if (rv == XIPC_ECLOSED)
            return 1;
        if (rv != XIPC_OK)
            return 0;
    }
    return 0;
}

void xipc_plat_proc_watch(xipc_plat_proc *p, intptr_t s, uint32_t pid)
{
    p->pid = pid;
    p->handle = s;
    p->sock = 1;
    atomic_store_explicit(&p->dead, 0, memory_order_relaxed);
}

/* The handle keeps the process object, so its pid cannot be reused while
 * we hold it: the answer is about this very process. */
void xipc_plat_proc_open(xipc_plat_proc *p, uint32_t pid)
{
    HANDLE h;
    p->pid = pid;
    p->handle = proc_handle(pid, PROC_ACCESS, &h) == XIPC_OK ? (intptr_t)h : -1;
    p->sock = 0;
    atomic_store_explicit(&p->dead, 0, memory_order_relaxed);
}

void xipc_plat_proc_close(xipc_plat_proc *p)
{
    if (p->handle != -1) {
        if (p->sock)
            xipc_plat_sock_close((xipc_plat_sock)p->handle);
        else
            CloseHandle((HANDLE)p->handle);
    }
    p->handle = -1;
}

int xipc_plat_proc_alive(xipc_plat_proc *p)
{
    if (atomic_load_explicit(&p->dead, memory_order_relaxed))
        return 0;
    int dead;
    if (p->handle != -1 && p->sock)
        dead = proc_hung_up((xipc_plat_sock)p->handle);
    else if (p->handle != -1) /* WAIT_FAILED proves nothing */
        dead = WaitForSingleObject((HANDLE)p->handle, 0) == WAIT_OBJECT_0;
    else
        dead = !xipc_plat_pid_alive(p->pid);
    if (dead)
        atomic_store_explicit(&p->dead, 1, memory_order_relaxed);
    return !dead;
}
