/*
 * A channel to a child process: one named pipe with a unique name, both
 * ends opened overlapped, the client end inherited by the child alone
 * (PROC_THREAD_ATTRIBUTE_HANDLE_LIST). Not CreatePipe: its anonymous pipes
 * are one-way and cannot do overlapped I/O, so a timed read or a wait
 * would need a thread; a named pipe's two ends are the same stream object
 * as any pipe's (win32_stream.h). The name is ours alone (the user-only
 * DACL, the first instance, one instance) and is used once.
 */
#include <winsock2.h>
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "platform/win32/win32_stream.h"

#define SPAWN_CMD_MAX 32767 /* CreateProcessW's limit, in characters */

static volatile LONG spawn_seq;

/* Append @p arg to @p cmd quoted as CommandLineToArgvW reads it back. */
static size_t spawn_quote(WCHAR *cmd, size_t at, size_t cap, const WCHAR *arg)
{
    int plain = arg[0] != L'\0' && wcspbrk(arg, L" \t\n\v\"") == NULL;
#define PUT(c) (at < cap ? (void)(cmd[at++] = (c)) : (void)at++)
    if (at > 0)
        PUT(L' ');
    if (plain) {
        for (const WCHAR *c = arg; *c; c++)
            PUT(*c);
        return at;
    }
    PUT(L'"');
    for (const WCHAR *c = arg;; c++) {
        size_t bs = 0;
        while (*c == L'\\')
            bs++, c++;
        /* backslashes are literal unless a quote follows: then doubled */
        size_t n = *c == L'\0' ? bs * 2 : *c == L'"' ? bs * 2 + 1 : bs;
        for (size_t i = 0; i < n; i++)
            PUT(L'\\');
        if (*c == L'\0')
            break;
        PUT(*c);
    }
    PUT(L'"');
#undef PUT
    return at;
}

xipc_err xipc__win32_cmdline(char *const argv[], wchar_t **out)
{
    WCHAR *cmd = malloc((SPAWN_CMD_MAX + 1) * sizeof(WCHAR));
    if (cmd == NULL)
        return XIPC_ENOMEM;
    size_t at = 0;
    for (int i = 0; argv[i] != NULL; i++) {
        WCHAR *a;
        xipc_err rv = xipc__win32_wide(argv[i], &a);
        if (rv != XIPC_OK) {
            free(cmd);
            return rv;
        }
        at = spawn_quote(cmd, at, SPAWN_CMD_MAX, a);
        free(a);
    }
    if (at >= SPAWN_CMD_MAX) {
        free(cmd);
        return XIPC_EINVAL;
    }
    cmd[at] = L'\0';
    *out = cmd;
    return XIPC_OK;
}

/* Our environment without @p name, with "name=value" in its sorted place. */
static xipc_err spawn_env(const WCHAR *entry, size_t nlen, WCHAR **out)
{
    WCHAR *cur = GetEnvironmentStringsW();
    if (cur == NULL)
        return xipc__win32_err(GetLastError());
    size_t total = 0;
    for (const WCHAR *e = cur; *e; e += wcslen(e) + 1)
        total += wcslen(e) + 1;
    size_t elen = wcslen(entry);
    WCHAR *env = malloc((total + elen + 2) * sizeof(WCHAR));
    if (env == NULL) {
        FreeEnvironmentStringsW(cur);
        return XIPC_ENOMEM;
    }
    WCHAR *at = env;
    int put = 0;
    for (const WCHAR *e = cur; *e; e += wcslen(e) + 1) {
        const WCHAR *eq = wcschr(e + 1, L'='); /* "=C:=C:\" names start with '=' */
        size_t el = eq != NULL ? (size_t)(eq - e) : wcslen(e);
        int cmp = _wcsnicmp(e, entry, el < nlen ? el : nlen);
        if (cmp == 0 && el == nlen)
            continue; /* ours replaces it */
        if (!put && (cmp > 0 || (cmp == 0 && el > nlen))) {
            wcscpy(at, entry);
            at += elen + 1;
            put = 1;
        }
        wcscpy(at, e);
        at += wcslen(e) + 1;
    }
    if (!put) {
        wcscpy(at, entry);
        at += elen + 1;
    }
    *at = L'\0';
    FreeEnvironmentStringsW(cur);
    *out = env;
    return XIPC_OK;
}

/* Both ends of a new pipe; @p child's handle is inheritable. */
static xipc_err spawn_pipe(HANDLE *parent, HANDLE *child)
{
    WCHAR name[96];
    LARGE_INTEGER t;
    QueryPerformanceCounter(&t);
    swprintf(name, sizeof(name) / sizeof(name[0]), L"\\\\.\\pipe\\xipc-spawn-%lu-%ld-%llx",
             (unsigned long)GetCurrentProcessId(), (long)InterlockedIncrement(&spawn_seq),
             (unsigned long long)t.QuadPart);
    xipc_err rv = xipc__npipe_create(name, 0, 1, parent);
    if (rv != XIPC_OK)
        return rv;
    SECURITY_ATTRIBUTES sa = {sizeof(sa), NULL, TRUE};
    *child = CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, &sa, OPEN_EXISTING,
                         FILE_FLAG_OVERLAPPED, NULL);
    if (*child == INVALID_HANDLE_VALUE) {
        rv = xipc__win32_err(GetLastError());
        CloseHandle(*parent);
        return rv;
    }
    /* connected already (ERROR_PIPE_CONNECTED); the call makes it so */
    OVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    DWORD k;
    if (ov.hEvent != NULL && !ConnectNamedPipe(*parent, &ov) &&
        GetLastError() == ERROR_IO_PENDING)
        GetOverlappedResult(*parent, &ov, &k, TRUE);
    if (ov.hEvent != NULL)
        CloseHandle(ov.hEvent);
    return XIPC_OK;
}

static xipc_err spawn_run(const char *path, WCHAR *cmd, WCHAR *envb, HANDLE child,
                          PROCESS_INFORMATION *pi)
{
    WCHAR *wpath;
    xipc_err rv = xipc__win32_wide(path, &wpath);
    if (rv != XIPC_OK)
        return rv;
    SIZE_T size = 0;
    InitializeProcThreadAttributeList(NULL, 1, 0, &size);
    STARTUPINFOEXW si;
    memset(&si, 0, sizeof(si));
    si.StartupInfo.cb = sizeof(si);
    si.lpAttributeList = malloc(size);
    if (si.lpAttributeList == NULL) {
        free(wpath);
        return XIPC_ENOMEM;
    }
    /* only the child's end is inherited, whatever else is inheritable */
    if (!InitializeProcThreadAttributeList(si.lpAttributeList, 1, 0, &size) ||
        !UpdateProcThreadAttribute(si.lpAttributeList, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST,
                                   &child, sizeof(child), NULL, NULL)) {
        rv = xipc__win32_err(GetLastError());
    } else if (!CreateProcessW(wpath, cmd, NULL, NULL, TRUE,
                               EXTENDED_STARTUPINFO_PRESENT | CREATE_UNICODE_ENVIRONMENT, envb,
                               NULL, &si.StartupInfo, pi)) {
        DWORD e = GetLastError();
        rv = xipc__win32_err(e);
        if (e == ERROR_BAD_EXE_FORMAT || e == ERROR_EXE_MACHINE_TYPE_MISMATCH ||
            e == ERROR_DIRECTORY || e == ERROR_INVALID_NAME || rv == XIPC_ENOENT)
            rv = XIPC_ENOENT; /* not a program that can be started */
    }
    DeleteProcThreadAttributeList(si.lpAttributeList);
    free(si.lpAttributeList);
    free(wpath);
    return rv;
}

xipc_err xipc_plat_spawn(const char *path, char *const argv[], const char *env,
                         xipc_plat_sock *out, uint32_t *pid)
{
    if (path == NULL || argv == NULL || env == NULL || env[0] == '\0' || strchr(env, '='))
        return XIPC_EINVAL;
    HANDLE parent, child;
    WCHAR *cmd = NULL, *envb = NULL, *wenv = NULL, *entry = NULL;
    xipc_err rv = spawn_pipe(&parent, &child);
    if (rv != XIPC_OK)
        return rv;
    if ((rv = xipc__win32_cmdline(argv, &cmd)) == XIPC_OK && (rv = xipc__win32_wide(env, &wenv)) == XIPC_OK) {
        size_t n = wcslen(wenv) + 24;
        entry = malloc(n * sizeof(WCHAR));
        if (entry == NULL)
            rv = XIPC_ENOMEM;
        else
            swprintf(entry, n, L"%ls=%llu", wenv, (unsigned long long)(uintptr_t)child);
    }
    if (rv == XIPC_OK)
        rv = spawn_env(entry, wcslen(wenv), &envb);
    PROCESS_INFORMATION pi;
    if (rv == XIPC_OK)
        rv = spawn_run(path, cmd, envb, child, &pi);
    free(cmd);
    free(envb);
    free(wenv);
    free(entry);
    CloseHandle(child);
    if (rv != XIPC_OK) {
        CloseHandle(parent);
        return rv;
    }
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    if (pid != NULL)
        *pid = (uint32_t)pi.dwProcessId;
    /* the pipe's client is us (we opened the child's end): the peer's pid
     * is the child's, from CreateProcess */
    return xipc__ws_from_pipe(parent, 0, 1, (uint32_t)pi.dwProcessId, out);
}

xipc_err xipc_plat_sock_inherited(const char *env, xipc_plat_sock *out)
{
    char v[32];
    if (env == NULL)
        return XIPC_EINVAL;
    DWORD n = GetEnvironmentVariableA(env, v, sizeof(v));
    if (n == 0)
        return XIPC_ENOENT;
    if (n >= sizeof(v))
        return XIPC_EINVAL;
    char *end;
    unsigned long long hv = strtoull(v, &end, 10);
    if (*end != '\0' || end == v || hv == 0 || hv > (uintptr_t)-1)
        return XIPC_EINVAL;
    HANDLE h = (HANDLE)(uintptr_t)hv;
    DWORD flags = 0;
    /* the client end of a pipe, or it is not what the parent passed */
    if (GetFileType(h) != FILE_TYPE_PIPE || !GetNamedPipeInfo(h, &flags, NULL, NULL, NULL) ||
        (flags & PIPE_SERVER_END) != 0)
        return XIPC_EINVAL;
    SetHandleInformation(h, HANDLE_FLAG_INHERIT, 0); /* not for our own children */
    return xipc__ws_from_pipe(h, 0, 0, 0, out);
}
