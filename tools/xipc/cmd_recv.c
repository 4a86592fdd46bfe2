/*
 * xipc recv URL: listen at URL, take one connection at a time (the next
 * one once the peer has closed), print each message on its own line.
 *
 * Blocking calls wait in short slices so that SIGINT/SIGTERM/SIGHUP are
 * noticed: the listener is then closed (its name removed) before the
 * process dies of the signal.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "cmd.h"

#define RECV_SLICE_MS 100          /* longest wait between signal checks */
#define RECV_BUF_INIT (64u << 10)  /* first receive buffer; grows on demand */

const char cmd_recv_usage[] =
    "usage: xipc recv [-w] [-n COUNT] [-t MS] URL  (xipc recv --help)";

static const char recv_help[] =
    "usage: xipc recv [-w] [-n COUNT] [-t MS] [--] URL\n"
    "\n"
    "Listen at URL and accept one connection at a time; when its peer\n"
    "closes, accept the next. Print each message to stdout as it is, then\n"
    "a newline, and flush.\n"
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
    xipc_sock *conn;
    unsigned char *buf;
    size_t cap;
} recv_state;

static volatile sig_atomic_t recv_signal;

static void recv_on_signal(int sig)
{
    recv_signal = sig;
}

/* Catch @p sig unless it was ignored when we started (as for `cmd &`). */
static void recv_catch(int sig)
{
    if (signal(sig, recv_on_signal) == SIG_IGN)
        signal(sig, SIG_IGN);
}

static void recv_signals_init(void)
{
    recv_catch(SIGINT);
    recv_catch(SIGTERM);
#ifdef SIGHUP
    recv_catch(SIGHUP);
#endif
#ifdef SIGPIPE
    signal(SIGPIPE, SIG_IGN); /* a closed stdout is a write error */
#endif
}

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
            if (cli_parse_int(val, 1, CLI_TIMEOUT_MAX, &cfg->count) != 0)
                return cli_bad_value(cmd_recv_usage, arg, val,
                                     "a count in 1..2147483647");
        } else if ((r = cli_scan_value(&s, arg, "-t", "--timeout", &val)) != 0) {
            if (r < 0)
                return cli_usage_error(cmd_recv_usage, arg, "missing value");
            if (cli_parse_int(val, -1, CLI_TIMEOUT_MAX, &cfg->timeout_ms) != 0)
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
    return -1;
}

/* The next slice of a wait with @p left ms to go (-1: forever). */
static int recv_slice(long left)
{
    return left < 0 || left > RECV_SLICE_MS ? RECV_SLICE_MS : (int)left;
}

/* Count a slice that expired off @p *left. @return 1 when time is up */
static int recv_expired(long *left, int slice)
{
    if (*left < 0)
        return 0;
    *left -= slice;
    return *left <= 0;
}

/* Accept the next connection within @p timeout_ms; XIPC_EINTR on a signal. */
static xipc_err recv_accept(recv_state *st, long timeout_ms)
{
    for (long left = timeout_ms;;) {
        if (recv_signal)
            return XIPC_EINTR;
        int slice = recv_slice(left);
        xipc_err rv = xipc_accept(st->listener, &st->conn, slice);
        if (rv != XIPC_ETIMEDOUT || recv_expired(&left, slice))
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
        if (recv_signal)
            return XIPC_EINTR;
        int slice = recv_slice(left);
        xipc_err rv = xipc_recv(st->conn, st->buf, st->cap, len, slice);
        if (rv == XIPC_EMSGSIZE && *len > st->cap) {
            /* still queued, and now we know its size */
            if ((rv = recv_grow(st, *len)) != XIPC_OK)
                return rv;
            continue;
        }
        if (rv != XIPC_ETIMEDOUT || recv_expired(&left, slice))
            return rv;
    }
}

/* Write one message and its newline to stdout. @return 0 or an errno */
static int recv_print(const unsigned char *msg, size_t len)
{
    errno = 0;
    if ((len > 0 && fwrite(msg, 1, len, stdout) != len) ||
        putchar('\n') == EOF || fflush(stdout) == EOF)
        return errno != 0 ? errno : EIO;
    return 0;
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
        if (rv == XIPC_ECLOSED) {
            xipc_close(st->conn); /* the peer is done: take the next one */
            st->conn = NULL;
            continue;
        }
        if (rv == XIPC_EINTR && recv_signal)
            return -1;
        if (rv != XIPC_OK)
            return cli_fail(cfg->url, rv);
        int e = recv_print(st->buf, len);
        if (e != 0)
            return recv_signal ? -1 : cli_fail_errno("stdout", e);
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
    recv_signals_init();
    xipc_err rv = xipc_listen(&st.listener, cfg.url, NULL);
    if (rv != XIPC_OK) {
        free(st.buf);
        return cli_fail(cfg.url, rv);
    }
    if (cfg.width)
        cli_print_width("recv");
    code = recv_loop(&st, &cfg);
    xipc_close(st.conn);
    xipc_close(st.listener);
    free(st.buf);
    if (code < 0) {
        int sig = (int)recv_signal;
        signal(sig, SIG_DFL);
        raise(sig);
        code = 128 + sig; /* the signal did not end us */
    }
    return code;
}
