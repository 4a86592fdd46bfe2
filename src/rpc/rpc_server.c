/*
 * The RPC server (the container): options, the method table, listeners,
 * graceful stop, counters. Connections: rpc_srvconn.c and rpc_poll.c;
 * the workers, the answerer and the call API: rpc_call.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/opts.h"
#include "rpc/rpc_server.h"

#define SRV_DEFAULT_MAX_MSG (16u << 20)
#define SRV_DEFAULT_INFLIGHT 1024u
#define SRV_DEFAULT_QUEUED (64u << 20)
#define SRV_DEFAULT_CONNS 4096u
/* A quarter of the server: one peer (a user, an address) cannot take it
 * all, and the 500 connections per peer of load_test fit. */
#define SRV_DEFAULT_CONNS_PER_PEER (SRV_DEFAULT_CONNS / 4)
#define SRV_DEFAULT_FIRST_MS 10000
#define SRV_DEFAULT_IDLE_MS (5 * 60 * 1000)
#define SRV_MAX_WORKERS 1024u

xipc_err xipc_rpc_server_opts_init(xipc_rpc_server_opts *o)
{
    if (o == NULL)
        return XIPC_EINVAL;
    memset(o, 0, sizeof(*o));
    o->magic = XIPC_RPC_OPTS_MAGIC;
    o->size = sizeof(*o);
    o->workers = xipc_plat_cpu_count();
    o->max_msg = SRV_DEFAULT_MAX_MSG;
    o->max_depth = XIPC_RPC_SCAN_DEPTH;
    o->max_inflight = SRV_DEFAULT_INFLIGHT;
    o->max_queued_bytes = SRV_DEFAULT_QUEUED;
    o->send_timeout_ms = 10000;
    o->max_conns = SRV_DEFAULT_CONNS;
    o->max_conns_per_peer = SRV_DEFAULT_CONNS_PER_PEER;
    o->first_request_timeout_ms = SRV_DEFAULT_FIRST_MS;
    o->idle_timeout_ms = SRV_DEFAULT_IDLE_MS;
    return xipc_opts_init(&o->sock);
}

/* A connection timeout: -1 (none) or a positive number of ms. 0 would
 * close every connection before it could speak. */
static int srv_timeout_ok(int ms)
{
    return ms == -1 || ms > 0;
}

static xipc_err srv_opts_check(const xipc_rpc_server_opts *o)
{
    if (o->magic != XIPC_RPC_OPTS_MAGIC || o->size != sizeof(*o) ||
        o->sock.magic != XIPC_OPTS_MAGIC || o->workers > SRV_MAX_WORKERS ||
        o->max_msg < 16 || o->max_msg > XIPC_MAX_MSG || o->max_depth < 2 ||
        o->max_depth > XIPC_RPC_SCAN_DEPTH || o->max_inflight == 0 ||
        o->max_queued_bytes == 0 || o->send_timeout_ms < -1 || o->max_conns == 0 ||
        o->max_conns_per_peer == 0 || !srv_timeout_ok(o->first_request_timeout_ms) ||
        !srv_timeout_ok(o->idle_timeout_ms))
        return XIPC_EINVAL;
    return XIPC_OK;
}

static void srv_free_storage(xipc_rpc_server *srv)
{
    for (size_t i = 0; i < srv->nmethods; i++) {
        free(srv->methods[i].name);
        free(srv->methods[i].sig);
    }
    free(srv->methods);
    while (srv->listeners != NULL) {
        srv_listener *sl = srv->listeners;
        srv->listeners = sl->next;
        free(sl);
    }
    for (uint32_t i = 0; i < srv->npeer_buckets; i++) {
        while (srv->peers[i] != NULL) { /* none left after stop */
            srv_peer *p = srv->peers[i];
            srv->peers[i] = p->next;
            free(p);
        }
    }
    free(srv->peers);
    free(srv->workers);
    xipc_plat_poller_free(srv->poller);
    xipc_plat_cond_fini(&srv->tick);
    xipc_plat_cond_fini(&srv->answers);
    xipc_plat_cond_fini(&srv->change);
    xipc_plat_cond_fini(&srv->work);
    xipc_plat_mutex_fini(&srv->mu);
    free(srv);
}

/* Add a method; srv->mu held. */
static xipc_err srv_method_add(xipc_rpc_server *srv, const char *name,
                               const char *sig, xipc_rpc_handler fn, void *ud,
                               unsigned flags)
{
    for (size_t i = 0; i < srv->nmethods; i++)
        if (strcmp(srv->methods[i].name, name) == 0)
            return XIPC_EADDRINUSE;
    if (srv->nmethods == srv->cap) {
        size_t cap = srv->cap ? srv->cap * 2 : 16;
        srv_method *m = realloc(srv->methods, cap * sizeof(*m));
        if (m == NULL)
            return XIPC_ENOMEM;
        srv->methods = m;
        srv->cap = cap;
    }
    srv_method *m = &srv->methods[srv->nmethods];
    size_t nl = strlen(name), sl = sig != NULL ? strlen(sig) : 0;
    m->name = malloc(nl + 1);
    m->sig = malloc(sl + 1);
    if (m->name == NULL || m->sig == NULL) {
        free(m->name);
        free(m->sig);
        return XIPC_ENOMEM;
    }
    memcpy(m->name, name, nl + 1);
    if (sl > 0)
        memcpy(m->sig, sig, sl);
    m->sig[sl] = '\0';
    m->fn = fn;
    m->userdata = ud;
    m->flags = flags;
    srv->nmethods++;
    return XIPC_OK;
}

/* ms to ns, -1 (none) to 0 */
static uint64_t srv_ns(int ms)
{
    return ms > 0 ? (uint64_t)ms * 1000000u : 0;
}

/* The timeouts in ns, and how often the poller looks at them: an eighth
 * of the shorter one, 10 ms to 1 s, so a connection is closed at most
 * about an eighth late (a second for the defaults). */
static void srv_timeouts_init(xipc_rpc_server *srv)
{
    srv->first_ns = srv_ns(srv->o.first_request_timeout_ms);
    srv->idle_ns = srv_ns(srv->o.idle_timeout_ms);
    uint64_t shortest = UINT64_MAX;
    if (srv->first_ns > 0)
        shortest = srv->first_ns;
    if (srv->idle_ns > 0 && srv->idle_ns < shortest)
        shortest = srv->idle_ns;
    uint64_t ms = shortest == UINT64_MAX ? 1000 : shortest / 8 / 1000000u;
    srv->sweep_ms = ms < 10 ? 10 : ms > 1000 ? 1000 : (uint32_t)ms;
    /* the peer table's hash key: unknown to peers, different per server */
    srv->peer_seed = xipc_plat_now_ns() ^ ((uint64_t)(uintptr_t)srv << 16);
    atomic_init(&srv->mem_freed, 0);
}

xipc_err xipc_rpc_server_alloc(xipc_rpc_server **out,
                               const xipc_rpc_server_opts *opts)
{
    if (out == NULL)
        return XIPC_EINVAL;
    *out = NULL;
    xipc_rpc_server_opts o;
    if (opts == NULL)
        xipc_rpc_server_opts_init(&o);
    else
        o = *opts;
    xipc_err rv = srv_opts_check(&o);
    if (rv != XIPC_OK)
        return rv;
    if (o.workers == 0)
        o.workers = xipc_plat_cpu_count();
    xipc_rpc_server *srv = calloc(1, sizeof(*srv));
    if (srv == NULL)
        return XIPC_ENOMEM;
    srv->o = o;
    srv->lim.max_msg = o.max_msg;
    srv->lim.max_depth = o.max_depth;
    srv_timeouts_init(srv);
    if (xipc_plat_mutex_init(&srv->mu) != XIPC_OK) {
        free(srv);
        return XIPC_ENOMEM;
    }
    xipc_plat_cond *conds[] = {&srv->work, &srv->change, &srv->answers, &srv->tick};
    for (size_t i = 0; i < sizeof(conds) / sizeof(conds[0]); i++) {
        if (xipc_plat_cond_init(conds[i]) != XIPC_OK) {
            while (i-- > 0)
                xipc_plat_cond_fini(conds[i]);
            xipc_plat_mutex_fini(&srv->mu);
            free(srv);
            return XIPC_ENOMEM;
        }
    }
    srv->workers = calloc(o.workers, sizeof(*srv->workers));
    rv = srv->workers == NULL ? XIPC_ENOMEM : xipc_plat_poller_alloc(&srv->poller);
    if (rv == XIPC_OK)
        rv = srv_method_add(srv, "xipc.methods", "() -> [[name, signature], ...]",
                            xipc__rpc_builtin_methods, srv, 0);
    for (uint32_t i = 0; rv == XIPC_OK && i < o.workers; i++) {
        rv = xipc_plat_thread_create(&srv->workers[i], xipc__rpc_worker_main, srv);
        if (rv == XIPC_OK)
            srv->nworkers++;
    }
    if (rv == XIPC_OK &&
        (rv = xipc_plat_thread_create(&srv->answerer, xipc__rpc_answerer_main, srv)) ==
            XIPC_OK)
        srv->answerer_started = 1;
    if (rv == XIPC_OK && XIPC_RPC_LEADER &&
        (rv = xipc_plat_thread_create(&srv->rescuer, xipc__rpc_rescuer_main, srv)) ==
            XIPC_OK)
        srv->rescuer_started = 1;
    if (rv != XIPC_OK) {
        xipc_rpc_server_free(srv);
        return rv;
    }
    *out = srv;
    return XIPC_OK;
}

xipc_err xipc_rpc_server_register_ex(xipc_rpc_server *srv, const char *name,
                                     const char *signature,
                                     xipc_rpc_handler handler, void *userdata,
                                     unsigned flags)
{
    if (srv == NULL || name == NULL || handler == NULL || name[0] == '\0' ||
        strlen(name) > XIPC_RPC_METHOD_MAX || strncmp(name, "xipc.", 5) == 0 ||
        (flags & ~(unsigned)XIPC_RPC_INLINE) != 0)
        return XIPC_EINVAL;
    xipc_plat_mutex_lock(&srv->mu);
    xipc_err rv = srv->stopping
                      ? XIPC_ESTATE
                      : srv_method_add(srv, name, signature, handler, userdata, flags);
    xipc_plat_mutex_unlock(&srv->mu);
    return rv;
}

xipc_err xipc_rpc_server_register(xipc_rpc_server *srv, const char *name,
                                  const char *signature,
                                  xipc_rpc_handler handler, void *userdata)
{
    return xipc_rpc_server_register_ex(srv, name, signature, handler, userdata, 0);
}

/* ---- listeners ------------------------------------------------------------- */

static void srv_listener_main(void *arg)
{
    srv_listener *sl = arg;
    xipc_rpc_server *srv = sl->srv;
    for (;;) {
        xipc_plat_mutex_lock(&srv->mu);
        int stopping = srv->stopping;
        xipc_plat_mutex_unlock(&srv->mu);
        if (stopping)
            break;
        xipc__rpc_reap(srv);
        xipc__rpc_mem_tick(srv, xipc_plat_now_ns());
        xipc_rpc_conn *c;
        xipc_err rv = xipc__rpc_accept(sl->l, &c, XIPC_RPC_POLL_MS);
        if (rv == XIPC_OK)
            xipc__rpc_conn_add(srv, c);
        else if (rv != XIPC_ETIMEDOUT)
            xipc_plat_sleep_us(10000); /* out of descriptors: let some close */
    }
}

xipc_err xipc_rpc_server_serve(xipc_rpc_server *srv, const char *url)
{
    if (srv == NULL || url == NULL)
        return XIPC_EINVAL;
    srv_listener *sl = calloc(1, sizeof(*sl));
    if (sl == NULL)
        return XIPC_ENOMEM;
    sl->srv = srv;
    xipc_err rv = xipc__rpc_listen(&sl->l, url, &srv->lim, &srv->o.sock);
    if (rv != XIPC_OK) {
        free(sl);
        return rv;
    }
    snprintf(sl->url, sizeof(sl->url), "%s", sl->l->url);
    /* schemes without connections (mailslot, mq, pubsub) cannot serve */
    xipc_rpc_conn *first = NULL;
    rv = xipc__rpc_accept(sl->l, &first, 0);
    if (rv == XIPC_EINVAL || rv == XIPC_ENOTSUP) {
        xipc__rpc_listener_close(sl->l);
        free(sl);
        return XIPC_ENOTSUP;
    }
    xipc_plat_mutex_lock(&srv->mu);
    rv = srv->stopping ? XIPC_ESTATE
         : sl->l->stream ? xipc__rpc_poll_start(srv) /* its readers' thread */
                         : XIPC_OK;
    xipc_plat_mutex_unlock(&srv->mu);
    if (first != NULL)
        xipc__rpc_conn_add(srv, first);
    xipc_plat_mutex_lock(&srv->mu);
    if (rv == XIPC_OK)
        rv = srv->stopping ? XIPC_ESTATE
                           : xipc_plat_thread_create(&sl->thread, srv_listener_main, sl);
    if (rv == XIPC_OK) {
        srv_listener **pp = &srv->listeners;
        while (*pp != NULL)
            pp = &(*pp)->next;
        *pp = sl;
    }
    xipc_plat_mutex_unlock(&srv->mu);
    if (rv != XIPC_OK) {
        xipc__rpc_listener_close(sl->l);
        free(sl);
    }
    return rv;
}

xipc_err xipc_rpc_server_url(xipc_rpc_server *srv, unsigned index, char *buf,
                             size_t cap)
{
    if (srv == NULL || buf == NULL || cap == 0)
        return XIPC_EINVAL;
    xipc_err rv = XIPC_ENOENT;
    xipc_plat_mutex_lock(&srv->mu);
    srv_listener *sl = srv->listeners;
    for (unsigned i = 0; sl != NULL && i < index; i++)
        sl = sl->next;
    if (sl != NULL) {
        size_t n = strlen(sl->url);
        rv = n < cap ? XIPC_OK : XIPC_EMSGSIZE;
        if (rv == XIPC_OK)
            memcpy(buf, sl->url, n + 1);
    }
    xipc_plat_mutex_unlock(&srv->mu);
    return rv;
}

/* ---- stop -------------------------------------------------------------------- */

xipc_err xipc_rpc_server_stop(xipc_rpc_server *srv)
{
    if (srv == NULL)
        return XIPC_EINVAL;
    xipc_plat_mutex_lock(&srv->mu);
    if (srv->stopping) { /* another caller stops it: wait for the end */
        while (!srv->stopped)
            xipc_plat_cond_wait(&srv->change, &srv->mu, UINT64_MAX);
        xipc_plat_mutex_unlock(&srv->mu);
        return XIPC_OK;
    }
    srv->stopping = 1;
    xipc_plat_cond_broadcast(&srv->change);
    /* the poller ends each connection with nothing in flight */
    for (srv_conn *sc = srv->conns; sc != NULL; sc = sc->next)
        xipc__rpc_conn_kick(sc);
    xipc_plat_mutex_unlock(&srv->mu);

    /* 1. no new connections */
    for (srv_listener *sl = srv->listeners; sl != NULL; sl = sl->next) {
        xipc_plat_thread_join(&sl->thread);
        xipc__rpc_listener_close(sl->l);
        sl->l = NULL;
    }
    /* 2. every call received is answered; each reader leaves once its
     * connection has nothing in flight */
    xipc_plat_mutex_lock(&srv->mu);
    while (srv->conns != NULL || srv->qhead != NULL || srv->rhead != NULL ||
           srv->ahead != NULL || srv->running > 0)
        xipc_plat_cond_wait(&srv->change, &srv->mu, UINT64_MAX);
    xipc_plat_mutex_unlock(&srv->mu);
    xipc__rpc_reap(srv);
    /* 3. the workers and the poller */
    xipc_plat_mutex_lock(&srv->mu);
    srv->workers_exit = 1;
    srv->poll_exit = 1;
    xipc_plat_cond_broadcast(&srv->work);
    xipc_plat_cond_broadcast(&srv->answers);
    xipc_plat_cond_broadcast(&srv->tick);
    xipc_plat_mutex_unlock(&srv->mu);
    for (uint32_t i = 0; i < srv->nworkers; i++)
        xipc_plat_thread_join(&srv->workers[i]);
    if (srv->answerer_started)
        xipc_plat_thread_join(&srv->answerer);
    if (srv->rescuer_started)
        xipc_plat_thread_join(&srv->rescuer);
    if (srv->poll_started) {
        xipc_plat_poller_wake(srv->poller);
        xipc_plat_thread_join(&srv->poll_thread);
    }
    xipc_plat_mutex_lock(&srv->mu);
    srv->stopped = 1;
    xipc_plat_cond_broadcast(&srv->change);
    xipc_plat_mutex_unlock(&srv->mu);
    return XIPC_OK;
}

void xipc_rpc_server_free(xipc_rpc_server *srv)
{
    if (srv == NULL)
        return;
    xipc_rpc_server_stop(srv);
    srv_free_storage(srv);
}

size_t xipc__rpc_server_conn_bytes(xipc_rpc_server *srv)
{
    size_t n = 0;
    xipc_plat_mutex_lock(&srv->mu);
    for (srv_conn *sc = srv->conns; sc != NULL; sc = sc->next)
        n += atomic_load(&sc->conn->held);
    xipc_plat_mutex_unlock(&srv->mu);
    return n;
}

uint64_t xipc__rpc_server_rescues(xipc_rpc_server *srv)
{
    xipc_plat_mutex_lock(&srv->mu);
    uint64_t n = srv->rescues;
    xipc_plat_mutex_unlock(&srv->mu);
    return n;
}

xipc_err xipc_rpc_server_stats_get(xipc_rpc_server *srv, xipc_rpc_server_stats *st)
{
    if (srv == NULL || st == NULL)
        return XIPC_EINVAL;
    xipc_plat_mutex_lock(&srv->mu);
    *st = srv->st;
    xipc_plat_mutex_unlock(&srv->mu);
    return XIPC_OK;
}
