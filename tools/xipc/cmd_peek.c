/*
 * xipc peek PID ADDR LEN: another process's memory as a hex dump, or raw
 * (xipc_proc_read, include/xipc/inspect.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "xipc/inspect.h"

#include "cli.h"
#include "cmd.h"

#define PEEK_MAX (16L << 20) /* the most one peek prints */
#define PEEK_ROW 16

const char cmd_peek_usage[] = "usage: xipc peek [--raw] PID ADDR LEN  (xipc peek --help)";

static const char peek_help[] =
    "usage: xipc peek [--raw] PID ADDR LEN\n"
    "\n"
    "Read LEN bytes (1 to 16777216) at address ADDR of process PID and print\n"
    "them as a hex dump: per 16 bytes the address (16 hex digits), the bytes\n"
    "in hex and as text ('.' for bytes outside printable ASCII). ADDR is\n"
    "decimal or hexadecimal after \"0x\", up to 64 bits in every build: a\n"
    "32-bit xipc reads a 64-bit process's address above 4 GiB through a\n"
    "64-bit helper (docs/inspect.md). Linux reads with process_vm_readv,\n"
    "Windows with ReadProcessMemory; both need the right to debug the\n"
    "process (same user, and on Linux Yama's ptrace_scope).\n"
    "When the range runs into unmapped memory, what was read is printed and\n"
    "\"xipc: PID: read N of LEN bytes: the rest is not mapped\" goes to stderr.\n"
    "\n"
    "  --raw              write the bytes as they are instead of a dump\n"
    "  -h, --help         show this help\n"
    "\n"
    "exit status: 0 (some bytes read); 1 when nothing is mapped at ADDR, the\n"
    "process does not exist or may not be read (\"xipc: PID: permission\n"
    "denied: WHY\"); 2 for a usage error\n";

static void peek_dump(unsigned long long addr, const unsigned char *b, size_t n)
{
    for (size_t at = 0; at < n; at += PEEK_ROW) {
        printf("%016llx ", addr + at);
        for (size_t i = 0; i < PEEK_ROW; i++) {
            if (at + i < n)
                printf("%s%02x", i == 8 ? "  " : " ", b[at + i]);
            else
                printf("%s  ", i == 8 ? "   " : " ");
        }
        printf("  |");
        for (size_t i = 0; i < PEEK_ROW && at + i < n; i++)
            putchar(b[at + i] >= 0x20 && b[at + i] < 0x7f ? b[at + i] : '.');
        printf("|\n");
    }
}

int cmd_peek(int argc, char **argv)
{
    cli_scan s;
    const char *arg, *ops[3];
    size_t nops = 0;
    int raw = 0;
    cli_scan_init(&s, argc, argv);
    for (cli_arg k; (k = cli_scan_next(&s, &arg)) != CLI_ARG_END;) {
        if (k == CLI_ARG_OPERAND) {
            if (nops == 3)
                return cli_usage_error(cmd_peek_usage, arg, "unexpected argument");
            ops[nops++] = arg;
        } else if (cli_scan_flag(arg, NULL, "--raw")) {
            raw = 1;
        } else if (cli_scan_flag(arg, "-h", "--help")) {
            fputs(peek_help, stdout);
            return CLI_EXIT_OK;
        } else {
            return cli_usage_error(cmd_peek_usage, arg, "unknown option");
        }
    }
    static const char *const names[] = {"PID", "ADDR", "LEN"};
    if (nops < 3)
        return cli_usage_error(cmd_peek_usage, names[nops], "missing");
    long pid, len;
    unsigned long long addr;
    if (cli_parse_int(ops[0], 0, CLI_INT_MAX, &pid) != 0)
        return cli_bad_value(cmd_peek_usage, "PID", ops[0], "a process id");
    if (cli_parse_u64(ops[1], &addr) != 0)
        return cli_bad_value(cmd_peek_usage, "ADDR", ops[1], "a 64-bit address");
    if (cli_parse_int(ops[2], 1, PEEK_MAX, &len) != 0)
        return cli_bad_value(cmd_peek_usage, "LEN", ops[2], "a length from 1 to 16777216");
    unsigned char *b = malloc((size_t)len);
    if (b == NULL)
        return cli_fail("peek", XIPC_ENOMEM);
    size_t got;
    xipc_err rv = xipc_proc_read((uint32_t)pid, addr, b, (size_t)len, &got);
    if (rv != XIPC_OK) {
        free(b);
        return cli_fail(ops[0], rv);
    }
    if (raw)
        fwrite(b, 1, got, stdout);
    else
        peek_dump(addr, b, got);
    free(b);
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout))
        return cli_fail_errno("stdout", errno != 0 ? errno : EIO);
    if (got < (size_t)len)
        fprintf(stderr, "xipc: %s: read %zu of %ld bytes: the rest is not mapped\n", ops[0], got,
                len);
    return CLI_EXIT_OK;
}
