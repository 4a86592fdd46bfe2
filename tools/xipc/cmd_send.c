/*
 * xipc send URL [MESSAGE...]: dial URL, send one message per MESSAGE or,
 * without any, one per line of standard input (the newline removed), then
 * close. Messages already sent are delivered even after the close.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"

const char cmd_send_usage[] =
    "usage: xipc send [-w] [-t MS] URL [MESSAGE...]  (xipc send --help)";

static const char send_help[] =
    "usage: xipc send [-w] [-t MS] [--] URL [MESSAGE...]\n"
    "\n"
    "Dial the listener at URL and send each MESSAGE as one message, or, with\n"
    "no MESSAGE, each line of standard input without its newline (a line\n"
    "longer than the transport carries fails with \"message too large\").\n"
    "mailslot:// writes to every server of the name; pubsub:// URLs are\n"
    "refused (usage error): use xipc pub.\n"
    "Options may come anywhere; after \"--\" every argument is an operand.\n"
    "\n"
    "  -t, --timeout MS   bound the dial and each send, in ms; -1 waits\n"
    "                     forever (default 5000)\n"
    "  -w, --width        print \"send: pid N, pointer width B bits\" to stderr\n"
    "  -h, --help         show this help\n";

typedef struct send_cfg {
    const char *url;
    long timeout_ms;
    int width;
    int help;
    int nmsgs;
    const char **msgs; /* nmsgs operands after the URL */
} send_cfg;

/* @return -1 when parsed, else the exit code of a usage error */
static int send_parse(send_cfg *cfg, int argc, char **argv)
{
    cli_scan s;
    const char *arg, *val;
    cli_scan_init(&s, argc, argv);
    for (cli_arg k; (k = cli_scan_next(&s, &arg)) != CLI_ARG_END;) {
        if (k == CLI_ARG_OPERAND) {
            if (cfg->url == NULL)
                cfg->url = arg;
            else
                cfg->msgs[cfg->nmsgs++] = arg;
            continue;
        }
        int r = cli_scan_value(&s, arg, "-t", "--timeout", &val);
        if (r < 0)
            return cli_usage_error(cmd_send_usage, arg, "missing value");
        if (r > 0) {
            if (cli_parse_int(val, -1, CLI_INT_MAX, &cfg->timeout_ms) != 0)
                return cli_bad_value(cmd_send_usage, arg, val,
                                     "a timeout in -1..2147483647 ms");
        } else if (cli_scan_flag(arg, "-w", "--width")) {
            cfg->width = 1;
        } else if (cli_scan_flag(arg, "-h", "--help")) {
            cfg->help = 1;
        } else {
            return cli_usage_error(cmd_send_usage, arg, "unknown option");
        }
    }
    if (!cfg->help && cfg->url == NULL)
        return cli_usage_error(cmd_send_usage, "send", "missing URL");
    if (!cfg->help && cli_is_pubsub(cfg->url))
        return cli_usage_error(cmd_send_usage, cfg->url,
                               "send does not publish: use xipc pub URL");
    return -1;
}

static int send_args(xipc_sock *s, const send_cfg *cfg)
{
    for (int i = 0; i < cfg->nmsgs; i++) {
        xipc_err rv = xipc_send(s, cfg->msgs[i], strlen(cfg->msgs[i]),
                                (int)cfg->timeout_ms);
        if (rv != XIPC_OK)
            return cli_fail(cfg->url, rv);
    }
    return CLI_EXIT_OK;
}

static int send_lines(xipc_sock *s, const send_cfg *cfg)
{
    char *line = NULL;
    size_t cap = 0;
    int code = CLI_EXIT_OK;
    for (;;) {
        errno = 0;
        ssize_t n = getline(&line, &cap, stdin);
        if (n < 0) {
            if (ferror(stdin))
                code = cli_fail_errno("stdin", errno != 0 ? errno : EIO);
            break;
        }
        if (n > 0 && line[n - 1] == '\n')
            n--;
        xipc_err rv = xipc_send(s, line, (size_t)n, (int)cfg->timeout_ms);
        if (rv != XIPC_OK) {
            code = cli_fail(cfg->url, rv);
            break;
        }
    }
    free(line);
    return code;
}

int cmd_send(int argc, char **argv)
{
    send_cfg cfg = {.timeout_ms = 5000};
    cfg.msgs = calloc((size_t)argc, sizeof(*cfg.msgs));
    if (cfg.msgs == NULL)
        return cli_fail("send", XIPC_ENOMEM);
    int code = send_parse(&cfg, argc, argv);
    if (code < 0 && cfg.help) {
        fputs(send_help, stdout);
        code = CLI_EXIT_OK;
    }
    if (code >= 0) {
        free(cfg.msgs);
        return code;
    }
    if (cfg.width)
        cli_print_width("send");
    xipc_sock *s = NULL;
    xipc_err rv = xipc_dial(&s, cfg.url, NULL, (int)cfg.timeout_ms);
    if (rv != XIPC_OK)
        code = cli_fail(cfg.url, rv);
    else if (cfg.nmsgs > 0)
        code = send_args(s, &cfg);
    else
        code = send_lines(s, &cfg);
    xipc_close(s);
    free(cfg.msgs);
    return code;
}
