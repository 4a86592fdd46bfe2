/*
 * xipc pub URL [MESSAGE...]: create the publisher at a pubsub:// URL,
 * publish one message per MESSAGE or, without any, one per line of
 * standard input (the newline removed), then close. Subscribers still get
 * what is in the ring, then the end of the stream.
 *
 * Publishing never blocks (a subscriber that falls behind loses the
 * oldest messages, and knows how many), and a subscriber sees only what
 * is published after it attached: --wait-subscribers gives them time.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"

const char cmd_pub_usage[] =
    "usage: xipc pub [-w] [--wait-subscribers MS] URL [MESSAGE...]  (xipc pub --help)";

static const char pub_help[] =
    "usage: xipc pub [-w] [--wait-subscribers MS] [--] URL [MESSAGE...]\n"
    "\n"
    "Create the publisher at URL (pubsub://NAME; one per NAME), publish each\n"
    "MESSAGE as one message, or, with no MESSAGE, each line of standard\n"
    "input without its newline, then close: subscribers read what is left,\n"
    "then the end of the stream. The largest message is 2032 bytes (the\n"
    "library's default slots).\n"
    "\n"
    "Publishing never waits for subscribers. A subscriber sees only the\n"
    "messages published after it attached, and one that falls more than\n"
    "4096 messages behind loses the oldest (xipc sub says how many).\n"
    "\n"
    "  --wait-subscribers MS  wait MS ms after creating the publisher and\n"
    "                     before the first message, so that subscribers\n"
    "                     (xipc sub waits for a publisher to appear) can\n"
    "                     attach (default 0)\n"
    "  -w, --width        once the publisher exists, print \"pub: pid N,\n"
    "                     pointer width B bits\" to stderr\n"
    "  -h, --help         show this help\n";

typedef struct pub_cfg {
    const char *url;
    long wait_ms;
    int width;
    int help;
    int nmsgs;
    const char **msgs; /* nmsgs operands after the URL */
} pub_cfg;

/* @return -1 when parsed, else the exit code of a usage error */
static int pub_parse(pub_cfg *cfg, int argc, char **argv)
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
        int r = cli_scan_value(&s, arg, NULL, "--wait-subscribers", &val);
        if (r < 0)
            return cli_usage_error(cmd_pub_usage, arg, "missing value");
        if (r > 0) {
            if (cli_parse_int(val, 0, CLI_INT_MAX, &cfg->wait_ms) != 0)
                return cli_bad_value(cmd_pub_usage, arg, val,
                                     "a time in 0..2147483647 ms");
        } else if (cli_scan_flag(arg, "-w", "--width")) {
            cfg->width = 1;
        } else if (cli_scan_flag(arg, "-h", "--help")) {
            cfg->help = 1;
        } else {
            return cli_usage_error(cmd_pub_usage, arg, "unknown option");
        }
    }
    if (cfg->help)
        return -1;
    if (cfg->url == NULL)
        return cli_usage_error(cmd_pub_usage, "pub", "missing URL");
    if (!cli_is_pubsub(cfg->url))
        return cli_usage_error(cmd_pub_usage, cfg->url,
                               "pub takes a pubsub:// URL (other schemes: xipc send)");
    return -1;
}

static int pub_args(xipc_sock *s, const pub_cfg *cfg)
{
    for (int i = 0; i < cfg->nmsgs; i++) {
        xipc_err rv = xipc_send(s, cfg->msgs[i], strlen(cfg->msgs[i]), 0);
        if (rv != XIPC_OK)
            return cli_fail(cfg->url, rv);
    }
    return CLI_EXIT_OK;
}

/* @return an exit code, or -1 when a signal stopped it */
static int pub_lines(xipc_sock *s, const pub_cfg *cfg)
{
    char *line = NULL;
    size_t cap = 0;
    int code = CLI_EXIT_OK;
    for (;;) {
        errno = 0;
        ssize_t n = getline(&line, &cap, stdin);
        if (n < 0 && cli_signal_caught()) {
            code = -1; /* interrupted while waiting for a line */
            break;
        }
        if (n < 0) {
            if (ferror(stdin))
                code = cli_fail_errno("stdin", errno != 0 ? errno : EIO);
            break;
        }
        if (n > 0 && line[n - 1] == '\n')
            n--;
        xipc_err rv = xipc_send(s, line, (size_t)n, 0);
        if (rv != XIPC_OK) {
            code = cli_fail(cfg->url, rv);
            break;
        }
    }
    free(line);
    return code;
}

int cmd_pub(int argc, char **argv)
{
    pub_cfg cfg = {.wait_ms = 0};
    cfg.msgs = calloc((size_t)argc, sizeof(*cfg.msgs));
    if (cfg.msgs == NULL)
        return cli_fail("pub", XIPC_ENOMEM);
    int code = pub_parse(&cfg, argc, argv);
    if (code < 0 && cfg.help) {
        fputs(pub_help, stdout);
        code = CLI_EXIT_OK;
    }
    if (code >= 0) {
        free(cfg.msgs);
        return code;
    }
    cli_signals_init();
    xipc_sock *s = NULL;
    xipc_err rv = xipc_listen(&s, cfg.url, NULL);
    if (rv != XIPC_OK) {
        free(cfg.msgs);
        return cli_fail(cfg.url, rv);
    }
    if (cfg.width)
        cli_print_width("pub");
    if (cli_sleep_ms(cfg.wait_ms) != 0)
        code = -1;
    else if (cfg.nmsgs > 0)
        code = pub_args(s, &cfg);
    else
        code = pub_lines(s, &cfg);
    xipc_close(s);
    free(cfg.msgs);
    return code < 0 ? cli_signal_exit() : code;
}
