/*
 * Who we are and what "private" means for the Windows port (as
 * xipc__posix_private is the POSIX port's): the token user SID, the
 * security descriptor every file and folder xipc creates gets, and the
 * check an existing one must pass. Not part of the platform contract.
 *
 * Private means: the owner is our token user, and every entry of the DACL
 * that allows anything names our user or SYSTEM (the "root" of Windows,
 * which can take any file anyway: its backup and take-ownership privileges
 * pass every DACL). Deny entries are fine; an entry of any other kind, a
 * missing DACL (which allows everyone) and an unreadable one are not.
 * What we create grants our user alone: SYSTEM needs nothing there.
 */
#ifndef XIPC_PLATFORM_WIN32_SEC_H
#define XIPC_PLATFORM_WIN32_SEC_H

#include <windows.h>

#include "platform/win32/win32.h"

/* Our token user SID, read once; NULL when the token cannot be read (then
 * nothing is private and nothing can be created private). */
PSID xipc__win32_user_sid(void);

/* The token user SID of the process behind @p process (opened with
 * PROCESS_QUERY_LIMITED_INFORMATION) into @p out.
 * @return XIPC_OK, XIPC_EPERM, XIPC_ESYS */
xipc_err xipc__win32_process_sid(HANDLE process, unsigned char out[SECURITY_MAX_SID_SIZE]);

/* Security attributes that give our user alone full access, with a
 * protected DACL (nothing inherited from the parent folder). Keep it
 * where it is: sa points into it. */
typedef struct xipc__win32_private {
    SECURITY_ATTRIBUTES sa;
    SECURITY_DESCRIPTOR sd;
    union {
        ACL acl;
        DWORD align;
        unsigned char bytes[sizeof(ACL) + sizeof(ACCESS_ALLOWED_ACE) + SECURITY_MAX_SID_SIZE];
    } dacl;
} xipc__win32_private;

/* Fill @p p; with @p folder, what is created inside inherits the same
 * single entry. @return XIPC_OK, XIPC_ESYS */
xipc_err xipc__win32_private_init(xipc__win32_private *p, int folder);

/* XIPC_OK when the object behind @p h (opened with READ_CONTROL) is
 * private as above; XIPC_EPERM when not, or when that cannot be read. */
xipc_err xipc__win32_private_check(HANDLE h);

/* Give the file behind @p h (opened with WRITE_DAC) the private DACL. */
xipc_err xipc__win32_private_set(HANDLE h);

#endif
