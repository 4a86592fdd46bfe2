/*
 * The platform contract's clock, processors, deadlines, threads and locks,
 * the same test for every port: native for POSIX, under wine for the
 * Windows x64 build (win64_plat_test). Correctness only: how long a sleep
 * takes is bounded from below (it must not return early), never above.
 */
#include <stdatomic.h>

#include "core/deadline.h"
#include "core/platform.h"
#include "test.h"

#define NTHREADS 8
#define NINCR 20000

static void test_clock(void)
{
    uint64_t t0 = xipc_plat_now_ns(), prev = t0;
    for (int i = 0; i < 100000; i++) { /* never backwards */
        uint64_t t = xipc_plat_now_ns();
        XT_ASSERT(t >= prev);
        prev = t;
    }
    xipc_plat_sleep_us(20000);
    uint64_t slept = xipc_plat_now_ns() - prev;
    XT_ASSERT(slept >= 19000000u); /* at least what was asked (1 ms of slack) */
    XT_ASSERT(xipc_plat_cpu_count() >= 1);
    xipc_plat_cpu_relax();
    xipc_plat_yield();
    printf("  clock: monotonic, a 20 ms sleep took %.1f ms, %u processors ok\n",
           (double)slept / 1e6, (unsigned)xipc_plat_cpu_count());
}

static void test_deadline(void)
{
    xipc_deadline forever = xipc__deadline(-1), poll = xipc__deadline(0);
    uint32_t us;
    XT_EQ(xipc__deadline_left_ms(&forever), -1);
    XT_EQ(xipc__deadline_left_ms(&poll), 0);
    XT_ASSERT(xipc__deadline_passed(&poll));
    XT_ERR(xipc__deadline_slice(&poll, 1000, &us), XIPC_ETIMEDOUT);
    XT_OK(xipc__deadline_slice(&forever, 1000, &us));
    XT_EQ(us, 1000);
    xipc_deadline d = xipc__deadline(30);
    int left = xipc__deadline_left_ms(&d); /* fixes the deadline */
    XT_ASSERT(left >= 1 && left <= 30);
    XT_OK(xipc__deadline_slice(&d, 5000, &us));
    XT_ASSERT(us >= 1 && us <= 30001);
    xipc_plat_sleep_us(31000);
    XT_ASSERT(xipc__deadline_passed(&d));
    XT_ERR(xipc__deadline_slice(&d, 5000, &us), XIPC_ETIMEDOUT);
    printf("  deadlines: for ever, poll, 30 ms ok\n");
}

typedef struct shared {
    xipc_plat_mutex mu;
    xipc_plat_cond cv;
    uint64_t count; /* under mu */
    int flag;       /* under mu */
    _Atomic int started;
} shared;

static void add_many(void *arg)
{
    shared *s = arg;
    atomic_fetch_add(&s->started, 1);
    for (int i = 0; i < NINCR; i++) {
        xipc_plat_mutex_lock(&s->mu);
        s->count++;
        xipc_plat_mutex_unlock(&s->mu);
    }
}

static void set_flag(void *arg)
{
    shared *s = arg;
    xipc_plat_mutex_lock(&s->mu);
    s->flag = 1;
    xipc_plat_cond_signal(&s->cv);
    xipc_plat_mutex_unlock(&s->mu);
}

/* Wait until s->flag is set, by 10 s at most. */
static void wait_flag(shared *s)
{
    uint64_t deadline = xipc_plat_now_ns() + 10000000000u;
    xipc_plat_mutex_lock(&s->mu);
    while (!s->flag)
        if (xipc_plat_cond_wait(&s->cv, &s->mu, deadline) == XIPC_ETIMEDOUT)
            break;
    int got = s->flag;
    s->flag = 0;
    xipc_plat_mutex_unlock(&s->mu);
    XT_EQ(got, 1);
}

static void try_lock(void *arg)
{
    shared *s = arg;
    xipc_plat_mutex_lock(&s->mu);
    s->flag = xipc_plat_mutex_trylock(&s->mu) + 2; /* held by us: 2 */
    xipc_plat_mutex_unlock(&s->mu);
}

static void test_threads(void)
{
    shared s;
    s.count = 0;
    s.flag = 0;
    atomic_init(&s.started, 0);
    XT_OK(xipc_plat_mutex_init(&s.mu));
    XT_OK(xipc_plat_cond_init(&s.cv));

    /* mutual exclusion: every increment counted */
    xipc_plat_thread t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        XT_OK(i % 2 ? xipc_plat_thread_create(&t[i], add_many, &s)
                    : xipc_plat_thread_create_stack(&t[i], add_many, &s, 64u << 10));
    for (int i = 0; i < NTHREADS; i++)
        xipc_plat_thread_join(&t[i]);
    XT_EQ(atomic_load(&s.started), NTHREADS);
    XT_EQ(s.count, (uint64_t)NTHREADS * NINCR);

    /* trylock: free then taken; a mutex is not recursive */
    XT_EQ(xipc_plat_mutex_trylock(&s.mu), 1);
    xipc_plat_mutex_unlock(&s.mu);
    xipc_plat_mutex_lock(&s.mu);
    xipc_plat_thread th;
    s.flag = 0;
    xipc_plat_mutex_unlock(&s.mu);
    XT_OK(xipc_plat_thread_create(&th, try_lock, &s));
    xipc_plat_thread_join(&th);
    XT_EQ(s.flag, 2); /* its own trylock failed while it held the mutex */
    s.flag = 0;

    /* a timed wait that nobody signals times out, not before its deadline */
    xipc_plat_mutex_lock(&s.mu);
    uint64_t deadline = xipc_plat_now_ns() + 30000000u;
    xipc_err rv;
    while ((rv = xipc_plat_cond_wait(&s.cv, &s.mu, deadline)) == XIPC_OK)
        ; /* spurious wake-ups */
    XT_ERR(rv, XIPC_ETIMEDOUT);
    XT_ASSERT(xipc_plat_now_ns() >= deadline);
    xipc_plat_mutex_unlock(&s.mu);

    /* signalled by a joinable and by a detached thread */
    XT_OK(xipc_plat_thread_create(&th, set_flag, &s));
    wait_flag(&s);
    xipc_plat_thread_join(&th);
    XT_OK(xipc_plat_thread_detached(set_flag, &s));
    wait_flag(&s);

    xipc_plat_cond_fini(&s.cv);
    xipc_plat_mutex_fini(&s.mu);
    xipc_plat_mem_release();
    printf("  threads: %d x %d increments exact, trylock, timed and signalled waits ok\n",
           NTHREADS, NINCR);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("plat_test (pointer width %u bits)\n", (unsigned)(sizeof(void *) * 8));
    test_clock();
    test_deadline();
    test_threads();
    printf("plat_test ok\n");
    return 0;
}
