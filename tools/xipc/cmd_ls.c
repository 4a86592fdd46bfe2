/*
 * xipc ls: the endpoints of the current user on this host (shm, pubsub,
 * pipe, mailslot, mq; xipc_endpoints), with their owner's pid and whether
 * it is alive, as a table or as JSON. Only looks: creates nothing,
 * reclaims nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"

const char cmd_ls_usage[] = "usage: xipc ls [--json]  (xipc ls --help)";

static const char ls_help[] =
    "usage: xipc ls [--json]\n"
    "\n"
    "List the xipc endpoints of the current user on this host: shm://\n"
    "listeners and connection offers not accepted yet, pubsub://\n"
    "publishers, pipe:// listeners, mailslot:// servers and mq:// receivers\n"
    "(unix:// and tcp:// keep no registry and are not listed). One line per\n"
    "endpoint, sorted by URL, under the header line\n"
    "  URL  KIND  PID  ALIVE\n"
    "KIND is \"shm listener\", \"shm offer\", \"pubsub\", \"pipe\", \"mailslot\n"
    "server\" or \"mq\"; PID the owner (for an offer: the client; 0 when\n"
    "unknown, as for a damaged object); ALIVE \"yes\" or \"no\". A dead\n"
    "endpoint is what a killed process left behind: the next listener of\n"
    "the name reclaims it. With no endpoint, only the header is printed.\n"
    "ls never changes anything.\n"
    "\n"
    "  --json             print a JSON array instead: [{\"url\": ...,\n"
    "                     \"kind\": ..., \"pid\": N, \"alive\": true}, ...]\n"
    "                     ([] when there is none)\n"
    "  -h, --help         show this help\n";

typedef struct ls_list {
    xipc_endpoint_info *v;
    size_t n, cap;
    int nomem;
} ls_list;

static void ls_add(const xipc_endpoint_info *e, void *arg)
{
    ls_list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        xipc_endpoint_info *v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL) {
            l->nomem = 1;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *e;
}

static int ls_cmp(const void *a, const void *b)
{
    const xipc_endpoint_info *x = a, *y = b;
    int c = strcmp(x->url, y->url);
    if (c == 0)
        c = strcmp(x->kind, y->kind);
    if (c == 0)
        c = (x->pid > y->pid) - (x->pid < y->pid);
    return c;
}

static void ls_table(const ls_list *l)
{
    int w = 3; /* "URL" */
    for (size_t i = 0; i < l->n; i++) {
        int n = (int)strlen(l->v[i].url);
        w = n > w ? n : w;
    }
    printf("%-*s  %-15s  %7s  %s\n", w, "URL", "KIND", "PID", "ALIVE");
    for (size_t i = 0; i < l->n; i++)
        printf("%-*s  %-15s  %7u  %s\n", w, l->v[i].url, l->v[i].kind,
               (unsigned)l->v[i].pid, l->v[i].alive ? "yes" : "no");
}

/* @p s as a JSON string. */
static void ls_json_str(const char *s)
{
    putchar('"');
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void ls_json(const ls_list *l)
{
    putchar('[');
    for (size_t i = 0; i < l->n; i++) {
        fputs(i == 0 ? "\n  {\"url\": " : ",\n  {\"url\": ", stdout);
        ls_json_str(l->v[i].url);
        fputs(", \"kind\": ", stdout);
        ls_json_str(l->v[i].kind);
        printf(", \"pid\": %u, \"alive\": %s}", (unsigned)l->v[i].pid,
               l->v[i].alive ? "true" : "false");
    }
    fputs(l->n ? "\n]\n" : "]\n", stdout);
}

int cmd_ls(int argc, char **argv)
{
    cli_scan s;
    const char *arg;
    int json = 0;
    cli_scan_init(&s, argc, argv);
    for (cli_arg k; (k = cli_scan_next(&s, &arg)) != CLI_ARG_END;) {
        if (k == CLI_ARG_OPERAND)
            return cli_usage_error(cmd_ls_usage, arg, "unexpected argument");
        if (cli_scan_flag(arg, NULL, "--json")) {
            json = 1;
        } else if (cli_scan_flag(arg, "-h", "--help")) {
            fputs(ls_help, stdout);
            return CLI_EXIT_OK;
        } else {
            return cli_usage_error(cmd_ls_usage, arg, "unknown option");
        }
    }
    ls_list l = {0};
    xipc_err rv = xipc_endpoints(ls_add, &l);
    if (rv == XIPC_OK && l.nomem)
        rv = XIPC_ENOMEM;
    if (l.n > 1)
        qsort(l.v, l.n, sizeof(*l.v), ls_cmp);
    if (json)
        ls_json(&l);
    else
        ls_table(&l);
    free(l.v);
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout))
        return cli_fail_errno("stdout", errno != 0 ? errno : EIO);
    return rv == XIPC_OK ? CLI_EXIT_OK : cli_fail("ls", rv);
}
