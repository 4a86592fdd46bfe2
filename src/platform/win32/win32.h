/*
 * What the files of the Windows port share (not part of the platform
 * contract): the one mapper of Windows error codes.
 */
#ifndef XIPC_PLATFORM_WIN32_H
#define XIPC_PLATFORM_WIN32_H

#include "core/platform.h"

/*
 * Map a GetLastError() or WSAGetLastError() code to an xipc_err, and
 * record it for xipc_last_syserr. The one table of the port, as
 * xipc__posix_err is the POSIX port's.
 */
xipc_err xipc__win32_err(unsigned long code);

#endif
