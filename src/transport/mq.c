/*
 * mq://NAME — the "message mechanism": messages with priorities go to one
 * named receiver through the platform's message queue "/xipc.<uid>.NAME":
 * a POSIX message queue, or on Windows a message-only window fed with
 * WM_COPYDATA (win32_mq.c). The same file on both OSes.
 *
 * The receiver (xipc_listen) owns the name through the lock file
 * <rundir>/mq/NAME.pid, which holds its pid and stays locked while it
 * lives; the kernel drops the lock however the process ends. So a queue
 * whose lock is free belongs to nobody and the next receiver reclaims it.
 * Senders (xipc_dial) notice a receiver that closed (the queue's name was
 * unlinked or now names another queue) or died (its pid), and get
 * XIPC_ECLOSED instead of filling an orphaned queue. See docs/mq.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/deadline.h"
#include "core/platform.h"
#include "core/transport.h"
#include "transport/named_sock.h"

#define MQ_OBJ_MAX 96
#define MQ_DEFAULT_MSGSIZE 8192u
#define MQ_PRIO_LIMIT 31u
/* A blocked sender looks at its receiver at least this often. */
#define MQ_SEND_SLICE_US 10000u
/* A blocked receiver has no peer to watch; it re-arms its wait only to
 * bound the effect of a CLOCK_REALTIME step on mq_timed*() deadlines. */
#define MQ_RECV_SLICE_US 100000u

typedef struct mq_sock {
    xipc_sock sock;
    int receiver;
    xipc_plat_mq q;
    char name[XIPC_NAME_MAX + 1];
    char obj[MQ_OBJ_MAX]; /* "/xipc.<uid>.NAME" */
    /* receiver */
    intptr_t lock;
    char lockpath[XIPC_NAMED_LOCK_MAX]; /* <rundir>/mq/NAME.pid */
    uint8_t *held;   /* a message already taken off the queue, q.msgsize bytes */
    size_t held_len; /* its length */
    unsigned held_prio;
    int holding;
    /* sender */
    xipc_plat_proc owner;
} mq_sock;

extern const xipc_tran xipc_mq_tran;

/* The next wait towards @p d, at most @p max_us; 0 when it passed (one
 * last try that does not wait). */
static uint32_t mq_slice(xipc_deadline *d, uint32_t max_us)
{
    uint32_t us;
    return xipc__deadline_slice(d, max_us, &us) == XIPC_OK ? us : 0;
}

static mq_sock *mq_alloc(const char *name)
{
    mq_sock *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->sock.tran = &xipc_mq_tran;
    s->sock.listener = 0; /* a receiver receives; it accepts nothing */
    s->q.handle = -1;
    s->lock = -1;
    s->owner.handle = -1;
    snprintf(s->name, sizeof(s->name), "%.64s", name);
    snprintf(s->obj, sizeof(s->obj), "/xipc.%u.%.64s", (unsigned)xipc_plat_getuid(), name);
    return s;
}

static void mq_free(mq_sock *s)
{
    xipc_plat_mq_close(&s->q);
    xipc_plat_proc_close(&s->owner);
    free(s->held);
    free(s);
}

static xipc_err mq_lockpath(mq_sock *s)
{
    return xipc__named_lock_path("mq", s->name, s->lockpath, sizeof(s->lockpath));
}

/* ---- receiver ---------------------------------------------------------------- */

/* Create the queue; one left by a receiver that is gone is replaced. */
static xipc_err mq_create(mq_sock *s, uint32_t depth, uint32_t msgsize)
{
    xipc_err rv = XIPC_EADDRINUSE;
    for (int attempt = 0; attempt < 4 && rv == XIPC_EADDRINUSE; attempt++) {
        rv = xipc_plat_mq_create(&s->q, s->obj, depth, msgsize);
        if (rv != XIPC_EADDRINUSE)
            break;
        /* we hold the lock: whoever made this queue is gone */
        xipc_plat_mq old;
        xipc_err orv = xipc_plat_mq_open(&old, s->obj);
        if (orv == XIPC_EPERM)
            return XIPC_EPERM; /* someone else's object under our name */
        if (orv == XIPC_OK)
            xipc_plat_mq_close(&old);
        xipc_plat_mq_unlink(s->obj);
    }
    return rv;
}

static xipc_err mq_listen(xipc_sock **out, const xipc_url *url,
                          const xipc_opts *opts)
{
    if (xipc__name_check(url->rest) != XIPC_OK)
        return XIPC_EINVAL;
    uint32_t depth_max, size_max;
    xipc_plat_mq_limits(&depth_max, &size_max);
    uint32_t msgsize = opts->max_msg;
    if (msgsize == 0)
        msgsize = MQ_DEFAULT_MSGSIZE < size_max ? MQ_DEFAULT_MSGSIZE : size_max;
    if (msgsize > size_max || opts->mq_depth > depth_max)
        return XIPC_EINVAL; /* beyond /proc/sys/fs/mqueue: see docs/mq.md */
    mq_sock *s = mq_alloc(url->rest);
    if (s == NULL)
        return XIPC_ENOMEM;
    s->receiver = 1;
    xipc_err rv = mq_lockpath(s);
    if (rv == XIPC_OK)
        rv = xipc_plat_lockfile_acquire(&s->lock, s->lockpath);
    if (rv == XIPC_OK) {
        rv = mq_create(s, opts->mq_depth, msgsize);
        if (rv != XIPC_OK) {
            xipc_plat_lockfile_release(s->lock, s->lockpath);
            s->lock = -1;
        }
    }
    if (rv != XIPC_OK) {
        mq_free(s);
        return rv;
    }
    *out = &s->sock;
    return XIPC_OK;
}

/* Hand over the message taken off the queue earlier, if there is one. */
static xipc_err mq_give_held(mq_sock *s, void *buf, size_t cap, size_t *len,
                             unsigned *prio)
{
    *len = s->held_len;
    if (s->held_len > cap)
        return XIPC_EMSGSIZE; /* still held */
    if (s->held_len != 0)
        memcpy(buf, s->held, s->held_len);
    *prio = s->held_prio;
    s->holding = 0;
    return XIPC_OK;
}

static xipc_err mq_recv_prio(xipc_sock *ss, void *buf, size_t cap, size_t *len,
                             unsigned *prio, int timeout_ms)
{
    mq_sock *s = (mq_sock *)ss;
    if (!s->receiver)
        return XIPC_ENOTSUP; /* a sender only sends */
    if (s->holding)
        return mq_give_held(s, buf, cap, len, prio);
    /* the kernel wants room for the largest message; a smaller buffer
     * receives through ours, which keeps a message too large for it */
    int direct = cap >= s->q.msgsize;
    if (!direct && s->held == NULL && (s->held = malloc(s->q.msgsize + 1u)) == NULL)
        return XIPC_ENOMEM;
    xipc_deadline d = xipc__deadline(timeout_ms);
    for (;;) {
        uint32_t slice = mq_slice(&d, MQ_RECV_SLICE_US);
        xipc_err rv = xipc_plat_mq_recv(&s->q, direct ? buf : s->held,
                                        direct ? len : &s->held_len,
                                        direct ? prio : &s->held_prio, slice);
        if (rv == XIPC_OK && !direct) {
            s->holding = 1;
            return mq_give_held(s, buf, cap, len, prio);
        }
        if (rv != XIPC_ETIMEDOUT || slice == 0)
            return rv;
    }
}

static xipc_err mq_recv(xipc_sock *s, void *buf, size_t cap, size_t *len,
                        int timeout_ms)
{
    unsigned prio;
    return mq_recv_prio(s, buf, cap, len, &prio, timeout_ms);
}

/* ---- sender -------------------------------------------------------------------- */

/* The receiver's pid from its lock file; XIPC_ECONNREFUSED when none lives. */
static xipc_err mq_owner(mq_sock *s, uint32_t *pid)
{
    xipc_err rv = mq_lockpath(s);
    return rv == XIPC_OK ? xipc__named_lock_owner(s->lockpath, pid) : rv;
}

static xipc_err mq_dial(xipc_sock **out, const xipc_url *url,
                        const xipc_opts *opts, int timeout_ms)
{
    if (xipc__name_check(url->rest) != XIPC_OK)
        return XIPC_EINVAL;
    mq_sock *s = mq_alloc(url->rest);
    if (s == NULL)
        return XIPC_ENOMEM;
    uint32_t pid = 0;
    xipc_err rv = xipc_plat_mq_open(&s->q, s->obj);
    if (rv == XIPC_ENOENT)
        rv = XIPC_ECONNREFUSED;
    if (rv == XIPC_OK)
        rv = mq_owner(s, &pid);
    if (rv == XIPC_OK) {
        xipc_plat_proc_open(&s->owner, pid);
        if (!xipc_plat_proc_alive(&s->owner) || !xipc_plat_mq_current(&s->q, s->obj))
            rv = XIPC_ECONNREFUSED; /* gone, or a stale queue being replaced */
    }
    if (rv != XIPC_OK) {
        mq_free(s);
        return rv;
    }
    *out = &s->sock;
    return XIPC_OK;
}

/* 1 when the receiver closed (the queue was unlinked) or died. */
static int mq_receiver_gone(mq_sock *s)
{
    return xipc_plat_mq_unlinked(&s->q) || !xipc_plat_proc_alive(&s->owner);
}

static xipc_err mq_send_prio(xipc_sock *ss, const void *buf, size_t len,
                             unsigned prio, int timeout_ms)
{
    mq_sock *s = (mq_sock *)ss;
    if (s->receiver)
        return XIPC_ENOTSUP; /* a receiver only receives */
    if (prio > MQ_PRIO_LIMIT)
        return XIPC_EINVAL;
    if (len > s->q.msgsize)
        return XIPC_EMSGSIZE;
    if (mq_receiver_gone(s))
        return XIPC_ECLOSED;
    xipc_deadline d = xipc__deadline(timeout_ms);
    for (;;) {
        uint32_t slice = mq_slice(&d, MQ_SEND_SLICE_US);
        xipc_err rv = xipc_plat_mq_send(&s->q, buf, len, prio, slice);
        if (rv != XIPC_ETIMEDOUT)
            return rv;
        /* full: is anyone still reading? */
        if (!xipc_plat_proc_alive(&s->owner) || !xipc_plat_mq_current(&s->q, s->obj))
            return XIPC_ECLOSED;
        if (slice == 0)
            return XIPC_ETIMEDOUT;
    }
}

static xipc_err mq_send(xipc_sock *s, const void *buf, size_t len, int timeout_ms)
{
    return mq_send_prio(s, buf, len, 0, timeout_ms);
}

static xipc_err mq_peer_pid(xipc_sock *ss, uint32_t *pid)
{
    *pid = ((mq_sock *)ss)->owner.pid; /* a receiver has no single peer: 0 */
    return XIPC_OK;
}

/* ---- both -------------------------------------------------------------------- */

static xipc_err mq_fd(xipc_sock *ss, intptr_t *fd)
{
    *fd = ((mq_sock *)ss)->q.handle; /* receiver: POLLIN; sender: POLLOUT */
    return XIPC_OK;
}

static xipc_err mq_url(xipc_sock *ss, char *buf, size_t cap)
{
    return xipc__url_format(buf, cap, "mq", ((mq_sock *)ss)->name);
}

static void mq_close(xipc_sock *ss)
{
    mq_sock *s = (mq_sock *)ss;
    if (s->receiver) {
        /* unlink first: senders see the link count drop to 0 and stop */
        xipc_plat_mq_unlink(s->obj);
        xipc_plat_lockfile_release(s->lock, s->lockpath);
    }
    mq_free(s);
}

/* ---- listing (xipc_endpoints) --------------------------------------------- */

static xipc_err mq_list(void (*fn)(const xipc_endpoint_info *, void *), void *arg)
{
    return xipc__named_lock_list("mq", "mq", "mq", fn, arg);
}

const xipc_tran xipc_mq_tran = {
    .scheme = "mq",
    .listen = mq_listen,
    .dial = mq_dial,
    .send = mq_send,
    .recv = mq_recv,
    .peer_pid = mq_peer_pid,
    .send_prio = mq_send_prio,
    .recv_prio = mq_recv_prio,
    .fd = mq_fd,
    .url = mq_url,
    .close = mq_close,
    .list = mq_list,
};
