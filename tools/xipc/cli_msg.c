/* What the message commands share (see cli_msg.h). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_msg.h"

/* An option with a number, as a message command takes it. */
typedef struct msg_num {
    unsigned flag; /* CLI_MSG_* */
    const char *shrt;
    const char *lng;
    long min; /* the range is min .. CLI_INT_MAX */
    const char *want;
} msg_num;

static const msg_num msg_nums[] = {
    {CLI_MSG_COUNT, "-n", "--count", 1, "a count in 1..2147483647"},
    {CLI_MSG_TIMEOUT, "-t", "--timeout", -1, "a timeout in -1..2147483647 ms"},
    {CLI_MSG_WAIT, NULL, "--wait-subscribers", 0, "a time in 0..2147483647 ms"},
    {CLI_MSG_PRIO, "-p", "--priority", 0, "a priority in 0..2147483647"},
};

/* Where the value of option @p flag goes. */
static long *msg_num_field(cli_msg_cfg *cfg, unsigned flag)
{
    switch (flag) {
    case CLI_MSG_COUNT: return &cfg->count;
    case CLI_MSG_TIMEOUT: return &cfg->timeout_ms;
    case CLI_MSG_PRIO: return &cfg->prio;
    default: return &cfg->wait_ms;
    }
}

/* An option naming a file or a name: a string field of xipc_opts. */
typedef struct msg_str {
    const char *lng;
    size_t field; /* offsetof(xipc_opts, ...) */
} msg_str;

static const msg_str msg_strs[] = {
    {"--tls-cert", offsetof(xipc_opts, tls_cert)},
    {"--tls-key", offsetof(xipc_opts, tls_key)},
    {"--tls-ca", offsetof(xipc_opts, tls_ca)},
    {"--tls-server-name", offsetof(xipc_opts, tls_server_name)},
};

/* Take TLS option @p arg. @return -1 taken, 0 not one, else a usage error */
static int msg_tls_option(cli_msg_cfg *cfg, const cli_msg_cmd *cmd, cli_scan *s,
                          const char *arg)
{
    if (cli_scan_flag(arg, NULL, "--tls-no-verify")) {
        cfg->sock.tls_verify = 0;
        return -1;
    }
    for (size_t i = 0; i < sizeof(msg_strs) / sizeof(msg_strs[0]); i++) {
        const char *val;
        int r = cli_scan_value(s, arg, NULL, msg_strs[i].lng, &val);
        if (r == 0)
            continue;
        if (r < 0 || val[0] == '\0')
            return cli_usage_error(cmd->usage, arg, "missing value");
        *(const char **)((char *)&cfg->sock + msg_strs[i].field) = val;
        return -1;
    }
    return 0;
}

/* Take option @p arg. @return -1 when taken, else a usage error's code */
static int msg_option(cli_msg_cfg *cfg, const cli_msg_cmd *cmd, cli_scan *s,
                      const char *arg, int *help)
{
    for (size_t i = 0; i < sizeof(msg_nums) / sizeof(msg_nums[0]); i++) {
        const msg_num *n = &msg_nums[i];
        const char *val;
        int r;
        if ((cmd->opts & n->flag) == 0 ||
            (r = cli_scan_value(s, arg, n->shrt, n->lng, &val)) == 0)
            continue;
        if (r < 0)
            return cli_usage_error(cmd->usage, arg, "missing value");
        if (cli_parse_int(val, n->min, CLI_INT_MAX, msg_num_field(cfg, n->flag)) != 0)
            return cli_bad_value(cmd->usage, arg, val, n->want);
        return -1;
    }
    int code = cmd->opts & CLI_MSG_TLS ? msg_tls_option(cfg, cmd, s, arg) : 0;
    if (code != 0)
        return code;
    if (cli_scan_flag(arg, "-w", "--width"))
        cfg->width = 1;
    else if (cli_scan_flag(arg, "-h", "--help"))
        *help = 1;
    else
        return cli_usage_error(cmd->usage, arg, "unknown option");
    return -1;
}

/* @return -1 when parsed, else the exit code of a usage error */
static int msg_scan(cli_msg_cfg *cfg, const cli_msg_cmd *cmd, int argc, char **argv,
                    int *help)
{
    cli_scan s;
    const char *arg;
    cli_scan_init(&s, argc, argv);
    for (cli_arg k; (k = cli_scan_next(&s, &arg)) != CLI_ARG_END;) {
        int code = -1;
        if (k == CLI_ARG_OPTION)
            code = msg_option(cfg, cmd, &s, arg, help);
        else if (cfg->url == NULL)
            cfg->url = arg;
        else if (cmd->opts & CLI_MSG_MESSAGES)
            cfg->msgs[cfg->nmsgs++] = arg;
        else
            code = cli_usage_error(cmd->usage, arg, "unexpected argument");
        if (code >= 0)
            return code;
    }
    if (*help)
        return -1;
    if (cfg->url == NULL)
        return cli_usage_error(cmd->usage, cmd->name, "missing URL");
    if (cli_is_pubsub(cfg->url) != cmd->pubsub)
        return cli_usage_error(cmd->usage, cfg->url, cmd->wrong_url);
    return -1;
}

int cli_msg_parse(cli_msg_cfg *cfg, const cli_msg_cmd *cmd, int argc, char **argv)
{
    xipc_opts_init(&cfg->sock);
    if (cmd->opts & CLI_MSG_MESSAGES) {
        cfg->msgs = calloc((size_t)argc, sizeof(*cfg->msgs));
        if (cfg->msgs == NULL)
            return cli_fail(cmd->name, XIPC_ENOMEM);
    }
    int help = 0;
    int code = msg_scan(cfg, cmd, argc, argv, &help);
    if (code < 0 && help) {
        fputs(cmd->help, stdout);
        code = CLI_EXIT_OK;
    }
    if (code >= 0) {
        free(cfg->msgs);
        cfg->msgs = NULL;
    }
    return code;
}

/* One message at cfg->prio; 0 is a plain xipc_send, which every scheme takes. */
static xipc_err msg_send(xipc_sock *s, const cli_msg_cfg *cfg, const void *buf, size_t len,
                         int timeout_ms)
{
    if (cfg->prio == 0)
        return xipc_send(s, buf, len, timeout_ms);
    return xipc_send_prio(s, buf, len, (unsigned)cfg->prio, timeout_ms);
}

int cli_msg_send_args(xipc_sock *s, const cli_msg_cfg *cfg, int timeout_ms)
{
    for (int i = 0; i < cfg->nmsgs; i++) {
        xipc_err rv = msg_send(s, cfg, cfg->msgs[i], strlen(cfg->msgs[i]), timeout_ms);
        if (rv != XIPC_OK)
            return cli_fail(cfg->url, rv);
    }
    return CLI_EXIT_OK;
}

/*
 * One line of @p f into *@p line (grown as needed), its newline kept; the
 * line's length, -1 at the end of input or on an error (getline(3), which
 * Windows' C library lacks). A NUL byte read is kept as part of the line.
 */
static long cli_read_line(char **line, size_t *cap, FILE *f)
{
    size_t n = 0;
    int c;
    while ((c = getc(f)) != EOF) {
        if (n + 2 > *cap) {
            size_t ncap = *cap < 128 ? 128 : *cap * 2;
            char *nl = realloc(*line, ncap);
            if (nl == NULL) {
                errno = ENOMEM;
                return -1;
            }
            *line = nl;
            *cap = ncap;
        }
        (*line)[n++] = (char)c;
        if (c == '\n')
            break;
    }
    if (n == 0)
        return -1;
    (*line)[n] = '\0';
    return (long)n;
}

int cli_msg_send_lines(xipc_sock *s, const cli_msg_cfg *cfg, int timeout_ms)
{
    char *line = NULL;
    size_t cap = 0;
    int code = CLI_EXIT_OK;
    for (;;) {
        errno = 0;
        long n = cli_read_line(&line, &cap, stdin);
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
        xipc_err rv = msg_send(s, cfg, line, (size_t)n, timeout_ms);
        if (rv != XIPC_OK) {
            code = cli_fail(cfg->url, rv);
            break;
        }
    }
    free(line);
    return code;
}

int cli_msg_buf_init(cli_msg_buf *buf)
{
    buf->cap = CLI_MSG_BUF_INIT;
    buf->b = malloc(buf->cap);
    return buf->b != NULL ? 0 : -1;
}

/* Grow @p buf to hold @p need bytes. */
static xipc_err msg_grow(cli_msg_buf *buf, size_t need)
{
    size_t cap = buf->cap * 2 > need ? buf->cap * 2 : need;
    unsigned char *b = realloc(buf->b, cap);
    if (b == NULL)
        return XIPC_ENOMEM;
    buf->b = b;
    buf->cap = cap;
    return XIPC_OK;
}

xipc_err cli_msg_recv(xipc_sock *s, cli_msg_buf *buf, size_t *len, long timeout_ms)
{
    for (long left = timeout_ms;;) {
        if (cli_signal_caught())
            return XIPC_EINTR;
        int slice = cli_slice(left);
        xipc_err rv = xipc_recv(s, buf->b, buf->cap, len, slice);
        if (rv == XIPC_EMSGSIZE && *len > buf->cap) {
            /* still queued, and now we know its size */
            if ((rv = msg_grow(buf, *len)) != XIPC_OK)
                return rv;
            continue;
        }
        if (rv != XIPC_ETIMEDOUT || cli_expired(&left, slice))
            return rv;
    }
}

/*
 * The message goes out byte for byte, control characters and all: it is
 * the data the user asked for (as with cat), and a program reading stdout
 * may want exactly those bytes. Only text that xipc itself prints about a
 * peer is escaped (json_escape_text); a user who shows untrusted messages
 * on a terminal pipes them through `cat -v` or the like.
 */
int cli_msg_print(const cli_msg_cfg *cfg, xipc_err rv, const cli_msg_buf *buf, size_t len)
{
    if (rv == XIPC_EINTR && cli_signal_caught())
        return -1;
    if (rv != XIPC_OK)
        return cli_fail(cfg->url, rv);
    int e = cli_print_msg(buf->b, len);
    if (e != 0)
        return cli_signal_caught() ? -1 : cli_fail_errno("stdout", e);
    return CLI_EXIT_OK;
}
