/* Helpers shared by the xipc commands (see cli.h). */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <process.h>
#define cli_getpid() ((long)_getpid())
#else
#include <unistd.h>
#define cli_getpid() ((long)getpid())
#endif

#include "cli.h"

int cli_usage_error(const char *usage, const char *what, const char *why)
{
    fprintf(stderr, "xipc: %s: %s\n%s\n", what, why, usage);
    return CLI_EXIT_USAGE;
}

int cli_bad_value(const char *usage, const char *opt, const char *val,
                  const char *want)
{
    const char *eq = strchr(opt, '=');
    int n = eq != NULL && eq[1] != '\0' && strcmp(eq + 1, val) == 0
                ? (int)(eq - opt)
                : (int)strlen(opt);
    fprintf(stderr, "xipc: %.*s: '%s' is not %s\n%s\n", n, opt, val, want, usage);
    return CLI_EXIT_USAGE;
}

int cli_fail(const char *what, xipc_err err)
{
    const char *detail = xipc_last_detail(); /* the library's why, when it says */
    if (detail[0] != '\0')
        fprintf(stderr, "xipc: %s: %s: %s\n", what, xipc_strerror(err), detail);
    else
        fprintf(stderr, "xipc: %s: %s\n", what, xipc_strerror(err));
    return CLI_EXIT_FAIL;
}

int cli_fail_errno(const char *what, int errnum)
{
    fprintf(stderr, "xipc: %s: %s\n", what, strerror(errnum));
    return CLI_EXIT_FAIL;
}

int cli_parse_int(const char *text, long min, long max, long *out)
{
    if (text == NULL || *text == '\0')
        return -1;
    /* strtol skips leading blanks and takes a '+': refuse both */
    char c = *text;
    if (c != '-' && (c < '0' || c > '9'))
        return -1;
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_u64(const char *text, unsigned long long *out)
{
    int hex = text != NULL && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
    const char *digits = text == NULL ? NULL : text + (hex ? 2 : 0);
    /* strtoull takes blanks, signs and a second "0x": refuse them */
    if (digits == NULL || !(hex ? isxdigit((unsigned char)*digits) : isdigit((unsigned char)*digits)))
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(digits, &end, hex ? 16 : 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

const char *cli_emulated(void)
{
    const char *e = getenv("XIPC_EMULATED"); /* set by scripts/run32 */
    return sizeof(void *) == 4 && e != NULL && e[0] != '\0' ? e : NULL;
}

void cli_print_width(const char *cmd)
{
    const char *emu = cli_emulated();
    fprintf(stderr, "%s: pid %ld, pointer width %u bits%s%s%s\n", cmd, cli_getpid(),
            (unsigned)(sizeof(void *) * CHAR_BIT), emu ? " (" : "", emu ? emu : "",
            emu ? ")" : "");
    fflush(stderr);
}

void cli_scan_init(cli_scan *s, int argc, char **argv)
{
    s->argc = argc;
    s->argv = argv;
    s->next = 1;
    s->operands = 0;
}

cli_arg cli_scan_next(cli_scan *s, const char **arg)
{
    while (s->next < s->argc) {
        const char *a = s->argv[s->next++];
        if (!s->operands && strcmp(a, "--") == 0) {
            s->operands = 1;
            continue;
        }
        *arg = a;
        if (!s->operands && a[0] == '-' && a[1] != '\0')
            return CLI_ARG_OPTION;
        return CLI_ARG_OPERAND;
    }
    *arg = NULL;
    return CLI_ARG_END;
}

int cli_scan_flag(const char *arg, const char *shrt, const char *lng)
{
    return strcmp(arg, lng) == 0 || (shrt != NULL && strcmp(arg, shrt) == 0);
}

int cli_scan_value(cli_scan *s, const char *arg, const char *shrt,
                   const char *lng, const char **value)
{
    size_t n = strlen(lng);
    if (strncmp(arg, lng, n) == 0 && arg[n] == '=') {
        *value = arg + n + 1;
        return 1;
    }
    if (!cli_scan_flag(arg, shrt, lng))
        return 0;
    if (s->next >= s->argc)
        return -1;
    *value = s->argv[s->next++];
    return 1;
}

int cli_is_pubsub(const char *url)
{
    return strncmp(url, "pubsub://", 9) == 0;
}

int cli_slice(long left)
{
    return left < 0 || left > CLI_SLICE_MS ? CLI_SLICE_MS : (int)left;
}

int cli_expired(long *left, int slice)
{
    if (*left < 0)
        return 0;
    *left -= slice;
    return *left <= 0;
}

int cli_print_msg(const void *msg, size_t len)
{
    errno = 0;
    if ((len > 0 && fwrite(msg, 1, len, stdout) != len) ||
        putchar('\n') == EOF || fflush(stdout) == EOF)
        return errno != 0 ? errno : EIO;
    return 0;
}
