/*
 * xipc serve URL...: a MessagePack-RPC demo service (docs/rpc.md, "From
 * the shell") on every URL given, until SIGINT, SIGTERM or SIGHUP; then a
 * graceful stop (calls in flight are finished and answered) and exit 0.
 */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "xipc/msgpack.h"
#include "xipc/rpc.h"

#define SERVE_URL_MAX 1024
#define SERVE_SLEEP_MAX 3600000L /* sleep(ms): at most an hour */
#define SERVE_EOVERFLOW 1        /* error code of add's integer overflow */

const char cmd_serve_usage[] =
    "usage: xipc serve [-w] [--workers N] URL...  (xipc serve --help)";

static const char serve_help[] =
    "usage: xipc serve [-w] [--workers N] [--] URL...\n"
    "\n"
    "Serve a MessagePack-RPC demo service at every URL (shm://, pipe://,\n"
    "unix://, tcp://; any mix) until SIGINT, SIGTERM or SIGHUP, then stop\n"
    "gracefully (calls in flight are answered) and exit 0. For each URL,\n"
    "print \"serve: listening at ADDRESS\" to stderr (tcp://HOST:0: the port\n"
    "bound). Call it with xipc call. Methods:\n"
    "  ping() -> \"pong\"\n"
    "  echo(value) -> the value, byte for byte\n"
    "  add(a, b) -> a + b: integers (int64; overflow is the error\n"
    "               [1, \"integer overflow...\"]) or floats (mixed: float)\n"
    "  sysinfo() -> {\"pid\", \"pointer_width\", \"os\", \"version\"}\n"
    "  sleep(ms) -> ms, after sleeping ms (0..3600000) milliseconds\n"
    "  xipc.methods() -> [[name, signature], ...]\n"
    "\n"
    "  --workers N   threads running calls (default: the processors)\n"
    "  -w, --width   print \"serve: pid N, pointer width B bits\" to stderr\n"
    "  -h, --help    show this help\n";

typedef struct serve_cfg {
    char **urls; /* into argv */
    int nurls;
    long workers; /* 0: the default */
    int width;
    int help;
} serve_cfg;

static xipc_err serve_ping(xipc_rpc_req *req, void *ud)
{
    xipc_err rv = xipc_rpc_req_argsf(req, "");
    return rv != XIPC_OK ? rv : xipc_rpc_req_returnf(req, "s", "pong");
}

static xipc_err serve_echo(xipc_rpc_req *req, void *ud)
{
    void *p;
    size_t n;
    xipc_err rv = xipc_rpc_req_argsf(req, "m", &p, &n); /* the raw bytes */
    return rv != XIPC_OK ? rv : xipc_rpc_req_returnf(req, "m", p, n);
}

/* An add operand: an integer that fits int64, or a float. */
typedef struct serve_num {
    int is_int;
    int64_t i;
    double d;
} serve_num;

static xipc_err serve_bad_arg(xipc_rpc_req *req, int which, const char *why)
{
    char msg[160];
    snprintf(msg, sizeof(msg), "invalid params: argument %d: %s", which, why);
    xipc_rpc_req_error(req, XIPC_RPC_EINVALID_PARAMS, msg);
    return XIPC_EINVAL;
}

static xipc_err serve_read_num(xipc_rpc_req *req, int which, serve_num *n)
{
    xipc_mp_obj o;
    char why[96];
    xipc_err rv = xipc_mp_read_next(xipc_rpc_req_params(req), &o);
    if (rv != XIPC_OK)
        return rv;
    n->is_int = o.type == XIPC_MP_UINT || o.type == XIPC_MP_INT;
    if (o.type == XIPC_MP_UINT && o.v.u > INT64_MAX)
        return serve_bad_arg(req, which, "integer beyond int64");
    if (o.type == XIPC_MP_UINT)
        n->i = (int64_t)o.v.u;
    else if (o.type == XIPC_MP_INT)
        n->i = o.v.i;
    else if (o.type == XIPC_MP_FLOAT32)
        n->d = o.v.f32;
    else if (o.type == XIPC_MP_FLOAT64)
        n->d = o.v.f64;
    else {
        snprintf(why, sizeof(why), "expected a number, got %s",
                 xipc_mp_type_name(o.type));
        return serve_bad_arg(req, which, why);
    }
    if (n->is_int)
        n->d = (double)n->i;
    return XIPC_OK;
}

static xipc_err serve_add(xipc_rpc_req *req, void *ud)
{
    serve_num a, b;
    char msg[128];
    if (xipc_rpc_req_nparams(req) != 2) {
        snprintf(msg, sizeof(msg), "invalid params: expected 2 arguments, got %u",
                 (unsigned)xipc_rpc_req_nparams(req));
        return xipc_rpc_req_error(req, XIPC_RPC_EINVALID_PARAMS, msg);
    }
    xipc_err rv = serve_read_num(req, 1, &a);
    if (rv == XIPC_OK)
        rv = serve_read_num(req, 2, &b);
    if (rv != XIPC_OK)
        return rv;
    if (!a.is_int || !b.is_int)
        return xipc_rpc_req_returnf(req, "d", a.d + b.d);
    if ((b.i > 0 && a.i > INT64_MAX - b.i) || (b.i < 0 && a.i < INT64_MIN - b.i)) {
        snprintf(msg, sizeof(msg), "integer overflow: %lld + %lld does not fit int64",
                 (long long)a.i, (long long)b.i);
        return xipc_rpc_req_error(req, SERVE_EOVERFLOW, msg);
    }
    return xipc_rpc_req_returnf(req, "I", a.i + b.i);
}

static xipc_err serve_sysinfo(xipc_rpc_req *req, void *ud)
{
    char os[64], version[32];
    xipc_err rv = xipc_rpc_req_argsf(req, "");
    if (rv != XIPC_OK)
        return rv;
    cli_os_name(os, sizeof(os));
    snprintf(version, sizeof(version), "%d.%d.%d", XIPC_VERSION_MAJOR,
             XIPC_VERSION_MINOR, XIPC_VERSION_PATCH);
    xipc_mp_buf *b = xipc_rpc_req_result(req);
    const char *emu = cli_emulated();
    xipc_mp_write_map(b, 5);
    xipc_mp_write_cstr(b, "pid");
    xipc_mp_write_int(b, (int64_t)getpid());
    xipc_mp_write_cstr(b, "pointer_width");
    xipc_mp_write_uint(b, sizeof(void *) * CHAR_BIT);
    xipc_mp_write_cstr(b, "os");
    xipc_mp_write_cstr(b, os);
    xipc_mp_write_cstr(b, "version");
    xipc_mp_write_cstr(b, version);
    xipc_mp_write_cstr(b, "emulator"); /* nil on the CPU */
    if (emu == NULL)
        return xipc_mp_write_nil(b);
    return xipc_mp_write_cstr(b, emu); /* sticky: any failure shows */
}

static xipc_err serve_sleep(xipc_rpc_req *req, void *ud)
{
    int64_t ms;
    xipc_err rv = xipc_rpc_req_argsf(req, "I", &ms);
    if (rv != XIPC_OK)
        return rv;
    if (ms < 0 || ms > SERVE_SLEEP_MAX)
        return serve_bad_arg(req, 1, "ms must be in 0..3600000");
    cli_nap_ms((long)ms);
    return xipc_rpc_req_returnf(req, "I", ms);
}

typedef struct serve_method {
    const char *name;
    const char *signature;
    xipc_rpc_handler fn;
    unsigned flags; /* the quick ones run on the reader (XIPC_RPC_INLINE) */
} serve_method;

static const serve_method serve_methods[] = {
    {"ping", "() -> str", serve_ping, XIPC_RPC_INLINE},
    {"echo", "(any value) -> any", serve_echo, XIPC_RPC_INLINE},
    {"add", "(number a, number b) -> number", serve_add, XIPC_RPC_INLINE},
    {"sysinfo", "() -> {pid, pointer_width, os, version, emulator}", serve_sysinfo,
     XIPC_RPC_INLINE},
    {"sleep", "(int ms) -> int", serve_sleep, 0},
};

/* @return -1 when parsed, else the exit code of a usage error */
static int serve_parse(serve_cfg *cfg, int argc, char **argv)
{
    cli_scan s;
    const char *arg, *val;
    cli_scan_init(&s, argc, argv);
    for (cli_arg k; (k = cli_scan_next(&s, &arg)) != CLI_ARG_END;) {
        int r;
        if (k == CLI_ARG_OPERAND) {
            cfg->urls[cfg->nurls++] = (char *)arg;
        } else if ((r = cli_scan_value(&s, arg, NULL, "--workers", &val)) != 0) {
            if (r < 0)
                return cli_usage_error(cmd_serve_usage, arg, "missing value");
            if (cli_parse_int(val, 1, 1024, &cfg->workers) != 0)
                return cli_bad_value(cmd_serve_usage, arg, val, "a count in 1..1024");
        } else if (cli_scan_flag(arg, "-w", "--width")) {
            cfg->width = 1;
        } else if (cli_scan_flag(arg, "-h", "--help")) {
            cfg->help = 1;
        } else {
            return cli_usage_error(cmd_serve_usage, arg, "unknown option");
        }
    }
    if (!cfg->help && cfg->nurls == 0)
        return cli_usage_error(cmd_serve_usage, "serve", "missing URL");
    return -1;
}

/* Register the methods and serve every URL. @return an exit code, or -1 */
static int serve_start(xipc_rpc_server *srv, const serve_cfg *cfg)
{
    xipc_err rv = XIPC_OK;
    size_t n = sizeof(serve_methods) / sizeof(serve_methods[0]);
    for (size_t i = 0; i < n && rv == XIPC_OK; i++)
        rv = xipc_rpc_server_register_ex(srv, serve_methods[i].name,
                                         serve_methods[i].signature, serve_methods[i].fn,
                                         NULL, serve_methods[i].flags);
    if (rv != XIPC_OK)
        return cli_fail("serve", rv);
    for (int i = 0; i < cfg->nurls; i++) {
        char bound[SERVE_URL_MAX];
        if ((rv = xipc_rpc_server_serve(srv, cfg->urls[i])) != XIPC_OK)
            return cli_fail(cfg->urls[i], rv);
        if (xipc_rpc_server_url(srv, (unsigned)i, bound, sizeof(bound)) != XIPC_OK)
            snprintf(bound, sizeof(bound), "%s", cfg->urls[i]);
        fprintf(stderr, "serve: listening at %s\n", bound);
    }
    if (cfg->width)
        cli_print_width("serve");
    fflush(stderr);
    return -1;
}

int cmd_serve(int argc, char **argv)
{
    serve_cfg cfg = {0};
    cfg.urls = calloc((size_t)argc, sizeof(char *));
    if (cfg.urls == NULL)
        return cli_fail("serve", XIPC_ENOMEM);
    int code = serve_parse(&cfg, argc, argv);
    if (code < 0 && cfg.help) {
        fputs(serve_help, stdout);
        code = CLI_EXIT_OK;
    }
    if (code >= 0) {
        free(cfg.urls);
        return code;
    }
    cli_signals_block(); /* before the server starts its threads */
    xipc_rpc_server_opts opts;
    xipc_rpc_server *srv = NULL;
    xipc_rpc_server_opts_init(&opts);
    if (cfg.workers > 0)
        opts.workers = (uint32_t)cfg.workers;
    xipc_err rv = xipc_rpc_server_alloc(&srv, &opts);
    code = rv != XIPC_OK ? cli_fail("serve", rv) : serve_start(srv, &cfg);
    while (code < 0 && cli_signal_wait_ms(CLI_SLICE_MS) == 0)
        ;
    xipc_rpc_server_free(srv); /* graceful: finishes the calls in flight */
    free(cfg.urls);
    return code < 0 ? CLI_EXIT_OK : code;
}
