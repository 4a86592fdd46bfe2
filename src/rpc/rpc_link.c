/*
 * Server push (include/xipc/rpc.h, "server push"): a link names the
 * connection a request came on, so that any thread of the server may send
 * that client notifications later.
 *
 * A link does not hold its connection open: the connection keeps a list
 * of its links, and when its last reference goes (xipc__rpc_conn_unref)
 * they are detached and fail with XIPC_ECLOSED from then on. So a link
 * forgotten by its owner never keeps a client, or xipc_rpc_server_stop,
 * waiting. While one notification is sent the link takes a reference, as
 * a queued call does, so the connection cannot be freed under the send.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc_server.h"

struct xipc_rpc_link {
    xipc_rpc_link *next;  /* in sc->links */
    xipc_rpc_server *srv;
    srv_conn *sc;         /* NULL once detached (srv->mu) */
};

void xipc__rpc_links_detach(srv_conn *sc)
{
    for (xipc_rpc_link *l = sc->links; l != NULL; l = l->next)
        l->sc = NULL;
    sc->links = NULL;
}

xipc_err xipc_rpc_req_link(xipc_rpc_req *req, xipc_rpc_link **out)
{
    if (req == NULL || out == NULL)
        return XIPC_EINVAL;
    srv_conn *sc = xipc__rpc_req_conn(req);
    xipc_rpc_link *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return XIPC_ENOMEM;
    l->srv = sc->srv;
    xipc_plat_mutex_lock(&sc->srv->mu);
    int over = atomic_load(&sc->conn->broken) != 0;
    if (!over) {
        l->sc = sc;
        l->next = sc->links;
        sc->links = l;
    }
    xipc_plat_mutex_unlock(&sc->srv->mu);
    if (over) {
        free(l);
        return XIPC_ECLOSED;
    }
    *out = l;
    return XIPC_OK;
}

xipc_err xipc_rpc_link_notify(xipc_rpc_link *l, const char *method,
                              const void *params, size_t len, int timeout_ms)
{
    if (l == NULL || timeout_ms < -1)
        return XIPC_EINVAL;
    xipc_rpc_call_out o;
    xipc_err rv = xipc__rpc_check_call(method, params, len);
    if (rv == XIPC_OK)
        rv = xipc__rpc_call_out(&o, XIPC_RPC_NOTIFICATION, 0, method, params, len);
    if (rv != XIPC_OK)
        return rv;
    xipc_rpc_server *srv = l->srv;
    xipc_plat_mutex_lock(&srv->mu);
    srv_conn *sc = l->sc;
    if (sc != NULL)
        sc->refs++;
    xipc_plat_mutex_unlock(&srv->mu);
    if (sc == NULL)
        return XIPC_ECLOSED;
    rv = atomic_load(&sc->conn->broken) != 0
             ? XIPC_ECLOSED
             : xipc__rpc_conn_sendv(sc->conn, o.iov, 2, timeout_ms);
    xipc_plat_mutex_lock(&srv->mu);
    xipc__rpc_conn_unref(sc);
    xipc_plat_mutex_unlock(&srv->mu);
    return rv;
}

/* xipc_rpc_link_notify as an xipc_rpc_notify_send */
static xipc_err link_notify(void *l, const char *method, const void *params, size_t len,
                            int timeout_ms)
{
    return xipc_rpc_link_notify(l, method, params, len, timeout_ms);
}

xipc_err xipc_rpc_link_notifyf(xipc_rpc_link *l, const char *method,
                               const char *argfmt, ...)
{
    if (l == NULL)
        return XIPC_EINVAL;
    va_list ap;
    va_start(ap, argfmt);
    xipc_err rv = xipc__rpc_fmt_notify(link_notify, l, method, l->srv->o.send_timeout_ms,
                                       argfmt, &ap);
    va_end(ap);
    return rv;
}

void xipc_rpc_link_free(xipc_rpc_link *l)
{
    if (l == NULL)
        return;
    xipc_rpc_server *srv = l->srv;
    xipc_plat_mutex_lock(&srv->mu);
    if (l->sc != NULL) {
        for (xipc_rpc_link **pp = &l->sc->links; *pp != NULL; pp = &(*pp)->next) {
            if (*pp == l) {
                *pp = l->next;
                break;
            }
        }
    }
    xipc_plat_mutex_unlock(&srv->mu);
    free(l);
}
