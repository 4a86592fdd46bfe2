/* The one errno mapper of the POSIX port (posix.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <unistd.h>

#include "platform/posix/posix.h"

xipc_err xipc__posix_err(int code)
{
    xipc__set_syserr(code);
    switch (code) {
    case EPIPE:
    case ECONNRESET:
    case ENOTCONN:
    case ESHUTDOWN:
        return XIPC_ECLOSED;
    case ECONNREFUSED:
    case EPROTOTYPE: /* a Unix socket of another kind there: not a listener of ours */
        return XIPC_ECONNREFUSED;
    case ENOENT:
    case ENOTDIR:
    case ESRCH:
        return XIPC_ENOENT;
    case EADDRINUSE:
    case EEXIST:
        return XIPC_EADDRINUSE;
    case EACCES:
    case EPERM:
        return XIPC_EPERM;
    case ENOMEM:
    case ENOBUFS:
    case ENOSPC:
        return XIPC_ENOMEM;
    case ETIMEDOUT:
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
        return XIPC_ETIMEDOUT;
    case EINVAL:
    case ENAMETOOLONG:
    case EAFNOSUPPORT:
        return XIPC_EINVAL;
    case EMSGSIZE:
        return XIPC_EMSGSIZE;
    default: /* EMFILE, ENFILE (out of descriptors), EIO, ... */
        return XIPC_ESYS;
    }
}

int xipc__posix_private(const struct stat *st)
{
    return st->st_uid == geteuid() && (st->st_mode & 077) == 0;
}
