/*
 * xipc sub URL: subscribe to the publisher at a pubsub:// URL (waiting
 * for one to appear) and print each message on its own line. A lapped
 * subscriber is told how many messages it lost and goes on. The stream
 * ends when the publisher closes or dies: everything that reached the
 * subscriber is printed first.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "cmd.h"

#define SUB_BUF_INIT (64u << 10) /* first receive buffer; grows on demand */
#define SUB_RETRY_MS 10          /* polling for a publisher to appear */

const char cmd_sub_usage[] =
    "usage: xipc sub [-w] [-n COUNT] [-t MS] URL  (xipc sub --help)";

static const char sub_help[] =
    "usage: xipc sub [-w] [-n COUNT] [-t MS] [--] URL\n"
    "\n"
    "Subscribe to the publisher at URL (pubsub://NAME), waiting for it to\n"
    "appear, and print each message to stdout as it is, then a newline,\n"
    "and flush. Only messages published after the subscriber attached are\n"
    "seen. When the publisher overtook the subscriber, print \"xipc: URL:\n"
    "lost N messages\" to stderr and go on with the oldest message left.\n"
    "When the publisher closes (or dies), print what arrived, then exit 0.\n"
    "\n"
    "  -n, --count COUNT  exit 0 after COUNT messages; if the publisher\n"
    "                     closes before, print \"xipc: URL: peer closed or\n"
    "                     died\" and exit 1 (default: until the end)\n"
    "  -t, --timeout MS   bound the wait for the publisher and for each\n"
    "                     message; on expiry print \"xipc: URL: timed out\"\n"
    "                     and exit 1 (default -1: wait forever)\n"
    "  -w, --width        once subscribed, print \"sub: pid N, pointer width\n"
    "                     B bits\" to stderr\n"
    "  -h, --help         show this help\n";

typedef struct sub_cfg {
    const char *url;
    long count; /* -1: until the end */
    long timeout_ms;
    int width;
    int help;
} sub_cfg;

/* @return -1 when parsed, else the exit code of a usage error */
static int sub_parse(sub_cfg *cfg, int argc, char **argv)
{
    cli_scan s;
    const char *arg, *val;
    cli_scan_init(&s, argc, argv);
    for (cli_arg k; (k = cli_scan_next(&s, &arg)) != CLI_ARG_END;) {
        if (k == CLI_ARG_OPERAND) {
            if (cfg->url != NULL)
                return cli_usage_error(cmd_sub_usage, arg, "unexpected argument");
            cfg->url = arg;
            continue;
        }
        int r;
        if ((r = cli_scan_value(&s, arg, "-n", "--count", &val)) != 0) {
            if (r < 0)
                return cli_usage_error(cmd_sub_usage, arg, "missing value");
            if (cli_parse_int(val, 1, CLI_INT_MAX, &cfg->count) != 0)
                return cli_bad_value(cmd_sub_usage, arg, val,
                                     "a count in 1..2147483647");
        } else if ((r = cli_scan_value(&s, arg, "-t", "--timeout", &val)) != 0) {
            if (r < 0)
                return cli_usage_error(cmd_sub_usage, arg, "missing value");
            if (cli_parse_int(val, -1, CLI_INT_MAX, &cfg->timeout_ms) != 0)
                return cli_bad_value(cmd_sub_usage, arg, val,
                                     "a timeout in -1..2147483647 ms");
        } else if (cli_scan_flag(arg, "-w", "--width")) {
            cfg->width = 1;
        } else if (cli_scan_flag(arg, "-h", "--help")) {
            cfg->help = 1;
        } else {
            return cli_usage_error(cmd_sub_usage, arg, "unknown option");
        }
    }
    if (cfg->help)
        return -1;
    if (cfg->url == NULL)
        return cli_usage_error(cmd_sub_usage, "sub", "missing URL");
    if (!cli_is_pubsub(cfg->url))
        return cli_usage_error(cmd_sub_usage, cfg->url,
                               "sub takes a pubsub:// URL (other schemes: xipc recv)");
    return -1;
}

/* Dial, and while no publisher exists, try again until @p timeout_ms. */
static xipc_err sub_dial(xipc_sock **s, const sub_cfg *cfg)
{
    for (long left = cfg->timeout_ms;;) {
        if (cli_signal_caught())
            return XIPC_EINTR;
        xipc_err rv = xipc_dial(s, cfg->url, NULL, cli_slice(left));
        if (rv != XIPC_ECONNREFUSED)
            return rv;
        if (left == 0 || cli_expired(&left, SUB_RETRY_MS))
            return XIPC_ETIMEDOUT;
        cli_sleep_ms(SUB_RETRY_MS);
    }
}

typedef struct sub_buf {
    unsigned char *b;
    size_t cap;
} sub_buf;

/* The next message within @p timeout_ms; XIPC_EINTR on a signal. */
static xipc_err sub_msg(xipc_sock *s, sub_buf *buf, size_t *len, long timeout_ms)
{
    for (long left = timeout_ms;;) {
        if (cli_signal_caught())
            return XIPC_EINTR;
        int slice = cli_slice(left);
        xipc_err rv = xipc_recv(s, buf->b, buf->cap, len, slice);
        if (rv == XIPC_EMSGSIZE && *len > buf->cap) {
            size_t cap = buf->cap * 2 > *len ? buf->cap * 2 : *len;
            unsigned char *b = realloc(buf->b, cap);
            if (b == NULL)
                return XIPC_ENOMEM;
            buf->b = b;
            buf->cap = cap;
            continue;
        }
        if (rv != XIPC_ETIMEDOUT || cli_expired(&left, slice))
            return rv;
    }
}

/* @return an exit code, or -1 when a signal stopped it */
static int sub_loop(xipc_sock *s, sub_buf *buf, const sub_cfg *cfg)
{
    for (long got = 0; cfg->count < 0 || got < cfg->count;) {
        size_t len = 0;
        xipc_err rv = sub_msg(s, buf, &len, cfg->timeout_ms);
        if (rv == XIPC_EOVERRUN) {
            fprintf(stderr, "xipc: %s: lost %zu messages\n", cfg->url, len);
            continue;
        }
        if (rv == XIPC_ECLOSED && cfg->count < 0)
            return CLI_EXIT_OK; /* the end of the stream */
        if (rv == XIPC_EINTR && cli_signal_caught())
            return -1;
        if (rv != XIPC_OK)
            return cli_fail(cfg->url, rv);
        int e = cli_print_msg(buf->b, len);
        if (e != 0)
            return cli_signal_caught() ? -1 : cli_fail_errno("stdout", e);
        got++;
    }
    return CLI_EXIT_OK;
}

int cmd_sub(int argc, char **argv)
{
    sub_cfg cfg = {.count = -1, .timeout_ms = -1};
    int code = sub_parse(&cfg, argc, argv);
    if (code < 0 && cfg.help) {
        fputs(sub_help, stdout);
        return CLI_EXIT_OK;
    }
    if (code >= 0)
        return code;
    sub_buf buf = {malloc(SUB_BUF_INIT), SUB_BUF_INIT};
    if (buf.b == NULL)
        return cli_fail("sub", XIPC_ENOMEM);
    cli_signals_init();
    xipc_sock *s = NULL;
    xipc_err rv = sub_dial(&s, &cfg);
    if (rv == XIPC_EINTR && cli_signal_caught()) {
        code = -1;
    } else if (rv != XIPC_OK) {
        code = cli_fail(cfg.url, rv);
    } else {
        if (cfg.width)
            cli_print_width("sub");
        code = sub_loop(s, &buf, &cfg);
    }
    xipc_close(s);
    free(buf.b);
    return code < 0 ? cli_signal_exit() : code;
}
