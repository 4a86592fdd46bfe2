/*
 * The raw baselines on Windows: not written yet. POSIX's (posix/raw.c)
 * are pipe(2), an AF_UNIX socketpair, a TCP pair and a word in a shared
 * mmap, set up before a fork; their Windows counterparts (anonymous pipes,
 * a Winsock pair, a section) would need handles passed to a peer program.
 * Until then each is skipped, saying so; the targets that compare against
 * them print "n/a".
 */
#include "drivers/drivers.h"
#include "harness/runner.h"

static int raw_none_setup(void)
{
    bench_set_error("not available here (the raw baselines are POSIX only so far)");
    return -1;
}

static int raw_none_open(bench_conn **out, const bench_cfg *cfg)
{
    (void)cfg;
    *out = 0;
    return raw_none_setup();
}

static int raw_none_op(bench_conn *c)
{
    (void)c;
    return -1;
}

#define RAW_NONE(var, name)                                                            \
    const bench_drv var = {.transport = name, .impl = "raw", .open = raw_none_open,      \
                           .rtt = raw_none_op, .put = raw_none_op, .sync = raw_none_op, \
                           .close = raw_none_op, .setup = raw_none_setup}
RAW_NONE(bench_drv_raw_spin, "raw-spin");
RAW_NONE(bench_drv_raw_pipe, "raw-pipe");
RAW_NONE(bench_drv_raw_unix, "raw-unix");
RAW_NONE(bench_drv_raw_tcp, "raw-tcp");
