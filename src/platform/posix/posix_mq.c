/*
 * POSIX message queues for the POSIX port: what mq:// is made of (with
 * a lock file, posix_dir.c). On Linux an mqd_t is a file descriptor: it can be polled and
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

#include "platform/posix/posix.h"

/* The Linux defaults of /proc/sys/fs/mqueue/{msg_max,msgsize_max}. */
#define MQ_DEPTH_FALLBACK 10u
#define MQ_MSGSIZE_FALLBACK 8192u



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
        return xipc__posix_err(errno);
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
    if (d == (mqd_t)-1 && errno == EMFILE) { /* RLIMIT_MSGQUEUE: docs/mq.md */
        xipc__set_syserr(errno);
        return XIPC_ENOMEM;
    }
    if (d == (mqd_t)-1)
        return xipc__posix_err(errno);
    q->handle = (intptr_t)d;
    struct stat st;
    xipc_err rv = XIPC_OK;
    /* fchmod: the umask must not narrow 0600 (the owner must write) */
    if (fchmod((int)d, 0600) != 0 || fstat((int)d, &st) != 0)
        rv = xipc__posix_err(errno);
    else if (!xipc__posix_private(&st))
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
        return xipc__posix_err(errno);
    q->handle = (intptr_t)d;
    struct stat st;
    xipc_err rv = XIPC_OK;
    if (fstat((int)d, &st) != 0)
        rv = xipc__posix_err(errno);
    else if (!xipc__posix_private(&st))
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
            return xipc__posix_err(errno);
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
            return xipc__posix_err(errno);
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
