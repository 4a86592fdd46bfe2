/*
 * Wait/wake on a 32-bit word shared between processes, Windows port.
 * WaitOnAddress does not cross processes, so a word that lies in a
 * section of ours (win32_shm.c) gets a named event, one per section and
 * offset, opened once per process:
 *
 *   waiter: ResetEvent(ev); if *addr != expected: return;
 *           wait for ev, at most the timeout
 *   waker:  (has changed *addr) SetEvent(ev)
 *
 * The event is manual-reset, so one SetEvent releases every sleeper of
 * every process (pub/sub: many subscribers on one word). Only waiters
 * reset it, before they look at the word: a change made after that look
 * is followed by a SetEvent after the reset, so a lone waiter never
 * misses one (shm://: one sleeper per word). With several waiters, one
 * that resets while another is between its look and its wait makes the
 * latter miss the wake-up and sleep out its timeout: callers sleep in
 * slices (ring/wait.h), so that costs one slice at most, and so does
 * anything a hostile peer does to the event (set it: spurious wake-ups,
 * which ring/wait.h's back-off bounds; reset it: a slice; squat its name
 * with another object: we poll the word every 500 us until the timeout).
 *
 * Why not the others: an auto-reset event wakes one sleeper per
 * SetEvent; a semaphore needs the count of sleepers, which would live in
 * memory the peer writes; PulseEvent misses every waiter that is not yet
 * inside the wait (and is unreliable by its own documentation); an event
 * per waiting process needs a list of them that the waker can trust.
 *
 * A word in no section of ours (memory of one process) uses
 * RtlWaitOnAddress, which is what WaitOnAddress calls.
 */
#include <stdatomic.h>
#include <windows.h>

#include "platform/win32/win32.h"
#include "platform/win32/win32_shm.h"

#define FUTEX_POLL_US 500u   /* the step when no event can be had */
#define FUTEX_STATUS_TIMEOUT 0x00000102L

static uint32_t futex_load(const uint32_t *addr)
{
    return atomic_load_explicit((const _Atomic uint32_t *)addr, memory_order_seq_cst);
}

/*
 * The time left until @p end as a relative NT timeout (100 ns units);
 * 0 when it has passed.
 */
static int futex_left(uint64_t end, LARGE_INTEGER *t)
{
    uint64_t now = xipc_plat_now_ns();
    if (now >= end)
        return 0;
    t->QuadPart = -(LONGLONG)((end - now + 99u) / 100u);
    return 1;
}

/* How a wait sleeps. */
enum { FUTEX_EVENT, FUTEX_LOCAL, FUTEX_POLL };

/* Sleep on @p ev or @p addr (or poll) until woken or @p t ran out. */
static LONG futex_sleep(const xipc__win32_nt *nt, int how, HANDLE ev, uint32_t *addr,
                        uint32_t expected, const LARGE_INTEGER *t)
{
    if (how == FUTEX_EVENT)
        return nt->wait_one(ev, FALSE, t);
    if (how == FUTEX_LOCAL) /* returns at once when the word differs */
        return nt->wait_on_address(addr, &expected, sizeof(expected), t);
    uint64_t left_us = ((uint64_t)-t->QuadPart + 9u) / 10u;
    xipc_plat_sleep_us(left_us < FUTEX_POLL_US ? (uint32_t)left_us : FUTEX_POLL_US);
    return FUTEX_STATUS_TIMEOUT;
}

xipc_err xipc_plat_futex_wait(uint32_t *addr, uint32_t expected, uint32_t timeout_us)
{
    if (futex_load(addr) != expected)
        return XIPC_OK;
    if (timeout_us == 0)
        return XIPC_ETIMEDOUT;
    uint64_t end = xipc_plat_now_ns() + (uint64_t)timeout_us * 1000u;
    const xipc__win32_nt *nt = xipc__win32_ntdll();
    HANDLE ev;
    int how = FUTEX_EVENT;
    if (!xipc__win32_shm_event(addr, &ev)) /* a word of this process only */
        how = nt->wait_on_address != NULL ? FUTEX_LOCAL : FUTEX_POLL;
    else if (ev == NULL || nt->wait_one == NULL)
        how = FUTEX_POLL;
    else
        ResetEvent(ev); /* before the look at the word: see the top */
    LARGE_INTEGER t;
    for (;;) {
        if (futex_load(addr) != expected)
            return XIPC_OK;
        if (!futex_left(end, &t))
            return XIPC_ETIMEDOUT;
        LONG st = futex_sleep(nt, how, ev, addr, expected, &t);
        if (st == 0) /* woken, or the word differed */
            return XIPC_OK;
        if (st != FUTEX_STATUS_TIMEOUT) /* the event went bad under us */
            how = FUTEX_POLL;
        /* timed out: the clock, not the timer, says whether it is over */
    }
}

void xipc_plat_futex_wake(uint32_t *addr)
{
    HANDLE ev;
    if (xipc__win32_shm_event(addr, &ev)) {
        if (ev != NULL)
            SetEvent(ev);
        return;
    }
    const xipc__win32_nt *nt = xipc__win32_ntdll();
    if (nt->wake_address_all != NULL)
        nt->wake_address_all(addr);
}
