/*
 * The suite that needs fork, not on Windows yet: shm (its raw baselines
 * are functions run in a forked child: posix/drv_raw.c). The comparison
 * suites (all, rpc, transports) run their peers as peer programs (peer.h)
 * and work here.
 */
#include <stdio.h>

#include "suite.h"

static int suite_missing(const char *name)
{
    fprintf(stderr, "xipc: bench: %s: not available here (POSIX only so far: its peers "
                    "need fork); `xipc bench all` runs here\n",
            name);
    return 1;
}

int bench_suite_shm(const bench_args *a, FILE *out, FILE *json)
{
    (void)a, (void)out, (void)json;
    return suite_missing("shm");
}
