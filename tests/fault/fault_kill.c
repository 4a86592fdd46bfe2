/*
 * The killer: a thread of the test process that kills victims (SIGKILL;
 * on Windows TerminateProcess) at planned moments, so the test process
 * itself can sit in the blocking call the kill must interrupt. It writes
 * the time of each kill (taken just before the kill) into the victim's
 * shared slot, where the test process and survivor children read it.
 */
#define _GNU_SOURCE
#include <string.h>
#ifndef _WIN32
#include <signal.h>
#endif

#include "core/platform.h"
#include "fault.h"
#include "run32.h"

static struct {
    xipc_plat_mutex mu;
    xipc_plat_cond cv;
    xipc_plat_thread thread;
    fault_kill k[FAULT_SLOTS];
    int n, armed, done;
    uint64_t t_arm;
} K;

static void killer_sleep_until(uint64_t t)
{
    uint64_t now;
    while ((now = fault_now()) < t)
        fault_sleep_us((uint32_t)((t - now + 999) / 1000));
}

static void killer_one(const fault_kill *k, uint64_t t_arm)
{
    fault_slot *s = &F.slots[k->slot];
#ifdef _WIN32
    /*
     * Windows cannot fork: a victim is this program started again, which
     * takes 0.1-0.3 s under wine, far longer than any plan's delay. So the
     * plans other than "at once" count from when the victim runs its
     * first line (its slot's running flag), not from the arming; at most
     * 10 s, a bound against a hang only.
     */
    if (k->delay_us != 0 || k->target != 0) {
        uint64_t give_up = fault_now() + 10000000000ull;
        while (!atomic_load(&s->running) && fault_now() < give_up &&
               WaitForSingleObject(k->pid, 0) == WAIT_TIMEOUT)
            fault_sleep_us(100);
        t_arm = fault_now();
    }
#endif
    uint64_t until = t_arm + (uint64_t)k->delay_us * 1000u;
    if (k->target != 0) {
        /* wait for the phase (polling; the victim may never reach it) */
        while (atomic_load(&s->phase) != k->target && fault_now() < until)
            fault_sleep_us(20);
        if (k->jitter_us != 0 && atomic_load(&s->phase) == k->target)
            fault_sleep_us(k->jitter_us);
    } else if (k->delay_us != 0) {
        killer_sleep_until(until);
    }
    atomic_store(&s->phase_at_kill, atomic_load(&s->phase));
    atomic_store(&s->t_kill, fault_now());
    atomic_store(&s->kill_started, 1);
#ifdef _WIN32
    /* exit code XT_KILLED, as conform_test's; fails only when the victim
     * has already ended, which fault_expect_killed reports */
    TerminateProcess(k->pid, XT_KILLED);
#else
    kill(k->pid, SIGKILL);
#endif
}

static void killer_main(void *arg)
{
    (void)arg;
    xipc_plat_mutex_lock(&K.mu);
    for (;;) {
        while (!K.armed)
            xipc_plat_cond_wait(&K.cv, &K.mu, UINT64_MAX);
        fault_kill k[FAULT_SLOTS];
        int n = K.n;
        uint64_t t_arm = K.t_arm;
        memcpy(k, K.k, sizeof(k[0]) * (size_t)n);
        xipc_plat_mutex_unlock(&K.mu);
        for (int i = 0; i < n; i++)
            killer_one(&k[i], t_arm);
        xipc_plat_mutex_lock(&K.mu);
        K.armed = 0;
        K.done = 1;
        xipc_plat_cond_broadcast(&K.cv);
    }
}

void fault_killer_start(void)
{
    K.done = 1;
    XT_OK(xipc_plat_mutex_init(&K.mu));
    XT_OK(xipc_plat_cond_init(&K.cv));
    XT_OK(xipc_plat_thread_create(&K.thread, killer_main, NULL));
}

void fault_killer_arm(const fault_kill *k, int n)
{
    XT_ASSERT(n > 0 && n <= FAULT_SLOTS);
    xipc_plat_mutex_lock(&K.mu);
    XT_ASSERT(K.done && !K.armed);
    memcpy(K.k, k, sizeof(k[0]) * (size_t)n);
    K.n = n;
    K.t_arm = fault_now();
    K.done = 0;
    K.armed = 1;
    xipc_plat_cond_broadcast(&K.cv);
    xipc_plat_mutex_unlock(&K.mu);
}

void fault_killer_wait(void)
{
    xipc_plat_mutex_lock(&K.mu);
    while (!K.done)
        xipc_plat_cond_wait(&K.cv, &K.mu, UINT64_MAX);
    xipc_plat_mutex_unlock(&K.mu);
}

int fault_killer_done(void)
{
    xipc_plat_mutex_lock(&K.mu);
    int d = K.done;
    xipc_plat_mutex_unlock(&K.mu);
    return d;
}

fault_kill fault_plan(fault_rng *r, fault_pid pid, int slot, const uint32_t *phases, int n)
{
    fault_kill k = {pid, slot, 0, 0, 0};
    uint64_t p = fault_rand(r) % 100;
    if (p < 8) {
        k.delay_us = 0; /* at once: the victim has done nothing yet */
    } else if (p < 55 || n == 0) {
        k.delay_us = (uint32_t)fault_range(r, 0, 20000);
    } else {
        k.target = phases[fault_rand(r) % (uint64_t)n];
        k.delay_us = 30000; /* wait at most this long for the phase */
        k.jitter_us = fault_rand(r) % 3 == 0 ? 0 : (uint32_t)fault_range(r, 1, 300);
    }
    return k;
}

void fault_detect_add(uint64_t ns, const char *what)
{
    static uint64_t bound_ms; /* the 1 s, relaxed under qemu-i386 */
    if (bound_ms == 0)
        bound_ms = xt_bound_ms("fault detection", FAULT_BOUND_NS / 1000000u, 0);
    if (ns >= bound_ms * 1000000u)
        XT_FAIL("%s: the survivor's call returned %.1f ms after the kill (bound %llu ms)",
                what, (double)ns / 1e6, (unsigned long long)bound_ms);
    F.detect_n++;
    F.detect_sum_ns += ns;
    if (ns > F.detect_max_ns)
        F.detect_max_ns = ns;
}

void fault_detected(xipc_err rv, uint64_t t_err, int slot, fault_pid victim, const char *what)
{
    fault_slot *s = &F.slots[slot];
    if (!atomic_load(&s->kill_started)) {
        int st;
        if (fault_gone(victim, &st))
            XT_FAIL("%s returned %s: the victim (pid %u) ended by itself (status %#x): %s",
                    what, xipc_err_name(rv), fault_pid_num(victim), st, s->msg);
        XT_FAIL("%s returned %s (%s) before the victim was killed", what,
                xipc_err_name(rv), xipc_strerror(rv));
    }
    if (rv != XIPC_ECLOSED)
        XT_FAIL("%s returned %s (%s) %.1f ms after the kill in phase %u, want ECLOSED",
                what, xipc_err_name(rv), xipc_strerror(rv),
                (double)(t_err - atomic_load(&s->t_kill)) / 1e6,
                (unsigned)atomic_load(&s->phase_at_kill));
    uint64_t t_kill = atomic_load(&s->t_kill);
    fault_detect_add(t_err > t_kill ? t_err - t_kill : 0, what);
}

void fault_count_kill(int slot, int early)
{
    F.kills++;
    if (early)
        F.early++;
    uint32_t ph = atomic_load(&F.slots[slot].phase_at_kill);
    F.phase_kills[ph < PH_COUNT ? ph : 0]++;
}
