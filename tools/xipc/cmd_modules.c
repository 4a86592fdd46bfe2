/*
 * xipc modules PID: the modules of a process, with their base address,
 * size and bitness (xipc_proc_modules, include/xipc/inspect.h).
 */
#include <errno.h>
#include <stdio.h>

#include "xipc/inspect.h"

#include "cli.h"
#include "cmd.h"

const char cmd_modules_usage[] = "usage: xipc modules PID  (xipc modules --help)";

static const char modules_help[] =
    "usage: xipc modules PID\n"
    "\n"
    "List the modules of process PID (its executable images: the program,\n"
    "its shared libraries or DLLs), by ascending base address, under the\n"
    "header line\n"
    "  BASE  SIZE  BITS  PATH\n"
    "BASE is the address the image starts at, in hexadecimal with 16 digits\n"
    "whatever this program's bitness; SIZE the bytes up to the end of its\n"
    "last mapping; BITS 32 or 64 from its headers (\"?\" when unreadable).\n"
    "Nothing is injected: Linux reads /proc/PID/maps and the files' ELF\n"
    "headers, Windows asks EnumProcessModulesEx and reads the PE headers. A\n"
    "32-bit xipc asks a 64-bit helper where it cannot see a 64-bit process\n"
    "itself (docs/inspect.md).\n"
    "\n"
    "  -h, --help         show this help\n"
    "\n"
    "exit status: 0; 1 when the process does not exist or may not be looked\n"
    "at (\"xipc: PID: permission denied: WHY\"); 2 for a usage error\n";

/* The header, once: before the first module, or at the end of an empty
 * list; never before an error. */
static void modules_header(int *shown)
{
    if (!*shown)
        printf("%-18s  %10s  %4s  %s\n", "BASE", "SIZE", "BITS", "PATH");
    *shown = 1;
}

static void modules_print(const xipc_module_info *m, void *arg)
{
    modules_header(arg);
    char bits[12] = "?";
    if (m->bits != 0)
        snprintf(bits, sizeof(bits), "%u", m->bits);
    printf("0x%016llx  %10llu  %4s  %s\n", (unsigned long long)m->base,
           (unsigned long long)m->size, bits, m->path);
}

int cmd_modules(int argc, char **argv)
{
    cli_scan s;
    const char *arg, *pid_text = NULL;
    cli_scan_init(&s, argc, argv);
    for (cli_arg k; (k = cli_scan_next(&s, &arg)) != CLI_ARG_END;) {
        if (k == CLI_ARG_OPERAND) {
            if (pid_text != NULL)
                return cli_usage_error(cmd_modules_usage, arg, "unexpected argument");
            pid_text = arg;
        } else if (cli_scan_flag(arg, "-h", "--help")) {
            fputs(modules_help, stdout);
            return CLI_EXIT_OK;
        } else {
            return cli_usage_error(cmd_modules_usage, arg, "unknown option");
        }
    }
    long pid;
    if (pid_text == NULL)
        return cli_usage_error(cmd_modules_usage, "PID", "missing");
    if (cli_parse_int(pid_text, 0, CLI_INT_MAX, &pid) != 0)
        return cli_bad_value(cmd_modules_usage, "PID", pid_text, "a process id");
    int shown = 0;
    xipc_err rv = xipc_proc_modules((uint32_t)pid, modules_print, &shown);
    if (rv == XIPC_OK)
        modules_header(&shown);
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout))
        return cli_fail_errno("stdout", errno != 0 ? errno : EIO);
    return rv == XIPC_OK ? CLI_EXIT_OK : cli_fail(pid_text, rv);
}
