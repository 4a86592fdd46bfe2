/*
 * Helpers shared by the RPC tests: fresh URLs, a server with test
 * methods, a gate that handlers wait on.
 */
#ifndef XIPC_TESTS_RPC_UTIL_H
#define XIPC_TESTS_RPC_UTIL_H

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "xipc/msgpack.h"
#include "core/platform.h"
#include "test.h"
#include "xipc/rpc.h"

static int rt_seq;

/*
 * The channel kinds a test runs over, and its local stream-mode kind:
 * AF_UNIX where every port of the test has it; on Windows (wine has no
 * AF_UNIX) tcp:// instead, unix:// having a test of its own there
 * (win64_conform_unix).
 */
#ifdef _WIN32
#define RT_STREAM "tcp"
static const char *const rt_kinds[] = {"shm", "pipe", "tcp"};
#else
#define RT_STREAM "unix"
static const char *const rt_kinds[] = {"shm", "pipe", "unix", "unixpath", "tcp"};
#endif
#define RT_NKINDS (sizeof(rt_kinds) / sizeof(rt_kinds[0]))

/*
 * A fresh URL of @p kind: "shm", "pipe", "unix" (abstract), "unixpath",
 * "tcp" (port 0: read the bound URL from the server).
 */
static inline void rt_url(char *buf, size_t cap, const char *kind)
{
    unsigned pid = xipc_plat_getpid();
    int id = rt_seq++;
    if (strcmp(kind, "unix") == 0)
        snprintf(buf, cap, "unix://@xipc-rpct-%u-%d", pid, id);
    else if (strcmp(kind, "unixpath") == 0)
        snprintf(buf, cap, "unix:///tmp/xipc-rpct-%u-%d.sock", pid, id);
    else if (strcmp(kind, "tcp") == 0)
        snprintf(buf, cap, "tcp://127.0.0.1:0");
    else
        snprintf(buf, cap, "%s://rpct-%u-%d", kind, pid, id);
}

/* A gate handlers wait on until the test opens it (bounded: 30 s). */
static atomic_int rt_gate_open;
static atomic_int rt_gate_waiting;

static inline xipc_err rt_wait_gate(xipc_rpc_req *req, void *ud)
{
    atomic_fetch_add(&rt_gate_waiting, 1);
    for (int i = 0; i < 30000 && !atomic_load(&rt_gate_open); i++)
        xipc_plat_sleep_us(1000);
    atomic_fetch_sub(&rt_gate_waiting, 1);
    return xipc_rpc_req_returnf(req, "s", atomic_load(&rt_gate_open) ? "opened" : "timeout");
}

/* Wait (no upper bound but the test's) until @p n handlers wait at the gate. */
static inline void rt_gate_wait_for(int n)
{
    while (atomic_load(&rt_gate_waiting) < n)
        xipc_plat_sleep_us(1000);
}

static inline xipc_err rt_add(xipc_rpc_req *req, void *ud)
{
    int64_t a, b;
    xipc_err rv = xipc_rpc_req_argsf(req, "II", &a, &b);
    return rv != XIPC_OK ? rv : xipc_rpc_req_returnf(req, "I", a + b);
}

static inline xipc_err rt_echo(xipc_rpc_req *req, void *ud)
{
    size_t n;
    const void *p = xipc_rpc_req_params_raw(req, &n);
    return xipc_rpc_req_returnf(req, "m", p, n);
}

static atomic_int rt_notes;

static inline xipc_err rt_note(xipc_rpc_req *req, void *ud)
{
    if (xipc_rpc_req_is_notification(req))
        atomic_fetch_add(&rt_notes, 1);
    return XIPC_OK;
}

/* A server with add, echo, wait_gate, note; @p workers threads. */
static inline xipc_rpc_server *rt_server(uint32_t workers, const xipc_rpc_server_opts *given)
{
    xipc_rpc_server_opts o;
    xipc_rpc_server *srv;
    if (given != NULL)
        o = *given;
    else
        xipc_rpc_server_opts_init(&o);
    o.workers = workers;
    XT_OK(xipc_rpc_server_alloc(&srv, &o));
    XT_OK(xipc_rpc_server_register(srv, "add", "(int a, int b) -> int", rt_add, NULL));
    XT_OK(xipc_rpc_server_register(srv, "echo", "(any...) -> [any...]", rt_echo, NULL));
    XT_OK(xipc_rpc_server_register(srv, "wait_gate", "() -> str", rt_wait_gate, NULL));
    XT_OK(xipc_rpc_server_register(srv, "note", "(notification)", rt_note, NULL));
    return srv;
}

/* Serve a fresh URL of @p kind; @p bound receives the URL to dial. */
static inline void rt_serve(xipc_rpc_server *srv, const char *kind, char *bound, size_t cap)
{
    char url[256];
    rt_url(url, sizeof(url), kind);
    XT_OK(xipc_rpc_server_serve(srv, url));
    /* the newest listener is the last one */
    unsigned i = 0;
    char tmp[512];
    while (xipc_rpc_server_url(srv, i + 1, tmp, sizeof(tmp)) == XIPC_OK)
        i++;
    XT_OK(xipc_rpc_server_url(srv, i, bound, cap));
}

static inline xipc_rpc_client *rt_dial(const char *url)
{
    xipc_rpc_client_opts o;
    xipc_rpc_client *c;
    xipc_rpc_client_opts_init(&o);
    o.timeout_ms = 60000;
    XT_OK(xipc_rpc_client_dial(&c, url, &o, 10000));
    return c;
}

/* @p rv is XIPC_EREMOTE with error code @p code and a message starting
 * with @p prefix (this thread's last remote error). */
static inline void rt_expect_remote(xipc_err rv, int64_t code, const char *prefix)
{
    int64_t got;
    const char *msg;
    XT_ERR(rv, XIPC_EREMOTE);
    XT_OK(xipc_rpc_last_error(&got, &msg));
    XT_EQ(got, code);
    if (strncmp(msg, prefix, strlen(prefix)) != 0)
        XT_FAIL("error message \"%s\", want \"%s...\"", msg, prefix);
}

/* xipc_rpc_server_stop on a thread of its own: done says it returned. */
typedef struct rt_stop_arg {
    xipc_rpc_server *srv;
    atomic_int done;
} rt_stop_arg;

static inline void rt_stop_main(void *p)
{
    rt_stop_arg *a = p;
    XT_OK(xipc_rpc_server_stop(a->srv));
    atomic_store(&a->done, 1);
}

#endif
