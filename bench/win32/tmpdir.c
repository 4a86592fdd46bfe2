/* The temporary directory of a run on Windows: %TEMP%\xipc-bench.PID
 * (under the user's profile, which only the user can open). */
#include <windows.h>
#include <stdio.h>
#include <string.h>

#include "harness/util.h"

static char util_dir[MAX_PATH + 32];
static DWORD util_dir_pid;

const char *bench_tmpdir(void)
{
    DWORD pid = GetCurrentProcessId();
    if (util_dir_pid == pid)
        return util_dir;
    char base[MAX_PATH + 1];
    DWORD n = GetTempPathA(sizeof(base), base);
    if (n == 0 || n >= sizeof(base))
        return NULL;
    snprintf(util_dir, sizeof(util_dir), "%sxipc-bench.%lu", base, (unsigned long)pid);
    if (!CreateDirectoryA(util_dir, NULL))
        return NULL;
    util_dir_pid = pid;
    return util_dir;
}

void bench_tmpdir_remove(void)
{
    if (util_dir_pid != GetCurrentProcessId())
        return;
    char path[sizeof(util_dir) + MAX_PATH];
    snprintf(path, sizeof(path), "%s\\*", util_dir);
    WIN32_FIND_DATAA e;
    HANDLE f = FindFirstFileA(path, &e);
    if (f != INVALID_HANDLE_VALUE) {
        do {
            if (strcmp(e.cFileName, ".") == 0 || strcmp(e.cFileName, "..") == 0)
                continue;
            snprintf(path, sizeof(path), "%s\\%s", util_dir, e.cFileName);
            DeleteFileA(path);
        } while (FindNextFileA(f, &e));
        FindClose(f);
    }
    RemoveDirectoryA(util_dir);
    util_dir_pid = 0;
}
