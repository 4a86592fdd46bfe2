/*
 * xipc recv URL: listen at URL, take one connection at a time (the next
 * one once the peer has closed), print each message on its own line.
 * Where the listener receives by itself (mailslot:// as a server, mq://:
 * xipc_accept says XIPC_EINVAL, "not a listener"), read from it directly.
 * pubsub:// is refused: its receiving end is `xipc sub`.
 *
 * Blocking calls wait in short slices so that SIGINT/SIGTERM/SIGHUP are
 * noticed (cli_sig.c): the listener is then closed (its name removed)
 * before the process dies of the signal.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"

#define RECV_BUF_INIT (64u << 10)  /* first receive buffer; grows on demand */
#define RECV_URL_MAX 1024

const char cmd_recv_usage[] =
    "usage: xipc recv [-w] [-n COUNT] [-t MS] URL  (xipc recv --help)";

static const char recv_help[] =
    "usage: xipc recv [-w] [-n COUNT] [-t MS] [--] URL\n"
    "\n"
    "Listen at URL and accept one connection at a time; when its peer\n"
    "closes, accept the next (mailslot:// and mq:// have no connections:\n"
    "recv is the mailslot server or the queue's receiver and reads what\n"
    "every sender writes). Print each message to stdout as it is, then a\n"
    "newline, and flush. When the listener's address differs from URL\n"
    "(tcp://HOST:0), print \"recv: listening at ADDRESS\" to stderr.\n"
    "pubsub:// URLs are refused (usage error): use xipc sub.\n"
    "\n"
    "  -n, --count COUNT  exit 0 after COUNT messages (default: never)\n"
    "  -t, --timeout MS   bound the wait for each message and each\n"
    "                     connection; on expiry print \"xipc: URL: timed out\"\n"
    "                     and exit 1 (default -1: wait forever)\n"
    "  -w, --width        once listening, print \"recv: pid N, pointer width\n"
    "                     B bits\" to stderr\n"
    "  -h, --help         show this help\n";

typedef struct recv_cfg {
    const char *url;
    long count; /* -1: forever */
    long timeout_ms;
    int width;
    int help;
} recv_cfg;

typedef struct recv_state {
    xipc_sock *listener;
    xipc_sock *conn; /* the listener itself when direct */
    int direct;      /* the listener receives (mailslot://, mq://) */
    unsigned char *buf;
    size_t cap;
} recv_state;

/* @return -1 when parsed, else the exit code of a usage error */
static int recv_parse(recv_cfg *cfg, int argc, char **argv)
{
    cli_scan s;
    const char *arg, *val;
    cli_scan_init(&s, argc, argv);
    for (cli_arg k; (k = cli_scan_next(&s, &arg)) != CLI_ARG_END;) {
        if (k == CLI_ARG_OPERAND) {
            if (cfg->url != NULL)
                return cli_usage_error(cmd_recv_usage, arg, "unexpected argument");
            cfg->url = arg;
            continue;
        }
        int r;
        if ((r = cli_scan_value(&s, arg, "-n", "--count", &val)) != 0) {
            if (r < 0)
                return cli_usage_error(cmd_recv_usage, arg, "missing value");
            if (cli_parse_int(val, 1, CLI_INT_MAX, &cfg->count) != 0)
                return cli_bad_value(cmd_recv_usage, arg, val,
                                     "a count in 1..2147483647");
        } else if ((r = cli_scan_value(&s, arg, "-t", "--timeout", &val)) != 0) {
            if (r < 0)
                return cli_usage_error(cmd_recv_usage, arg, "missing value");
            if (cli_parse_int(val, -1, CLI_INT_MAX, &cfg->timeout_ms) != 0)
                return cli_bad_value(cmd_recv_usage, arg, val,
                                     "a timeout in -1..2147483647 ms");
        } else if (cli_scan_flag(arg, "-w", "--width")) {
            cfg->width = 1;
        } else if (cli_scan_flag(arg, "-h", "--help")) {
            cfg->help = 1;
        } else {
            return cli_usage_error(cmd_recv_usage, arg, "unknown option");
        }
    }
    if (!cfg->help && cfg->url == NULL)
        return cli_usage_error(cmd_recv_usage, "recv", "missing URL");
    if (!cfg->help && cli_is_pubsub(cfg->url))
        return cli_usage_error(cmd_recv_usage, cfg->url,
                               "recv does not subscribe: use xipc sub URL");
    return -1;
}

/* Accept the next connection within @p timeout_ms; XIPC_EINTR on a signal. */
static xipc_err recv_accept(recv_state *st, long timeout_ms)
{
    for (long left = timeout_ms;;) {
        if (cli_signal_caught())
            return XIPC_EINTR;
        int slice = cli_slice(left);
        xipc_err rv = xipc_accept(st->listener, &st->conn, slice);
        if (rv == XIPC_EINVAL && !st->direct) {
            /* not a listener: an endpoint that receives by itself */
            st->direct = 1;
            st->conn = st->listener;
            return XIPC_OK;
        }
        if (rv != XIPC_ETIMEDOUT || cli_expired(&left, slice))
            return rv;
    }
}

/* Grow the buffer to hold @p need bytes. */
static xipc_err recv_grow(recv_state *st, size_t need)
{
    size_t cap = st->cap * 2 > need ? st->cap * 2 : need;
    unsigned char *b = realloc(st->buf, cap);
    if (b == NULL)
        return XIPC_ENOMEM;
    st->buf = b;
    st->cap = cap;
    return XIPC_OK;
}

/* Receive the next message into st->buf within @p timeout_ms. */
static xipc_err recv_msg(recv_state *st, size_t *len, long timeout_ms)
{
    for (long left = timeout_ms;;) {
        if (cli_signal_caught())
            return XIPC_EINTR;
        int slice = cli_slice(left);
        xipc_err rv = xipc_recv(st->conn, st->buf, st->cap, len, slice);
        if (rv == XIPC_EMSGSIZE && *len > st->cap) {
            /* still queued, and now we know its size */
            if ((rv = recv_grow(st, *len)) != XIPC_OK)
                return rv;
            continue;
        }
        if (rv != XIPC_ETIMEDOUT || cli_expired(&left, slice))
            return rv;
    }
}

/* The receive loop. @return an exit code, or -1 when a signal stopped it */
static int recv_loop(recv_state *st, const recv_cfg *cfg)
{
    for (long got = 0; cfg->count < 0 || got < cfg->count;) {
        xipc_err rv = XIPC_OK;
        if (st->conn == NULL)
            rv = recv_accept(st, cfg->timeout_ms);
        size_t len = 0;
        if (rv == XIPC_OK)
            rv = recv_msg(st, &len, cfg->timeout_ms);
        if (rv == XIPC_ECLOSED && !st->direct) {
            xipc_close(st->conn); /* the peer is done: take the next one */
            st->conn = NULL;
            continue;
        }
        if (rv == XIPC_EINTR && cli_signal_caught())
            return -1;
        if (rv != XIPC_OK)
            return cli_fail(cfg->url, rv);
        int e = cli_print_msg(st->buf, len);
        if (e != 0)
            return cli_signal_caught() ? -1 : cli_fail_errno("stdout", e);
        got++;
    }
    return CLI_EXIT_OK;
}

int cmd_recv(int argc, char **argv)
{
    recv_cfg cfg = {.count = -1, .timeout_ms = -1};
    int code = recv_parse(&cfg, argc, argv);
    if (code < 0 && cfg.help) {
        fputs(recv_help, stdout);
        return CLI_EXIT_OK;
    }
    if (code >= 0)
        return code;
    recv_state st = {0};
    st.cap = RECV_BUF_INIT;
    st.buf = malloc(st.cap);
    if (st.buf == NULL)
        return cli_fail("recv", XIPC_ENOMEM);
    cli_signals_init();
    xipc_err rv = xipc_listen(&st.listener, cfg.url, NULL);
    if (rv != XIPC_OK) {
        free(st.buf);
        return cli_fail(cfg.url, rv);
    }
    if (cfg.width)
        cli_print_width("recv");
    char bound[RECV_URL_MAX]; /* tcp://HOST:0 is bound to some port */
    if (xipc_sock_url(st.listener, bound, sizeof(bound)) == XIPC_OK &&
        strcmp(bound, cfg.url) != 0)
        fprintf(stderr, "recv: listening at %s\n", bound);
    code = recv_loop(&st, &cfg);
    if (st.conn != st.listener)
        xipc_close(st.conn);
    xipc_close(st.listener);
    free(st.buf);
    return code < 0 ? cli_signal_exit() : code;
}
