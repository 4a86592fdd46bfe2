/*
 * bench transports: every xipc transport with the same round-trip and
 * throughput tests, publish/subscribe with 1, 4 and 16 subscribers, and
 * the raw baselines the stream transports are judged against.
 */
#define _POSIX_C_SOURCE 200809L

#include "drivers/drivers.h"
#include "suites/compare.h"

#define TR_LOCAL {"no", "yes", "yes", "yes", "1"}
#define TR_PUBSUB {"no", "yes", "no: lapped", "yes", "many"}
#define TR_RAW {"no", "yes", "yes", "no", "1"}

static const cmp_row tr_rows[] = {
    {"shm", "shm", &bench_drv_x_shm, CMP_T_CHANNEL, 0, TR_LOCAL},
    {"pubsub", "pubsub", &bench_drv_x_pubsub, CMP_T_CHANNEL, 1, TR_PUBSUB},
    {"pubsub 4 subs", "pubsub", &bench_drv_x_pubsub, CMP_T_THR64 | CMP_T_THR4K, 4, TR_PUBSUB},
    {"pubsub 16 subs", "pubsub", &bench_drv_x_pubsub, CMP_T_THR64 | CMP_T_THR4K, 16,
     TR_PUBSUB},
    {"pipe", "pipe", &bench_drv_x_pipe, CMP_T_CHANNEL, 0, TR_LOCAL},
    {"unix", "unix", &bench_drv_x_unix, CMP_T_CHANNEL, 0, TR_LOCAL},
    {"tcp", "tcp", &bench_drv_x_tcp, CMP_T_CHANNEL, 0, {"yes", "yes", "yes", "yes", "1"}},
    {"tls+tcp", "tls+tcp", &bench_drv_x_tls, CMP_T_CHANNEL, 0,
     {"yes", "yes", "yes", "yes", "1"}},
    {"mailslot", "mailslot", &bench_drv_x_mailslot, CMP_T_CHANNEL, 0,
     {"no", "yes", "no: drops", "yes", "many"}},
    {"mq", "mq", &bench_drv_x_mq, CMP_T_CHANNEL, 0, {"no", "yes", "yes", "yes", "1 of N"}},
    {"clipboard", "clipboard", &bench_drv_x_clipboard, CMP_T_RTT64, 0,
     {"no", "yes", "no: latest", "yes", "many"}},
    {"dde", "dde", &bench_drv_x_dde, CMP_T_CHANNEL, 0, {"no", "yes", "yes", "yes", "1"}},
    {"anon pipe", "spawn", &bench_drv_x_spawn, CMP_T_CHANNEL, 0,
     {"no", "yes", "yes", "yes", "child"}},
    {"raw spin", "raw-spin", &bench_drv_raw_spin, CMP_T_RTT64, 0,
     {"no", "yes", "-", "1 word", "1"}},
    {"raw pipe", "raw-pipe", &bench_drv_raw_pipe, CMP_T_CHANNEL, 0, TR_RAW},
    {"raw unix", "raw-unix", &bench_drv_raw_unix, CMP_T_CHANNEL, 0, TR_RAW},
    {"raw tcp", "raw-tcp", &bench_drv_raw_tcp, CMP_T_CHANNEL, 0,
     {"yes", "yes", "yes", "no", "1"}},
};

#define TR_NROWS (sizeof(tr_rows) / sizeof(tr_rows[0]))

static double tr_ratio(const cmp_suite *s, const char *a, const char *b)
{
    double x = cmp_value(s->cases, s->n, a, 1, 64, 0, 0);
    double y = cmp_value(s->cases, s->n, b, 1, 64, 0, 0);
    return x > 0 && y > 0 ? x / y : -1;
}

static void tr_targets(const cmp_suite *s, FILE *out)
{
    static const char *const pairs[][2] = {
        {"pipe", "raw unix"},  {"pipe", "raw pipe"},      {"unix", "raw unix"},
        {"unix", "raw pipe"},  {"anon pipe", "raw unix"}, {"tcp", "raw tcp"},
        {"tls+tcp", "raw tcp"},
    };
    fprintf(out, "\ntargets (stream transports: rtt 64 B within 1.3x of the raw "
                 "baseline of this run; pipe://, unix:// and anonymous pipes are "
                 "AF_UNIX stream sockets):\n");
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        char what[96];
        snprintf(what, sizeof(what), "%s rtt / %s rtt", pairs[i][0], pairs[i][1]);
        cmp_target(out, what, tr_ratio(s, pairs[i][0], pairs[i][1]), 1, 1.3);
    }
}

int bench_suite_transports(const bench_args *a, FILE *out, FILE *json)
{
    static const cmp_report r = {cmp_table_channels, "\n" CMP_OS_LEGEND, tr_targets};
    return cmp_suite_main("transports", tr_rows, TR_NROWS, &r, a, out, json);
}
