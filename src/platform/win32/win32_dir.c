/*
 * Folders and the files xipc keeps in them, for the Windows port: the
 * per-user runtime folder, private folders and their listings, lock files
 * (a name owned by a live process), small text files (pid files, notes),
 * and what a path is. Paths at the contract are UTF-8; "private" is
 * win32_sec.h's. Every file is opened shared for reading, writing and
 * deleting (FILE_SHARE_DELETE), so that no reader keeps a name from being
 * removed.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#include "platform/win32/win32_sec.h"

#define DIR_SHARE_ALL (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)

/* ---- paths ---------------------------------------------------------------- */

/* @p path as UTF-16, on the heap. XIPC_EINVAL: NULL, empty, or not UTF-8. */
static xipc_err dir_wide(const char *path, WCHAR **out)
{
    *out = NULL;
    if (path == NULL || path[0] == '\0')
        return XIPC_EINVAL;
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, NULL, 0);
    if (n <= 0)
        return XIPC_EINVAL;
    WCHAR *w = malloc((size_t)n * sizeof(WCHAR));
    if (w == NULL)
        return XIPC_ENOMEM;
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, w, n) != n) {
        free(w);
        return XIPC_EINVAL;
    }
    *out = w;
    return XIPC_OK;
}

/* @p n UTF-16 units of @p w as a NUL-ended UTF-8 string in @p buf; 0 when
 * it does not fit or holds a lone surrogate (no UTF-8 form). */
static int dir_utf8(const WCHAR *w, int n, char *buf, size_t cap)
{
    int cap_i = cap > INT_MAX ? INT_MAX : (int)cap;
    int k = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, n, buf, cap_i - 1, NULL, NULL);
    if (k <= 0)
        return 0;
    buf[k] = '\0';
    return 1;
}

/*
 * Open @p path. A name that is being deleted answers ERROR_ACCESS_DENIED
 * (delete pending) until its last handle closes, as a refusal does: ask
 * again for a few milliseconds before taking it for a refusal. Reparse
 * points (links, junctions) are opened themselves, not followed.
 */
static xipc_err dir_open(const char *path, DWORD access, DWORD disposition,
                         SECURITY_ATTRIBUTES *sa, int folder, HANDLE *out)
{
    WCHAR *w;
    xipc_err rv = dir_wide(path, &w);
    if (rv != XIPC_OK)
        return rv;
    DWORD flags = FILE_FLAG_OPEN_REPARSE_POINT | (folder ? FILE_FLAG_BACKUP_SEMANTICS : 0);
    DWORD e = ERROR_SUCCESS;
    for (int attempt = 0; attempt < 8; attempt++) {
        *out = CreateFileW(w, access, DIR_SHARE_ALL, sa, disposition,
                           flags | FILE_ATTRIBUTE_NORMAL, NULL);
        if (*out != INVALID_HANDLE_VALUE)
            break;
        e = GetLastError();
        if (e != ERROR_ACCESS_DENIED)
            break;
        Sleep(1);
    }
    free(w);
    return *out != INVALID_HANDLE_VALUE ? XIPC_OK : xipc__win32_err(e);
}

/* Accept @p h only as a folder (@p folder) or a plain file of ours closed
 * to others: a device, a pipe, a reparse point, the other kind or a file
 * open to others was planted or is not private. */
static xipc_err dir_check(HANDLE h, int folder)
{
    BY_HANDLE_FILE_INFORMATION fi;
    if (GetFileType(h) != FILE_TYPE_DISK || !GetFileInformationByHandle(h, &fi))
        return XIPC_EPERM;
    if ((fi.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) ||
        !(fi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != !folder)
        return XIPC_EPERM;
    return xipc__win32_private_check(h);
}

/* ---- the per-user runtime folder ------------------------------------------ */

/* Accept only an existing private folder of ours; create nothing. */
static xipc_err rundir_check(const char *path)
{
    HANDLE h;
    xipc_err rv = dir_open(path, READ_CONTROL | FILE_READ_ATTRIBUTES, OPEN_EXISTING, NULL, 1, &h);
    if (rv != XIPC_OK)
        return rv;
    rv = dir_check(h, 1);
    CloseHandle(h);
    return rv;
}

/* Create @p path private when missing; accept only our own private folder. */
static xipc_err rundir_make(const char *path)
{
    xipc__win32_private priv;
    WCHAR *w;
    xipc_err rv = xipc__win32_private_init(&priv, 1);
    if (rv == XIPC_OK)
        rv = dir_wide(path, &w);
    if (rv != XIPC_OK)
        return rv;
    DWORD e = CreateDirectoryW(w, &priv.sa) ? ERROR_SUCCESS : GetLastError();
    free(w);
    if (e != ERROR_SUCCESS && e != ERROR_ALREADY_EXISTS)
        return xipc__win32_err(e);
    return rundir_check(path); /* planted by someone else, or open to others */
}

/* The base of the runtime folder, UTF-8, into @p buf: %LOCALAPPDATA%\xipc
 * (the user's own), else <temp>\xipc-<uid> (a service's temp folder may
 * be shared). */
static int rundir_base(char *buf, size_t cap)
{
    WCHAR w[MAX_PATH + 1];
    DWORD n = GetEnvironmentVariableW(L"LOCALAPPDATA", w, MAX_PATH + 1);
    int absolute = n >= 3 && n <= MAX_PATH &&
                   ((w[1] == L':' && (w[2] == L'\\' || w[2] == L'/')) ||
                    (w[0] == L'\\' && w[1] == L'\\'));
    size_t len;
    if (absolute) {
        while (n > 3 && (w[n - 1] == L'\\' || w[n - 1] == L'/'))
            n--;
        if (!dir_utf8(w, (int)n, buf, cap))
            return -1;
        len = strlen(buf);
        return snprintf(buf + len, cap - len, "\\xipc") + (int)len;
    }
    n = GetTempPathW(MAX_PATH + 1, w); /* ends with a backslash */
    if (n == 0 || n > MAX_PATH || !dir_utf8(w, (int)n, buf, cap))
        return -1;
    len = strlen(buf);
    return snprintf(buf + len, cap - len, "xipc-%u", (unsigned)xipc_plat_getuid()) + (int)len;
}

/* The runtime folder (and @p sub), each level made or checked by @p step. */
static xipc_err rundir_path(char *buf, size_t cap, const char *sub,
                            xipc_err (*step)(const char *path))
{
    if (buf == NULL || cap == 0)
        return XIPC_EINVAL;
    buf[0] = '\0';
    int n = rundir_base(buf, cap);
    if (n < 0 || (size_t)n >= cap)
        return XIPC_EINVAL;
    xipc_err rv = step(buf);
    if (rv != XIPC_OK || sub == NULL)
        return rv;
    size_t len = (size_t)n;
    n = snprintf(buf + len, cap - len, "\\%s", sub);
    if (n < 0 || (size_t)n >= cap - len)
        return XIPC_EINVAL;
    return step(buf);
}

xipc_err xipc_plat_rundir(char *buf, size_t cap, const char *sub)
{
    return rundir_path(buf, cap, sub, rundir_make);
}

xipc_err xipc_plat_rundir_find(char *buf, size_t cap, const char *sub)
{
    return rundir_path(buf, cap, sub, rundir_check);
}

/* ---- private folders ------------------------------------------------------ */

/* The entries in one buffer of a listing; call @p fn for each but . and ..
 * (a name with no UTF-8 form, a lone surrogate, is skipped). */
static void dir_list_chunk(const unsigned char *chunk,
                           void (*fn)(const char *name, void *arg), void *arg)
{
    char name[4 * MAX_PATH];
    for (;;) {
        const FILE_FULL_DIR_INFO *e = (const FILE_FULL_DIR_INFO *)chunk;
        int len = (int)(e->FileNameLength / sizeof(WCHAR));
        int dots = (len == 1 && e->FileName[0] == L'.') ||
                   (len == 2 && e->FileName[0] == L'.' && e->FileName[1] == L'.');
        if (!dots && dir_utf8(e->FileName, len, name, sizeof(name)))
            fn(name, arg);
        if (e->NextEntryOffset == 0)
            return;
        chunk += e->NextEntryOffset;
    }
}

xipc_err xipc_plat_dir_list(const char *path,
                            void (*fn)(const char *name, void *arg), void *arg)
{
    if (fn == NULL)
        return XIPC_EINVAL;
    HANDLE h;
    xipc_err rv = dir_open(path, FILE_LIST_DIRECTORY | READ_CONTROL | FILE_READ_ATTRIBUTES,
                           OPEN_EXISTING, NULL, 1, &h);
    if (rv != XIPC_OK)
        return rv;
    rv = dir_check(h, 1); /* planted by someone else, or open to others */
    /* listed through the handle that was checked, not by its name again */
    enum { CHUNK = 64 * 1024 };
    unsigned char *chunk = rv == XIPC_OK ? malloc(CHUNK) : NULL;
    if (rv == XIPC_OK && chunk == NULL)
        rv = XIPC_ENOMEM;
    while (rv == XIPC_OK) {
        if (!GetFileInformationByHandleEx(h, FileFullDirectoryInfo, chunk, CHUNK)) {
            DWORD e = GetLastError();
            if (e != ERROR_NO_MORE_FILES)
                rv = xipc__win32_err(e);
            break;
        }
        dir_list_chunk(chunk, fn, arg);
    }
    free(chunk);
    CloseHandle(h);
    return rv;
}

void xipc_plat_dir_remove(const char *path)
{
    WCHAR *w;
    if (dir_wide(path, &w) != XIPC_OK)
        return;
    RemoveDirectoryW(w); /* not empty: someone still uses it */
    free(w);
}

/* A folder counts as settled when it has not changed for this long (in
 * 100 ns units): far more than the granularity of file times, which NTFS
 * takes from the system time of the last clock tick (up to 15.6 ms). */
#define DIR_SETTLED_100NS 500000LL

static long long dir_filetime(FILETIME t)
{
    return (long long)(((uint64_t)t.dwHighDateTime << 32) | t.dwLowDateTime);
}

xipc_err xipc_plat_dir_stamp(const char *path, uint64_t stamp[2], int *settled)
{
    HANDLE h;
    xipc_err rv = dir_open(path, FILE_READ_ATTRIBUTES, OPEN_EXISTING, NULL, 1, &h);
    if (rv != XIPC_OK)
        return rv;
    BY_HANDLE_FILE_INFORMATION fi;
    BOOL ok = GetFileInformationByHandle(h, &fi);
    DWORD e = GetLastError();
    CloseHandle(h);
    if (!ok)
        return xipc__win32_err(e);
    FILETIME now; /* the clock file times come from, not a finer one */
    GetSystemTimeAsFileTime(&now);
    long long mt = dir_filetime(fi.ftLastWriteTime);
    stamp[0] = (uint64_t)mt;
    stamp[1] = ((uint64_t)fi.nFileIndexHigh << 32 | fi.nFileIndexLow) ^
               ((uint64_t)fi.dwVolumeSerialNumber << 32);
    *settled = dir_filetime(now) - mt >= DIR_SETTLED_100NS;
    return XIPC_OK;
}

/* ---- lock files --------------------------------------------------------- */

/*
 * Byte-range locks on Windows are mandatory: a locked byte cannot be read
 * by anyone else. So the locks lie far past the pid the file holds, at
 * offset 2^62: byte LOCK_HELD is the lock itself, byte LOCK_PROBE is held
 * exclusively by the holder too and is what xipc_plat_lockfile_owner
 * tries to take (shared) to learn whether anyone holds the file. Probing
 * the lock byte itself would make an acquire that comes at that moment
 * fail; an acquire waits instead for a prober's moment on LOCK_PROBE.
 */
#define LOCK_OFFSET_HIGH 0x40000000u
#define LOCK_HELD 0u
#define LOCK_PROBE 1u

static BOOL lock_byte(HANDLE h, DWORD flags, DWORD byte)
{
    OVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    ov.Offset = byte;
    ov.OffsetHigh = LOCK_OFFSET_HIGH;
    return LockFileEx(h, flags | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ov);
}

static void unlock_byte(HANDLE h, DWORD byte)
{
    OVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    ov.Offset = byte;
    ov.OffsetHigh = LOCK_OFFSET_HIGH;
    UnlockFileEx(h, 0, 1, 0, &ov);
}

/* Take LOCK_PROBE from the owner probes that hold it for a moment: 1 s at
 * most (a prober that keeps it is not one of ours). */
static xipc_err lock_probe_byte(HANDLE h)
{
    for (int i = 0; i < 1000; i++) {
        if (lock_byte(h, LOCKFILE_EXCLUSIVE_LOCK, LOCK_PROBE))
            return XIPC_OK;
        DWORD e = GetLastError();
        if (e != ERROR_LOCK_VIOLATION)
            return xipc__win32_err(e);
        Sleep(1);
    }
    return XIPC_EBUSY;
}

/* Write @p text as the whole content of @p h, from offset 0. */
static xipc_err dir_write_all(HANDLE h, const char *text)
{
    LARGE_INTEGER zero = {.QuadPart = 0};
    size_t n = strlen(text);
    DWORD done = 0;
    if (n > 0xffffffu)
        return XIPC_EINVAL;
    if (!SetFilePointerEx(h, zero, NULL, FILE_BEGIN) || !SetEndOfFile(h) ||
        !WriteFile(h, text, (DWORD)n, &done, NULL))
        return xipc__win32_err(GetLastError());
    return done == n ? XIPC_OK : XIPC_ESYS;
}

/* Mark the file of @p h to be removed once its last handle closes. */
static void dir_delete_open(HANDLE h)
{
    FILE_DISPOSITION_INFO d = {.DeleteFile = TRUE};
    SetFileInformationByHandle(h, FileDispositionInfo, &d, sizeof(d));
}

xipc_err xipc_plat_lockfile_acquire(intptr_t *h, const char *path)
{
    xipc__win32_private priv;
    xipc_err rv = xipc__win32_private_init(&priv, 0);
    if (rv != XIPC_OK)
        return rv;
    for (int attempt = 0; attempt < 8; attempt++) {
        HANDLE f;
        rv = dir_open(path, GENERIC_READ | GENERIC_WRITE | DELETE | READ_CONTROL, OPEN_ALWAYS,
                      &priv.sa, 0, &f);
        if (rv != XIPC_OK)
            return rv;
        if (dir_check(f, 0) != XIPC_OK) { /* an existing file keeps its DACL */
            CloseHandle(f);
            return XIPC_EPERM;
        }
        if (!lock_byte(f, LOCKFILE_EXCLUSIVE_LOCK, LOCK_HELD)) {
            DWORD e = GetLastError();
            CloseHandle(f);
            rv = xipc__win32_err(e);
            return e == ERROR_LOCK_VIOLATION ? XIPC_EADDRINUSE : rv;
        }
        /* the holder before us may have released (deleted) it meanwhile */
        FILE_STANDARD_INFO st;
        if (!GetFileInformationByHandleEx(f, FileStandardInfo, &st, sizeof(st)) ||
            st.DeletePending) {
            CloseHandle(f);
            continue;
        }
        char text[16];
        snprintf(text, sizeof(text), "%u\n", (unsigned)GetCurrentProcessId());
        rv = lock_probe_byte(f);
        if (rv == XIPC_OK)
            rv = dir_write_all(f, text);
        if (rv != XIPC_OK) {
            dir_delete_open(f);
            CloseHandle(f);
            return rv;
        }
        *h = (intptr_t)f;
        return XIPC_OK;
    }
    return XIPC_EBUSY;
}

void xipc_plat_lockfile_release(intptr_t h, const char *path)
{
    (void)path; /* the file we hold is removed, whatever the name is now */
    if (h == -1)
        return;
    HANDLE f = (HANDLE)h;
    dir_delete_open(f); /* while still holding it: no one takes a dying name */
    /* unlocked explicitly: a closed handle's locks go "when resources allow" */
    unlock_byte(f, LOCK_PROBE);
    unlock_byte(f, LOCK_HELD);
    CloseHandle(f);
}

/* The pid at the start of @p h ("<pid>\n"); 0 when garbage. */
static uint32_t dir_read_pid(HANDLE h)
{
    char text[16];
    DWORD n = 0;
    OVERLAPPED ov;
    memset(&ov, 0, sizeof(ov)); /* offset 0 */
    if (!ReadFile(h, text, sizeof(text) - 1, &n, &ov) || n == 0)
        return 0;
    text[n] = '\0';
    char *end;
    unsigned long v = strtoul(text, &end, 10);
    return end != text && *end == '\n' && v <= UINT32_MAX ? (uint32_t)v : 0;
}

xipc_err xipc_plat_lockfile_owner(const char *path, uint32_t *pid)
{
    *pid = 0;
    HANDLE f;
    xipc_err rv = dir_open(path, GENERIC_READ | READ_CONTROL, OPEN_EXISTING, NULL, 0, &f);
    if (rv != XIPC_OK)
        return rv;
    rv = dir_check(f, 0);
    if (rv == XIPC_OK && lock_byte(f, 0, LOCK_PROBE)) {
        unlock_byte(f, LOCK_PROBE);
        rv = XIPC_ENOENT; /* nobody holds it */
    } else if (rv == XIPC_OK) {
        DWORD e = GetLastError();
        if (e == ERROR_LOCK_VIOLATION)
            *pid = dir_read_pid(f);
        else
            rv = xipc__win32_err(e);
    }
    CloseHandle(f);
    return rv;
}

/* ---- text files ------------------------------------------------------------ */

xipc_err xipc_plat_textfile_write(const char *path, const char *text)
{
    if (text == NULL)
        return XIPC_EINVAL;
    xipc__win32_private priv;
    xipc_err rv = xipc__win32_private_init(&priv, 0);
    HANDLE f;
    if (rv == XIPC_OK)
        rv = dir_open(path, GENERIC_WRITE | READ_CONTROL | WRITE_DAC, OPEN_ALWAYS, &priv.sa, 0,
                      &f);
    if (rv != XIPC_OK)
        return rv;
    /* in place, not through a temporary file: see the contract. An existing
     * file keeps its DACL: made private first, then it must be ours. */
    BY_HANDLE_FILE_INFORMATION fi;
    if (GetFileType(f) != FILE_TYPE_DISK || !GetFileInformationByHandle(f, &fi) ||
        (fi.dwFileAttributes & (FILE_ATTRIBUTE_REPARSE_POINT | FILE_ATTRIBUTE_DIRECTORY)))
        rv = XIPC_EPERM;
    if (rv == XIPC_OK)
        rv = xipc__win32_private_set(f);
    if (rv == XIPC_OK)
        rv = xipc__win32_private_check(f);
    if (rv == XIPC_OK)
        rv = dir_write_all(f, text);
    CloseHandle(f);
    return rv;
}

xipc_err xipc_plat_textfile_read(const char *path, char *buf, size_t cap)
{
    if (buf == NULL || cap == 0)
        return XIPC_EINVAL;
    buf[0] = '\0';
    HANDLE f;
    xipc_err rv = dir_open(path, GENERIC_READ | READ_CONTROL, OPEN_EXISTING, NULL, 0, &f);
    if (rv != XIPC_OK)
        return rv;
    rv = dir_check(f, 0);
    size_t got = 0;
    while (rv == XIPC_OK && got < cap - 1) {
        size_t want = cap - 1 - got;
        DWORD n = 0;
        if (!ReadFile(f, buf + got, want > 0x100000u ? 0x100000u : (DWORD)want, &n, NULL))
            rv = xipc__win32_err(GetLastError());
        else if (n == 0)
            break;
        got += n;
    }
    CloseHandle(f);
    buf[rv == XIPC_OK ? got : 0] = '\0';
    return rv;
}

/*
 * Remove the name. Every file xipc opens is shared for deleting, so this
 * works while others hold it open: on NTFS since Windows 10 1809 the name
 * goes at once and the holders keep their file (POSIX semantics); before,
 * and on other file systems, the name stays "delete pending" until the
 * last handle closes, and opening it meanwhile fails (ERROR_ACCESS_DENIED).
 * A holder that did not share deleting makes it fail: nothing is removed.
 */
void xipc_plat_unlink(const char *path)
{
    WCHAR *w;
    if (dir_wide(path, &w) != XIPC_OK)
        return;
    DeleteFileW(w);
    free(w);
}

/* ---- what a path is (listings look without touching) --------------------- */

int xipc_plat_file_kind(const char *path)
{
    WCHAR *w;
    if (dir_wide(path, &w) != XIPC_OK)
        return XIPC_PLAT_FILE_NONE;
    DWORD a = GetFileAttributesW(w); /* opens nothing: a pipe's instance stays */
    free(w);
    if (a == INVALID_FILE_ATTRIBUTES)
        return XIPC_PLAT_FILE_NONE;
    if (a & (FILE_ATTRIBUTE_REPARSE_POINT | FILE_ATTRIBUTE_DEVICE))
        return XIPC_PLAT_FILE_OTHER; /* links, junctions, devices */
    return (a & FILE_ATTRIBUTE_DIRECTORY) ? XIPC_PLAT_FILE_DIR : XIPC_PLAT_FILE_REG;
}
