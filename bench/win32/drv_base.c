/*
 * The raw baselines on Windows: not written yet. POSIX's (posix/drv_base.c)
 * are pipe(2), an AF_UNIX socketpair, a TCP pair and a word in a shared
 * mmap, set up before a fork; their Windows counterparts (anonymous pipes,
 * a Winsock pair, a section) would need handles passed to a peer program.
 * Until then each is skipped, saying so; the targets that compare against
 * them print "n/a".
 */
#include "drvs.h"
#include "runner.h"

static int base_none_setup(void)
{
    bench_set_error("not available here (the raw baselines are POSIX only so far)");
    return -1;
}

static int base_none_open(bench_conn **out, const bench_cfg *cfg)
{
    (void)cfg;
    *out = 0;
    return base_none_setup();
}

static int base_none_op(bench_conn *c)
{
    (void)c;
    return -1;
}

#define BASE_NONE(var, name)                                                            \
    const bench_drv var = {.transport = name, .impl = "raw", .open = base_none_open,      \
                           .rtt = base_none_op, .put = base_none_op, .sync = base_none_op, \
                           .close = base_none_op, .setup = base_none_setup}
BASE_NONE(bench_drv_base_spin, "raw-spin");
BASE_NONE(bench_drv_base_pipe, "raw-pipe");
BASE_NONE(bench_drv_base_unix, "raw-unix");
BASE_NONE(bench_drv_base_tcp, "raw-tcp");
