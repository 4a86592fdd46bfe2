/*
 * storm_test: a hostile peer's futex storm (issue 11). The peer bumps the
 * futex word a sleeper waits on and calls FUTEX_WAKE in a tight loop, for
 * STORM_MS, while nothing is there to read. The sleeper must back off
 * (src/ring/wait.h, "wake-ups that bring nothing"): its thread's CPU time
 * over the storm stays under a bound, where it used to follow the storm
 * (most of a core). A real message sent after the storm is still received,
 * promptly; so is one sent during it, within the back-off's bound.
 *
 * Cases: an SPSC ring's consumer waiting forever and in the 100 ms slices
 * of `xipc recv`, its producer waiting for space, and a broadcast
 * subscriber. The storm runs in a thread of this process on the same
 * shared words a peer process would see (the waiter's peer is this
 * process, so each wake-up also pays its liveness check, as in real use).
 */
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ring/bcast.h"
#include "ring/ring.h"
#include "run32.h"
#include "test.h"

#define STORM_MS 1000      /* how long the hostile peer storms */
#define STORM_SPIN_US 50   /* the default spin (opts.spin_us) */
#define STORM_CAP 4096u    /* ring capacity */
#define STORM_HDR_OFF 0u
#define STORM_DATA_OFF 256u
#define STORM_SLOTS 16u    /* broadcast ring */
#define STORM_SLOT 256u
/*
 * CPU the sleeper may use over the storm. Measured on a 2-vCPU VM, 1 s of
 * storm: 300..960 ms without the back-off, 7..21 ms with it; the m32
 * build under qemu-i386 (the storm is slower there too): 315..425 ms
 * without, 11..34 ms with. The low figures without and the high ones with
 * came on a busy machine (other tests running). One bound, well between,
 * serves both builds: a loaded machine passes, the old behaviour fails.
 */
#define STORM_CPU_MAX_MS 100.0
#define STORM_PROMPT_MS 100 /* a message after the storm: received within */

/* ---- the hostile peer ------------------------------------------------------ */

typedef struct storm {
    _Atomic uint32_t *word; /* the futex word the sleeper waits on */
    atomic_int stop;
    unsigned long wakes;
} storm;

static void *storm_run(void *arg)
{
    storm *s = arg;
    while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
        atomic_fetch_add_explicit(s->word, 1, memory_order_relaxed);
        syscall(SYS_futex, (uint32_t *)s->word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
        s->wakes++;
    }
    return NULL;
}

/* ---- the sleeper ----------------------------------------------------------- */

static uint64_t storm_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void storm_sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* CPU time (user + system) of the calling thread, in ms. */
static double storm_thread_cpu_ms(void)
{
    return xt_cpu_ms(RUSAGE_THREAD);
}

/* One case: the blocking call the sleeper makes, and what it got. */
typedef struct storm_case {
    const char *name;
    xipc_err (*wait)(struct storm_case *c); /* blocks until the message */
    void *end;          /* the waiting end (xipc_ring or xipc_bcast) */
    int slice_ms;       /* -1: one call that waits forever; else slices */
    char got[16];
    size_t len;
    xipc_err rv;
    double cpu_ms;      /* the sleeper's CPU over its whole wait */
    uint64_t done_at;   /* when the call returned (monotonic ns) */
} storm_case;

static void *storm_sleeper(void *arg)
{
    storm_case *c = arg;
    double cpu0 = storm_thread_cpu_ms();
    c->rv = c->wait(c);
    c->done_at = storm_now_ns();
    c->cpu_ms = storm_thread_cpu_ms() - cpu0;
    return NULL;
}

/* The ring consumer's receive, in slices like `xipc recv` or forever. */
static xipc_err storm_ring_recv(storm_case *c)
{
    for (;;) {
        xipc_err rv = xipc_ring_recv(c->end, c->got, sizeof(c->got), &c->len,
                                     c->slice_ms);
        if (rv != XIPC_ETIMEDOUT || c->slice_ms < 0)
            return rv;
    }
}

/* The ring producer, with the ring full: waits for space to send. */
static xipc_err storm_ring_send(storm_case *c)
{
    c->len = 5;
    memcpy(c->got, "space", 5);
    return xipc_ring_send(c->end, c->got, c->len, -1);
}

static xipc_err storm_bcast_recv(storm_case *c)
{
    return xipc_bcast_recv(c->end, c->got, sizeof(c->got), &c->len, -1);
}

/*
 * Run case @p c: the sleeper waits, the storm runs on @p word for
 * STORM_MS, then @p deliver (what an honest peer does) ends the wait.
 */
static void storm_run_case(storm_case *c, _Atomic uint32_t *word,
                           void (*deliver)(void *), void *arg)
{
    pthread_t sleeper, hostile;
    storm s = {.word = word};
    XT_ASSERT(pthread_create(&sleeper, NULL, storm_sleeper, c) == 0);
    storm_sleep_ms(20); /* past its spin: asleep on the futex */
    XT_ASSERT(pthread_create(&hostile, NULL, storm_run, &s) == 0);
    storm_sleep_ms(STORM_MS);
    atomic_store(&s.stop, 1);
    XT_ASSERT(pthread_join(hostile, NULL) == 0);
    uint64_t sent_at = storm_now_ns();
    deliver(arg);
    XT_ASSERT(pthread_join(sleeper, NULL) == 0);
    double late_ms = (double)(c->done_at - sent_at) / 1e6;
    printf("  %-28s %8lu wake-ups in %d ms cost the sleeper %6.1f ms of CPU;"
           " then received in %.2f ms\n",
           c->name, s.wakes, STORM_MS, c->cpu_ms, late_ms);
    fflush(stdout);
    XT_OK(c->rv);
    XT_ASSERT(s.wakes > 1000); /* the storm did run */
    if (c->cpu_ms >= STORM_CPU_MAX_MS)
        XT_FAIL("%s: %.1f ms of CPU over a %d ms storm (bound %.0f ms)", c->name,
                c->cpu_ms, STORM_MS, STORM_CPU_MAX_MS);
    uint64_t prompt = xt_bound_ms("a message after the storm", STORM_PROMPT_MS, 0);
    if (late_ms > (double)prompt)
        XT_FAIL("%s: received %.1f ms after the send (bound %llu ms)", c->name,
                late_ms, (unsigned long long)prompt);
}

/* ---- SPSC ring --------------------------------------------------------------- */

typedef struct storm_ring {
    uint8_t *base;
    xipc_ring_hdr *hdr;
    xipc_ring prod, cons;
    xipc_plat_proc peer; /* this process: alive, so each check costs a poll */
} storm_ring;

static void storm_ring_new(storm_ring *r)
{
    uint64_t size = STORM_DATA_OFF + STORM_CAP;
    memset(r, 0, sizeof(*r));
    r->base = aligned_alloc(64, (size_t)size);
    XT_ASSERT(r->base != NULL);
    memset(r->base, 0, (size_t)size);
    r->hdr = (xipc_ring_hdr *)(r->base + STORM_HDR_OFF);
    xipc_ring_format(r->hdr, STORM_CAP, STORM_DATA_OFF);
    xipc_plat_proc_open(&r->peer, (uint32_t)getpid());
    XT_OK(xipc_ring_attach(&r->prod, r->base, size, STORM_HDR_OFF,
                           XIPC_RING_PRODUCER, STORM_SPIN_US, &r->peer));
    XT_OK(xipc_ring_attach(&r->cons, r->base, size, STORM_HDR_OFF,
                           XIPC_RING_CONSUMER, STORM_SPIN_US, &r->peer));
}

static void storm_ring_free(storm_ring *r)
{
    xipc_plat_proc_close(&r->peer);
    free(r->base);
}

static void storm_ring_deliver(void *arg)
{
    storm_ring *r = arg;
    XT_OK(xipc_ring_send(&r->prod, "real", 4, 1000));
}

/* The consumer, waiting for data while data_seq storms. */
static void test_ring_consumer(const char *name, int slice_ms)
{
    storm_ring r;
    storm_ring_new(&r);
    storm_case c = {.name = name, .wait = storm_ring_recv, .end = &r.cons,
                    .slice_ms = slice_ms};
    storm_run_case(&c, &r.hdr->data_seq, storm_ring_deliver, &r);
    XT_ASSERT(c.len == 4 && memcmp(c.got, "real", 4) == 0);
    storm_ring_free(&r);
}

static void storm_ring_drain(void *arg)
{
    storm_ring *r = arg;
    char buf[STORM_CAP];
    size_t n;
    XT_OK(xipc_ring_recv(&r->cons, buf, sizeof(buf), &n, 1000));
}

/* The producer, waiting for space in a full ring while space_seq storms. */
static void test_ring_producer(void)
{
    storm_ring r;
    storm_ring_new(&r);
    static char big[STORM_CAP - 16]; /* the largest message: 8 bytes stay free */
    XT_OK(xipc_ring_send(&r.prod, big, sizeof(big), 0));
    storm_case c = {.name = "ring producer (space)", .wait = storm_ring_send,
                    .end = &r.prod, .slice_ms = -1};
    storm_run_case(&c, &r.hdr->space_seq, storm_ring_drain, &r);
    char buf[16];
    size_t n;
    XT_OK(xipc_ring_recv(&r.cons, buf, sizeof(buf), &n, 1000));
    XT_ASSERT(n == 5 && memcmp(buf, "space", 5) == 0);
    storm_ring_free(&r);
}

/* ---- broadcast ring ---------------------------------------------------------- */

typedef struct storm_bc {
    uint8_t *base;
    xipc_bcast pub, sub;
    xipc_plat_proc peer;
} storm_bc;

static void storm_bc_deliver(void *arg)
{
    storm_bc *b = arg;
    XT_OK(xipc_bcast_send(&b->pub, "real", 4));
}

static void test_bcast_subscriber(void)
{
    storm_bc b;
    uint64_t size = xipc_bcast_seg_size(STORM_SLOTS, STORM_SLOT);
    memset(&b, 0, sizeof(b));
    b.base = aligned_alloc(64, (size_t)size);
    XT_ASSERT(b.base != NULL);
    memset(b.base, 0, (size_t)size);
    xipc_bcast_format(b.base, STORM_SLOTS, STORM_SLOT, (uint32_t)getpid());
    xipc_plat_proc_open(&b.peer, (uint32_t)getpid());
    static xipc_bcast_sig sig; /* the signals page, where the storm blows */
    XT_OK(xipc_bcast_attach(&b.pub, b.base, size, &sig, XIPC_BCAST_PUBLISHER, 0, NULL));
    XT_OK(xipc_bcast_attach(&b.sub, b.base, size, &sig, XIPC_BCAST_SUBSCRIBER,
                            STORM_SPIN_US, &b.peer));
    storm_case c = {.name = "pubsub subscriber", .wait = storm_bcast_recv,
                    .end = &b.sub, .slice_ms = -1};
    storm_run_case(&c, &sig.data_seq, storm_bc_deliver, &b);
    XT_ASSERT(c.len == 4 && memcmp(c.got, "real", 4) == 0);
    xipc_plat_proc_close(&b.peer);
    free(b.base);
}

int main(void)
{
    const char *emu = xt_self_emulated();
    printf("storm_test: %d ms of FUTEX_WAKE storm per case%s%s%s\n", STORM_MS,
           emu ? " (" : "", emu ? emu : "", emu ? ")" : "");
    test_ring_consumer("ring consumer (forever)", -1);
    test_ring_consumer("ring consumer (100 ms slices)", 100);
    test_ring_producer();
    test_bcast_subscriber();
    printf("storm_test: ok\n");
    return 0;
}
