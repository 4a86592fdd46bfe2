/*
 * xipc send URL [MESSAGE...]: dial URL, send one message per MESSAGE or,
 * without any, one per line of standard input (the newline removed), then
 * close. Messages already sent are delivered even after the close.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>

#include "cli_msg.h"
#include "cmd.h"

const char cmd_send_usage[] =
    "usage: xipc send [-w] [-t MS] [-p PRIO] URL [MESSAGE...]  (xipc send --help)";

static const char send_help[] =
    "usage: xipc send [-w] [-t MS] [-p PRIO] [--] URL [MESSAGE...]\n"
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
    "  -p, --priority PRIO send at priority PRIO (default 0); mq:// takes\n"
    "                     0..31 (Windows: 0..32767) and delivers higher\n"
    "                     priorities first, the other schemes only 0\n"
    "                     (\"operation not supported by this transport\")\n"
    CLI_MSG_TLS_HELP
    "  -w, --width        print \"send: pid N, pointer width B bits\" to stderr\n"
    "  -h, --help         show this help\n";

static const cli_msg_cmd send_cmd = {
    .name = "send",
    .usage = cmd_send_usage,
    .help = send_help,
    .opts = CLI_MSG_TIMEOUT | CLI_MSG_MESSAGES | CLI_MSG_PRIO | CLI_MSG_TLS,
    .pubsub = 0,
    .wrong_url = "send does not publish: use xipc pub URL",
};

int cmd_send(int argc, char **argv)
{
    cli_msg_cfg cfg = {.timeout_ms = 5000};
    int code = cli_msg_parse(&cfg, &send_cmd, argc, argv);
    if (code >= 0)
        return code;
    if (cfg.width)
        cli_print_width("send");
    xipc_sock *s = NULL;
    xipc_err rv = xipc_dial(&s, cfg.url, &cfg.sock, (int)cfg.timeout_ms);
    if (rv != XIPC_OK)
        code = cli_fail(cfg.url, rv);
    else if (cfg.nmsgs > 0)
        code = cli_msg_send_args(s, &cfg, (int)cfg.timeout_ms);
    else
        code = cli_msg_send_lines(s, &cfg, (int)cfg.timeout_ms);
    xipc_close(s);
    free(cfg.msgs);
    return code;
}
