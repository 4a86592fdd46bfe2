/*
 * xipc ps: the processes of this host with their bitness
 * (xipc_proc_list, include/xipc/inspect.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xipc/inspect.h"

#include "cli.h"
#include "cmd.h"

const char cmd_ps_usage[] = "usage: xipc ps  (xipc ps --help)";

static const char ps_help[] =
    "usage: xipc ps\n"
    "\n"
    "List the processes of this host, sorted by pid, under the header line\n"
    "  PID  PPID  BITS  NAME\n"
    "BITS is 32 or 64, the bitness of the process's executable image, or \"?\"\n"
    "when it cannot be read (a kernel thread; on Linux another user's\n"
    "process without CAP_SYS_PTRACE). NAME is the program's name (Linux: its\n"
    "comm, at most 15 bytes; Windows: the executable's file name). On Linux\n"
    "a 32-bit program run by qemu-user shows as qemu, a 64-bit process.\n"
    "\n"
    "  -h, --help         show this help\n";

typedef struct ps_row {
    uint32_t pid, ppid;
    unsigned bits;
    char name[64];
} ps_row;

typedef struct ps_list {
    ps_row *v;
    size_t n, cap;
    int nomem;
} ps_list;

static void ps_add(const xipc_proc_info *p, void *arg)
{
    ps_list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 128;
        ps_row *v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL) {
            l->nomem = 1;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    ps_row *r = &l->v[l->n++];
    r->pid = p->pid;
    r->ppid = p->ppid;
    r->bits = p->bits;
    snprintf(r->name, sizeof(r->name), "%s", p->name);
}

static int ps_cmp(const void *a, const void *b)
{
    const ps_row *x = a, *y = b;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

int cmd_ps(int argc, char **argv)
{
    cli_scan s;
    const char *arg;
    cli_scan_init(&s, argc, argv);
    for (cli_arg k; (k = cli_scan_next(&s, &arg)) != CLI_ARG_END;) {
        if (k == CLI_ARG_OPERAND)
            return cli_usage_error(cmd_ps_usage, arg, "unexpected argument");
        if (cli_scan_flag(arg, "-h", "--help")) {
            fputs(ps_help, stdout);
            return CLI_EXIT_OK;
        }
        return cli_usage_error(cmd_ps_usage, arg, "unknown option");
    }
    ps_list l = {0};
    xipc_err rv = xipc_proc_list(ps_add, &l);
    if (rv == XIPC_OK && l.nomem)
        rv = XIPC_ENOMEM;
    if (rv != XIPC_OK) {
        free(l.v);
        return cli_fail("ps", rv);
    }
    qsort(l.v, l.n, sizeof(*l.v), ps_cmp);
    printf("%7s  %7s  %4s  %s\n", "PID", "PPID", "BITS", "NAME");
    for (size_t i = 0; i < l.n; i++) {
        char bits[12] = "?";
        if (l.v[i].bits != 0)
            snprintf(bits, sizeof(bits), "%u", l.v[i].bits);
        printf("%7u  %7u  %4s  %s\n", (unsigned)l.v[i].pid, (unsigned)l.v[i].ppid, bits,
               l.v[i].name);
    }
    free(l.v);
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout))
        return cli_fail_errno("stdout", errno != 0 ? errno : EIO);
    return CLI_EXIT_OK;
}
