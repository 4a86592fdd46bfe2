/* The per-user runtime directory for socket files and pid files. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/platform.h"

/* Create @p path 0700 if missing; accept only our own private directory. */
static xipc_err rundir_make(const char *path)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        xipc__set_syserr(errno);
        return errno == EACCES ? XIPC_EPERM : XIPC_ESYS;
    }
    struct stat st;
    if (lstat(path, &st) != 0) {
        xipc__set_syserr(errno);
        return XIPC_ESYS;
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0)
        return XIPC_EPERM; /* planted by someone else, or open to others */
    return XIPC_OK;
}

/* Accept only an existing private directory of ours; create nothing. */
static xipc_err rundir_check(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        xipc__set_syserr(errno);
        if (errno == ENOENT || errno == ENOTDIR)
            return XIPC_ENOENT;
        return errno == EACCES ? XIPC_EPERM : XIPC_ESYS;
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0)
        return XIPC_EPERM;
    return XIPC_OK;
}

/* The runtime directory (and @p sub), each level made or checked by @p step. */
static xipc_err rundir_path(char *buf, size_t cap, const char *sub,
                            xipc_err (*step)(const char *path))
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int n;
    if (xdg != NULL && xdg[0] == '/')
        n = snprintf(buf, cap, "%s/xipc", xdg);
    else
        n = snprintf(buf, cap, "/tmp/xipc-%u", (unsigned)geteuid());
    if (n < 0 || (size_t)n >= cap)
        return XIPC_EINVAL;
    xipc_err rv = step(buf);
    if (rv != XIPC_OK || sub == NULL)
        return rv;
    size_t len = (size_t)n;
    n = snprintf(buf + len, cap - len, "/%s", sub);
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
