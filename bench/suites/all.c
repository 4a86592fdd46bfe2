/*
 * bench all: the comparison table. Every xipc mechanism, the same tests
 * through ZeroMQ and nng (ipc://, tcp://), a D-Bus method call, and the
 * raw baselines, each row with the mechanism's properties.
 *
 * One table for every OS: a row whose mechanism this system or build
 * lacks (unix:// under wine, clipboard:// and dde:// on Linux, dde://
 * under wine without a display, the peer libraries on Windows) prints as
 * not available, saying why (its driver's setup() fails), and the run
 * goes on. A new mechanism is one row here and its driver.
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "drivers/drivers.h"
#include "suites/compare.h"

/* net, 32/64, reliable, bounds, readers */
#define P_LOCAL {"no", "yes", "yes", "yes", "1"}
#define P_NET {"yes", "yes", "yes", "yes", "1"}
/* throughput only: the rows whose streams are sent XIPC_SEND_MORE */
#define ALL_T_THR (CMP_T_THR64 | CMP_T_THR4K | CMP_T_THR64K)

static const cmp_row all_rows[] = {
    {"shm", "shm", &bench_drv_x_shm, CMP_T_CHANNEL, 0, P_LOCAL},
    {"pubsub", "pubsub", &bench_drv_x_pubsub, CMP_T_CHANNEL, 1,
     {"no", "yes", "no: lapped", "yes", "many"}},
    {"pubsub 4 subs", "pubsub", &bench_drv_x_pubsub, CMP_T_THR64 | CMP_T_THR4K, 4,
     {"no", "yes", "no: lapped", "yes", "many"}},
    {"pubsub 16 subs", "pubsub", &bench_drv_x_pubsub, CMP_T_THR64 | CMP_T_THR4K, 16,
     {"no", "yes", "no: lapped", "yes", "many"}},
    {"pipe", "pipe", &bench_drv_x_pipe, CMP_T_CHANNEL, 0, P_LOCAL},
    {"unix", "unix", &bench_drv_x_unix, CMP_T_CHANNEL, 0, P_LOCAL},
    {"tcp", "tcp", &bench_drv_x_tcp, CMP_T_CHANNEL, 0, P_NET},
    {"unix more", "unix-more", &bench_drv_x_unix_more, ALL_T_THR, 0, P_LOCAL},
    {"tcp more", "tcp-more", &bench_drv_x_tcp_more, ALL_T_THR, 0, P_NET},
    {"mailslot", "mailslot", &bench_drv_x_mailslot, CMP_T_CHANNEL, 0,
     {"no", "yes", "no: drops", "yes", "many"}},
    {"mq", "mq", &bench_drv_x_mq, CMP_T_CHANNEL, 0, {"no", "yes", "yes", "yes", "1 of N"}},
    {"clipboard", "clipboard", &bench_drv_x_clipboard, CMP_T_RTT64, 0,
     {"no", "yes", "no: latest", "yes", "many"}},
    {"dde", "dde", &bench_drv_x_dde, CMP_T_CHANNEL, 0, {"no", "yes", "yes", "yes", "1"}},
    {"anon pipe", "spawn", &bench_drv_x_spawn, CMP_T_CHANNEL, 0,
     {"no", "yes", "yes", "yes", "child"}},
    {"rpc shm", "rpc-shm", &bench_drv_rpc_shm, CMP_T_CHANNEL, 0, P_LOCAL},
    {"rpc shm inline", "rpc-shm-inline", &bench_drv_rpc_shm_inline, CMP_T_CHANNEL, 0,
     P_LOCAL},
    {"rpc unix", "rpc-unix", &bench_drv_rpc_unix, CMP_T_CHANNEL, 0, P_LOCAL},
    {"rpc tcp", "rpc-tcp", &bench_drv_rpc_tcp, CMP_T_CHANNEL, 0, P_NET},
    {"zmq ipc", "ipc", &bench_drv_zmq_ipc, CMP_T_CHANNEL, 0, P_LOCAL},
    {"zmq tcp", "tcp", &bench_drv_zmq_tcp, CMP_T_CHANNEL, 0, P_NET},
    {"nng ipc", "ipc", &bench_drv_nng_ipc, CMP_T_CHANNEL, 0, P_LOCAL},
    {"nng tcp", "tcp", &bench_drv_nng_tcp, CMP_T_CHANNEL, 0, P_NET},
    {"dbus call", "dbus", &bench_drv_dbus, CMP_T_CHANNEL, 0,
     {"no*", "yes", "yes", "yes", "1*"}},
    {"raw spin", "raw-spin", &bench_drv_raw_spin, CMP_T_RTT64, 0,
     {"no", "yes", "-", "1 word", "1"}},
    {"raw pipe", "raw-pipe", &bench_drv_raw_pipe, CMP_T_CHANNEL, 0,
     {"no", "yes", "yes", "no", "1"}},
    {"raw unix", "raw-unix", &bench_drv_raw_unix, CMP_T_CHANNEL, 0,
     {"no", "yes", "yes", "no", "1"}},
    {"raw tcp", "raw-tcp", &bench_drv_raw_tcp, CMP_T_CHANNEL, 0,
     {"yes", "yes", "yes", "no", "1"}},
    {"memcpy", "memcpy", &bench_drv_memcpy, ALL_T_THR, 0,
     {"-", "-", "-", "-", "-"}},
};

#define ALL_NROWS (sizeof(all_rows) / sizeof(all_rows[0]))

static double all_v(const cmp_suite *s, const char *row, int rtt, size_t size)
{
    return cmp_value(s->cases, s->n, row, rtt, size, 0, 0);
}

/* The better of two peers: lower for times, higher for rates (-1: none). */
static double all_best(double a, double b, int rtt)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return rtt ? (a < b ? a : b) : (a > b ? a : b);
}

static double all_ratio(double a, double b)
{
    return a > 0 && b > 0 ? a / b : -1;
}

/* xipc row @p x against peers @p p1 and @p p2 on every test (@p thr_only:
 * the throughput tests). */
static void all_vs(const cmp_suite *s, FILE *out, const char *x, const char *p1,
                   const char *p2, int thr_only)
{
    static const size_t sizes[] = {64, 64, 4096, 65536};
    for (int t = thr_only ? 1 : 0; t < 4; t++) {
        int rtt = t == 0;
        double xv = all_v(s, x, rtt, sizes[t]);
        double best = all_best(all_v(s, p1, rtt, sizes[t]), all_v(s, p2, rtt, sizes[t]), rtt);
        char what[96];
        snprintf(what, sizeof(what), "%s %s %zu B: xipc %s best of %s, %s", x,
                 rtt ? "rtt" : "throughput", sizes[t], rtt ? "/" : "/", p1, p2);
        /* rtt: xipc / best <= 1; throughput: xipc / best >= 1 */
        cmp_target(out, what, all_ratio(xv, best), rtt, 1);
    }
}

/* Each xipc mechanism against the peers that do the same job. */
static const struct {
    const char *mine;
    const char *peers[3];
} all_rivals[] = {
    {"shm", {"zmq ipc", "nng ipc", "dbus call"}},
    {"pipe", {"zmq ipc", "nng ipc", NULL}},
    {"unix", {"zmq ipc", "nng ipc", NULL}},
    {"anon pipe", {"zmq ipc", "nng ipc", NULL}},
    {"mq", {"zmq ipc", "nng ipc", NULL}},
    {"tcp", {"zmq tcp", "nng tcp", NULL}},
    {"unix more", {"zmq ipc", "nng ipc", NULL}},
    {"tcp more", {"zmq tcp", "nng tcp", NULL}},
    {"rpc shm", {"dbus call", NULL, NULL}},
    {"rpc shm inline", {"dbus call", NULL, NULL}},
    {"rpc unix", {"dbus call", NULL, NULL}},
};

static void all_behind(const cmp_suite *s, FILE *out)
{
    static const size_t sizes[] = {64, 64, 4096, 65536};
    int any = 0;
    fprintf(out, "\nwhere a peer is ahead of an xipc mechanism doing the same job "
                 "(ipc:// against local mechanisms, tcp:// against tcp://, the D-Bus "
                 "call against shm and RPC):\n");
    for (size_t m = 0; m < sizeof(all_rivals) / sizeof(all_rivals[0]); m++)
        for (int t = 0; t < 4; t++) {
            int rtt = t == 0;
            double xv = all_v(s, all_rivals[m].mine, rtt, sizes[t]);
            for (size_t p = 0; xv > 0 && p < 3 && all_rivals[m].peers[p] != NULL; p++) {
                const char *peer = all_rivals[m].peers[p];
                double pv = all_v(s, peer, rtt, sizes[t]);
                if (pv <= 0 || (rtt ? pv >= xv : pv <= xv))
                    continue;
                fprintf(out, "  %-10s %-10s %5zu B: %s is %.2fx %s\n", all_rivals[m].mine,
                        rtt ? "rtt" : "throughput", sizes[t], peer,
                        rtt ? xv / pv : pv / xv, rtt ? "faster" : "higher");
                any = 1;
            }
        }
    if (!any)
        fprintf(out, "  nowhere\n");
}

static void all_targets(const cmp_suite *s, FILE *out)
{
    double shm = all_v(s, "shm", 1, 64);
    double ipc = all_best(all_v(s, "zmq ipc", 1, 64), all_v(s, "nng ipc", 1, 64), 1);
    fprintf(out, "\ntargets (ratios of medians from this run):\n");
    cmp_target(out, "best of zmq/nng ipc:// rtt / xipc shm rtt", all_ratio(ipc, shm), 0, 20);
    all_vs(s, out, "unix", "zmq ipc", "nng ipc", 0);
    all_vs(s, out, "unix more", "zmq ipc", "nng ipc", 1);
    all_vs(s, out, "tcp", "zmq tcp", "nng tcp", 0);
    all_vs(s, out, "tcp more", "zmq tcp", "nng tcp", 1);
    all_behind(s, out);
}

int bench_suite_all(const bench_args *a, FILE *out, FILE *json)
{
    static const cmp_report r = {
        cmp_table_channels,
        "\nCPU/msg: user+system time of every process of the case (getrusage "
        "RUSAGE_SELF in each; D-Bus: the daemon's too) per 64 B message.\n"
        "rtt p99: of single round trips timed one by one. pubsub: messages "
        "delivered to every subscriber. *: D-Bus as run here (a local bus; "
        "signals reach many).\n"
        CMP_OS_LEGEND,
        all_targets};
    return cmp_suite_main("all", all_rows, ALL_NROWS, &r, a, out, json);
}
