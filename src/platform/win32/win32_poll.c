/*
 * The poller of the Windows port: a list of watched stream objects, each
 * with its readiness event (win32_stream.h), probed and then slept on, as
 * select() would. An I/O completion port was the other choice; it would
 * need every object's I/O to be posted to the port (zero-byte reads, AFD
 * polls), which the blocking calls of the contract do not want. This one
 * costs a probe per armed object per wait, fine for the few hundred
 * connections of an xipc server.
 *
 * One-shot: an object reported is disarmed until xipc_plat_poller_arm.
 * The waiter sleeps on its own duplicates of the events, and touches an
 * object only with the poller's lock held, so xipc_plat_poller_del (which
 * takes that lock) may be followed at once by closing the object.
 */
#include <winsock2.h>
#include <windows.h>
#include <stdlib.h>

#include "platform/win32/win32_stream.h"

typedef struct poll_entry {
    xipc__ws *w; /* NULL once deleted: the waiter frees the entry */
    void *tag;
    HANDLE ev;   /* our duplicate of w->ev */
    int armed;
} poll_entry;

struct xipc_plat_poller {
    SRWLOCK lock;
    poll_entry *e; /* under lock */
    size_t n, cap;
    HANDLE change; /* auto-reset: a wake-up, or a change to the list */
    int woken;     /* xipc_plat_poller_wake was called; under lock */
    HANDLE *evs;   /* the waiter's: what it sleeps on */
    size_t evcap;
};

xipc_err xipc_plat_poller_alloc(xipc_plat_poller **out)
{
    xipc_plat_poller *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return XIPC_ENOMEM;
    InitializeSRWLock(&p->lock);
    p->change = CreateEventW(NULL, FALSE, FALSE, NULL);
    if (p->change == NULL) {
        xipc_err rv = xipc__win32_err(GetLastError());
        free(p);
        return rv == XIPC_ENOMEM ? rv : XIPC_ESYS;
    }
    *out = p;
    return XIPC_OK;
}

void xipc_plat_poller_free(xipc_plat_poller *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n; i++)
        CloseHandle(p->e[i].ev);
    CloseHandle(p->change);
    free(p->e);
    free(p->evs);
    free(p);
}

static poll_entry *poller_find(xipc_plat_poller *p, xipc__ws *w)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->e[i].w == w)
            return &p->e[i];
    return NULL;
}

xipc_err xipc_plat_poller_add(xipc_plat_poller *p, xipc_plat_sock s, void *tag)
{
    xipc__ws *w = xipc__ws_get(s);
    if (w == NULL || tag == NULL)
        return XIPC_EINVAL;
    HANDLE dup;
    if (!DuplicateHandle(GetCurrentProcess(), w->ev, GetCurrentProcess(), &dup, 0, FALSE,
                         DUPLICATE_SAME_ACCESS))
        return xipc__win32_err(GetLastError()) == XIPC_ENOMEM ? XIPC_ENOMEM : XIPC_ESYS;
    AcquireSRWLockExclusive(&p->lock);
    xipc_err rv = XIPC_OK;
    if (poller_find(p, w) != NULL) {
        rv = XIPC_EADDRINUSE; /* watched already, as epoll says EEXIST */
    } else if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        poll_entry *e = realloc(p->e, cap * sizeof(*e));
        if (e == NULL)
            rv = XIPC_ENOMEM;
        else
            p->e = e, p->cap = cap;
    }
    if (rv == XIPC_OK)
        p->e[p->n++] = (poll_entry){w, tag, dup, 1};
    ReleaseSRWLockExclusive(&p->lock);
    if (rv != XIPC_OK)
        CloseHandle(dup);
    else
        SetEvent(p->change);
    return rv;
}

xipc_err xipc_plat_poller_arm(xipc_plat_poller *p, xipc_plat_sock s, void *tag)
{
    xipc__ws *w = xipc__ws_get(s);
    if (w == NULL || tag == NULL)
        return XIPC_EINVAL;
    AcquireSRWLockExclusive(&p->lock);
    poll_entry *e = poller_find(p, w);
    if (e != NULL) {
        e->tag = tag;
        e->armed = 1;
    }
    ReleaseSRWLockExclusive(&p->lock);
    if (e == NULL)
        return XIPC_ENOENT;
    SetEvent(p->change);
    return XIPC_OK;
}

void xipc_plat_poller_del(xipc_plat_poller *p, xipc_plat_sock s)
{
    xipc__ws *w = xipc__ws_get(s);
    if (w == NULL)
        return;
    AcquireSRWLockExclusive(&p->lock);
    poll_entry *e = poller_find(p, w);
    if (e != NULL) {
        e->w = NULL; /* its event may be slept on: the waiter closes it */
        e->armed = 0;
    }
    ReleaseSRWLockExclusive(&p->lock);
    SetEvent(p->change);
}

/* Drop deleted entries (lock held, nobody sleeping on their events). */
static void poller_purge(xipc_plat_poller *p)
{
    size_t k = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (p->e[i].w == NULL)
            CloseHandle(p->e[i].ev);
        else
            p->e[k++] = p->e[i];
    }
    p->n = k;
}

xipc_err xipc_plat_poller_wait(xipc_plat_poller *p, void **tags, int cap, int *n,
                               int timeout_ms)
{
    xipc_deadline d = xipc__deadline(timeout_ms);
    *n = 0;
    if (cap < 1)
        return XIPC_EINVAL;
    AcquireSRWLockExclusive(&p->lock);
    for (;;) {
        poller_purge(p);
        for (size_t i = 0; i < p->n && *n < cap; i++) {
            poll_entry *e = &p->e[i];
            if (e->armed && xipc__ws_probe(e->w)) {
                e->armed = 0; /* one-shot */
                tags[(*n)++] = e->tag;
            }
        }
        if (*n > 0 || p->woken) {
            p->woken = 0;
            break;
        }
        if (p->evcap < p->n + 1) {
            HANDLE *evs = realloc(p->evs, (p->n + 1) * sizeof(*evs));
            if (evs == NULL) {
                ReleaseSRWLockExclusive(&p->lock);
                return XIPC_ENOMEM;
            }
            p->evs = evs;
            p->evcap = p->n + 1;
        }
        unsigned m = 0;
        p->evs[m++] = p->change;
        for (size_t i = 0; i < p->n; i++)
            if (p->e[i].armed)
                p->evs[m++] = p->e[i].ev;
        ReleaseSRWLockExclusive(&p->lock);
        xipc_err rv = xipc__win32_wait_events(p->evs, m, &d);
        AcquireSRWLockExclusive(&p->lock);
        if (rv == XIPC_ETIMEDOUT)
            break;
        if (rv != XIPC_OK) {
            ReleaseSRWLockExclusive(&p->lock);
            return rv;
        }
    }
    ReleaseSRWLockExclusive(&p->lock);
    return XIPC_OK;
}

void xipc_plat_poller_wake(xipc_plat_poller *p)
{
    AcquireSRWLockExclusive(&p->lock);
    p->woken = 1;
    ReleaseSRWLockExclusive(&p->lock);
    SetEvent(p->change);
}
