/*
 * What the files of the Windows port share (not part of the platform
 * contract): the one mapper of Windows error codes, and the identity of a
 * user that stands in for a uid.
 */
#ifndef XIPC_PLATFORM_WIN32_H
#define XIPC_PLATFORM_WIN32_H

#include <stdint.h>
#include <wchar.h>

#include "core/platform.h"

/*
 * Map a GetLastError() or WSAGetLastError() code to an xipc_err, and
 * record it for xipc_last_syserr. The one table of the port, as
 * xipc__posix_err is the POSIX port's.
 */
xipc_err xipc__win32_err(unsigned long code);

/*
 * Windows has no uid: a user is a SID. xipc_plat_getuid() answers a
 * 32-bit hash of the caller's token user SID (win32_proc.c), and this
 * gives the same hash for the token user of process @p pid (opened with
 * PROCESS_QUERY_LIMITED_INFORMATION), e.g. the client of a named pipe
 * (GetNamedPipeClientProcessId), so that "the peer is the same user" is
 * the same comparison on both ports. Whoever compares must compare the
 * SIDs themselves where a collision would matter (xipc__win32_same_user).
 * @return XIPC_OK, XIPC_ENOENT (no such process), XIPC_EPERM, XIPC_ESYS
 */
xipc_err xipc__win32_uid_of_pid(uint32_t pid, uint32_t *uid);

/* 1 when process @p pid runs as the same user (token user SID) as we do. */
int xipc__win32_same_user(uint32_t pid);

/* @p s in UTF-16, allocated (free()); XIPC_EINVAL when not UTF-8. */
xipc_err xipc__win32_wide(const char *s, wchar_t **out);

/*
 * The command line of @p argv (UTF-8, NULL-terminated), each argument
 * quoted as CommandLineToArgvW splits it again, in UTF-16, allocated
 * (free()). XIPC_EINVAL when not UTF-8 or longer than CreateProcessW
 * takes. The one quoting of the port (win32_spawn.c): the tests and the
 * benchmark start their peers with it too.
 */
xipc_err xipc__win32_cmdline(char *const argv[], wchar_t **out);

/*
 * The mailslot of the datagram endpoint at @p path (win32_dgram.c):
 * \\.\mailslot\xipc\<16 hex digits of a hash of the path>, at most
 * XIPC_WIN32_MAILSLOT_MAX wide characters with the terminating NUL.
 */
#define XIPC_WIN32_MAILSLOT_MAX 64
void xipc__win32_mailslot_name(wchar_t *out, const char *path);

#endif
