/*
 * memcpy bandwidth: one process copies cfg->size bytes from one buffer
 * into another, the same two buffers every time (both stay in cache, as a
 * ring's hot region would). The copy goes through a volatile function
 * pointer so the compiler cannot drop or merge the repeated copies.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/drv.h"
#include "harness/runner.h"

struct bench_conn {
    size_t size;
    uint8_t *src, *dst;
};

static void *(*volatile memcpy_fn)(void *, const void *, size_t) = memcpy;

static int memcpy_close(bench_conn *c)
{
    if (c != NULL) {
        free(c->src);
        free(c->dst);
        free(c);
    }
    return 0;
}

static int memcpy_open(bench_conn **out, const bench_cfg *cfg)
{
    *out = NULL;
    if (cfg->rtt || cfg->size == 0) {
        bench_set_error("memcpy measures throughput of a non-empty copy");
        return -1;
    }
    bench_conn *c = calloc(1, sizeof(*c));
    if (c == NULL || (c->src = malloc(cfg->size)) == NULL ||
        (c->dst = malloc(cfg->size)) == NULL) {
        memcpy_close(c);
        bench_set_error("out of memory");
        return -1;
    }
    c->size = cfg->size;
    memset(c->src, 0x5a, c->size);
    memset(c->dst, 0, c->size);
    *out = c;
    return 0;
}

static int memcpy_put(bench_conn *c)
{
    memcpy_fn(c->dst, c->src, c->size);
    return 0;
}

static int memcpy_sync(bench_conn *c)
{
    return 0;
}

static int memcpy_no_rtt(bench_conn *c)
{
    bench_set_error("memcpy has no round trip");
    return -1;
}

const bench_drv bench_drv_memcpy = {
    .transport = "memcpy",
    .impl = "raw",
    .open = memcpy_open,
    .rtt = memcpy_no_rtt,
    .put = memcpy_put,
    .sync = memcpy_sync,
    .close = memcpy_close,
};
