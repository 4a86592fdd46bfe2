/*
 * Deadlines: the one form a timeout takes inside xipc.
 *
 * Every call with a timeout_ms turns it into an xipc_deadline once, on
 * entry, and passes that down: to the waits of the rings, to each system
 * call of a stream (as the milliseconds left), to the platform's waits.
 * timeout_ms follows the API's rule: < 0 waits for ever, 0 never waits,
 * > 0 is milliseconds.
 *
 * The clock is read only when a call has to wait, not on the fast path:
 * a clock read costs as much as a message through a ring. So the deadline
 * is fixed from the first wait, not from the call's start; the time a call
 * spends before it first waits (copying, a system call that did not
 * block) is not counted.
 */
#ifndef XIPC_CORE_DEADLINE_H
#define XIPC_CORE_DEADLINE_H

#include <stdint.h>

#include "core/platform.h"

typedef struct xipc_deadline {
    uint64_t at; /* monotonic ns (xipc_plat_now_ns); UINT64_MAX: for ever;
                    0: not read yet */
    int poll;    /* timeout 0: never wait */
    int ms;      /* the timeout */
} xipc_deadline;

/* A deadline @p timeout_ms from the first wait. */
static inline xipc_deadline xipc__deadline(int timeout_ms)
{
    xipc_deadline d = {timeout_ms > 0 ? 0 : UINT64_MAX, timeout_ms == 0, timeout_ms};
    return d;
}

/* The deadline in monotonic ns, fixed from @p now on the first call. */
static inline uint64_t xipc__deadline_at(xipc_deadline *d, uint64_t now)
{
    if (d->at == 0)
        d->at = now + (uint64_t)d->ms * 1000000u;
    return d->at;
}

/*
 * The timeout for the next system call in milliseconds, rounded up: -1
 * (for ever), 0 (never wait, or the deadline passed), or what is left.
 */
static inline int xipc__deadline_left_ms(xipc_deadline *d)
{
    if (d->poll)
        return 0;
    if (d->at == UINT64_MAX)
        return -1;
    uint64_t now = xipc_plat_now_ns();
    uint64_t at = xipc__deadline_at(d, now);
    if (now >= at)
        return 0;
    uint64_t ms = (at - now + 999999u) / 1000000u;
    return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

/* 1 once the deadline has passed (a poll's at once). */
static inline int xipc__deadline_passed(xipc_deadline *d)
{
    return xipc__deadline_left_ms(d) == 0;
}

/*
 * The next sleep of a loop that checks something between sleeps: at most
 * @p max_us, never past the deadline. XIPC_ETIMEDOUT once it has passed.
 */
static inline xipc_err xipc__deadline_slice(xipc_deadline *d, uint32_t max_us,
                                            uint32_t *slice_us)
{
    if (d->poll)
        return XIPC_ETIMEDOUT;
    uint64_t now = xipc_plat_now_ns();
    uint64_t at = xipc__deadline_at(d, now);
    if (now >= at)
        return XIPC_ETIMEDOUT;
    uint64_t left_us = (at - now) / 1000u + 1;
    *slice_us = left_us < max_us ? (uint32_t)left_us : max_us;
    return XIPC_OK;
}

/*
 * The deadline in monotonic ns, for a wait that takes one
 * (xipc_plat_cond_wait): UINT64_MAX for ever; a poll's has passed.
 */
static inline uint64_t xipc__deadline_ns(xipc_deadline *d)
{
    if (d->poll)
        return 0;
    if (d->at == UINT64_MAX)
        return UINT64_MAX;
    return xipc__deadline_at(d, xipc_plat_now_ns());
}

#endif
