/*
 * Waiting on shared memory, shared by the SPSC ring and the broadcast
 * ring: deadlines, the spin phase, and the length of each futex sleep
 * (short, so that a sleeper notices a dead peer within a slice).
 */
#ifndef XIPC_RING_WAIT_H
#define XIPC_RING_WAIT_H

#include <stdint.h>

#include "core/platform.h"

#define XIPC_WAIT_SLICE_US 10000u /* sleep at most this long between checks */
#define XIPC_WAIT_NOT_READY XIPC_ETIMEDOUT
/* spin without yielding this long: an answer from a peer running on
 * another core comes within it */
#define XIPC_WAIT_PURE_SPIN_NS 4000u

typedef struct xipc_deadline {
    uint64_t at; /* monotonic ns; UINT64_MAX: forever; 0: not read yet */
    int poll;    /* timeout 0: never wait */
    int ms;      /* the timeout */
} xipc_deadline;

/* A deadline @p timeout_ms from the first wait: the clock is read only
 * when a call has to wait, not on the fast path (a clock read costs as
 * much as a message through a ring). */
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

/* The next futex sleep: at most one slice, never past the deadline.
 * XIPC_ETIMEDOUT once the deadline has passed. */
static inline xipc_err xipc__deadline_slice(xipc_deadline *d, uint32_t *slice_us)
{
    uint64_t now = xipc_plat_now_ns();
    uint64_t at = xipc__deadline_at(d, now);
    if (now >= at)
        return XIPC_ETIMEDOUT;
    uint64_t left_us = (at - now) / 1000u + 1;
    *slice_us = left_us < XIPC_WAIT_SLICE_US ? (uint32_t)left_us : XIPC_WAIT_SLICE_US;
    return XIPC_OK;
}

/*
 * The spin phase: call @p poll until it returns something other than
 * XIPC_WAIT_NOT_READY, for at most @p spin_us (and never past the
 * deadline). Returns the last result; XIPC_WAIT_NOT_READY means "sleep".
 * Inlined with a constant @p poll, the call costs nothing.
 */
static inline xipc_err xipc__spin(xipc_err (*poll)(void *), void *arg,
                                  uint32_t spin_us, xipc_deadline *d)
{
    if (spin_us == 0)
        return XIPC_WAIT_NOT_READY; /* sleep at once, as documented */
    uint64_t end = 0, yield_from = 0;
    for (uint32_t i = 1;; i++) {
        xipc_plat_cpu_relax();
        xipc_err rv = poll(arg);
        if (rv != XIPC_WAIT_NOT_READY)
            return rv;
        /* the clock is read every 64 passes, first after 64: an answer
         * that comes within them costs no clock read (~25 ns each) */
        if ((i & 63) != 0)
            continue;
        uint64_t now = xipc_plat_now_ns();
        if (end == 0) {
            uint64_t at = xipc__deadline_at(d, now);
            end = now + (uint64_t)spin_us * 1000u;
            if (end > at)
                end = at;
            yield_from = now + XIPC_WAIT_PURE_SPIN_NS;
        }
        if (now >= end)
            return XIPC_WAIT_NOT_READY;
        /* past the first microseconds, the peer may be waiting for this
         * very CPU (more runnable threads than cores): offer it */
        if (now >= yield_from)
            xipc_plat_yield();
    }
}

#endif
