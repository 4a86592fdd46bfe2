/*
 * The "message queues" group on Windows: window messages. A queue is a
 * message-only window (HWND_MESSAGE: no display needed, invisible to
 * EnumWindows and broadcasts) of class "xipc-mq" whose title is the
 * queue's name. A sender finds it with FindWindowExW and delivers each
 * message with WM_COPYDATA through SendMessageTimeoutW, which copies the
 * bytes into the receiver's process and returns only once the receiver's
 * window procedure has answered: stored (1), full (0) or refused (2). The
 * receiver keeps the messages in its own memory, highest priority first
 * and in order within a priority, as a POSIX queue does.
 *
 * Window messages are handled by the thread that made the window, inside
 * a message loop; the receiver therefore runs one thread of its own for
 * the window, and xipc_plat_mq_recv waits on a condition variable for
 * what that thread stored. A queue's name vanishes with its window, so
 * with its process, however that ends: there is nothing to unlink.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>

#include "platform/win32/win32.h"
#include "platform/win32/win32_loop.h"

#define MQ_CLASS L"xipc-mq"
#define MQ_TITLE_MAX 128
#define MQ_DEPTH_MAX 4096u
#define MQ_MSGSIZE_MAX (1u << 20)
#define MQ_PRIO_MAX 32768u /* as POSIX's MQ_PRIO_MAX on Linux */
#define MQ_WM_MSGSIZE (WM_APP + 0x71) /* answers the queue's largest message */
#define MQ_WM_DEPTH (WM_APP + 0x72)   /* answers its depth */
#define MQ_STORED 1
#define MQ_FULL 0
#define MQ_REFUSED 2

typedef struct mq_msg {
    struct mq_msg *next;
    unsigned prio;
    size_t len;
    unsigned char data[];
} mq_msg;

typedef struct mq_win {
    HWND hwnd;
    int receiver;
    DWORD pid; /* the window's process */
    /* receiver */
    xipc__win32_loop loop; /* the window's thread */
    wchar_t title[MQ_TITLE_MAX];
    uint32_t depth, msgsize;
    xipc_plat_mutex mu;
    xipc_plat_cond cv;
    mq_msg *head; /* by priority, then arrival; under mu */
    uint32_t count;
} mq_win;

void xipc_plat_mq_limits(uint32_t *depth_max, uint32_t *msgsize_max)
{
    *depth_max = MQ_DEPTH_MAX;
    *msgsize_max = MQ_MSGSIZE_MAX;
}

/* Queue one copied message, after those of its priority and above. */
static LRESULT mq_store(mq_win *w, const COPYDATASTRUCT *cd)
{
    if (cd == NULL || cd->cbData > w->msgsize || cd->dwData >= MQ_PRIO_MAX ||
        (cd->cbData > 0 && cd->lpData == NULL))
        return MQ_REFUSED;
    xipc_plat_mutex_lock(&w->mu);
    if (w->count >= w->depth) {
        xipc_plat_mutex_unlock(&w->mu);
        return MQ_FULL;
    }
    mq_msg *m = malloc(sizeof(*m) + cd->cbData);
    if (m == NULL) {
        xipc_plat_mutex_unlock(&w->mu);
        return MQ_FULL; /* the sender retries until its timeout */
    }
    m->prio = (unsigned)cd->dwData;
    m->len = cd->cbData;
    if (cd->cbData > 0)
        memcpy(m->data, cd->lpData, cd->cbData);
    mq_msg **p = &w->head;
    while (*p != NULL && (*p)->prio >= m->prio)
        p = &(*p)->next;
    m->next = *p;
    *p = m;
    w->count++;
    xipc_plat_cond_signal(&w->cv);
    xipc_plat_mutex_unlock(&w->mu);
    return MQ_STORED;
}

static LRESULT CALLBACK mq_wndproc(HWND hwnd, UINT msg, WPARAM wp, LPARAM lp)
{
    if (msg == WM_NCCREATE) {
        const CREATESTRUCTW *cs = (const CREATESTRUCTW *)lp;
        SetWindowLongPtrW(hwnd, GWLP_USERDATA, (LONG_PTR)cs->lpCreateParams);
        return DefWindowProcW(hwnd, msg, wp, lp);
    }
    mq_win *w = (mq_win *)GetWindowLongPtrW(hwnd, GWLP_USERDATA);
    switch (msg) {
    case WM_COPYDATA:
        return w != NULL ? mq_store(w, (const COPYDATASTRUCT *)lp) : MQ_REFUSED;
    case MQ_WM_MSGSIZE:
        return w != NULL ? (LRESULT)w->msgsize : 0;
    case MQ_WM_DEPTH:
        return w != NULL ? (LRESULT)w->depth : 0;
    default:
        return DefWindowProcW(hwnd, msg, wp, lp);
    }
}

/* The queue's window name: its name as UTF-16. */
static xipc_err mq_title(wchar_t *out, const char *name)
{
    wchar_t *w;
    xipc_err rv = xipc__win32_wide(name, &w);
    if (rv != XIPC_OK)
        return rv;
    size_t n = wcslen(w);
    if (n == 0 || n >= MQ_TITLE_MAX)
        rv = XIPC_EINVAL;
    else
        memcpy(out, w, (n + 1) * sizeof(*w));
    free(w);
    return rv;
}

/* On the receiver's loop thread: make the window, and later destroy it. */
static xipc_err mq_window_start(void *arg)
{
    mq_win *w = arg;
    return xipc__win32_msg_window(&w->hwnd, MQ_CLASS, mq_wndproc, w->title, w);
}

static void mq_window_stop(void *arg)
{
    DestroyWindow(((mq_win *)arg)->hwnd);
}

static void mq_free(mq_win *w)
{
    while (w->head != NULL) {
        mq_msg *m = w->head;
        w->head = m->next;
        free(m);
    }
    if (w->receiver) {
        xipc_plat_cond_fini(&w->cv);
        xipc_plat_mutex_fini(&w->mu);
    }
    free(w);
}

/* The queue behind @p q; NULL for none (handle -1). */
static mq_win *mq_get(const xipc_plat_mq *q)
{
    return q->handle == -1 ? NULL : (mq_win *)q->handle;
}

/* The queue window @p title, when its process is our user's (else XIPC_ENOENT or
 * XIPC_EPERM). */
static xipc_err mq_find(const wchar_t *title, HWND *out, DWORD *pid)
{
    HWND h = FindWindowExW(HWND_MESSAGE, NULL, MQ_CLASS, title);
    if (h == NULL)
        return XIPC_ENOENT;
    if (GetWindowThreadProcessId(h, pid) == 0 || *pid == 0)
        return XIPC_ENOENT; /* gone meanwhile */
    if (!xipc__win32_same_user(*pid)) {
        /* a process that is ending can no longer be asked for its user:
         * its window, about to go, is no queue (a bench peer that reused
         * a name met one under load, and was told EPERM) */
        if (!IsWindow(h) || !xipc_plat_pid_alive(*pid))
            return XIPC_ENOENT;
        return XIPC_EPERM;
    }
    *out = h;
    return XIPC_OK;
}

xipc_err xipc_plat_mq_create(xipc_plat_mq *q, const char *name, uint32_t depth,
                             uint32_t msgsize)
{
    q->handle = -1;
    if (depth == 0 || depth > MQ_DEPTH_MAX || msgsize == 0 || msgsize > MQ_MSGSIZE_MAX)
        return XIPC_EINVAL;
    mq_win *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return XIPC_ENOMEM;
    w->receiver = 1;
    w->depth = depth;
    w->msgsize = msgsize;
    xipc_err rv = mq_title(w->title, name);
    HWND other;
    DWORD opid;
    if (rv == XIPC_OK && mq_find(w->title, &other, &opid) != XIPC_ENOENT)
        rv = XIPC_EADDRINUSE; /* the name is taken: windows are not exclusive */
    if (rv != XIPC_OK) {
        free(w);
        return rv;
    }
    if ((rv = xipc_plat_mutex_init(&w->mu)) != XIPC_OK) {
        free(w);
        return rv;
    }
    if ((rv = xipc_plat_cond_init(&w->cv)) != XIPC_OK) {
        xipc_plat_mutex_fini(&w->mu);
        free(w);
        return rv;
    }
    rv = xipc__win32_loop_start(&w->loop, mq_window_start, mq_window_stop, NULL, w);
    if (rv != XIPC_OK) {
        mq_free(w);
        return rv;
    }
    w->pid = GetCurrentProcessId();
    q->handle = (intptr_t)w;
    q->depth = depth;
    q->msgsize = msgsize;
    return XIPC_OK;
}

/* Ask window @p h a question that has a number for an answer. */
static xipc_err mq_ask(HWND h, UINT what, uint32_t *out)
{
    DWORD_PTR res = 0;
    if (!SendMessageTimeoutW(h, what, 0, 0, SMTO_ABORTIFHUNG, 5000, &res))
        return XIPC_ENOENT; /* gone, or hung */
    if (res == 0 || res > UINT32_MAX)
        return XIPC_EPROTO;
    *out = (uint32_t)res;
    return XIPC_OK;
}

xipc_err xipc_plat_mq_open(xipc_plat_mq *q, const char *name)
{
    q->handle = -1;
    wchar_t title[MQ_TITLE_MAX];
    xipc_err rv = mq_title(title, name);
    if (rv != XIPC_OK)
        return rv;
    mq_win *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return XIPC_ENOMEM;
    rv = mq_find(title, &w->hwnd, &w->pid);
    if (rv == XIPC_OK)
        rv = mq_ask(w->hwnd, MQ_WM_MSGSIZE, &q->msgsize);
    if (rv == XIPC_OK)
        rv = mq_ask(w->hwnd, MQ_WM_DEPTH, &q->depth);
    if (rv == XIPC_OK && (q->msgsize > MQ_MSGSIZE_MAX || q->depth > MQ_DEPTH_MAX))
        rv = XIPC_EPROTO;
    if (rv != XIPC_OK) {
        free(w);
        return rv;
    }
    q->handle = (intptr_t)w;
    return XIPC_OK;
}

xipc_err xipc_plat_mq_send(xipc_plat_mq *q, const void *buf, size_t len,
                           unsigned prio, uint32_t timeout_us)
{
    mq_win *w = mq_get(q);
    if (w == NULL || w->receiver || prio >= MQ_PRIO_MAX)
        return XIPC_EINVAL;
    if (len > q->msgsize)
        return XIPC_EMSGSIZE;
    COPYDATASTRUCT cd = {(ULONG_PTR)prio, (DWORD)len, (void *)buf};
    uint64_t end = xipc_plat_now_ns() + (uint64_t)timeout_us * 1000u;
    uint32_t pause_us = 50;
    for (;;) {
        uint64_t now = xipc_plat_now_ns();
        UINT ms = now >= end ? 1 : (UINT)((end - now + 999999u) / 1000000u);
        DWORD_PTR res = MQ_FULL;
        if (!SendMessageTimeoutW(w->hwnd, WM_COPYDATA, 0, (LPARAM)&cd, SMTO_ABORTIFHUNG,
                                 ms, &res)) {
            DWORD e = GetLastError();
            if (e == ERROR_TIMEOUT || e == 0)
                return XIPC_ETIMEDOUT;
            return xipc__win32_err(e); /* the window is gone: mq_unlinked says so */
        }
        if (res == MQ_STORED)
            return XIPC_OK;
        if (res != MQ_FULL)
            return XIPC_EMSGSIZE;
        if (xipc_plat_now_ns() >= end)
            return XIPC_ETIMEDOUT;
        xipc_plat_sleep_us(pause_us); /* full: the receiver has no way to call us back */
        pause_us = pause_us < 2000 ? pause_us * 2 : 2000;
    }
}

xipc_err xipc_plat_mq_recv(xipc_plat_mq *q, void *buf, size_t *len,
                           unsigned *prio, uint32_t timeout_us)
{
    mq_win *w = mq_get(q);
    if (w == NULL || !w->receiver)
        return XIPC_EINVAL;
    uint64_t end = xipc_plat_now_ns() + (uint64_t)timeout_us * 1000u;
    xipc_plat_mutex_lock(&w->mu);
    while (w->head == NULL) {
        if (xipc_plat_cond_wait(&w->cv, &w->mu, end) == XIPC_ETIMEDOUT && w->head == NULL) {
            xipc_plat_mutex_unlock(&w->mu);
            return XIPC_ETIMEDOUT;
        }
    }
    mq_msg *m = w->head;
    w->head = m->next;
    w->count--;
    xipc_plat_mutex_unlock(&w->mu);
    if (m->len > 0)
        memcpy(buf, m->data, m->len);
    *len = m->len;
    *prio = m->prio;
    free(m);
    return XIPC_OK;
}

int xipc_plat_mq_unlinked(xipc_plat_mq *q)
{
    mq_win *w = mq_get(q);
    if (w == NULL || w->receiver)
        return 0;
    DWORD pid = 0;
    return !IsWindow(w->hwnd) || GetWindowThreadProcessId(w->hwnd, &pid) == 0 ||
           pid != w->pid;
}

int xipc_plat_mq_current(xipc_plat_mq *q, const char *name)
{
    mq_win *w = mq_get(q);
    wchar_t title[MQ_TITLE_MAX];
    HWND h;
    DWORD pid;
    if (w == NULL || mq_title(title, name) != XIPC_OK)
        return 0;
    return mq_find(title, &h, &pid) == XIPC_OK && h == w->hwnd && pid == w->pid;
}

void xipc_plat_mq_close(xipc_plat_mq *q)
{
    mq_win *w = mq_get(q);
    q->handle = -1;
    if (w == NULL)
        return;
    if (w->receiver)
        xipc__win32_loop_stop(&w->loop);
    mq_free(w);
}

void xipc_plat_mq_unlink(const char *name)
{
    (void)name; /* a queue's name goes with its window */
}
