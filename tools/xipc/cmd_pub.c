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
#include <stdlib.h>

#include "cli_msg.h"
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

static const cli_msg_cmd pub_cmd = {
    .name = "pub",
    .usage = cmd_pub_usage,
    .help = pub_help,
    .opts = CLI_MSG_WAIT | CLI_MSG_MESSAGES,
    .pubsub = 1,
    .wrong_url = "pub takes a pubsub:// URL (other schemes: xipc send)",
};

int cmd_pub(int argc, char **argv)
{
    cli_msg_cfg cfg = {.wait_ms = 0};
    int code = cli_msg_parse(&cfg, &pub_cmd, argc, argv);
    if (code >= 0)
        return code;
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
        code = cli_msg_send_args(s, &cfg, 0); /* publishing never waits */
    else
        code = cli_msg_send_lines(s, &cfg, 0);
    xipc_close(s);
    free(cfg.msgs);
    return code < 0 ? cli_signal_exit() : code;
}
