/* The one mapper of Windows error codes (win32.h). */
#include <winsock2.h>
#include <windows.h>

#include "platform/win32/win32.h"

xipc_err xipc__win32_err(unsigned long code)
{
    xipc__set_syserr((int)code);
    switch (code) {
    case ERROR_BROKEN_PIPE:
    case ERROR_NO_DATA:
    case ERROR_PIPE_NOT_CONNECTED:
    case WSAECONNRESET:
    case WSAECONNABORTED:
    case WSAENOTCONN:
    case WSAESHUTDOWN:
        return XIPC_ECLOSED;
    case WSAECONNREFUSED:
        return XIPC_ECONNREFUSED;
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_HANDLE:
        return XIPC_ENOENT;
    case ERROR_ALREADY_EXISTS:
    case ERROR_FILE_EXISTS:
    case ERROR_PIPE_BUSY:
    case WSAEADDRINUSE:
        return XIPC_EADDRINUSE;
    case ERROR_ACCESS_DENIED:
    case ERROR_PRIVILEGE_NOT_HELD:
    case WSAEACCES:
        return XIPC_EPERM;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
    case ERROR_COMMITMENT_LIMIT:
    case ERROR_NO_SYSTEM_RESOURCES:
    case WSAENOBUFS:
        return XIPC_ENOMEM;
    case WAIT_TIMEOUT:
    case ERROR_TIMEOUT:
    case ERROR_SEM_TIMEOUT:
    case WSAETIMEDOUT:
    case WSAEWOULDBLOCK:
        return XIPC_ETIMEDOUT;
    case ERROR_INVALID_PARAMETER:
    case ERROR_INVALID_NAME:
    case ERROR_FILENAME_EXCED_RANGE:
    case WSAEINVAL:
    case WSAEAFNOSUPPORT:
        return XIPC_EINVAL;
    case ERROR_MORE_DATA: /* a message-mode read too short for the message */
    case WSAEMSGSIZE:
        return XIPC_EMSGSIZE;
    case ERROR_NOT_SUPPORTED:
    case ERROR_CALL_NOT_IMPLEMENTED:
    case WSAEOPNOTSUPP:
        return XIPC_ENOTSUP;
    default:
        return XIPC_ESYS;
    }
}
