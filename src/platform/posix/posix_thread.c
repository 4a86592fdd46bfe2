/* Threads (joinable and detached), mutexes and condition variables for the
 * POSIX port. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdlib.h>
#include <time.h>

#include "platform/posix/posix.h"

_Static_assert(sizeof(pthread_mutex_t) <= sizeof(xipc_plat_mutex),
               "xipc_plat_mutex too small for pthread_mutex_t");
_Static_assert(alignof(pthread_mutex_t) <= alignof(xipc_plat_mutex),
               "xipc_plat_mutex under-aligned");
_Static_assert(sizeof(pthread_cond_t) <= sizeof(xipc_plat_cond),
               "xipc_plat_cond too small for pthread_cond_t");
_Static_assert(alignof(pthread_cond_t) <= alignof(xipc_plat_cond),
               "xipc_plat_cond under-aligned");
_Static_assert(sizeof(pthread_t) <= sizeof(uint64_t), "pthread_t too large");

#define SYNC_MUTEX(m) ((pthread_mutex_t *)(void *)(m)->opaque)
#define SYNC_COND(c) ((pthread_cond_t *)(void *)(c)->opaque)

xipc_err xipc_plat_mutex_init(xipc_plat_mutex *m)
{
    int rc = pthread_mutex_init(SYNC_MUTEX(m), NULL);
    if (rc != 0)
        return xipc__posix_err(rc);
    return XIPC_OK;
}

void xipc_plat_mutex_fini(xipc_plat_mutex *m)
{
    pthread_mutex_destroy(SYNC_MUTEX(m));
}

void xipc_plat_mutex_lock(xipc_plat_mutex *m)
{
    pthread_mutex_lock(SYNC_MUTEX(m));
}

int xipc_plat_mutex_trylock(xipc_plat_mutex *m)
{
    return pthread_mutex_trylock(SYNC_MUTEX(m)) == 0;
}

void xipc_plat_mutex_unlock(xipc_plat_mutex *m)
{
    pthread_mutex_unlock(SYNC_MUTEX(m));
}

xipc_err xipc_plat_cond_init(xipc_plat_cond *c)
{
    pthread_condattr_t at;
    int rc = pthread_condattr_init(&at);
    if (rc == 0) {
        /* deadlines are on the monotonic clock (xipc_plat_now_ns) */
        rc = pthread_condattr_setclock(&at, CLOCK_MONOTONIC);
        if (rc == 0)
            rc = pthread_cond_init(SYNC_COND(c), &at);
        pthread_condattr_destroy(&at);
    }
    if (rc != 0)
        return xipc__posix_err(rc);
    return XIPC_OK;
}

void xipc_plat_cond_fini(xipc_plat_cond *c)
{
    pthread_cond_destroy(SYNC_COND(c));
}

void xipc_plat_cond_signal(xipc_plat_cond *c)
{
    pthread_cond_signal(SYNC_COND(c));
}

void xipc_plat_cond_broadcast(xipc_plat_cond *c)
{
    pthread_cond_broadcast(SYNC_COND(c));
}

xipc_err xipc_plat_cond_wait(xipc_plat_cond *c, xipc_plat_mutex *m,
                             uint64_t deadline_ns)
{
    if (deadline_ns == UINT64_MAX) {
        pthread_cond_wait(SYNC_COND(c), SYNC_MUTEX(m));
        return XIPC_OK;
    }
    struct timespec ts;
    ts.tv_sec = (time_t)(deadline_ns / 1000000000u);
    ts.tv_nsec = (long)(deadline_ns % 1000000000u);
    int rc = pthread_cond_timedwait(SYNC_COND(c), SYNC_MUTEX(m), &ts);
    return rc == ETIMEDOUT ? XIPC_ETIMEDOUT : XIPC_OK;
}

typedef struct thread_start {
    void (*fn)(void *);
    void *arg;
} thread_start;

static void *thread_main(void *p)
{
    thread_start t = *(thread_start *)p;
    free(p);
    t.fn(t.arg);
    return NULL;
}

xipc_err xipc_plat_thread_create(xipc_plat_thread *t, void (*fn)(void *),
                                 void *arg)
{
    return xipc_plat_thread_create_stack(t, fn, arg, 0);
}

/* Start a thread with a stack of @p stack_bytes (0: the default); @p out
 * gets it, or NULL: detached. */
static xipc_err thread_start_new(void (*fn)(void *), void *arg, size_t stack_bytes,
                                 pthread_t *out)
{
    thread_start *s = malloc(sizeof(*s));
    if (s == NULL)
        return XIPC_ENOMEM;
    s->fn = fn;
    s->arg = arg;
    pthread_t th;
    pthread_attr_t at;
    int rc = pthread_attr_init(&at);
    if (rc == 0) {
        if (stack_bytes > 0) {
            if (stack_bytes < (size_t)PTHREAD_STACK_MIN)
                stack_bytes = (size_t)PTHREAD_STACK_MIN;
            rc = pthread_attr_setstacksize(&at, stack_bytes);
        }
        if (rc == 0 && out == NULL)
            rc = pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (rc == 0)
            rc = pthread_create(&th, &at, thread_main, s);
        pthread_attr_destroy(&at);
    }
    if (rc != 0) {
        free(s);
        /* EAGAIN: no resources for another thread */
        return rc == EAGAIN ? (xipc__set_syserr(rc), XIPC_ENOMEM) : xipc__posix_err(rc);
    }
    if (out != NULL)
        *out = th;
    return XIPC_OK;
}

xipc_err xipc_plat_thread_create_stack(xipc_plat_thread *t, void (*fn)(void *),
                                       void *arg, size_t stack_bytes)
{
    pthread_t th;
    xipc_err rv = thread_start_new(fn, arg, stack_bytes, &th);
    if (rv == XIPC_OK)
        t->handle = (uint64_t)th;
    return rv;
}

void xipc_plat_thread_join(xipc_plat_thread *t)
{
    pthread_join((pthread_t)t->handle, NULL);
}

xipc_err xipc_plat_thread_detached(void (*fn)(void *), void *arg)
{
    return thread_start_new(fn, arg, 0, NULL);
}
