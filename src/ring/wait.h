/*
 * Waiting on shared memory, shared by the SPSC ring and the broadcast
 * ring: the spin phase, the length of each futex sleep (short, so that a
 * sleeper notices a dead peer within a slice), and the back-off from a
 * storm of wake-ups that bring nothing. Deadlines: core/deadline.h.
 */
#ifndef XIPC_RING_WAIT_H
#define XIPC_RING_WAIT_H

#include <stdint.h>

#include "core/deadline.h"
#include "core/platform.h"

#define XIPC_WAIT_SLICE_US 10000u /* sleep at most this long between checks */
#define XIPC_WAIT_NOT_READY XIPC_ETIMEDOUT
/* spin without yielding this long: an answer from a peer running on
 * another core comes within it */
#define XIPC_WAIT_PURE_SPIN_NS 4000u

/*
 * Wake-ups that bring nothing. An honest peer bumps a futex word only
 * after it moved its position (or closed its end), so a sleeper it wakes
 * finds something. A hostile peer can bump the word and FUTEX_WAKE in a
 * loop: each wake-up costs the sleeper a round of checks (the peer's
 * position, its liveness, the clock, the next futex call), which kept an
 * idle `xipc recv` at 83% of a core for as long as the loop ran.
 *
 * So a sleeper counts the wake-ups in a row after which the peer's
 * position had not moved. From XIPC_WAIT_IDLE_WAKES on, it pauses before
 * each further futex wait: a plain sleep, which no futex word cuts short,
 * of XIPC_WAIT_PAUSE_MIN_US, doubling up to XIPC_WAIT_PAUSE_MAX_US. The
 * storm then costs at most one round of checks per pause (measured: 300
 * to 960 ms of CPU per second of storm before, 7 to 34 ms after;
 * tests/storm_test.c), and a message that arrives during it waits at most
 * one pause. A futex wait that runs out its slice (nobody woke it) or a
 * wake-up with news ends the count. Only the sleep phase is touched: a
 * peer that answers within the spin never gets here, and a woken sleeper
 * that finds data leaves at once, so the honest path costs nothing more.
 * (Signals wake a futex wait too: a process that takes one every few ms
 * while it sleeps may see a message late by up to one pause.)
 */
#define XIPC_WAIT_IDLE_WAKES 8u    /* idle wake-ups in a row before pausing */
#define XIPC_WAIT_PAUSE_MIN_US 64u /* the first pause */
#define XIPC_WAIT_PAUSE_MAX_US 2048u /* the longest: a message waits no more */

typedef struct xipc_wait_storm {
    uint32_t idle;     /* wake-ups in a row that brought nothing */
    uint32_t pause_us; /* the pause before the next futex wait; 0: none */
} xipc_wait_storm;

/*
 * Count the outcome of the last futex wait: @p woke (it returned before
 * its slice ran out: woken, the word changed, or a signal) and @p news
 * (the peer's position moved since, or something else is ready).
 */
static inline void xipc__storm_note(xipc_wait_storm *s, int woke, int news)
{
    if (!woke || news) {
        s->idle = 0;
        s->pause_us = 0;
        return;
    }
    if (s->idle < XIPC_WAIT_IDLE_WAKES && ++s->idle < XIPC_WAIT_IDLE_WAKES)
        return;
    uint32_t next = s->pause_us == 0 ? XIPC_WAIT_PAUSE_MIN_US : s->pause_us * 2;
    s->pause_us = next < XIPC_WAIT_PAUSE_MAX_US ? next : XIPC_WAIT_PAUSE_MAX_US;
}

/*
 * Pause as xipc__storm_note decided, within the futex sleep of
 * @p slice_us the caller was about to start. The caller's sleep flag
 * stays set meanwhile: an honest waker still bumps the word, and the
 * futex wait that follows returns at once.
 * @return what is left of the slice for that wait (0: none)
 */
static inline uint32_t xipc__storm_pause(const xipc_wait_storm *s, uint32_t slice_us)
{
    if (s->pause_us == 0)
        return slice_us;
    uint32_t us = s->pause_us < slice_us ? s->pause_us : slice_us;
    xipc_plat_sleep_us(us);
    return slice_us - us;
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
