/* Threads (joinable and detached), mutexes and condition variables for the
 * Windows port: SRW locks and condition variables, _beginthreadex. */
#include <errno.h>
#include <process.h>
#include <stdalign.h>
#include <stdlib.h>
#include <windows.h>

#include "platform/win32/win32.h"

_Static_assert(sizeof(SRWLOCK) <= sizeof(xipc_plat_mutex), "xipc_plat_mutex too small");
_Static_assert(alignof(SRWLOCK) <= alignof(xipc_plat_mutex), "xipc_plat_mutex under-aligned");
_Static_assert(sizeof(CONDITION_VARIABLE) <= sizeof(xipc_plat_cond), "xipc_plat_cond too small");
_Static_assert(alignof(CONDITION_VARIABLE) <= alignof(xipc_plat_cond),
               "xipc_plat_cond under-aligned");

#define SYNC_MUTEX(m) ((SRWLOCK *)(void *)(m)->opaque)
#define SYNC_COND(c) ((CONDITION_VARIABLE *)(void *)(c)->opaque)

xipc_err xipc_plat_mutex_init(xipc_plat_mutex *m)
{
    InitializeSRWLock(SYNC_MUTEX(m));
    return XIPC_OK;
}

void xipc_plat_mutex_fini(xipc_plat_mutex *m)
{
    (void)m; /* an SRW lock holds nothing to free */
}

void xipc_plat_mutex_lock(xipc_plat_mutex *m)
{
    AcquireSRWLockExclusive(SYNC_MUTEX(m));
}

int xipc_plat_mutex_trylock(xipc_plat_mutex *m)
{
    return TryAcquireSRWLockExclusive(SYNC_MUTEX(m)) != 0;
}

void xipc_plat_mutex_unlock(xipc_plat_mutex *m)
{
    ReleaseSRWLockExclusive(SYNC_MUTEX(m));
}

xipc_err xipc_plat_cond_init(xipc_plat_cond *c)
{
    InitializeConditionVariable(SYNC_COND(c));
    return XIPC_OK;
}

void xipc_plat_cond_fini(xipc_plat_cond *c)
{
    (void)c;
}

void xipc_plat_cond_signal(xipc_plat_cond *c)
{
    WakeConditionVariable(SYNC_COND(c));
}

void xipc_plat_cond_broadcast(xipc_plat_cond *c)
{
    WakeAllConditionVariable(SYNC_COND(c));
}

xipc_err xipc_plat_cond_wait(xipc_plat_cond *c, xipc_plat_mutex *m, uint64_t deadline_ns)
{
    DWORD ms = INFINITE;
    if (deadline_ns != UINT64_MAX) {
        uint64_t now = xipc_plat_now_ns();
        if (now >= deadline_ns)
            return XIPC_ETIMEDOUT;
        uint64_t left = (deadline_ns - now + 999999u) / 1000000u; /* rounded up */
        ms = left >= INFINITE ? INFINITE - 1 : (DWORD)left;
    }
    if (SleepConditionVariableSRW(SYNC_COND(c), SYNC_MUTEX(m), ms, 0))
        return XIPC_OK;
    /* a timeout is also a wake-up the caller re-checks; report it only
     * once the deadline really passed (the clock, not the timer, decides) */
    return GetLastError() == ERROR_TIMEOUT && xipc_plat_now_ns() >= deadline_ns
               ? XIPC_ETIMEDOUT
               : XIPC_OK;
}

typedef struct thread_start {
    void (*fn)(void *);
    void *arg;
} thread_start;

static unsigned __stdcall thread_main(void *p)
{
    thread_start t = *(thread_start *)p;
    free(p);
    t.fn(t.arg);
    return 0;
}

/* Start a thread; @p out gets its handle (NULL: detached, closed here). */
static xipc_err thread_start_new(void (*fn)(void *), void *arg, size_t stack_bytes,
                                 HANDLE *out)
{
    thread_start *s = malloc(sizeof(*s));
    if (s == NULL)
        return XIPC_ENOMEM;
    s->fn = fn;
    s->arg = arg;
    /* the size given is reserved, not committed: the same meaning as a
     * pthread stack size */
    uintptr_t h = _beginthreadex(NULL, (unsigned)stack_bytes, thread_main, s,
                                 stack_bytes > 0 ? STACK_SIZE_PARAM_IS_A_RESERVATION : 0,
                                 NULL);
    if (h == 0) {
        int e = errno;
        free(s);
        xipc__set_syserr(e);
        return e == EAGAIN ? XIPC_ENOMEM : XIPC_ESYS;
    }
    if (out != NULL)
        *out = (HANDLE)h;
    else
        CloseHandle((HANDLE)h);
    return XIPC_OK;
}

xipc_err xipc_plat_thread_create(xipc_plat_thread *t, void (*fn)(void *), void *arg)
{
    return xipc_plat_thread_create_stack(t, fn, arg, 0);
}

xipc_err xipc_plat_thread_create_stack(xipc_plat_thread *t, void (*fn)(void *), void *arg,
                                       size_t stack_bytes)
{
    HANDLE h;
    xipc_err rv = thread_start_new(fn, arg, stack_bytes, &h);
    if (rv == XIPC_OK)
        t->handle = (uint64_t)(uintptr_t)h;
    return rv;
}

void xipc_plat_thread_join(xipc_plat_thread *t)
{
    HANDLE h = (HANDLE)(uintptr_t)t->handle;
    WaitForSingleObject(h, INFINITE);
    CloseHandle(h);
}

xipc_err xipc_plat_thread_detached(void (*fn)(void *), void *arg)
{
    return thread_start_new(fn, arg, 0, NULL);
}
