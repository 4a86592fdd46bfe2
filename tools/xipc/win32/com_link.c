/*
 * The one connection of a com-serve process to its RPC service, shared
 * by every object and every COM thread (an xipc_rpc_client takes calls
 * from any number of threads at once). It is dialled at the first call,
 * not at start: a server COM starts must register its class object at
 * once, whether or not the service is up, or the client waits for COM's
 * own timeout. A connection that is lost is replaced at the next call;
 * since xipc_rpc_client_close must not race a call, each call holds a
 * reference and the last one closes it.
 */
#include <stdlib.h>

#include "com_server.h"

typedef struct link_conn {
    xipc_rpc_client *c;
    LONG refs; /* under link_lock: the calls, and 1 while current */
} link_conn;

static SRWLOCK link_lock = SRWLOCK_INIT;
static link_conn *link_cur;
static const char *link_url;
static int link_timeout = -1;

void com_link_init(const char *url, int timeout_ms)
{
    link_url = url;
    link_timeout = timeout_ms;
}

const char *com_link_url(void)
{
    return link_url;
}

/* The current connection, dialled when there is none (@p fresh 1). */
static xipc_err link_get(link_conn **out, int *fresh)
{
    xipc_err rv = XIPC_OK;
    AcquireSRWLockExclusive(&link_lock);
    *fresh = link_cur == NULL;
    if (link_cur == NULL) {
        link_conn *l = calloc(1, sizeof(*l));
        if (l == NULL)
            rv = XIPC_ENOMEM;
        else if ((rv = xipc_rpc_client_dial(&l->c, link_url, NULL, link_timeout)) != XIPC_OK)
            free(l);
        else {
            l->refs = 1;
            link_cur = l;
        }
    }
    if (rv == XIPC_OK) {
        link_cur->refs++;
        *out = link_cur;
    }
    ReleaseSRWLockExclusive(&link_lock);
    return rv;
}

/* Drop a call's reference; @p lost: the connection is no good any more. */
static void link_put(link_conn *l, int lost)
{
    AcquireSRWLockExclusive(&link_lock);
    if (lost && link_cur == l) {
        link_cur = NULL;
        l->refs--;
    }
    int last = --l->refs == 0;
    ReleaseSRWLockExclusive(&link_lock);
    if (last) {
        xipc_rpc_client_close(l->c);
        free(l);
    }
}

xipc_err com_link_call(const char *method, const void *params, size_t len,
                       xipc_rpc_result *res)
{
    for (int attempt = 0;; attempt++) {
        link_conn *l;
        int fresh;
        xipc_err rv = link_get(&l, &fresh);
        if (rv != XIPC_OK)
            return rv;
        rv = xipc_rpc_call(l->c, method, params, len, res, link_timeout);
        link_put(l, rv == XIPC_ECLOSED || rv == XIPC_EPROTO);
        /* a service closes idle connections (5 minutes by default): a
         * call on a connection of earlier calls goes out once more */
        if (rv != XIPC_ECLOSED || fresh || attempt > 0)
            return rv;
        xipc_rpc_result_fini(res);
    }
}

void com_link_fini(void)
{
    AcquireSRWLockExclusive(&link_lock);
    link_conn *l = link_cur;
    link_cur = NULL;
    ReleaseSRWLockExclusive(&link_lock);
    if (l != NULL)
        link_put(l, 0);
}
