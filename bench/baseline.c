/* What the raw baselines share: the spin line and whole fd reads/writes. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "baseline.h"
#include "runner.h"

#define BASELINE_SPIN_CHECK 0xfffffu /* spins between liveness checks */

/* Tell the core we are spinning (x86 PAUSE). */
static void baseline_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

baseline_line *baseline_spin_map(void)
{
    void *p = mmap(NULL, sizeof(baseline_line), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        bench_set_error("mmap: %s", strerror(errno));
        return NULL;
    }
    baseline_line *l = p;
    atomic_init(&l->word, 0);
    return l;
}

int baseline_spin_serve(baseline_line *l, const bench_peer *peer)
{
    uint32_t last = 0;
    for (uint32_t i = 1;; i++) {
        uint32_t w = atomic_load_explicit(&l->word, memory_order_acquire);
        if (w != last && (w & 1u)) {
            if (w == BASELINE_SPIN_QUIT)
                return 0;
            last = w + 1;
            atomic_store_explicit(&l->word, last, memory_order_release);
            continue;
        }
        baseline_relax();
        if ((i & BASELINE_SPIN_CHECK) == 0 && bench_peer_orphaned(peer))
            return 1;
    }
}

int baseline_spin_rtt(baseline_line *l, uint32_t *next, bench_peer *peer)
{
    uint32_t v = *next;
    *next += 2;
    if (*next == BASELINE_SPIN_QUIT)
        *next = 1; /* wrap, skipping the stop value */
    atomic_store_explicit(&l->word, v, memory_order_release);
    for (uint32_t i = 1;; i++) {
        if (atomic_load_explicit(&l->word, memory_order_acquire) == v + 1)
            return 0;
        baseline_relax();
        if ((i & BASELINE_SPIN_CHECK) == 0 && bench_peer_gone(peer)) {
            bench_set_error("the spinning peer died");
            return -1;
        }
    }
}

void baseline_close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

void baseline_close_ends(int *rfd, int *wfd)
{
    if (*rfd == *wfd)
        *wfd = -1;
    baseline_close_fd(rfd);
    baseline_close_fd(wfd);
}

int baseline_read_full(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = read(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k == 0 ? 1 : -1; /* 1: end of stream */
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int baseline_write_full(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int baseline_fd_rtt(int rfd, int wfd, uint8_t *buf, size_t size)
{
    if (baseline_write_full(wfd, buf, size) != 0) {
        bench_set_error("write: %s", strerror(errno));
        return -1;
    }
    int rc = baseline_read_full(rfd, buf, size);
    if (rc != 0) {
        bench_set_error("read: %s", rc > 0 ? "the peer closed" : strerror(errno));
        return -1;
    }
    return 0;
}

int baseline_no_stream(bench_conn *c)
{
    bench_set_error("this baseline measures round trips only");
    return -1;
}
