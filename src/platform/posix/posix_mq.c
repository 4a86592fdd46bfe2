/*
 * POSIX message queues and lock files for the POSIX port: what mq:// is
 * made of. On Linux an mqd_t is a file descriptor: it can be polled and
 * fstat()ed (owner, mode, inode, link count).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/platform.h"

/* The Linux defaults of /proc/sys/fs/mqueue/{msg_max,msgsize_max}. */
#define MQ_DEPTH_FALLBACK 10u
#define MQ_MSGSIZE_FALLBACK 8192u

static xipc_err mq_syserr(int code)
{
    xipc__set_syserr(code);
    switch (code) {
    case EEXIST:
        return XIPC_EADDRINUSE;
    case ENOENT:
        return XIPC_ENOENT;
    case EACCES:
    case EPERM:
        return XIPC_EPERM;
    case EMFILE:  /* RLIMIT_MSGQUEUE (or the descriptor limit) reached */
    case ENFILE:
    case ENOSPC:  /* /proc/sys/fs/mqueue/queues_max reached */
    case ENOMEM:
        return XIPC_ENOMEM;
    case EINVAL:
    case ENAMETOOLONG:
        return XIPC_EINVAL;
    case EMSGSIZE:
        return XIPC_EMSGSIZE;
    case ETIMEDOUT:
        return XIPC_ETIMEDOUT;
    default:
        return XIPC_ESYS;
    }
}

/* Owner-only and ours: anything else was planted or is open to others. */
static int mq_private(const struct stat *st)
{
    return st->st_uid == geteuid() && (st->st_mode & 077) == 0;
}

static uint32_t mq_read_limit(const char *path, uint32_t fallback)
{
    FILE *f = fopen(path, "re");
    unsigned long v = 0;
    if (f == NULL)
        return fallback;
    if (fscanf(f, "%lu", &v) != 1 || v == 0 || v > UINT32_MAX)
        v = fallback;
    fclose(f);
    return (uint32_t)v;
}

void xipc_plat_mq_limits(uint32_t *depth_max, uint32_t *msgsize_max)
{
    *depth_max = mq_read_limit("/proc/sys/fs/mqueue/msg_max", MQ_DEPTH_FALLBACK);
    *msgsize_max = mq_read_limit("/proc/sys/fs/mqueue/msgsize_max", MQ_MSGSIZE_FALLBACK);
}

/* Read the queue's real attributes into @p q. */
static xipc_err mq_attr_load(xipc_plat_mq *q)
{
    struct mq_attr a;
    if (mq_getattr((mqd_t)q->handle, &a) != 0)
        return mq_syserr(errno);
    if (a.mq_maxmsg <= 0 || a.mq_msgsize < 0 || a.mq_msgsize > (long)INT32_MAX)
        return XIPC_EPROTO;
    q->depth = (uint32_t)a.mq_maxmsg;
    q->msgsize = (uint32_t)a.mq_msgsize;
    return XIPC_OK;
}

xipc_err xipc_plat_mq_create(xipc_plat_mq *q, const char *name, uint32_t depth,
                             uint32_t msgsize)
{
    uint32_t dmax, smax;
    xipc_plat_mq_limits(&dmax, &smax);
    /* the sysctl limits bind everyone, privileged or not, so that a program
     * behaves the same whoever runs it */
    if (depth == 0 || depth > dmax || msgsize == 0 || msgsize > smax)
        return XIPC_EINVAL;
    struct mq_attr a;
    memset(&a, 0, sizeof(a));
    a.mq_maxmsg = (long)depth;
    a.mq_msgsize = (long)msgsize;
    mqd_t d = mq_open(name, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &a);
    if (d == (mqd_t)-1)
        return mq_syserr(errno);
    q->handle = (intptr_t)d;
    struct stat st;
    xipc_err rv = XIPC_OK;
    /* fchmod: the umask must not narrow 0600 (the owner must write) */
    if (fchmod((int)d, 0600) != 0 || fstat((int)d, &st) != 0)
        rv = mq_syserr(errno);
    else if (!mq_private(&st))
        rv = XIPC_EPERM;
    if (rv == XIPC_OK)
        rv = mq_attr_load(q);
    if (rv != XIPC_OK) {
        mq_close(d);
        mq_unlink(name);
        q->handle = -1;
    }
    return rv;
}

xipc_err xipc_plat_mq_open(xipc_plat_mq *q, const char *name)
{
    mqd_t d = mq_open(name, O_WRONLY | O_CLOEXEC);
    if (d == (mqd_t)-1)
        return mq_syserr(errno);
    q->handle = (intptr_t)d;
    struct stat st;
    xipc_err rv = XIPC_OK;
    if (fstat((int)d, &st) != 0)
        rv = mq_syserr(errno);
    else if (!mq_private(&st))
        rv = XIPC_EPERM; /* planted by someone else, or open to others */
    if (rv == XIPC_OK)
        rv = mq_attr_load(q);
    if (rv != XIPC_OK) {
        mq_close(d);
        q->handle = -1;
    }
    return rv;
}

/* An absolute CLOCK_REALTIME deadline @p us from now, as mq_timed* want. */
static struct timespec mq_deadline(uint32_t us)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(us / 1000000u);
    ts.tv_nsec += (long)(us % 1000000u) * 1000;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

xipc_err xipc_plat_mq_send(xipc_plat_mq *q, const void *buf, size_t len,
                           unsigned prio, uint32_t timeout_us)
{
    struct timespec ts = mq_deadline(timeout_us);
    for (;;) {
        if (mq_timedsend((mqd_t)q->handle, (const char *)buf, len, prio, &ts) == 0)
            return XIPC_OK;
        if (errno != EINTR)
            return mq_syserr(errno);
    }
}

xipc_err xipc_plat_mq_recv(xipc_plat_mq *q, void *buf, size_t *len,
                           unsigned *prio, uint32_t timeout_us)
{
    struct timespec ts = mq_deadline(timeout_us);
    for (;;) {
        ssize_t n = mq_timedreceive((mqd_t)q->handle, (char *)buf, q->msgsize,
                                    prio, &ts);
        if (n >= 0) {
            *len = (size_t)n;
            return XIPC_OK;
        }
        if (errno != EINTR)
            return mq_syserr(errno);
    }
}

int xipc_plat_mq_unlinked(xipc_plat_mq *q)
{
    struct stat st;
    return fstat((int)q->handle, &st) == 0 && st.st_nlink == 0;
}

int xipc_plat_mq_current(xipc_plat_mq *q, const char *name)
{
    struct stat mine, now;
    if (fstat((int)q->handle, &mine) != 0)
        return 1; /* cannot tell */
    if (mine.st_nlink == 0)
        return 0;
    mqd_t d = mq_open(name, O_RDONLY | O_CLOEXEC);
    if (d == (mqd_t)-1)
        return errno != ENOENT;
    int same = fstat((int)d, &now) != 0 ||
               (now.st_ino == mine.st_ino && now.st_dev == mine.st_dev);
    mq_close(d);
    return same;
}

void xipc_plat_mq_close(xipc_plat_mq *q)
{
    if (q->handle >= 0)
        mq_close((mqd_t)q->handle);
    q->handle = -1;
}

void xipc_plat_mq_unlink(const char *name)
{
    mq_unlink(name);
}

/* ---- lock files --------------------------------------------------------- */

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
            return errno == ELOOP ? XIPC_EPERM : mq_syserr(errno);
        struct stat st, now;
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !mq_private(&st)) {
            close(fd);
            return XIPC_EPERM;
        }
        fchmod(fd, 0600); /* ours: a strict umask must not leave it 0000 */
        if (lock_cmd(fd, F_OFD_SETLK, F_WRLCK) != 0) {
            int e = errno;
            close(fd);
            if (e == EAGAIN || e == EACCES)
                return XIPC_EADDRINUSE;
            return mq_syserr(e);
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
            return mq_syserr(e);
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
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ELOOP ? XIPC_EPERM : mq_syserr(errno);
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !mq_private(&st)) {
        close(fd);
        return XIPC_EPERM;
    }
    int held = lock_cmd(fd, F_OFD_GETLK, F_WRLCK);
    if (held <= 0) {
        int e = errno;
        close(fd);
        return held == 0 ? XIPC_ENOENT : mq_syserr(e);
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
