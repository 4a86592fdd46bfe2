/* xipc_bench_main: the command line of `xipc bench`, and suite dispatch. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "drivers/drivers.h"
#include "harness/peer.h"
#include "harness/util.h"
#include "suites/suite.h"

#define BENCH_EXIT_OK 0
#define BENCH_EXIT_FAIL 1
#define BENCH_EXIT_USAGE 2

typedef struct bench_suite {
    const char *name;
    const char *about;
    bench_suite_fn run;
} bench_suite;

static const bench_suite bench_suites[] = {
    {.name = "shm",
     .about = "xipc shm:// against raw-spin, raw-pipe, raw-unix and memcpy",
     .run = bench_suite_shm},
    {.name = "all",
     .about = "the comparison table: every xipc mechanism, ZeroMQ, nng, D-Bus, raw",
     .run = bench_suite_all},
    {.name = "rpc",
     .about = "null calls: xipc RPC over shm/unix/tcp, nng REQ/REP, a D-Bus call",
     .run = bench_suite_rpc},
    {.name = "transports",
     .about = "every xipc transport, pub/sub with 1/4/16 subscribers, raw baselines",
     .run = bench_suite_transports},
};

#define BENCH_NSUITES (sizeof(bench_suites) / sizeof(bench_suites[0]))

static void bench_usage(FILE *f)
{
    fprintf(f, "usage: xipc bench SUITE [--json FILE] [--quick|--full|--smoke] [--peer32 FILE]\n"
               "suites:\n");
    for (size_t i = 0; i < BENCH_NSUITES; i++)
        fprintf(f, "  %-10s %s\n", bench_suites[i].name, bench_suites[i].about);
    fprintf(f, "options:\n"
               "  --json FILE  also write the results to FILE as a JSON array\n"
               "  --plot FILE  all, rpc, transports: a chart, FILE.svg or FILE.png (gnuplot)\n"
               "  --quick      9 repetitions of ~100 ms per measurement (default, ~15 s)\n"
               "  --full       11 repetitions of ~300 ms per measurement (~1 min)\n"
               "  --smoke      one short repetition of the 64 B tests (and null calls):\n"
               "               that every mechanism runs, not how fast (the tests)\n"
               "  --peer32 FILE  shm: also measure against FILE, the xipc of the m32\n"
               "               build, started through scripts/run32 (under qemu-i386\n"
               "               where the kernel cannot run 32-bit programs)\n"
               "The median of the repetitions is reported. Run on an idle machine.\n");
}

static int bench_usage_error(const char *why, const char *what)
{
    fprintf(stderr, "xipc: bench: %s%s%s\n", why, what ? ": " : "", what ? what : "");
    bench_usage(stderr);
    return BENCH_EXIT_USAGE;
}

/* @return -1 to go on, else an exit code. */
static int bench_parse(int argc, char **argv, bench_args *a)
{
    int quick = 0;
    memset(a, 0, sizeof(*a));
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
            bench_usage(stdout);
            return BENCH_EXIT_OK;
        } else if (strcmp(s, "--json") == 0 || strncmp(s, "--json=", 7) == 0) {
            const char *v = s[6] == '=' ? s + 7 : (i + 1 < argc ? argv[++i] : NULL);
            if (v == NULL || v[0] == '\0' || v[0] == '-')
                return bench_usage_error("--json needs a file name", v);
            if (a->json != NULL)
                return bench_usage_error("--json given twice", NULL);
            a->json = v;
        } else if (strcmp(s, "--plot") == 0 || strncmp(s, "--plot=", 7) == 0) {
            const char *v = s[6] == '=' ? s + 7 : (i + 1 < argc ? argv[++i] : NULL);
            if (v == NULL || v[0] == '\0' || v[0] == '-')
                return bench_usage_error("--plot needs a file name", v);
            a->plot = v;
        } else if (strcmp(s, "--peer32") == 0 || strncmp(s, "--peer32=", 9) == 0) {
            const char *v = s[8] == '=' ? s + 9 : (i + 1 < argc ? argv[++i] : NULL);
            if (v == NULL || v[0] == '\0' || v[0] == '-')
                return bench_usage_error("--peer32 needs a file name", v);
            a->peer32 = v;
        } else if (strcmp(s, "--quick") == 0) {
            quick = 1;
        } else if (strcmp(s, "--full") == 0) {
            a->full = 1;
        } else if (strcmp(s, "--smoke") == 0) {
            a->smoke = 1;
        } else if (s[0] == '-' && s[1] != '\0') {
            return bench_usage_error("unknown option", s);
        } else if (a->suite != NULL) {
            return bench_usage_error("unexpected argument", s);
        } else {
            a->suite = s;
        }
    }
    if (quick + a->full + a->smoke > 1)
        return bench_usage_error("--quick, --full and --smoke exclude each other", NULL);
    if (a->suite == NULL)
        return bench_usage_error("which suite?", NULL);
    if (a->peer32 != NULL && strcmp(a->suite, "shm") != 0)
        return bench_usage_error("--peer32 is for the shm suite", a->suite);
    return -1;
}

static const bench_suite *bench_find(const char *name)
{
    for (size_t i = 0; i < BENCH_NSUITES; i++)
        if (strcmp(bench_suites[i].name, name) == 0)
            return &bench_suites[i];
    return NULL;
}

int xipc_bench_main(int argc, char **argv)
{
    for (int i = 1; i + 2 < argc; i++) /* a peer: xipc_spawn's, or started anew */
        if (strcmp(argv[i], "--peer") == 0)
            return bench_peer_child_main(argc - i - 1, argv + i + 1);
        else if (strcmp(argv[i], "--spawn-peer") == 0)
            return bench_spawn_peer_main(argv[i + 1], argv[i + 2]);
        else if (strcmp(argv[i], "--shm-peer") == 0)
            return bench_shm_peer_main(argv[i + 1], argv[i + 2]);
        else if (strcmp(argv[i], "--nng-peer") == 0 && i + 3 < argc)
            return bench_nng_peer_main(argv[i + 1], argv[i + 2], argv[i + 3]);
    bench_args a;
    int rc = bench_parse(argc, argv, &a);
    if (rc >= 0)
        return rc;
    const bench_suite *s = bench_find(a.suite);
    if (s == NULL)
        return bench_usage_error("unknown suite", a.suite);
    FILE *json = NULL;
    if (a.json != NULL && (json = fopen(a.json, "w")) == NULL) {
        fprintf(stderr, "xipc: bench: %s: %s\n", a.json, strerror(errno));
        return BENCH_EXIT_FAIL;
    }
    bench_sig_pipe(1); /* a peer that dies must be an error, not a SIGPIPE */
    rc = s->run(&a, stdout, json);
    bench_sig_pipe(0);
    if (json != NULL && fclose(json) != 0) {
        fprintf(stderr, "xipc: bench: %s: %s\n", a.json, strerror(errno));
        rc = BENCH_EXIT_FAIL;
    }
    fflush(stdout);
    return rc;
}
