/* The forked-peer part of a driver's connection: see pconn.h. */
#include <stdlib.h>
#include <string.h>

#include "harness/pconn.h"
#include "harness/runner.h"

#define PCONN_STOP_MS 5000

void *bench_pconn_alloc(size_t conn_size, size_t buf_size, const bench_cfg *cfg)
{
    bench_pconn *p = calloc(1, conn_size);
    if (p == NULL || (p->buf = malloc(buf_size)) == NULL) {
        free(p);
        bench_set_error("out of memory");
        return NULL;
    }
    memset(p->buf, 0x5a, buf_size);
    p->peer.pid = -1;
    p->size = cfg->size;
    p->peer_cpu = cfg->peer_cpu_ns;
    return p;
}

int bench_pconn_end(bench_pconn *p, double (*extra_cpu)(bench_pconn *p))
{
    int rc = bench_peer_stop(&p->peer, PCONN_STOP_MS);
    double cpu = bench_cpu_collect(&p->cpu);
    if (extra_cpu != NULL) {
        double more = extra_cpu(p);
        if (cpu >= 0 && more >= 0)
            cpu += more;
    }
    if (p->peer_cpu != NULL)
        *p->peer_cpu = cpu;
    free(p->buf);
    free(p);
    return rc;
}
