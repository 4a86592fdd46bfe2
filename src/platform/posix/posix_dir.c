/*
 * Folders and the files xipc keeps in them, for the POSIX port: the
 * per-user runtime folder, private folders and their listings, lock files
 * (a name owned by a live process), small text files (pid files, notes),
 * and what a path is.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "platform/posix/posix.h"

/* ---- the per-user runtime folder ------------------------------------------ */

/* Create @p path 0700 if missing; accept only our own private directory. */
static xipc_err rundir_make(const char *path)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return xipc__posix_err(errno);
    struct stat st;
    if (lstat(path, &st) != 0)
        return xipc__posix_err(errno);
    if (!S_ISDIR(st.st_mode) || !xipc__posix_private(&st))
        return XIPC_EPERM; /* planted by someone else, or open to others */
    return XIPC_OK;
}

/* Accept only an existing private directory of ours; create nothing. */
static xipc_err rundir_check(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return xipc__posix_err(errno);
    if (!S_ISDIR(st.st_mode) || !xipc__posix_private(&st))
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

/* ---- private folders ------------------------------------------------------ */

xipc_err xipc_plat_dir_list(const char *path,
                            void (*fn)(const char *name, void *arg), void *arg)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ELOOP ? XIPC_EPERM : xipc__posix_err(errno);
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode) || !xipc__posix_private(&st)) {
        close(fd);
        return XIPC_EPERM; /* planted by someone else, or open to others */
    }
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        int e = errno;
        close(fd);
        return xipc__posix_err(e);
    }
    /* readdir returns NULL both at the end and on an error (EOVERFLOW,
     * EIO...): only errno tells them apart */
    int err = 0;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (e == NULL) {
            err = errno;
            break;
        }
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        fn(e->d_name, arg);
    }
    closedir(d);
    return err != 0 ? xipc__posix_err(err) : XIPC_OK;
}

void xipc_plat_dir_remove(const char *path)
{
    rmdir(path); /* ENOTEMPTY: someone still uses it */
}

/* A folder counts as settled when it has not changed for this long: far
 * more than the granularity of file times (a clock tick, 1-10 ms). */
#define DIR_SETTLED_NS 50000000LL

xipc_err xipc_plat_dir_stamp(const char *path, uint64_t stamp[2], int *settled)
{
    struct stat st;
    struct timespec now;
    if (stat(path, &st) != 0)
        return xipc__posix_err(errno);
    clock_gettime(CLOCK_REALTIME, &now);
    long long mt = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    long long nt = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
    stamp[0] = (uint64_t)mt;
    stamp[1] = (uint64_t)st.st_ino ^ ((uint64_t)st.st_dev << 48);
    *settled = nt - mt >= DIR_SETTLED_NS;
    return XIPC_OK;
}

/* ---- lock files --------------------------------------------------------- */

/* Open @p path for reading: a plain file of ours that no one else may
 * open (a link, a FIFO or a file open to others is XIPC_EPERM). */
static xipc_err dir_open_file(const char *path, int *out)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return errno == ELOOP ? XIPC_EPERM : xipc__posix_err(errno);
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !xipc__posix_private(&st)) {
        close(fd);
        return XIPC_EPERM;
    }
    *out = fd;
    return XIPC_OK;
}

/* An open-file-description lock on the whole file: per open file, not per
 * process, so closing another descriptor of the same file never drops it. */
static int lock_cmd(int fd, int cmd, short type)
{
    struct flock fl;
    memset(&fl, 0, sizeof(fl));
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    int rv = fcntl(fd, cmd, &fl);
    if (rv == 0 && cmd == F_OFD_GETLK)
        return fl.l_type != F_UNLCK; /* 1: someone holds it */
    return rv;
}

xipc_err xipc_plat_lockfile_acquire(intptr_t *h, const char *path)
{
    for (int attempt = 0; attempt < 8; attempt++) {
        int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
            return errno == ELOOP ? XIPC_EPERM : xipc__posix_err(errno);
        struct stat st, now;
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !xipc__posix_private(&st)) {
            close(fd);
            return XIPC_EPERM;
        }
        fchmod(fd, 0600); /* ours: a strict umask must not leave it 0000 */
        if (lock_cmd(fd, F_OFD_SETLK, F_WRLCK) != 0) {
            int e = errno;
            close(fd);
            if (e == EAGAIN || e == EACCES)
                return XIPC_EADDRINUSE;
            return xipc__posix_err(e);
        }
        /* the holder before us may have removed the name meanwhile */
        if (stat(path, &now) != 0 || now.st_ino != st.st_ino || now.st_dev != st.st_dev) {
            close(fd);
            continue;
        }
        char text[16];
        int n = snprintf(text, sizeof(text), "%u\n", (unsigned)getpid());
        if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)n, 0) != n) {
            int e = errno;
            unlink(path);
            close(fd);
            return xipc__posix_err(e);
        }
        *h = fd;
        return XIPC_OK;
    }
    return XIPC_EBUSY;
}

void xipc_plat_lockfile_release(intptr_t h, const char *path)
{
    if (h < 0)
        return;
    unlink(path); /* while still holding it: no one can take a dying name */
    close((int)h);
}

xipc_err xipc_plat_lockfile_owner(const char *path, uint32_t *pid)
{
    *pid = 0;
    int fd;
    xipc_err rv = dir_open_file(path, &fd);
    if (rv != XIPC_OK)
        return rv;
    int held = lock_cmd(fd, F_OFD_GETLK, F_WRLCK);
    if (held <= 0) {
        int e = errno;
        close(fd);
        return held == 0 ? XIPC_ENOENT : xipc__posix_err(e);
    }
    char text[16];
    ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
    close(fd);
    if (n > 0) {
        text[n] = '\0';
        char *end;
        unsigned long v = strtoul(text, &end, 10);
        if (end != text && *end == '\n' && v <= UINT32_MAX)
            *pid = (uint32_t)v;
    }
    return XIPC_OK;
}

/* ---- text files ------------------------------------------------------------ */

xipc_err xipc_plat_textfile_write(const char *path, const char *text)
{
    /* in place, not through a temporary file: see the contract */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return xipc__posix_err(errno);
    size_t n = strlen(text);
    int ok = fchmod(fd, 0600) == 0 && write(fd, text, n) == (ssize_t)n;
    int e = errno;
    close(fd);
    return ok ? XIPC_OK : xipc__posix_err(e);
}

xipc_err xipc_plat_textfile_read(const char *path, char *buf, size_t cap)
{
    buf[0] = '\0';
    int fd;
    xipc_err rv = dir_open_file(path, &fd);
    if (rv != XIPC_OK)
        return rv;
    ssize_t k = read(fd, buf, cap - 1);
    int e = errno;
    close(fd);
    if (k < 0)
        return xipc__posix_err(e);
    buf[k] = '\0';
    return XIPC_OK;
}

void xipc_plat_unlink(const char *path)
{
    unlink(path);
}

/* ---- what a path is (listings look without touching) --------------------- */

int xipc_plat_file_kind(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return XIPC_PLAT_FILE_NONE;
    if (S_ISREG(st.st_mode))
        return XIPC_PLAT_FILE_REG;
    if (S_ISDIR(st.st_mode))
        return XIPC_PLAT_FILE_DIR;
    if (S_ISSOCK(st.st_mode))
        return XIPC_PLAT_FILE_SOCK;
    return XIPC_PLAT_FILE_OTHER;
}
