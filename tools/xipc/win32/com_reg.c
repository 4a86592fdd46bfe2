/*
 * --register and --unregister: the class in the current user's part of
 * the registry, HKCU\Software\Classes (which COM merges into HKCR for
 * this user; no administrator needed), so that CoCreateInstance starts
 * "xipc.exe com-serve --clsid {GUID} URL" itself:
 *
 *   CLSID\{GUID}                  (default) "xipc com-serve: URL"
 *   CLSID\{GUID}\LocalServer32    (default) the command line, quoted as
 *                                 CommandLineToArgvW reads it back
 *   CLSID\{GUID}\ProgID           (default) NAME       (with --progid)
 *   NAME                          (default) "xipc com-serve: URL"
 *   NAME\CLSID                    (default) {GUID}
 *
 * --unregister deletes CLSID\{GUID} and the ProgID it names, when that
 * ProgID still names this class. With --all-users both use
 * HKLM\Software\Classes instead (every user; an administrator's right on
 * Windows): the only place wine 8's COM looks (docs/windows.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

#include "cli.h"
#include "com_server.h"
#include "platform/win32/win32.h"

#define REG_KEY_MAX 160 /* "Software\Classes\CLSID\{GUID}\LocalServer32" and more */

static HKEY reg_root = HKEY_CURRENT_USER; /* --all-users: HKEY_LOCAL_MACHINE */

static const char *reg_root_name(void)
{
    return reg_root == HKEY_CURRENT_USER ? "HKCU" : "HKLM";
}

/* "xipc: com-serve: HKCU\KEY: WHY". @return CLI_EXIT_FAIL */
static int reg_fail(const WCHAR *key, xipc_err rv)
{
    char what[REG_KEY_MAX * 3 + 32];
    snprintf(what, sizeof(what), "com-serve: %s\\%ls", reg_root_name(), key);
    return cli_fail(what, rv);
}

/* KEY's default value := @p value (the key made when missing). */
static LSTATUS reg_put(const WCHAR *key, const WCHAR *value)
{
    return RegSetKeyValueW(reg_root, key, NULL, REG_SZ, value,
                           (DWORD)((wcslen(value) + 1) * sizeof(WCHAR)));
}

/* KEY's default string into @p buf. */
static LSTATUS reg_get(const WCHAR *key, WCHAR *buf, DWORD cap_chars)
{
    DWORD size = cap_chars * sizeof(WCHAR);
    return RegGetValueW(reg_root, key, NULL, RRF_RT_REG_SZ, NULL, buf, &size);
}

/* The LocalServer32 command line: this program, com-serve and its args. */
static xipc_err reg_cmdline(const com_cfg *cfg, WCHAR **out)
{
    WCHAR exe[MAX_PATH * 2];
    char exe8[sizeof(exe) * 2], ms[24];
    DWORD n = GetModuleFileNameW(NULL, exe, sizeof(exe) / sizeof(exe[0]));
    if (n == 0 || n >= sizeof(exe) / sizeof(exe[0]) ||
        WideCharToMultiByte(CP_UTF8, 0, exe, -1, exe8, sizeof(exe8), NULL, NULL) == 0)
        return xipc__win32_err(n == 0 ? GetLastError() : ERROR_INSUFFICIENT_BUFFER);
    char *argv[] = {exe8, "com-serve", "--clsid", (char *)cfg->clsid, "-t", ms,
                    (char *)cfg->url, NULL};
    snprintf(ms, sizeof(ms), "%ld", cfg->timeout_ms);
    if (cfg->timeout_ms < 0) { /* the default: no -t */
        argv[4] = (char *)cfg->url;
        argv[5] = NULL;
    }
    return xipc__win32_cmdline(argv, out);
}

/* The keys of the class and of its ProgID (@p progid; NULL: none yet). */
typedef struct reg_keys {
    WCHAR cls[REG_KEY_MAX];     /* CLSID\{GUID} */
    WCHAR srv[REG_KEY_MAX];     /* CLSID\{GUID}\LocalServer32 */
    WCHAR cls_pid[REG_KEY_MAX]; /* CLSID\{GUID}\ProgID */
    WCHAR pid[REG_KEY_MAX];     /* NAME */
    WCHAR pid_cls[REG_KEY_MAX]; /* NAME\CLSID */
    WCHAR guid[COM_GUID_LEN + 1];
} reg_keys;

static void reg_keys_init(reg_keys *k, const com_cfg *cfg, const WCHAR *progid)
{
    reg_root = cfg->all_users ? HKEY_LOCAL_MACHINE : HKEY_CURRENT_USER;
    MultiByteToWideChar(CP_ACP, 0, cfg->clsid, -1, k->guid, COM_GUID_LEN + 1);
    swprintf(k->cls, REG_KEY_MAX, L"Software\\Classes\\CLSID\\%ls", k->guid);
    swprintf(k->srv, REG_KEY_MAX, L"%ls\\LocalServer32", k->cls);
    swprintf(k->cls_pid, REG_KEY_MAX, L"%ls\\ProgID", k->cls);
    swprintf(k->pid, REG_KEY_MAX, L"Software\\Classes\\%ls", progid != NULL ? progid : L"");
    swprintf(k->pid_cls, REG_KEY_MAX, L"%ls\\CLSID", k->pid);
}

/* Write the keys (a ProgID's when @p progid). @return an exit code */
static int reg_write_keys(const reg_keys *k, const WCHAR *cmd, const WCHAR *desc,
                          const WCHAR *progid)
{
    const WCHAR *put[][2] = {
        {k->cls, desc},     {k->srv, cmd},           {k->cls_pid, progid},
        {k->pid, desc},     {k->pid_cls, k->guid},
    };
    size_t n = progid != NULL ? 5 : 2;
    for (size_t i = 0; i < n; i++) {
        LSTATUS st = reg_put(put[i][0], put[i][1]);
        if (st != ERROR_SUCCESS)
            return reg_fail(put[i][0], xipc__win32_err((unsigned long)st));
    }
    return CLI_EXIT_OK;
}

int com_reg_write(const com_cfg *cfg)
{
    reg_keys k;
    WCHAR *cmd = NULL, *desc = NULL, *progid = NULL, owner[COM_GUID_LEN + 8];
    char desc8[600];
    snprintf(desc8, sizeof(desc8), "xipc com-serve: %s", cfg->url);
    xipc_err rv = reg_cmdline(cfg, &cmd);
    if (rv == XIPC_OK)
        rv = xipc__win32_wide(desc8, &desc);
    if (rv == XIPC_OK && cfg->progid != NULL)
        rv = xipc__win32_wide(cfg->progid, &progid);
    int code = rv != XIPC_OK ? cli_fail("com-serve: --register", rv) : -1;
    if (code < 0)
        reg_keys_init(&k, cfg, progid);
    if (code < 0 && progid != NULL &&
        reg_get(k.pid_cls, owner, COM_GUID_LEN + 8) == ERROR_SUCCESS &&
        _wcsicmp(owner, k.guid) != 0) {
        fprintf(stderr, "xipc: com-serve: --progid %s names the class %ls already "
                "(xipc com-serve --unregister --clsid %ls)\n", cfg->progid, owner, owner);
        code = CLI_EXIT_FAIL;
    }
    if (code < 0 && (code = reg_write_keys(&k, cmd, desc, progid)) == CLI_EXIT_OK)
        printf("com-serve: registered %s in %s: %ls\n", cfg->clsid, reg_root_name(), cmd);
    free(cmd);
    free(desc);
    free(progid);
    return code;
}

int com_reg_delete(const com_cfg *cfg)
{
    reg_keys k;
    WCHAR progid[48], owner[COM_GUID_LEN + 8];
    reg_keys_init(&k, cfg, NULL);
    if (reg_get(k.cls_pid, progid, 48) == ERROR_SUCCESS && progid[0] != L'\0') {
        reg_keys_init(&k, cfg, progid);
        if (reg_get(k.pid_cls, owner, COM_GUID_LEN + 8) == ERROR_SUCCESS &&
            _wcsicmp(owner, k.guid) == 0)
            RegDeleteTreeW(reg_root, k.pid);
    }
    LSTATUS st = RegDeleteTreeW(reg_root, k.cls);
    if (st != ERROR_SUCCESS)
        return reg_fail(k.cls, xipc__win32_err((unsigned long)st));
    printf("com-serve: unregistered %s from %s\n", cfg->clsid, reg_root_name());
    return CLI_EXIT_OK;
}
