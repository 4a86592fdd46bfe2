/*
 * Process inspection on Windows, without touching the target: the process
 * table from a Toolhelp32 snapshot, a process's bitness from
 * IsWow64Process, its modules from EnumProcessModulesEx (each image's
 * bitness from its PE header, read out of the target), memory with
 * ReadProcessMemory region by region (VirtualQueryEx), so a range that
 * runs into unmapped memory yields what comes before it.
 *
 * A 32-bit process can name no address over 4 GiB, and
 * EnumProcessModulesEx fails (ERROR_PARTIAL_COPY) on a 64-bit process from
 * a 32-bit one: both are XIPC_PLAT_BEYOND, and the 64-bit helper answers.
 */
#include <windows.h>
#include <psapi.h>
#include <tlhelp32.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/detail.h"
#include "inspect/image.h"
#include "platform/win32/win32.h"

#define INSPECT_PE_HDR 64   /* the DOS header */
#define INSPECT_PE_NT 26    /* "PE\0\0", the file header, the magic */
#define INSPECT_UTF8 (MAX_PATH * 3 + 1)

/* 1 when Windows itself is 64-bit. */
static int inspect_os64(void)
{
    BOOL wow = FALSE;
    return sizeof(void *) == 8 || (IsWow64Process(GetCurrentProcess(), &wow) && wow);
}

/* 32 or 64 for process @p h; 0 when unknown. */
static unsigned inspect_bits(HANDLE h)
{
    BOOL wow = FALSE;
    if (!IsWow64Process(h, &wow))
        return 0;
    return wow || !inspect_os64() ? 32 : 64;
}

/* OpenProcess with @p access, or NULL and the error with its detail. */
static HANDLE inspect_open(uint32_t pid, DWORD access, const char *what, xipc_err *rv)
{
    HANDLE h = OpenProcess(access | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, (DWORD)pid);
    DWORD code;
    if (h != NULL && GetExitCodeProcess(h, &code) && code != STILL_ACTIVE) {
        /* ended, but its object lives on while anyone holds a handle */
        CloseHandle(h);
        xipc__set_detail("%s: no process %u (it has ended)", what, (unsigned)pid);
        *rv = XIPC_ENOENT;
        return NULL;
    }
    if (h != NULL)
        return h;
    DWORD e = GetLastError();
    if (e == ERROR_INVALID_PARAMETER) {
        xipc__set_detail("%s: no process %u", what, (unsigned)pid);
        *rv = XIPC_ENOENT;
        xipc__win32_err(e); /* keeps the system code for xipc_last_syserr */
    } else if (e == ERROR_ACCESS_DENIED) {
        xipc__set_detail("%s of process %u: permission denied: OpenProcess refused (another "
                         "user's or a protected process needs SeDebugPrivilege)",
                         what, (unsigned)pid);
        *rv = xipc__win32_err(e);
    } else {
        xipc__set_detail("%s of process %u: OpenProcess failed (error %lu)", what, (unsigned)pid,
                         (unsigned long)e);
        *rv = xipc__win32_err(e);
    }
    return NULL;
}

xipc_err xipc_plat_proc_list(void (*fn)(const xipc_proc_info *p, void *arg), void *arg)
{
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    if (snap == INVALID_HANDLE_VALUE) {
        xipc__set_detail("CreateToolhelp32Snapshot failed (error %lu)",
                         (unsigned long)GetLastError());
        return xipc__win32_err(GetLastError()) == XIPC_EPERM ? XIPC_EPERM : XIPC_ESYS;
    }
    PROCESSENTRY32W pe;
    pe.dwSize = sizeof(pe);
    for (BOOL ok = Process32FirstW(snap, &pe); ok; ok = Process32NextW(snap, &pe)) {
        char name[INSPECT_UTF8];
        if (WideCharToMultiByte(CP_UTF8, 0, pe.szExeFile, -1, name, (int)sizeof(name), NULL,
                                NULL) == 0)
            snprintf(name, sizeof(name), "?");
        xipc_proc_info pi = {(uint32_t)pe.th32ProcessID, (uint32_t)pe.th32ParentProcessID, 0,
                             name};
        HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pe.th32ProcessID);
        if (h != NULL) {
            pi.bits = inspect_bits(h);
            CloseHandle(h);
        }
        fn(&pi, arg);
    }
    CloseHandle(snap);
    return XIPC_OK;
}

/* 32 or 64 from the PE header of the image at @p base in @p h; 0 when
 * unreadable. */
static unsigned inspect_image_bits(HANDLE h, uintptr_t base)
{
    uint8_t dos[INSPECT_PE_HDR], nt[INSPECT_PE_NT];
    SIZE_T n = 0;
    if (!ReadProcessMemory(h, (LPCVOID)base, dos, sizeof(dos), &n))
        return 0;
    uint32_t off = xipc__pe_offset(dos, (size_t)n);
    if (off == 0 || !ReadProcessMemory(h, (LPCVOID)(base + off), nt, sizeof(nt), &n))
        return 0;
    return (unsigned)xipc__pe_bits(nt, (size_t)n);
}

static int inspect_base_cmp(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(HMODULE const *)a, y = (uintptr_t)*(HMODULE const *)b;
    return (x > y) - (x < y);
}

xipc_err xipc_plat_modules(uint32_t pid, void (*fn)(const xipc_module_info *m, void *arg),
                           void *arg)
{
    xipc_err rv = XIPC_OK;
    HANDLE h = inspect_open(pid, PROCESS_QUERY_INFORMATION | PROCESS_VM_READ, "the module list",
                            &rv);
    if (h == NULL)
        return rv;
    if (sizeof(void *) == 4 && inspect_bits(h) == 64) {
        CloseHandle(h);
        xipc__set_detail("process %u is 64-bit: its modules lie beyond a 32-bit process",
                         (unsigned)pid);
        return XIPC_PLAT_BEYOND;
    }
    HMODULE *mods = NULL;
    DWORD need = 64 * sizeof(HMODULE), have = 0;
    do { /* a process that loads modules meanwhile needs more room */
        free(mods);
        have = need + 16 * sizeof(HMODULE);
        mods = malloc(have);
        if (mods == NULL) {
            CloseHandle(h);
            return XIPC_ENOMEM;
        }
        if (!EnumProcessModulesEx(h, mods, have, &need, LIST_MODULES_ALL)) {
            DWORD e = GetLastError();
            xipc__set_detail("the module list of process %u: EnumProcessModulesEx failed "
                             "(error %lu)", (unsigned)pid, (unsigned long)e);
            free(mods);
            CloseHandle(h);
            return xipc__win32_err(e);
        }
    } while (need > have);
    size_t n = need / sizeof(HMODULE);
    qsort(mods, n, sizeof(*mods), inspect_base_cmp);
    for (size_t i = 0; i < n; i++) {
        WCHAR wpath[MAX_PATH];
        char path[INSPECT_UTF8];
        MODULEINFO mi;
        if (!GetModuleInformation(h, mods[i], &mi, sizeof(mi)))
            continue; /* unloaded meanwhile */
        DWORD k = GetModuleFileNameExW(h, mods[i], wpath, MAX_PATH);
        if (k == 0 || WideCharToMultiByte(CP_UTF8, 0, wpath, (int)k + 1, path, (int)sizeof(path),
                                          NULL, NULL) == 0)
            snprintf(path, sizeof(path), "?");
        xipc_module_info m = {path, (uint64_t)(uintptr_t)mi.lpBaseOfDll, mi.SizeOfImage,
                              inspect_image_bits(h, (uintptr_t)mi.lpBaseOfDll)};
        fn(&m, arg);
    }
    free(mods);
    CloseHandle(h);
    return XIPC_OK;
}

xipc_err xipc_plat_peek(uint32_t pid, uint64_t addr, void *buf, size_t len, size_t *got)
{
    *got = 0;
    xipc_err rv = XIPC_OK;
    HANDLE h = inspect_open(pid, PROCESS_QUERY_INFORMATION | PROCESS_VM_READ,
                            "ReadProcessMemory", &rv);
    if (h == NULL)
        return rv;
    /* region by region: ReadProcessMemory fails as a whole on a range
     * that is partly unreadable */
    while (*got < len) {
        uintptr_t at = (uintptr_t)addr + *got;
        MEMORY_BASIC_INFORMATION mb;
        if (VirtualQueryEx(h, (LPCVOID)at, &mb, sizeof(mb)) == 0 || mb.State != MEM_COMMIT ||
            (mb.Protect & (PAGE_NOACCESS | PAGE_GUARD)) != 0)
            break;
        uintptr_t end = (uintptr_t)mb.BaseAddress + mb.RegionSize;
        size_t want = end - at < len - *got ? (size_t)(end - at) : len - *got;
        SIZE_T n = 0;
        if (!ReadProcessMemory(h, (LPCVOID)at, (uint8_t *)buf + *got, want, &n) || n == 0)
            break;
        *got += n;
    }
    CloseHandle(h);
    if (*got > 0)
        return XIPC_OK;
    xipc__set_detail("nothing readable is mapped at 0x%llx in process %u",
                     (unsigned long long)addr, (unsigned)pid);
    return XIPC_EINVAL;
}

void xipc_plat_child_reap(uint32_t pid)
{
    (void)pid; /* Windows keeps nothing of an ended child we hold no handle to */
}
