/*
 * The other side of the RPC interoperability and cross-bitness tests:
 *
 *   rpc_peer serve URL...   serve the test methods at each URL; print
 *                           "url BOUND" per URL, then "ready"; stop
 *                           gracefully when stdin ends
 *   rpc_peer xbit URL BITS  the cross-bitness client checks (rpc_xbit.c)
 *                           against a server of BITS-bit pointers
 *   rpc_peer call URL       the client checks against the Python server of
 *                           tests/rpc_py_test.py
 *
 * Methods served: echo, reencode, bits (rpc_xbit.c); add(a, b); sleep(ms);
 * wait_gate(k) (returns once the notification open_gate(k) arrived, k in
 * 0..30);
 * note (notification: counts); notes() -> count; fail() -> [7, "failed"].
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/platform.h"
#include "rpc_xbit.h"

static atomic_int peer_note_count;
static atomic_int peer_gate;

static xipc_err peer_add(xipc_rpc_req *req, void *ud)
{
    int64_t a, b;
    xipc_err rv = xipc_rpc_req_argsf(req, "II", &a, &b);
    return rv != XIPC_OK ? rv : xipc_rpc_req_returnf(req, "I", a + b);
}

static xipc_err peer_sleep(xipc_rpc_req *req, void *ud)
{
    int ms;
    xipc_err rv = xipc_rpc_req_argsf(req, "i", &ms);
    if (rv != XIPC_OK)
        return rv;
    xipc_plat_sleep_us((uint32_t)ms * 1000u);
    return xipc_rpc_req_returnf(req, "i", ms);
}

static xipc_err peer_wait_gate(xipc_rpc_req *req, void *ud)
{
    unsigned k;
    xipc_err rv = xipc_rpc_req_argsf(req, "u", &k);
    if (rv != XIPC_OK || k > 30)
        return XIPC_EINVAL;
    /* bounded, so a broken test fails instead of hanging */
    for (int i = 0; i < 30000 && !(atomic_load(&peer_gate) & (1 << k)); i++)
        xipc_plat_sleep_us(1000);
    return xipc_rpc_req_returnf(req, "s",
                                atomic_load(&peer_gate) & (1 << k) ? "opened" : "timeout");
}

static xipc_err peer_open_gate(xipc_rpc_req *req, void *ud)
{
    unsigned k;
    if (xipc_rpc_req_argsf(req, "u", &k) == XIPC_OK && k <= 30)
        atomic_fetch_or(&peer_gate, 1 << k);
    return XIPC_OK;
}

static xipc_err peer_note(xipc_rpc_req *req, void *ud)
{
    atomic_fetch_add(&peer_note_count, 1);
    return XIPC_OK;
}

static xipc_err peer_notes(xipc_rpc_req *req, void *ud)
{
    return xipc_rpc_req_returnf(req, "i", atomic_load(&peer_note_count));
}

static xipc_err peer_fail(xipc_rpc_req *req, void *ud)
{
    return xipc_rpc_req_error(req, 7, "failed");
}

static int peer_serve(int n, char **urls)
{
    xipc_rpc_server_opts o;
    xipc_rpc_server *srv;
    xipc_rpc_server_opts_init(&o);
    o.workers = 4; /* wait_gate must not hold the only worker */
    xipc_err rv = xipc_rpc_server_alloc(&srv, &o);
    if (rv == XIPC_OK)
        rv = rpcx_register(srv);
    struct {
        const char *name, *sig;
        xipc_rpc_handler fn;
    } m[] = {
        {"add", "(int a, int b) -> int", peer_add},
        {"sleep", "(int ms) -> int", peer_sleep},
        {"wait_gate", "(int gate) -> str", peer_wait_gate},
        {"open_gate", "(int gate) (notification)", peer_open_gate},
        {"note", "() (notification)", peer_note},
        {"notes", "() -> int", peer_notes},
        {"fail", "() -> error [7, \"failed\"]", peer_fail},
    };
    for (size_t i = 0; rv == XIPC_OK && i < sizeof(m) / sizeof(m[0]); i++)
        rv = xipc_rpc_server_register(srv, m[i].name, m[i].sig, m[i].fn, NULL);
    for (int i = 0; rv == XIPC_OK && i < n; i++) {
        char bound[512];
        rv = xipc_rpc_server_serve(srv, urls[i]);
        if (rv == XIPC_OK)
            rv = xipc_rpc_server_url(srv, (unsigned)i, bound, sizeof(bound));
        if (rv == XIPC_OK)
            printf("url %s\n", bound);
    }
    if (rv != XIPC_OK) {
        fprintf(stderr, "rpc_peer serve: %s\n", xipc_strerror(rv));
        xipc_rpc_server_free(srv);
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    while (getchar() != EOF)
        ;
    rv = xipc_rpc_server_stop(srv);
    xipc_rpc_server_free(srv);
    return rv == XIPC_OK ? 0 : 1;
}

/* ---- the client against the Python server ---- */

#define PEER_CHECK(cond)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "rpc_peer call %s:%d: %s failed\n", __FILE__,      \
                    __LINE__, #cond);                                          \
            return 1;                                                          \
        }                                                                      \
    } while (0)

static atomic_int peer_events;
static atomic_int peer_event_value;

static void peer_on_notify(xipc_rpc_client *c, const char *method,
                           const void *params, size_t len, void *ud)
{
    xipc_mp_reader r;
    uint32_t n;
    int64_t v;
    xipc_mp_reader_init(&r, params, len);
    if (strcmp(method, "event") == 0 && xipc_mp_read_array(&r, &n) == XIPC_OK &&
        n == 1 && xipc_mp_read_int(&r, &v) == XIPC_OK) {
        atomic_store(&peer_event_value, (int)v);
        atomic_fetch_add(&peer_events, 1);
    }
}

static int peer_call(const char *url)
{
    xipc_rpc_client_opts o;
    xipc_rpc_client *c;
    xipc_rpc_client_opts_init(&o);
    o.timeout_ms = 30000;
    o.on_notify = peer_on_notify;
    PEER_CHECK(xipc_rpc_client_dial(&c, url, &o, 10000) == XIPC_OK);

    /* a call */
    int sum = 0;
    PEER_CHECK(xipc_rpc_callf(c, "add", "ii", 2, 3, "i", &sum) == XIPC_OK && sum == 5);

    /* every format letter through Python and back */
    static const uint8_t blob[] = {0, 1, 2, 0xff, 0xc1};
    static const uint8_t map[] = {0x81, 0xa1, 'k', 0x92, 0x01, 0xc3}; /* {"k": [1, true]} */
    bool bo = false;
    int i = 0;
    int64_t big = 0;
    unsigned u = 0;
    uint64_t ubig = 0;
    double d = 0;
    char *s = NULL;
    void *bp = NULL, *mp = NULL;
    size_t bl = 0, ml = 0;
    PEER_CHECK(xipc_rpc_callf(c, "echo", "nBiIuUdsbm", 1, -7, (int64_t)INT64_MIN, 42u,
                              (uint64_t)UINT64_MAX, -0.25, "héllo", blob, sizeof(blob),
                              map, sizeof(map), "nBiIuUdsbm", &bo, &i, &big, &u, &ubig,
                              &d, &s, &bp, &bl, &mp, &ml) == XIPC_OK);
    PEER_CHECK(bo && i == -7 && big == INT64_MIN && u == 42 && ubig == UINT64_MAX &&
               d == -0.25 && strcmp(s, "héllo") == 0);
    PEER_CHECK(bl == sizeof(blob) && memcmp(bp, blob, bl) == 0);
    PEER_CHECK(ml == sizeof(map) && memcmp(mp, map, ml) == 0);
    xipc_rpc_free(s);
    xipc_rpc_free(bp);
    xipc_rpc_free(mp);

    /* responses out of order: wait_gate stays unanswered while other
     * calls are answered, until the notification open_gate */
    xipc_rpc_future *gate;
    void *one;
    size_t onel;
    PEER_CHECK(xipc_rpc_pack(&one, &onel, "i", 1) == XIPC_OK);
    PEER_CHECK(xipc_rpc_call_async(c, "wait_gate", one, onel, NULL, NULL, &gate) == XIPC_OK);
    xipc_rpc_free(one);
    for (int k = 0; k < 20; k++) {
        int r = 0;
        PEER_CHECK(xipc_rpc_callf(c, "add", "ii", k, 1000, "i", &r) == XIPC_OK &&
                   r == k + 1000);
    }
    PEER_CHECK(xipc_rpc_future_result(gate, NULL) == XIPC_ESTATE); /* still waiting */
    PEER_CHECK(xipc_rpc_notifyf(c, "open_gate", "i", 1) == XIPC_OK);
    PEER_CHECK(xipc_rpc_future_wait(gate, 30000) == XIPC_OK);
    xipc_rpc_result res;
    xipc_rpc_result_init(&res);
    PEER_CHECK(xipc_rpc_future_result(gate, &res) == XIPC_OK);
    PEER_CHECK(xipc_rpc_result_scanf(&res, "s", &s) == XIPC_OK && strcmp(s, "opened") == 0);
    xipc_rpc_free(s);
    xipc_rpc_result_fini(&res);
    xipc_rpc_future_free(gate);

    /* notifications to the server, in order before the next call */
    for (int k = 0; k < 3; k++)
        PEER_CHECK(xipc_rpc_notifyf(c, "note", "i", k) == XIPC_OK);
    int notes = 0;
    PEER_CHECK(xipc_rpc_callf(c, "notes", "", "i", &notes) == XIPC_OK && notes == 3);

    /* a notification from the server, delivered before the response */
    PEER_CHECK(xipc_rpc_callf(c, "notify_me", "i", 77, "") == XIPC_OK);
    PEER_CHECK(atomic_load(&peer_events) == 1 && atomic_load(&peer_event_value) == 77);

    /* error objects of both forms */
    int64_t code = -1;
    const char *msg = NULL;
    PEER_CHECK(xipc_rpc_callf(c, "fail", "", "") == XIPC_EREMOTE);
    PEER_CHECK(xipc_rpc_last_error(&code, &msg) == XIPC_OK && code == 0 &&
               strcmp(msg, "boom") == 0);
    PEER_CHECK(xipc_rpc_callf(c, "fail2", "", "") == XIPC_EREMOTE);
    PEER_CHECK(xipc_rpc_last_error(&code, &msg) == XIPC_OK && code == 42 &&
               strcmp(msg, "custom") == 0);
    PEER_CHECK(xipc_rpc_callf(c, "no_such_method", "", "") == XIPC_EREMOTE);

    xipc_rpc_client_close(c);
    printf("rpc_peer call %s ok\n", url);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "serve") == 0)
        return peer_serve(argc - 2, argv + 2);
    if (argc == 4 && strcmp(argv[1], "xbit") == 0) {
        int rc = rpcx_client(argv[2], (unsigned)strtoul(argv[3], NULL, 10));
        if (rc == 0)
            printf("rpc_peer xbit %s ok\n", argv[2]);
        return rc;
    }
    if (argc == 3 && strcmp(argv[1], "call") == 0)
        return peer_call(argv[2]);
    fprintf(stderr, "usage: rpc_peer serve URL... | xbit URL BITS | call URL\n");
    return 2;
}
