/*
 * What win32_futex.c needs of win32_shm.c (not part of the platform
 * contract): the wake-up event of a word that lies in a section of ours,
 * and the few ntdll calls both files use.
 */
#ifndef XIPC_PLATFORM_WIN32_SHM_H
#define XIPC_PLATFORM_WIN32_SHM_H

#include <windows.h>

/* ntdll entry points kernel32 does not export (resolved once). */
typedef struct xipc__win32_nt {
    LONG(NTAPI *query_section)(HANDLE, int, void *, SIZE_T, SIZE_T *);
    LONG(NTAPI *query_object)(HANDLE, int, void *, ULONG, ULONG *);
    LONG(NTAPI *wait_one)(HANDLE, BOOLEAN, const LARGE_INTEGER *);
    LONG(NTAPI *wait_on_address)(const void *, const void *, SIZE_T, const LARGE_INTEGER *);
    void(NTAPI *wake_address_all)(const void *);
} xipc__win32_nt;

/* The entry points; a member is NULL where this ntdll lacks it. */
const xipc__win32_nt *xipc__win32_ntdll(void);

/*
 * The event that wakes sleepers on the 32-bit word at @p addr, for every
 * process that maps the same section: a manual-reset event named after
 * the section and the word's offset in it, opened on first use and kept
 * until the view is unmapped (win32_futex.c says who sets and resets it).
 * @return 0 when @p addr lies in no view of xipc_plat_shm_*; 1 when it
 *         does, with *ev the event, or NULL when none could be had (an
 *         object of another kind squats its name, out of handles): the
 *         caller then polls the word
 */
int xipc__win32_shm_event(const void *addr, HANDLE *ev);

/* 1 when handle @p h, put into this process by another, is named as
 * xipc's sections are (win32_shm.c). */
int xipc__win32_shm_given(HANDLE h);

#endif
