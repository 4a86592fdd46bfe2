/*
 * What the message commands share (send, recv, pub, sub: cli_msg.c): the
 * command line "[-w] [OPTIONS] [--] URL [MESSAGE...]", sending the
 * MESSAGEs or the lines of standard input, and receiving into a buffer
 * that grows to the message.
 */
#ifndef XIPC_TOOLS_CLI_MSG_H
#define XIPC_TOOLS_CLI_MSG_H

#include <stddef.h>

#include "cli.h"

/* What a message command takes besides -w and -h (cli_msg_cmd.opts). */
#define CLI_MSG_COUNT 1u    /* -n, --count COUNT (1..) */
#define CLI_MSG_TIMEOUT 2u  /* -t, --timeout MS (-1..) */
#define CLI_MSG_WAIT 4u     /* --wait-subscribers MS (0..) */
#define CLI_MSG_MESSAGES 8u /* MESSAGE operands after the URL */
#define CLI_MSG_PRIO 16u    /* -p, --priority PRIO (0..) */
#define CLI_MSG_TLS 32u     /* --tls-cert/-key/-ca FILE, --tls-server-name NAME,
                               --tls-no-verify: the tls_* fields of cfg->sock */

/* The --help lines of CLI_MSG_TLS's options (send and recv). */
#define CLI_MSG_TLS_HELP \
    "  --tls-cert FILE    tls+tcp://: our certificate (chain), PEM\n" \
    "  --tls-key FILE     tls+tcp://: its private key, PEM (default: in\n" \
    "                     --tls-cert's file)\n" \
    "  --tls-ca FILE      tls+tcp://: the CAs to trust, PEM (default: the\n" \
    "                     system's); a listener then requires client\n" \
    "                     certificates they signed\n" \
    "  --tls-server-name NAME  tls+tcp://: the name the server must prove\n" \
    "                     (default: the URL's host)\n" \
    "  --tls-no-verify    tls+tcp://: check no certificate (docs/tls.md)\n"

/* A message command, for cli_msg_parse(). */
typedef struct cli_msg_cmd {
    const char *name;      /* "send": what a missing URL is reported on */
    const char *usage;     /* the one-line usage, after usage errors */
    const char *help;      /* the --help text */
    unsigned opts;         /* CLI_MSG_* */
    int pubsub;            /* 1: the URL must be pubsub://; 0: must not */
    const char *wrong_url; /* why a URL of the other kind is refused */
} cli_msg_cmd;

/* A message command's arguments; set the defaults before parsing. */
typedef struct cli_msg_cfg {
    const char *url;
    long count;        /* -n (-1: no limit) */
    long timeout_ms;   /* -t */
    long wait_ms;      /* --wait-subscribers */
    long prio;         /* -p (0: xipc_send) */
    int width;         /* -w */
    xipc_opts sock;    /* for xipc_listen / xipc_dial (CLI_MSG_TLS) */
    int nmsgs;
    const char **msgs; /* nmsgs operands after the URL (CLI_MSG_MESSAGES) */
} cli_msg_cfg;

/*
 * Parse the command line of @p cmd (argv[0] its name) into @p cfg; with
 * CLI_MSG_MESSAGES, cfg->msgs is allocated (free() it). With -h and no
 * error, print cmd->help on stdout.
 * @return -1 to go on; else the exit code to return (cfg->msgs freed):
 *         CLI_EXIT_OK after the help, a usage error, or CLI_EXIT_FAIL
 */
int cli_msg_parse(cli_msg_cfg *cfg, const cli_msg_cmd *cmd, int argc, char **argv);

/* Send cfg->msgs, one message each, on @p s, @p timeout_ms each.
 * @return an exit code ("xipc: URL: WHY" on failure) */
int cli_msg_send_args(xipc_sock *s, const cli_msg_cfg *cfg, int timeout_ms);

/*
 * Send each line of standard input, without its newline, on @p s,
 * @p timeout_ms each, until end of file.
 * @return an exit code, or -1 when a signal stopped it (cli_signals_init)
 */
int cli_msg_send_lines(xipc_sock *s, const cli_msg_cfg *cfg, int timeout_ms);

/* A receive buffer that grows to the size of the message. */
typedef struct cli_msg_buf {
    unsigned char *b;
    size_t cap;
} cli_msg_buf;

#define CLI_MSG_BUF_INIT (64u << 10) /* a buffer's first size */

/* Allocate the first CLI_MSG_BUF_INIT bytes. @return 0, or -1 (no memory) */
int cli_msg_buf_init(cli_msg_buf *buf);

/*
 * Receive the next message on @p s into @p buf within @p timeout_ms
 * (-1: no limit), waiting in slices; growing the buffer when the message
 * is larger (XIPC_ENOMEM when that fails).
 * @return what xipc_recv() said, or XIPC_EINTR when a signal was caught
 */
xipc_err cli_msg_recv(xipc_sock *s, cli_msg_buf *buf, size_t *len, long timeout_ms);

/*
 * After cli_msg_recv() said @p rv: print the message (@p len bytes of
 * @p buf) on its own line, or say on stderr why there is none.
 * @return CLI_EXIT_OK when printed, -1 when a signal stopped the
 *         command, else CLI_EXIT_FAIL ("xipc: URL: WHY", "xipc: stdout: WHY")
 */
int cli_msg_print(const cli_msg_cfg *cfg, xipc_err rv, const cli_msg_buf *buf, size_t len);

#endif
