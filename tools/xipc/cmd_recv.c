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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_msg.h"
#include "cmd.h"

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
    CLI_MSG_TLS_HELP
    "  -w, --width        once listening, print \"recv: pid N, pointer width\n"
    "                     B bits\" to stderr\n"
    "  -h, --help         show this help\n";

static const cli_msg_cmd recv_cmd = {
    .name = "recv",
    .usage = cmd_recv_usage,
    .help = recv_help,
    .opts = CLI_MSG_COUNT | CLI_MSG_TIMEOUT | CLI_MSG_TLS,
    .pubsub = 0,
    .wrong_url = "recv does not subscribe: use xipc sub URL",
};

typedef struct recv_state {
    xipc_sock *listener;
    xipc_sock *conn; /* the listener itself when direct */
    int direct;      /* the listener receives (mailslot://, mq://) */
    cli_msg_buf buf;
} recv_state;

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

/* The receive loop. @return an exit code, or -1 when a signal stopped it */
static int recv_loop(recv_state *st, const cli_msg_cfg *cfg)
{
    for (long got = 0; cfg->count < 0 || got < cfg->count;) {
        xipc_err rv = XIPC_OK;
        if (st->conn == NULL)
            rv = recv_accept(st, cfg->timeout_ms);
        size_t len = 0;
        if (rv == XIPC_OK)
            rv = cli_msg_recv(st->conn, &st->buf, &len, cfg->timeout_ms);
        if (rv == XIPC_ECLOSED && !st->direct) {
            xipc_close(st->conn); /* the peer is done: take the next one */
            st->conn = NULL;
            continue;
        }
        int code = cli_msg_print(cfg, rv, &st->buf, len);
        if (code != CLI_EXIT_OK)
            return code;
        got++;
    }
    return CLI_EXIT_OK;
}

int cmd_recv(int argc, char **argv)
{
    cli_msg_cfg cfg = {.count = -1, .timeout_ms = -1};
    int code = cli_msg_parse(&cfg, &recv_cmd, argc, argv);
    if (code >= 0)
        return code;
    recv_state st = {0};
    if (cli_msg_buf_init(&st.buf) != 0)
        return cli_fail("recv", XIPC_ENOMEM);
    cli_signals_init();
    xipc_err rv = xipc_listen(&st.listener, cfg.url, &cfg.sock);
    if (rv != XIPC_OK) {
        free(st.buf.b);
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
    free(st.buf.b);
    return code < 0 ? cli_signal_exit() : code;
}
