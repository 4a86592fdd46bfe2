/* Threads for the POSIX port. */
#include <pthread.h>
#include <stdlib.h>

#include "core/platform.h"

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

xipc_err xipc_plat_thread_detached(void (*fn)(void *), void *arg)
{
    thread_start *t = malloc(sizeof(*t));
    if (t == NULL)
        return XIPC_ENOMEM;
    t->fn = fn;
    t->arg = arg;
    pthread_attr_t at;
    pthread_t th;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&th, &at, thread_main, t);
    pthread_attr_destroy(&at);
    if (rc != 0) {
        free(t);
        xipc__set_syserr(rc);
        return XIPC_ESYS;
    }
    return XIPC_OK;
}
