/*
 * xipc call URL METHOD [ARG...]: one MessagePack-RPC call with each ARG a
 * JSON value (json.h), the result printed as JSON on one line.
 * xipc call dde://SERVICE/TOPIC ITEM: one DDE request, the value printed
 * as it is (docs/dde.md).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "json.h"
#include "xipc/msgpack.h"
#include "xipc/rpc.h"

const char cmd_call_usage[] =
    "usage: xipc call [-t MS] URL METHOD [ARG...]  (xipc call --help)";

static const char call_help[] =
    "usage: xipc call [-t MS] [--] URL METHOD [ARG...]\n"
    "\n"
    "Call METHOD at the MessagePack-RPC server at URL with the ARGs as its\n"
    "params, each ARG one JSON value ('\"text\"', 42, -1.5, '[1,{\"a\":null}]'),\n"
    "and print the result as JSON on one line. An ARG starting with '-' and\n"
    "a digit is a number, not an option. Forms JSON lacks print as\n"
    "{\"$bin\":\"BASE64\"}, {\"$ext\":[TYPE,\"BASE64\"]} and\n"
    "{\"$timestamp\":[SEC,NSEC]}; NaN and infinities as null (docs/rpc.md).\n"
    "Try: xipc call URL xipc.methods\n"
    "\n"
    "With a dde://SERVICE/TOPIC URL, request ITEM (the METHOD) from that DDE\n"
    "server and print its value as it is, on one line; no ARGs.\n"
    "\n"
    "  -t, --timeout MS   bound the connection and the call (default -1:\n"
    "                     wait forever)\n"
    "  -h, --help         show this help\n"
    "\n"
    "exit status: 0 the result was printed; 1 the call failed: \"xipc: URL:\n"
    "REASON\" when connecting failed, \"xipc: URL: METHOD: MESSAGE\" with the\n"
    "server's error message or the library's error text otherwise; 2 usage\n"
    "error, an ARG that is not JSON included: \"xipc: call: argument N:\n"
    "invalid JSON at offset K: WHY\".\n"
    "\n"
    "Nothing the server sent reaches the terminal raw: in METHOD and MESSAGE\n"
    "control characters print as \\u00XX (ESC as \\u001b), bytes that are not\n"
    "UTF-8 as \\xNN, a backslash as \\\\; JSON output escapes control\n"
    "characters as \\u00XX too.\n";

typedef struct call_cfg {
    const char *url;
    const char *method;
    char **args; /* into argv */
    int nargs;
    long timeout_ms;
    int help;
} call_cfg;

/* @return -1 when parsed, else the exit code of a usage error */
static int call_parse(call_cfg *cfg, int argc, char **argv)
{
    cli_scan s;
    const char *arg, *val;
    cli_scan_init(&s, argc, argv);
    for (cli_arg k; (k = cli_scan_next(&s, &arg)) != CLI_ARG_END;) {
        int r;
        if (k == CLI_ARG_OPERAND || (arg[1] >= '0' && arg[1] <= '9')) {
            if (cfg->url == NULL)
                cfg->url = arg;
            else if (cfg->method == NULL)
                cfg->method = arg;
            else
                cfg->args[cfg->nargs++] = (char *)arg;
        } else if ((r = cli_scan_value(&s, arg, "-t", "--timeout", &val)) != 0) {
            if (r < 0)
                return cli_usage_error(cmd_call_usage, arg, "missing value");
            if (cli_parse_int(val, -1, CLI_INT_MAX, &cfg->timeout_ms) != 0)
                return cli_bad_value(cmd_call_usage, arg, val,
                                     "a timeout in -1..2147483647 ms");
        } else if (cli_scan_flag(arg, "-h", "--help")) {
            cfg->help = 1;
        } else {
            return cli_usage_error(cmd_call_usage, arg, "unknown option");
        }
    }
    if (!cfg->help && cfg->url == NULL)
        return cli_usage_error(cmd_call_usage, "call", "missing URL");
    if (!cfg->help && cfg->method == NULL)
        return cli_usage_error(cmd_call_usage, "call", "missing METHOD");
    return -1;
}

/* The params array from the ARGs. @return -1, or the exit code of an error */
static int call_params(const call_cfg *cfg, xipc_mp_buf *params)
{
    xipc_err rv = xipc_mp_write_array(params, (uint32_t)cfg->nargs);
    for (int i = 0; i < cfg->nargs && rv == XIPC_OK; i++) {
        json_error e;
        rv = json_parse(cfg->args[i], strlen(cfg->args[i]), JSON_DEPTH_CALL,
                        params, &e);
        if (rv == XIPC_EINVAL) {
            char why[160];
            snprintf(why, sizeof(why), "argument %d: invalid JSON at offset %zu: %s",
                     i + 1, e.offset, e.why);
            return cli_usage_error(cmd_call_usage, "call", why);
        }
    }
    return rv != XIPC_OK ? cli_fail("call", rv) : -1;
}

/* Print @p mp (one value) as JSON on a line. @return an exit code */
static int call_print(const void *mp, size_t len)
{
    json_buf out;
    json_buf_init(&out);
    xipc_err rv = json_print(mp, len, &out);
    int code = CLI_EXIT_OK, e;
    if (rv != XIPC_OK)
        code = cli_fail("result", rv);
    else if ((e = cli_print_msg(out.data, out.len)) != 0)
        code = cli_fail_errno("stdout", e);
    json_buf_fini(&out);
    return code;
}

/*
 * "xipc: URL: METHOD: TEXT" on stderr, METHOD escaped (json_escape_text)
 * and TEXT too when it came from the server (@p from_peer): neither may
 * drive the terminal. METHOD is escaped even though the user typed it,
 * because servers echo it in their messages ("method not found: NAME"),
 * and the two should read alike.
 */
static void call_say(const call_cfg *cfg, const char *text, int from_peer)
{
    json_buf method, peer;
    json_buf_init(&method);
    json_buf_init(&peer);
    json_escape_text(&method, cfg->method, strlen(cfg->method));
    if (from_peer)
        json_escape_text(&peer, text, strlen(text));
    if (method.err != XIPC_OK || peer.err != XIPC_OK)
        cli_fail(cfg->url, XIPC_ENOMEM);
    else
        fprintf(stderr, "xipc: %s: %s: %s\n", cfg->url, method.data,
                from_peer ? peer.data : text);
    json_buf_fini(&method);
    json_buf_fini(&peer);
}

/* "xipc: URL: METHOD: MESSAGE" for a remote error. @return CLI_EXIT_FAIL */
static int call_remote_error(const call_cfg *cfg, const xipc_rpc_result *res)
{
    const char *msg = res->message;
    if (msg != NULL && msg[0] != '\0') {
        call_say(cfg, msg, 1);
        return CLI_EXIT_FAIL;
    }
    /* not [code, message] nor a str: show it whole, as JSON, whose
     * strings json_print escapes already (json.h) */
    json_buf text;
    json_buf_init(&text);
    if (json_print(res->error, res->error_len, &text) == XIPC_OK)
        call_say(cfg, text.data, 0);
    else
        call_say(cfg, "", 0);
    json_buf_fini(&text);
    return CLI_EXIT_FAIL;
}

/* A DDE request: dial URL/ITEM, whose first receive is the value now. */
static int call_dde(const call_cfg *cfg)
{
    if (cfg->nargs > 0)
        return cli_usage_error(cmd_call_usage, "call", "a DDE request takes no ARG");
    size_t n = strlen(cfg->url) + 1 + strlen(cfg->method) + 1;
    char *url = malloc(n);
    if (url == NULL)
        return cli_fail("call", XIPC_ENOMEM);
    snprintf(url, n, "%s/%s", cfg->url, cfg->method);
    xipc_sock *s;
    xipc_err rv = xipc_dial(&s, url, NULL, (int)cfg->timeout_ms);
    free(url);
    if (rv != XIPC_OK)
        return cli_fail(cfg->url, rv);
    int code = CLI_EXIT_FAIL, e;
    void *buf = NULL;
    size_t cap = 0, len = 0;
    do { /* grow to the value: a small buffer keeps it (XIPC_EMSGSIZE) */
        if (len > cap) {
            void *nb = realloc(buf, len);
            if (nb == NULL) {
                rv = XIPC_ENOMEM;
                break;
            }
            buf = nb;
            cap = len;
        }
        rv = xipc_recv(s, buf, cap, &len, (int)cfg->timeout_ms);
    } while (rv == XIPC_EMSGSIZE);
    if (rv != XIPC_OK)
        call_say(cfg, rv == XIPC_ENOENT ? "the server has no such item" : xipc_strerror(rv), 0);
    else if ((e = cli_print_msg(buf, len)) != 0)
        code = cli_fail_errno("stdout", e);
    else
        code = CLI_EXIT_OK;
    free(buf);
    xipc_close(s);
    return code;
}

static int call_run(const call_cfg *cfg, const xipc_mp_buf *params)
{
    xipc_rpc_client *c;
    xipc_err rv = xipc_rpc_client_dial(&c, cfg->url, NULL, (int)cfg->timeout_ms);
    if (rv != XIPC_OK)
        return cli_fail(cfg->url, rv);
    xipc_rpc_result res;
    xipc_rpc_result_init(&res);
    rv = xipc_rpc_call(c, cfg->method, params->data, params->len, &res,
                       (int)cfg->timeout_ms);
    int code;
    if (rv == XIPC_OK)
        code = call_print(res.value, res.value_len);
    else if (rv == XIPC_EREMOTE)
        code = call_remote_error(cfg, &res);
    else {
        call_say(cfg, xipc_strerror(rv), 0);
        code = CLI_EXIT_FAIL;
    }
    xipc_rpc_result_fini(&res);
    xipc_rpc_client_close(c);
    return code;
}

int cmd_call(int argc, char **argv)
{
    call_cfg cfg = {.timeout_ms = -1};
    cfg.args = calloc((size_t)argc, sizeof(char *));
    if (cfg.args == NULL)
        return cli_fail("call", XIPC_ENOMEM);
    int code = call_parse(&cfg, argc, argv);
    if (code < 0 && cfg.help) {
        fputs(call_help, stdout);
        code = CLI_EXIT_OK;
    }
    if (code < 0 && strncmp(cfg.url, "dde://", 6) == 0) {
        code = call_dde(&cfg);
        free(cfg.args);
        return code;
    }
    xipc_mp_buf params;
    xipc_mp_buf_init(&params);
    if (code < 0)
        code = call_params(&cfg, &params);
    if (code < 0)
        code = call_run(&cfg, &params);
    xipc_mp_buf_fini(&params);
    free(cfg.args);
    return code;
}
