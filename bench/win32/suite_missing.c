/*
 * The suites that need fork on Windows: shm (its drivers, the raw
 * baselines and the --peer32 peer), all and rpc (their RPC and raw
 * drivers). Their peers are still functions run in a forked child; the
 * transports suite's run as peer programs (peer.h) and works here.
 */
#include <stdio.h>

#include "drvs.h"
#include "suite.h"

static int suite_missing(const char *name)
{
    fprintf(stderr, "xipc: bench: %s: not available here (POSIX only so far: its peers "
                    "need fork); `xipc bench transports` runs here\n",
            name);
    return 1;
}

int bench_suite_shm(const bench_args *a, FILE *out, FILE *json)
{
    (void)a, (void)out, (void)json;
    return suite_missing("shm");
}

int bench_suite_all(const bench_args *a, FILE *out, FILE *json)
{
    (void)a, (void)out, (void)json;
    return suite_missing("all");
}

int bench_suite_rpc(const bench_args *a, FILE *out, FILE *json)
{
    (void)a, (void)out, (void)json;
    return suite_missing("rpc");
}

int bench_shm_peer_main(const char *url, const char *mode)
{
    (void)url, (void)mode;
    return suite_missing("--shm-peer");
}
