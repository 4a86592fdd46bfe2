/*
 * The cost of one call through `xipc host` against a direct call
 * (docs/host.md, "Overhead"):
 *
 *   overhead LIB URL [N]
 *
 * loads LIB (libvendor, of this program's own bitness) and times N calls
 * of vendor_add(i, 1) made directly, then N made through the host serving
 * LIB at URL, one after the other, in 21 batches: the median batch's mean
 * per call. Prints both per-call times and their difference. N defaults
 * to 20000. Timings are printed, never judged.
 */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xipc/rpc.h"

#define OVERHEAD_BATCHES 21

typedef int32_t (*add_fn)(int32_t, int32_t);

static int overhead_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: overhead LIB URL [N]\n");
        return 2;
    }
    long n = argc == 4 ? atol(argv[3]) : 20000;
    void *h = dlopen(argv[1], RTLD_NOW);
    if (h == NULL || n <= 0) {
        fprintf(stderr, "overhead: %s\n", h == NULL ? dlerror() : "N must be positive");
        return 1;
    }
    add_fn add;
    void *sym = dlsym(h, "vendor_add");
    memcpy(&add, &sym, sizeof(add));
    if (sym == NULL) {
        fprintf(stderr, "overhead: %s: no vendor_add\n", argv[1]);
        return 1;
    }
    volatile int32_t sink = 0;
    double t0 = now_ns();
    for (long i = 0; i < n; i++)
        sink = add((int32_t)i, sink & 1);
    double direct = (now_ns() - t0) / (double)n;

    xipc_rpc_client *c;
    xipc_err rv = xipc_rpc_client_dial(&c, argv[2], NULL, 60000);
    if (rv != XIPC_OK) {
        fprintf(stderr, "overhead: dial %s: %s\n", argv[2], xipc_strerror(rv));
        return 1;
    }
    int v = 0;
    for (long i = 0; i < n / 10 && rv == XIPC_OK; i++) /* warm up */
        rv = xipc_rpc_callf(c, "vendor_add", "ii", (int)i, 1, "i", &v);
    /* OVERHEAD_BATCHES batches, the median of their means: a loaded
     * machine's stalls land in a few batches, not in the figure */
    double batch[OVERHEAD_BATCHES];
    long per = n / OVERHEAD_BATCHES > 0 ? n / OVERHEAD_BATCHES : 1;
    for (int b = 0; b < OVERHEAD_BATCHES && rv == XIPC_OK; b++) {
        t0 = now_ns();
        for (long i = 0; i < per && rv == XIPC_OK; i++)
            rv = xipc_rpc_callf(c, "vendor_add", "ii", (int)i, 1, "i", &v);
        batch[b] = (now_ns() - t0) / (double)per;
        if (rv == XIPC_OK && v != (int)per)
            rv = XIPC_EPROTO; /* (per - 1) + 1 */
    }
    qsort(batch, OVERHEAD_BATCHES, sizeof(double), overhead_cmp);
    double hosted = batch[OVERHEAD_BATCHES / 2];
    xipc_rpc_client_close(c);
    if (rv != XIPC_OK) {
        fprintf(stderr, "overhead: call: %s\n", xipc_strerror(rv));
        return 1;
    }
    printf("overhead: %u-bit, %ld calls of vendor_add via %s\n", (unsigned)(sizeof(void *) * 8),
           n, argv[2]);
    printf("overhead: direct %.1f ns/call, through the host %.0f ns/call, overhead %.0f "
           "ns/call (median of %d batches)\n", direct, hosted, hosted - direct, OVERHEAD_BATCHES);
    dlclose(h);
    return 0;
}
