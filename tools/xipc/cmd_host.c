/*
 * xipc host LIB [--sig FILE | --fn 'SIGNATURE']... [--restart] URL...:
 * serve the functions of a C library as MessagePack-RPC methods, from a
 * process of the library's own bitness (docs/host.md).
 *
 * This file reads the command line and the signatures (a mistake there is
 * a usage error before anything starts), finds the library's bitness and
 * builds the host's command line: this program again, or the m32 build's
 * xipc through scripts/run32. `--child` is that host itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "host.h"

const char cmd_host_usage[] =
    "usage: xipc host LIB [--sig FILE | --fn SIGNATURE]... [--restart] URL...  "
    "(xipc host --help)";

static const char host_help[] =
    "usage: xipc host LIB [--sig FILE | --fn SIGNATURE]... [--restart]\n"
    "                 [--workers N] [--inline] [--host32 PROG] [--run32 PROG]\n"
    "                 [--] URL...\n"
    "\n"
    "Serve the functions of the C library LIB as MessagePack-RPC methods at\n"
    "every URL (shm://, pipe://, unix://, tcp://), from a host process of\n"
    "LIB's own bitness: this xipc for a library of its bitness, else the\n"
    "32-bit xipc (--host32) started through scripts/run32 (--run32). A crash\n"
    "in the library kills only the host: the calls in flight fail (closed\n"
    "connection), this command says so and exits 1, or with --restart starts\n"
    "the host again. Each declared function is the method of its name; see\n"
    "docs/host.md for the signature language, e.g.\n"
    "  --fn 'int32 add(int32 a, int32 b)'\n"
    "  --fn 'str greet(str name)'\n"
    "  --fn 'int32 fill(out buf[len] dst, uint32 len)'\n"
    "  --fn 'struct point {int32 x; int32 y;}'\n"
    "Prints \"host: listening at ADDRESS\" per URL to stderr once the host\n"
    "serves.\n"
    "\n"
    "  --sig FILE     declarations, one per ';' ('#' comments)\n"
    "  --fn SIG       one declaration\n"
    "  --restart      start the host again after it died of a signal\n"
    "  --workers N    threads calling into LIB (default 1: a library need not\n"
    "                 be thread-safe)\n"
    "  --inline       call on the connection's reader thread (shm://, pipe://):\n"
    "                 faster, for functions that return at once; clients'\n"
    "                 calls may then overlap, and the stack is 256 KiB\n"
    "  --host32 PROG  the 32-bit xipc (default: $XIPC_HOST32)\n"
    "  --run32 PROG   how to start it (default: $XIPC_RUN32, else the\n"
    "                 build's scripts/run32)\n"
    "  -h, --help     show this help\n";

/* @return -1 when parsed, else the exit code of a usage error */
static int host_parse(host_cfg *cfg, int argc, char **argv)
{
    cli_scan s;
    const char *arg, *val;
    int help = 0;
    cli_scan_init(&s, argc, argv);
    for (cli_arg k; (k = cli_scan_next(&s, &arg)) != CLI_ARG_END;) {
        int r;
        if (k == CLI_ARG_OPERAND) {
            if (cfg->lib == NULL)
                cfg->lib = arg;
            else
                cfg->urls[cfg->nurls++] = (char *)arg;
        } else if ((r = cli_scan_value(&s, arg, NULL, "--sig", &val)) != 0 ||
                   (r = cli_scan_value(&s, arg, NULL, "--fn", &val)) != 0) {
            if (r < 0)
                return cli_usage_error(cmd_host_usage, arg, "missing value");
            cfg->sig_is_file[cfg->nsigs] = strncmp(arg, "--sig", 5) == 0;
            cfg->sigs[cfg->nsigs++] = (char *)val;
        } else if ((r = cli_scan_value(&s, arg, NULL, "--workers", &val)) != 0) {
            if (r < 0)
                return cli_usage_error(cmd_host_usage, arg, "missing value");
            if (cli_parse_int(val, 1, 1024, &cfg->workers) != 0)
                return cli_bad_value(cmd_host_usage, arg, val, "a count in 1..1024");
        } else if ((r = cli_scan_value(&s, arg, NULL, "--host32", &val)) != 0 ||
                   (r = cli_scan_value(&s, arg, NULL, "--run32", &val)) != 0) {
            if (r < 0)
                return cli_usage_error(cmd_host_usage, arg, "missing value");
            if (strncmp(arg, "--host32", 8) == 0)
                cfg->host32 = val;
            else
                cfg->run32 = val;
        } else if (cli_scan_flag(arg, NULL, "--inline")) {
            cfg->inline_calls = 1;
        } else if (cli_scan_flag(arg, NULL, "--restart")) {
            cfg->restart = 1;
        } else if (cli_scan_flag(arg, NULL, "--child")) {
            cfg->child = 1;
        } else if (cli_scan_flag(arg, "-h", "--help")) {
            help = 1;
        } else {
            return cli_usage_error(cmd_host_usage, arg, "unknown option");
        }
    }
    if (help) {
        fputs(host_help, stdout);
        return CLI_EXIT_OK;
    }
    if (cfg->lib == NULL)
        return cli_usage_error(cmd_host_usage, "host", "missing LIB");
    if (cfg->nsigs == 0)
        return cli_usage_error(cmd_host_usage, "host", "no function declared (--sig, --fn)");
    if (cfg->nurls == 0)
        return cli_usage_error(cmd_host_usage, "host", "missing URL");
    return -1;
}

/* Read @p path whole, at most HOST_SIG_MAX + 1 bytes. @return malloc'd or NULL */
static char *host_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = f != NULL ? malloc(HOST_SIG_MAX + 1) : NULL;
    if (buf != NULL) {
        *len = fread(buf, 1, HOST_SIG_MAX + 1, f);
        if (ferror(f)) {
            free(buf);
            buf = NULL;
        }
    }
    if (f != NULL)
        fclose(f);
    return buf;
}

int host_sigs_load(const host_cfg *cfg, host_sigs *s)
{
    host_sigs_init(s);
    for (int i = 0; i < cfg->nsigs; i++) {
        host_sig_error e;
        size_t len = strlen(cfg->sigs[i]);
        char *text = cfg->sigs[i];
        if (cfg->sig_is_file[i] && (text = host_read_file(cfg->sigs[i], &len)) == NULL)
        {
            cli_fail_errno(cfg->sigs[i], errno);
            return -1;
        }
        int r = host_sig_parse(s, text, len, &e);
        if (cfg->sig_is_file[i])
            free(text);
        if (r != 0) {
            if (cfg->sig_is_file[i])
                fprintf(stderr, "xipc: host: %s:%u:%u: %s\n", cfg->sigs[i], e.line, e.col,
                        e.msg);
            else if (e.line == 1)
                fprintf(stderr, "xipc: host: --fn '%s': at column %u: %s\n", cfg->sigs[i],
                        e.col, e.msg);
            else
                fprintf(stderr, "xipc: host: --fn '%s': at line %u, column %u: %s\n",
                        cfg->sigs[i], e.line, e.col, e.msg);
            return -1;
        }
    }
    return 0;
}

/* The start of the host's command line: this program, or the 32-bit xipc
 * through run32. @return the number of words, or -1 after a message */
static int host_prog(const host_cfg *cfg, int bits, const char **argv)
{
    const int self = (int)(sizeof(void *) * 8);
    if (bits == self) {
        argv[0] = host_self_path();
        return 1;
    }
    if (bits == 64) {
        fprintf(stderr, "xipc: host: %s: a 64-bit library: run the 64-bit xipc host\n",
                cfg->lib);
        return -1;
    }
    const char *host32 = cfg->host32 != NULL ? cfg->host32 : getenv("XIPC_HOST32");
    const char *run32 = cfg->run32 != NULL ? cfg->run32 : getenv("XIPC_RUN32");
    if (host32 == NULL || host32[0] == 0) {
        fprintf(stderr, "xipc: host: %s: a 32-bit library: it needs the 32-bit xipc as its "
                "host (--host32 PROG or XIPC_HOST32; the m32 build's tools/xipc/xipc)\n",
                cfg->lib);
        return -1;
    }
#ifdef XIPC_RUN32
    if (run32 == NULL || run32[0] == 0)
        run32 = XIPC_RUN32;
#endif
    int n = 0;
    if (run32 != NULL && run32[0] != 0)
        argv[n++] = run32;
    argv[n++] = host32;
    return n;
}

/* Start and watch the host: the supervisor's part. */
static int host_start(const host_cfg *cfg)
{
    char why[160];
    int bits = host_lib_bits(cfg->lib, why, sizeof(why));
    if (bits == 0) {
        fprintf(stderr, "xipc: host: %s: %s\n", cfg->lib, why);
        return CLI_EXIT_FAIL;
    }
    /* prog (2) + host --child --workers N --inline (5) + 2 per signature + -- LIB URLs + NULL */
    size_t cap = 9 + 2 * (size_t)cfg->nsigs + (size_t)cfg->nurls;
    const char **argv = calloc(cap, sizeof(char *));
    char workers[24];
    if (argv == NULL)
        return cli_fail("host", XIPC_ENOMEM);
    int n = host_prog(cfg, bits, argv);
    if (n < 0) {
        free(argv);
        return CLI_EXIT_FAIL;
    }
    snprintf(workers, sizeof(workers), "%ld", cfg->workers > 0 ? cfg->workers : 1);
    argv[n++] = "host";
    argv[n++] = "--child";
    argv[n++] = "--workers";
    argv[n++] = workers;
    if (cfg->inline_calls)
        argv[n++] = "--inline";
    for (int i = 0; i < cfg->nsigs; i++) {
        argv[n++] = cfg->sig_is_file[i] ? "--sig" : "--fn";
        argv[n++] = cfg->sigs[i];
    }
    argv[n++] = "--";
    argv[n++] = cfg->lib;
    for (int i = 0; i < cfg->nurls; i++)
        argv[n++] = cfg->urls[i];
    argv[n] = NULL;
    fprintf(stderr, "host: %s: %d-bit library, supervisor pid %ld, host %s\n", cfg->lib, bits,
            (long)host_self_pid(), argv[0]);
    int code = host_supervise(cfg, (char *const *)argv);
    free(argv);
    return code;
}

int cmd_host(int argc, char **argv)
{
    host_cfg cfg = {0};
    cfg.sigs = calloc((size_t)argc, sizeof(char *));
    cfg.sig_is_file = calloc((size_t)argc, sizeof(int));
    cfg.urls = calloc((size_t)argc, sizeof(char *));
    host_sigs *s = malloc(sizeof(*s)); /* large: HOST_FNS_MAX functions */
    int code = CLI_EXIT_FAIL;
    if (cfg.sigs == NULL || cfg.sig_is_file == NULL || cfg.urls == NULL || s == NULL)
        code = cli_fail("host", XIPC_ENOMEM);
    else if ((code = host_parse(&cfg, argc, argv)) >= 0)
        ; /* usage error or --help */
    else if (host_sigs_load(&cfg, s) != 0)
        code = CLI_EXIT_USAGE;
    else
        code = cfg.child ? host_serve(&cfg, s) : host_start(&cfg);
    free(s);
    free(cfg.sigs);
    free(cfg.sig_is_file);
    free(cfg.urls);
    return code;
}
