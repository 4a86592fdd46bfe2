/*
 * xipc com-serve --clsid {GUID} URL: the command line, the same on every
 * OS (so that --help and usage errors read alike); com_serve_run() of the
 * OS does the rest (com.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "com.h"

#define COM_PROGID_MAX 39 /* Microsoft's limit for a ProgID */

const char cmd_com_serve_usage[] =
    "usage: xipc com-serve [--register | --unregister] --clsid {GUID} URL"
    "  (xipc com-serve --help)";

static const char com_help[] =
    "usage: xipc com-serve [-t MS] --clsid {GUID} URL\n"
    "       xipc com-serve --register [--progid NAME] [--all-users] [-t MS]\n"
    "                      --clsid {GUID} URL\n"
    "       xipc com-serve --unregister [--all-users] --clsid {GUID}\n"
    "\n"
    "Windows only. Serve the COM class {GUID} (a local server): its objects\n"
    "are IDispatch whose every method is forwarded by name to the\n"
    "MessagePack-RPC service at URL, so any COM client (C, VBScript,\n"
    "PowerShell, VBA) calls the service by late binding (docs/com.md).\n"
    "Arguments and results: VT_I4/VT_I8 <-> int, VT_R8 <-> float, VT_BSTR <->\n"
    "str, VT_BOOL <-> bool, SAFEARRAY of VT_UI1 <-> bin, SAFEARRAY of VARIANT\n"
    "<-> array, VT_EMPTY/VT_NULL -> nil -> VT_NULL. An RPC error is\n"
    "DISP_E_EXCEPTION with the service's message.\n"
    "\n"
    "Started by hand, it serves until Ctrl+C, or until its stdin ends when\n"
    "stdin is a pipe; started by COM (-Embedding), until its last object is\n"
    "released (or 30 s without any). It prints \"com-serve: class {GUID}\n"
    "registered for URL\" to stderr once clients may create objects.\n"
    "\n"
    "  --clsid {GUID}  the class: {XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}\n"
    "  --register      write HKCU\\Software\\Classes\\CLSID\\{GUID}\\LocalServer32\n"
    "                  (this xipc.exe com-serve --clsid {GUID} URL), so that\n"
    "                  COM starts the server itself, then exit\n"
    "  --progid NAME   with --register: also the ProgID NAME (CreateObject)\n"
    "  --unregister    delete the class's keys and its ProgID's, then exit\n"
    "  --all-users     with either: HKLM\\Software\\Classes (an administrator's\n"
    "                  right; where wine's COM looks: docs/windows.md)\n"
    "  -t, --timeout MS  bound each connection and call (default -1: none)\n"
    "  -h, --help      show this help\n"
    "\n"
    "exit status: 0 done; 1 a runtime error (\"xipc: com-serve: WHY\"), also\n"
    "on a system without COM; 2 usage error.\n";

/*
 * Check @p text is a GUID in braces and copy it upper-case to @p out.
 * @return 0, or -1
 */
static int com_guid_check(const char *text, char out[COM_GUID_LEN + 1])
{
    static const char shape[] = "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}";
    if (strlen(text) != COM_GUID_LEN)
        return -1;
    for (size_t i = 0; i < COM_GUID_LEN; i++) {
        unsigned char c = (unsigned char)text[i];
        if (shape[i] == 'X' ? !isxdigit(c) : c != (unsigned char)shape[i])
            return -1;
        out[i] = (char)toupper(c);
    }
    out[COM_GUID_LEN] = '\0';
    return 0;
}

/* A ProgID: 1..39 letters, digits and dots, not starting with a digit. */
static int com_progid_check(const char *text)
{
    size_t n = strlen(text);
    if (n == 0 || n > COM_PROGID_MAX || isdigit((unsigned char)text[0]))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)text[i]) && text[i] != '.')
            return -1;
    return 0;
}

/* COM adds -Embedding (or /Embedding) to LocalServer32's command line. */
static int com_is_embedding(const char *arg)
{
    return strcmp(arg, "-Embedding") == 0 || strcmp(arg, "/Embedding") == 0;
}

/* @return -1 when parsed, else the exit code of a usage error */
static int com_parse(com_cfg *cfg, int *help, int argc, char **argv)
{
    cli_scan s;
    const char *arg, *val, *clsid = NULL;
    cli_scan_init(&s, argc, argv);
    for (cli_arg k; (k = cli_scan_next(&s, &arg)) != CLI_ARG_END;) {
        int r = 0;
        if (com_is_embedding(arg)) {
            cfg->embedding = 1;
        } else if (k == CLI_ARG_OPERAND) {
            if (cfg->url != NULL)
                return cli_usage_error(cmd_com_serve_usage, arg, "unexpected argument");
            cfg->url = arg;
        } else if ((r = cli_scan_value(&s, arg, NULL, "--clsid", &clsid)) != 0 ||
                   (r = cli_scan_value(&s, arg, NULL, "--progid", &cfg->progid)) != 0) {
            if (r < 0)
                return cli_usage_error(cmd_com_serve_usage, arg, "missing value");
        } else if ((r = cli_scan_value(&s, arg, "-t", "--timeout", &val)) != 0) {
            if (r < 0)
                return cli_usage_error(cmd_com_serve_usage, arg, "missing value");
            if (cli_parse_int(val, -1, CLI_INT_MAX, &cfg->timeout_ms) != 0)
                return cli_bad_value(cmd_com_serve_usage, arg, val,
                                     "a timeout in -1..2147483647 ms");
        } else if (cli_scan_flag(arg, NULL, "--register")) {
            cfg->reg = 1;
        } else if (cli_scan_flag(arg, NULL, "--unregister")) {
            cfg->unreg = 1;
        } else if (cli_scan_flag(arg, NULL, "--all-users")) {
            cfg->all_users = 1;
        } else if (cli_scan_flag(arg, "-h", "--help")) {
            *help = 1;
        } else {
            return cli_usage_error(cmd_com_serve_usage, arg, "unknown option");
        }
    }
    if (*help)
        return -1;
    if (clsid == NULL)
        return cli_usage_error(cmd_com_serve_usage, "com-serve", "missing --clsid");
    if (com_guid_check(clsid, cfg->clsid) != 0) {
        char why[160];
        snprintf(why, sizeof(why), "--clsid '%.60s' is not a GUID like "
                 "{00000000-0000-0000-0000-000000000000}", clsid);
        return cli_usage_error(cmd_com_serve_usage, "com-serve", why);
    }
    if (cfg->reg && cfg->unreg)
        return cli_usage_error(cmd_com_serve_usage, "com-serve",
                               "--register and --unregister exclude each other");
    if (cfg->all_users && !cfg->reg && !cfg->unreg)
        return cli_usage_error(cmd_com_serve_usage, "com-serve",
                               "--all-users goes with --register or --unregister");
    if (cfg->progid != NULL && !cfg->reg)
        return cli_usage_error(cmd_com_serve_usage, "com-serve", "--progid goes with --register");
    if (cfg->progid != NULL && com_progid_check(cfg->progid) != 0)
        return cli_usage_error(cmd_com_serve_usage, "com-serve",
                               "--progid: 1..39 letters, digits and dots, "
                               "not starting with a digit");
    if (cfg->unreg && cfg->url != NULL)
        return cli_usage_error(cmd_com_serve_usage, cfg->url, "unexpected argument");
    if (!cfg->unreg && cfg->url == NULL)
        return cli_usage_error(cmd_com_serve_usage, "com-serve", "missing URL");
    return -1;
}

int cmd_com_serve(int argc, char **argv)
{
    com_cfg cfg = {.timeout_ms = -1};
    int help = 0;
    int code = com_parse(&cfg, &help, argc, argv);
    if (code >= 0)
        return code;
    if (help) {
        fputs(com_help, stdout);
        return CLI_EXIT_OK;
    }
    return com_serve_run(&cfg);
}
