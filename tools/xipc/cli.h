/*
 * Helpers shared by the xipc commands: exit codes, error reporting in the
 * one format "xipc: WHAT: WHY", number parsing and option scanning.
 */
#ifndef XIPC_TOOLS_CLI_H
#define XIPC_TOOLS_CLI_H

#include <stddef.h>

#include "xipc/xipc.h"

/* Exit codes of every command. */
#define CLI_EXIT_OK 0    /* done */
#define CLI_EXIT_FAIL 1  /* runtime error: the library or the OS said no */
#define CLI_EXIT_USAGE 2 /* the command line is wrong */

/* Largest count or timeout (ms) accepted on the command line. */
#define CLI_INT_MAX 2147483647L

/*
 * Print "xipc: WHAT: WHY" and then @p usage on stderr.
 * @return CLI_EXIT_USAGE
 */
int cli_usage_error(const char *usage, const char *what, const char *why);

/*
 * A usage error for option @p opt (as typed; "--name=value" shows as
 * "--name") whose value @p val is not @p want: "xipc: OPT: 'VAL' is not WANT".
 * @return CLI_EXIT_USAGE
 */
int cli_bad_value(const char *usage, const char *opt, const char *val,
                  const char *want);

/*
 * Print "xipc: WHAT: xipc_strerror(err)" on stderr.
 * @return CLI_EXIT_FAIL
 */
int cli_fail(const char *what, xipc_err err);

/*
 * Print "xipc: WHAT: strerror(errnum)" on stderr.
 * @return CLI_EXIT_FAIL
 */
int cli_fail_errno(const char *what, int errnum);

/*
 * Parse all of @p text as a decimal integer in [@p min, @p max].
 * @return 0 and the value in @p *out, or -1 (nothing stored)
 */
int cli_parse_int(const char *text, long min, long max, long *out);

/*
 * Parse all of @p text as an unsigned 64-bit integer: decimal, or
 * hexadecimal after "0x" (an address).
 * @return 0 and the value in @p *out, or -1 (nothing stored)
 */
int cli_parse_u64(const char *text, unsigned long long *out);

/*
 * NULL when this process runs on the CPU; the "qemu-i386: WHY" text when
 * scripts/run32 started it (a 32-bit build) under qemu-i386.
 */
const char *cli_emulated(void);

/* Print "CMD: pid N, pointer width B bits" on stderr, then " (EMULATED)"
 * when cli_emulated() says so. */
void cli_print_width(const char *cmd);

/* The OS name: from uname, lower-cased ("linux"), or "unknown"; "windows"
 * (posix/cli_os.c, win32/cli_os.c). */
void cli_os_name(char *buf, size_t cap);

/* Sleep @p ms whole, whatever signal comes (an RPC handler's thread). */
void cli_nap_ms(long ms);

/* Longest wait of a blocking command between two looks at signals. */
#define CLI_SLICE_MS 100

/*
 * Catch SIGINT, SIGTERM and SIGHUP in a flag (unless ignored at start) and
 * ignore SIGPIPE. Blocking commands wait in slices of CLI_SLICE_MS and
 * look at cli_signal_caught() between them, close their endpoint, then
 * call cli_signal_exit().
 */
void cli_signals_init(void);

/*
 * For a command whose library runs threads (serve): SIGINT, SIGTERM and
 * SIGHUP (unless ignored at start) are blocked in the calling thread
 * before any other starts, so every thread inherits the mask, and taken
 * synchronously by cli_signal_wait_ms(): no handler ever runs. SIGPIPE is
 * ignored. Call it instead of cli_signals_init(), before the first thread.
 */
void cli_signals_block(void);

/*
 * After cli_signals_block(): wait up to @p ms for one of those signals.
 * @return 0 when none came, -1 when one did (cli_signal_caught() names it)
 */
int cli_signal_wait_ms(long ms);

/* The signal caught since cli_signals_init() or cli_signals_block(), or 0. */
int cli_signal_caught(void);

/*
 * Die of the caught signal (default action), so the parent sees it.
 * @return 128 + the signal, when that did not end the process
 */
int cli_signal_exit(void);

/* The next slice of a wait with @p left ms to go (-1: forever). */
int cli_slice(long left);

/* Count a slice that expired off @p *left. @return 1 when time is up */
int cli_expired(long *left, int slice);

/* Write one message and a newline to stdout, flushed. @return 0 or an errno */
int cli_print_msg(const void *msg, size_t len);

/* Sleep @p ms milliseconds. @return 0, or -1 when a signal was caught */
int cli_sleep_ms(long ms);

/*
 * Is @p url a pubsub:// URL? send and recv refuse those (usage error
 * pointing to pub and sub); pub and sub take nothing else.
 */
int cli_is_pubsub(const char *url);

/*
 * A forward scan over a command's arguments that tells options from
 * operands. Options may come before or after operands; "--" ends them,
 * and a lone "-" is an operand.
 */
typedef struct cli_scan {
    int argc;
    char **argv;
    int next;     /* index of the next argument to look at */
    int operands; /* 1 after "--": everything left is an operand */
} cli_scan;

/* Start scanning after argv[0] (the command name). */
void cli_scan_init(cli_scan *s, int argc, char **argv);

/* Kinds of argument cli_scan_next() returns. */
typedef enum cli_arg { CLI_ARG_END, CLI_ARG_OPTION, CLI_ARG_OPERAND } cli_arg;

/*
 * Take the next argument into @p *arg.
 * For an option "--name=value", *arg is "--name=value"; use
 * cli_scan_is() to match it and take its value.
 */
cli_arg cli_scan_next(cli_scan *s, const char **arg);

/*
 * Does option @p arg name the flag @p lng (or its short form @p shrt, which
 * may be NULL)? Flags take no value: "--width=1" does not match.
 */
int cli_scan_flag(const char *arg, const char *shrt, const char *lng);

/*
 * Does option @p arg name @p lng or @p shrt, an option with a value?
 * @return 0 no; 1 yes and *value is set ("--name=V" or the next argument,
 *         which is consumed); -1 yes but the value is missing
 */
int cli_scan_value(cli_scan *s, const char *arg, const char *shrt,
                   const char *lng, const char **value);

#endif
