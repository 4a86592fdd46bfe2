/*
 * bench rpc: a null call's round trip and calls/s with 1 and 8 calling
 * threads, over xipc's MessagePack-RPC (shm://, unix://, tcp://), nng's
 * REQ/REP (ipc://, tcp://) and a D-Bus method call through a private
 * dbus-daemon; the shm transport's own round trip for reference.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>

#include "drivers/drivers.h"
#include "harness/exec.h"
#include "suites/compare.h"

#define RPC_CALLS (CMP_T_NULL | CMP_T_CALL1 | CMP_T_CALL8)
#define RPC_P {"", "", "", "", ""}

static const cmp_row rpc_rows[] = {
    /* first: after the D-Bus case its daemon may still be exiting */
    {"shm", "shm", &bench_drv_x_shm, CMP_T_RTT64, 0, RPC_P},
    {"rpc shm", "rpc-shm", &bench_drv_rpc_shm, RPC_CALLS, 0, RPC_P},
    {"rpc shm inline", "rpc-shm-inline", &bench_drv_rpc_shm_inline, RPC_CALLS, 0, RPC_P},
    {"rpc shm 8cli", "rpc-shm-per", &bench_drv_rpc_shm_per, CMP_T_CALL8, 0, RPC_P},
    {"rpc inline 8cli", "rpc-shm-inline-per", &bench_drv_rpc_shm_inline_per, CMP_T_CALL8, 0,
     RPC_P},
    {"rpc shm spin0", "rpc-shm-nospin", &bench_drv_rpc_shm_nospin, RPC_CALLS, 0, RPC_P},
    {"rpc unix", "rpc-unix", &bench_drv_rpc_unix, RPC_CALLS, 0, RPC_P},
    {"rpc tcp", "rpc-tcp", &bench_drv_rpc_tcp, RPC_CALLS, 0, RPC_P},
    {"nng req ipc", "reqrep-ipc", &bench_drv_nng_req_ipc, RPC_CALLS, 0, RPC_P},
    {"nng req tcp", "reqrep-tcp", &bench_drv_nng_req_tcp, RPC_CALLS, 0, RPC_P},
    {"dbus call", "dbus", &bench_drv_dbus, RPC_CALLS, 0, RPC_P},
};

#define RPC_NROWS (sizeof(rpc_rows) / sizeof(rpc_rows[0]))

static void rpc_table(const cmp_suite *s, FILE *out)
{
    fprintf(out, "%-16s %-4s %10s %10s %10s %11s %11s %9s\n", "mechanism", "impl",
            "null call", "p50", "p99", "calls/s", "calls/s", "CPU/call");
    fprintf(out, "%-16s %-4s %10s %10s %10s %11s %11s %9s\n", "", "", "median", "", "",
            "1 thread", "8 threads", "1 thread");
    for (size_t r = 0; r < RPC_NROWS; r++) {
        const cmp_row *row = &rpc_rows[r];
        const bench_case *k0 = cmp_find(s->cases, s->n, row->row, 1,
                                      row->tests & CMP_T_NULL ? 0 : 64, 0, 0);
        const bench_case *k1 = cmp_find(s->cases, s->n, row->row, 0, 0, 0, 1);
        const bench_case *k8 = cmp_find(s->cases, s->n, row->row, 0, 0, 0, 8);
        char c[6][32] = {"-", "-", "-", "-", "-", "-"};
        if (k0 != NULL && k0->state == BENCH_OK) {
            cmp_fmt_ns(c[0], sizeof(c[0]), k0->value);
            cmp_fmt_ns(c[1], sizeof(c[1]), k0->p50);
            cmp_fmt_ns(c[2], sizeof(c[2]), k0->p99);
        }
        if (k1 != NULL && k1->state == BENCH_OK) {
            cmp_fmt_rate(c[3], sizeof(c[3]), k1->value, "");
            cmp_fmt_ns(c[5], sizeof(c[5]), k1->cpu_ns);
        }
        if (k8 != NULL && k8->state == BENCH_OK)
            cmp_fmt_rate(c[4], sizeof(c[4]), k8->value, "");
        fprintf(out, "%-16s %-4s %10s %10s %10s %11s %11s %9s%s%s\n", row->row,
                row->drv->impl, c[0], c[1], c[2], c[3], c[4], c[5],
                row->tests & CMP_T_RTT64 ? "  (shm transport, 64 B echo)" : "",
                bench_emulated() ? "  emulated" : "");
    }
}

static void rpc_targets(const cmp_suite *s, FILE *out)
{
    static const char *const rows[] = {"rpc shm inline", "rpc shm"};
    double shm = cmp_value(s->cases, s->n, "shm", 1, 64, 0, 0);
    double dbus = cmp_value(s->cases, s->n, "dbus call", 1, 0, 0, 0);
    double nng = cmp_value(s->cases, s->n, "nng req ipc", 1, 0, 0, 0);
    fprintf(out, "\ntargets (ratios of medians from this run; rpc shm inline: the null "
                 "method registered XIPC_RPC_INLINE, rpc shm: an ordinary method, run by "
                 "a worker or, in a 64-bit server, by the reader):\n");
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        double rs = cmp_value(s->cases, s->n, rows[i], 1, 0, 0, 0);
        char what[96];
        snprintf(what, sizeof(what), "%s null call / shm transport rtt", rows[i]);
        cmp_target(out, what, rs > 0 && shm > 0 ? rs / shm : -1, 1, 3);
        snprintf(what, sizeof(what), "dbus call / %s null call", rows[i]);
        cmp_target(out, what, rs > 0 && dbus > 0 ? dbus / rs : -1, 0, 10);
        snprintf(what, sizeof(what), "nng req ipc:// null call / %s null call", rows[i]);
        cmp_target(out, what, rs > 0 && nng > 0 ? nng / rs : -1, 0, 1);
    }
}

int bench_suite_rpc(const bench_args *a, FILE *out, FILE *json)
{
    static const cmp_report r = {
        rpc_table,
        "\nxipc: one client shared by the calling threads (8cli: a client, and a "
        "connection, per thread); nng: one REQ "
        "socket, a context per thread; D-Bus: a bus connection per thread "
        "(sd-bus objects are not thread-safe). CPU/call: every process of "
        "the case, the dbus-daemon included.\n",
        rpc_targets};
    return cmp_suite_main("rpc", rpc_rows, RPC_NROWS, &r, a, out, json);
}
