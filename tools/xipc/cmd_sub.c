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

#include "cli_msg.h"
#include "cmd.h"

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

static const cli_msg_cmd sub_cmd = {
    .name = "sub",
    .usage = cmd_sub_usage,
    .help = sub_help,
    .opts = CLI_MSG_COUNT | CLI_MSG_TIMEOUT,
    .pubsub = 1,
    .wrong_url = "sub takes a pubsub:// URL (other schemes: xipc recv)",
};

/* Dial, and while no publisher exists, try again until @p timeout_ms. */
static xipc_err sub_dial(xipc_sock **s, const cli_msg_cfg *cfg)
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

/* @return an exit code, or -1 when a signal stopped it */
static int sub_loop(xipc_sock *s, cli_msg_buf *buf, const cli_msg_cfg *cfg)
{
    for (long got = 0; cfg->count < 0 || got < cfg->count;) {
        size_t len = 0;
        xipc_err rv = cli_msg_recv(s, buf, &len, cfg->timeout_ms);
        if (rv == XIPC_EOVERRUN) {
            fprintf(stderr, "xipc: %s: lost %zu messages\n", cfg->url, len);
            continue;
        }
        if (rv == XIPC_ECLOSED && cfg->count < 0)
            return CLI_EXIT_OK; /* the end of the stream */
        int code = cli_msg_print(cfg, rv, buf, len);
        if (code != CLI_EXIT_OK)
            return code;
        got++;
    }
    return CLI_EXIT_OK;
}

int cmd_sub(int argc, char **argv)
{
    cli_msg_cfg cfg = {.count = -1, .timeout_ms = -1};
    int code = cli_msg_parse(&cfg, &sub_cmd, argc, argv);
    if (code >= 0)
        return code;
    cli_msg_buf buf;
    if (cli_msg_buf_init(&buf) != 0)
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
