/*
 * The server's connections: admission (max_conns, max_conns_per_peer),
 * reference counting, timeouts, sending responses, turning messages into
 * jobs (max_inflight, back-pressure), answering requests over a limit,
 * and the reader thread of message-mode connections. The poller that
 * reads stream-mode connections is in rpc_poll.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc_server.h"

/* ---- peers ------------------------------------------------------------------ */

/* The bucket of @p id: a keyed mix, so that a peer cannot pick addresses
 * that all land in one bucket. */
static uint32_t peer_bucket(const xipc_rpc_server *srv, const xipc_rpc_peer *id)
{
    uint64_t k;
    memcpy(&k, id->addr, sizeof(k));
    uint64_t h = (k ^ srv->peer_seed) * 0x9e3779b97f4a7c15u;
    h ^= (h >> 29) ^ id->kind;
    h *= 0xbf58476d1ce4e5b9u;
    h ^= h >> 32;
    return (uint32_t)h & (srv->npeer_buckets - 1);
}

static int peer_same(const xipc_rpc_peer *a, const xipc_rpc_peer *b)
{
    return a->kind == b->kind && memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

/* Twice the buckets (64 at first); on failure the chains just grow. */
static void peer_grow(xipc_rpc_server *srv)
{
    uint32_t n = srv->npeer_buckets ? srv->npeer_buckets * 2 : 64;
    srv_peer **b = calloc(n, sizeof(*b));
    if (b == NULL)
        return;
    srv_peer **old = srv->peers;
    uint32_t nold = srv->npeer_buckets;
    srv->peers = b;
    srv->npeer_buckets = n;
    for (uint32_t i = 0; i < nold; i++) {
        while (old[i] != NULL) {
            srv_peer *p = old[i];
            old[i] = p->next;
            uint32_t k = peer_bucket(srv, &p->id);
            p->next = b[k];
            b[k] = p;
        }
    }
    free(old);
}

/* The entry of @p id, made with no connections if need be (NULL: out of
 * memory); srv->mu held. */
static srv_peer *peer_get(xipc_rpc_server *srv, const xipc_rpc_peer *id)
{
    if (srv->npeers >= srv->npeer_buckets)
        peer_grow(srv);
    if (srv->npeer_buckets == 0)
        return NULL;
    uint32_t k = peer_bucket(srv, id);
    for (srv_peer *p = srv->peers[k]; p != NULL; p = p->next)
        if (peer_same(&p->id, id))
            return p;
    srv_peer *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->id = *id;
    p->next = srv->peers[k];
    srv->peers[k] = p;
    srv->npeers++;
    return p;
}

/* One connection of @p id fewer; forgotten at none (also when it had none:
 * made for a connection that was refused); srv->mu held. */
static void peer_put(xipc_rpc_server *srv, const xipc_rpc_peer *id)
{
    if (srv->npeer_buckets == 0)
        return;
    for (srv_peer **pp = &srv->peers[peer_bucket(srv, id)]; *pp != NULL;
         pp = &(*pp)->next) {
        srv_peer *p = *pp;
        if (!peer_same(&p->id, id))
            continue;
        if (p->conns > 0)
            p->conns--;
        if (p->conns == 0) {
            *pp = p->next;
            free(p);
            srv->npeers--;
        }
        return;
    }
}

/* ---- references ------------------------------------------------------------- */

void xipc__rpc_conn_unref(srv_conn *sc)
{
    xipc_rpc_server *srv = sc->srv;
    if (--sc->refs > 0)
        return;
    xipc__rpc_links_detach(sc);
    for (srv_conn **pp = &srv->conns; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == sc) {
            *pp = sc->next;
            break;
        }
    }
    if (sc->refused) {
        srv->nrefusing--;
    } else {
        srv->nconns--;
        peer_put(srv, &sc->conn->peer);
    }
    srv->st.conns = srv->nconns;
    sc->next = srv->zombies;
    srv->zombies = sc;
    xipc_plat_cond_broadcast(&srv->change);
}

void xipc__rpc_reap(xipc_rpc_server *srv)
{
    xipc_plat_mutex_lock(&srv->mu);
    srv_conn *z = srv->zombies;
    srv->zombies = NULL;
    xipc_plat_mutex_unlock(&srv->mu);
    while (z != NULL) {
        srv_conn *next = z->next;
        if (!z->polled)
            xipc_plat_thread_join(&z->thread);
        xipc__rpc_mem_freed(srv, atomic_load(&z->conn->held) + z->inl_out.cap);
        xipc__rpc_conn_close(z->conn);
        xipc_mp_buf_fini(&z->inl_out);
        free(z);
        z = next;
    }
}

int xipc__rpc_conn_full(const srv_conn *sc)
{
    return sc->queued_bytes >= sc->srv->o.max_queued_bytes;
}

int xipc__rpc_conn_done(const srv_conn *sc)
{
    return (sc->srv->stopping && sc->inflight == 0) ||
           (sc->refused && xipc_plat_now_ns() >= sc->refuse_end) ||
           atomic_load(&sc->conn->broken) != 0;
}

/* Is @p now at least @p span after @p since? (@p now may be older: the
 * caller took it before the lock.) */
static int srv_elapsed(uint64_t now, uint64_t since, uint64_t span)
{
    return now > since && now - since >= span;
}

int xipc__rpc_conn_sweep(srv_conn *sc, uint64_t now)
{
    xipc_rpc_server *srv = sc->srv;
    if (sc->refused) /* refuse_end applies */
        return 0;
    /* counted from the accept, whatever arrives meanwhile: a byte now and
     * then does not keep a connection that never completes a message */
    if (!sc->spoke && srv->first_ns > 0 && srv_elapsed(now, sc->start_ns, srv->first_ns)) {
        srv->st.first_request_timeouts++;
        return 1;
    }
    if (sc->active || sc->inflight > 0) {
        sc->active = 0;
        if (now > sc->active_ns)
            sc->active_ns = now;
        return 0;
    }
    if (srv->idle_ns == 0 || !srv_elapsed(now, sc->active_ns, srv->idle_ns))
        return 0;
    srv->st.idle_timeouts++;
    return 1;
}

void xipc__rpc_mem_freed(xipc_rpc_server *srv, size_t bytes)
{
    if (bytes >= XIPC_RPC_RELEASE_MIN)
        atomic_store(&srv->mem_freed, 1);
}

void xipc__rpc_mem_tick(xipc_rpc_server *srv, uint64_t now)
{
    if (!atomic_load(&srv->mem_freed))
        return;
    xipc_plat_mutex_lock(&srv->mu);
    int go = now >= srv->mem_released_ns + (uint64_t)XIPC_RPC_RELEASE_MS * 1000000u;
    if (go) {
        srv->mem_released_ns = now;
        atomic_store(&srv->mem_freed, 0);
    }
    xipc_plat_mutex_unlock(&srv->mu);
    if (go) /* outside the lock: it walks every arena */
        xipc_plat_mem_release();
}

void xipc__rpc_conn_kick(srv_conn *sc)
{
    xipc_rpc_server *srv = sc->srv;
    if (!sc->polled || (sc->pstate != SC_ARMED && sc->pstate != SC_PAUSED))
        return;
    sc->pstate = SC_KICKED;
    sc->kick_next = srv->kicks;
    srv->kicks = sc;
    xipc_plat_poller_wake(srv->poller);
}

/* ---- sending ------------------------------------------------------------------ */

/* The msgid of the response @p buf (which xipc wrote). */
static uint32_t srv_msgid(const void *buf, size_t len)
{
    xipc_mp_reader r;
    uint32_t n, id = 0;
    uint64_t type;
    xipc_mp_reader_init(&r, buf, len);
    if (xipc_mp_read_array(&r, &n) == XIPC_OK && xipc_mp_read_uint(&r, &type) == XIPC_OK)
        xipc_mp_read_uint32(&r, &id);
    return id;
}

void xipc__rpc_srv_send(srv_conn *sc, const void *buf, size_t len)
{
    xipc_plat_iov iov = {buf, len};
    xipc_err rv = xipc__rpc_conn_sendv(sc->conn, &iov, 1, sc->srv->o.send_timeout_ms);
    if (rv == XIPC_EMSGSIZE && len > 64) {
        /* more than the channel carries (a shm ring): say so instead */
        xipc__rpc_srv_send_error(sc, srv_msgid(buf, len), XIPC_RPC_EINTERNAL,
                                 "internal error: the result is too large for the channel");
        return;
    }
    if (rv != XIPC_OK) /* the client does not read, or is gone */
        xipc__rpc_conn_break(sc->conn, XIPC_ECLOSED);
}

void xipc__rpc_srv_send_error(srv_conn *sc, uint32_t msgid, int64_t code,
                              const char *message)
{
    uint8_t mem[XIPC_RPC_ERRMSG_MAX + 64];
    xipc_mp_buf b;
    xipc_mp_buf_init_fixed(&b, mem, sizeof(mem));
    if (xipc__rpc_write_error(&b, msgid, code, message) == XIPC_OK)
        xipc__rpc_srv_send(sc, b.data, b.len);
}

/* ---- jobs --------------------------------------------------------------------- */

/* Queue @p job of @p sc: a call to the workers, an answer (err_code) to
 * the answerer, a rescue job to the workers' own queue of those; srv->mu
 * held. */
static void srv_enqueue(srv_conn *sc, srv_job *job)
{
    xipc_rpc_server *srv = sc->srv;
    int answer = job->err_code != 0;
    srv_job **head = answer ? &srv->ahead : job->rescue ? &srv->rhead : &srv->qhead;
    srv_job **tail = answer ? &srv->atail : job->rescue ? &srv->rtail : &srv->qtail;
    sc->queued_bytes += job->bytes;
    sc->refs++;
    if (*tail != NULL)
        (*tail)->next = job;
    else
        *head = job;
    *tail = job;
    if (answer)
        xipc_plat_cond_signal(&srv->answers);
    else if (job->rescue) /* every worker: the one signalled may wait for a slot */
        xipc_plat_cond_broadcast(&srv->work);
    else
        xipc_plat_cond_signal(&srv->work);
}

/* A job of @p sc: method or message @p name, params @p params. */
static srv_job *srv_job_new(srv_conn *sc, uint32_t msgid, const char *name,
                            size_t name_len, const uint8_t *params, size_t params_len)
{
    size_t bytes = sizeof(srv_job) + name_len + 1 + params_len;
    srv_job *job = malloc(bytes);
    if (job == NULL)
        return NULL;
    memset(job, 0, sizeof(*job));
    job->conn = sc;
    job->msgid = msgid;
    job->method = (char *)(job + 1);
    memcpy(job->method, name, name_len);
    job->method[name_len] = '\0';
    uint8_t *p = (uint8_t *)job->method + name_len + 1;
    if (params_len > 0)
        memcpy(p, params, params_len);
    job->params = p;
    job->params_len = params_len;
    job->bytes = bytes;
    return job;
}

xipc_err xipc__rpc_rescue_queue(srv_conn *sc)
{
    srv_job *job = srv_job_new(sc, 0, "", 0, NULL, 0);
    if (job == NULL)
        return XIPC_ENOMEM;
    job->rescue = 1;
    sc->rescued = SC_RESCUE_QUEUED;
    srv_enqueue(sc, job);
    return XIPC_OK;
}

/* Queue the answer [code, message] to request @p msgid; srv->mu held. It
 * is sent by the answerer, so a reader never waits for a client to read,
 * and a refusal never waits for a worker. */
static xipc_err srv_answer(srv_conn *sc, uint32_t msgid, int64_t code,
                           const char *message)
{
    srv_job *job = srv_job_new(sc, msgid, message, strlen(message), NULL, 0);
    if (job == NULL)
        return XIPC_ENOMEM;
    job->err_code = code;
    srv_enqueue(sc, job);
    return XIPC_OK;
}

xipc_err xipc__rpc_dispatch(srv_conn *sc, const uint8_t *buf, size_t len, srv_job **run)
{
    xipc_rpc_server *srv = sc->srv;
    xipc_rpc_msg m;
    if (xipc__rpc_msg_parse(&m, buf, len) != XIPC_OK || m.type == XIPC_RPC_RESPONSE) {
        xipc_plat_mutex_lock(&srv->mu);
        srv->st.malformed++;
        xipc_plat_mutex_unlock(&srv->mu);
        return XIPC_EPROTO;
    }
    int notify = m.type == XIPC_RPC_NOTIFICATION;
    int64_t code = 0;
    const char *text = NULL;
    if (sc->refused) {
        if (notify)
            return XIPC_OK; /* wait for a request to answer */
        code = sc->refused == SC_REFUSED_PEER ? XIPC_RPC_ETOO_MANY_PEER_CONNECTIONS
                                              : XIPC_RPC_ETOO_MANY_CONNECTIONS;
        text = sc->refused == SC_REFUSED_PEER ? "too many connections from this peer"
                                              : "too many connections";
    } else if (!m.params_array) {
        code = XIPC_RPC_EINVALID_REQUEST;
        text = "invalid request: params must be an array";
    } else if (m.method_len > XIPC_RPC_METHOD_MAX) {
        code = XIPC_RPC_EMETHOD_NOT_FOUND;
        text = "method not found: name too long";
    }
    xipc_err rv = XIPC_OK;
    xipc_rpc_handler fn = NULL;
    void *ud = NULL;
    unsigned flags = 0;
    xipc_plat_mutex_lock(&srv->mu);
    sc->spoke = 1; /* first_request_timeout_ms is met */
    sc->active = 1;
    if (code == 0 && srv->stopping) {
        code = XIPC_RPC_ESHUTTING_DOWN;
        text = "shutting down";
    } else if (code == 0 && sc->inflight >= srv->o.max_inflight) {
        code = XIPC_RPC_ETOO_MANY_REQUESTS;
        text = "too many requests";
        srv->st.refused_calls++;
    }
    int inl = 0;
    if (code == 0) {
        /* an inline method runs here, on a message-mode reader */
        inl = !sc->polled && xipc__rpc_method_find(srv, m.method, m.method_len, &fn,
                                                   &ud, &flags) &&
              (flags & XIPC_RPC_INLINE) != 0;
        srv_job *job = NULL;
        if (!inl) {
            job = srv_job_new(sc, m.msgid, m.method, m.method_len, m.params, m.params_len);
            if (job == NULL)
                rv = XIPC_ENOMEM;
        }
        if (rv == XIPC_OK) {
            sc->inflight += inl ? 0 : 1;
            srv->st.calls++;
        }
        if (job != NULL) {
            job->notify = notify;
            if (run != NULL && srv->busy < srv->nworkers) {
                srv->busy++; /* the reader runs it: xipc__rpc_reader_run */
                *run = job;
            } else {
                srv_enqueue(sc, job);
            }
        }
    } else if (!notify) {
        rv = srv_answer(sc, m.msgid, code, text);
    }
    xipc_plat_mutex_unlock(&srv->mu);
    if (inl)
        xipc__rpc_call_inline(sc, &m, fn, ud);
    if (rv == XIPC_OK && sc->refused)
        rv = XIPC_ECLOSED; /* answered: done with it */
    return rv;
}

void xipc__rpc_fault(srv_conn *sc)
{
    xipc_rpc_server *srv = sc->srv;
    const xipc_rpc_conn *c = sc->conn;
    char text[96];
    int64_t code = 0;
    if (c->fault == XIPC_RPC_SCAN_TOO_LARGE) {
        code = XIPC_RPC_EMSG_TOO_LARGE;
        snprintf(text, sizeof(text), "message too large: the limit is %u bytes",
                 (unsigned)srv->o.max_msg);
    } else if (c->fault == XIPC_RPC_SCAN_TOO_DEEP) {
        code = XIPC_RPC_EMSG_TOO_DEEP;
        snprintf(text, sizeof(text), "message too deep: the limit is %u levels",
                 (unsigned)srv->o.max_depth);
    }
    /* the envelope's start: [0, msgid, ... (a request whose id arrived) */
    xipc_mp_reader r;
    uint32_t n, msgid;
    uint64_t type;
    xipc_mp_reader_init(&r, c->fault_pre, c->fault_len);
    int request = xipc_mp_read_array(&r, &n) == XIPC_OK && n == 4 &&
                  xipc_mp_read_uint(&r, &type) == XIPC_OK && type == XIPC_RPC_REQUEST &&
                  xipc_mp_read_uint32(&r, &msgid) == XIPC_OK;
    xipc_plat_mutex_lock(&srv->mu);
    if (code == XIPC_RPC_EMSG_TOO_LARGE)
        srv->st.too_large++;
    else if (code == XIPC_RPC_EMSG_TOO_DEEP)
        srv->st.too_deep++;
    else
        srv->st.malformed++;
    if (code != 0 && request)
        srv_answer(sc, msgid, code, text);
    xipc_plat_mutex_unlock(&srv->mu);
}

/* ---- message-mode readers ---------------------------------------------------- */

/* A message-mode reader has waited XIPC_RPC_POLL_MS for nothing: free
 * the buffers of its idle connection, watch its timeouts. 1: close it. */
static int srv_reader_idle(srv_conn *sc)
{
    xipc_rpc_server *srv = sc->srv;
    size_t freed = xipc__rpc_conn_trim(sc->conn) + sc->inl_out.cap;
    xipc_mp_buf_fini(&sc->inl_out);
    xipc_mp_buf_init(&sc->inl_out);
    xipc__rpc_mem_freed(srv, freed);
    uint64_t now = xipc_plat_now_ns();
    xipc_plat_mutex_lock(&srv->mu);
    int expired = xipc__rpc_conn_sweep(sc, now);
    xipc_plat_mutex_unlock(&srv->mu);
    return expired;
}

/*
 * Read one message of @p sc and act on it: XIPC_OK: read on (also after
 * @p wait_ms without one, *idle set); else reading is over. With @p run,
 * a call to a worker method is left there for the caller to run.
 */
static xipc_err srv_read_one(srv_conn *sc, srv_job **run, int *idle, int wait_ms)
{
    const uint8_t *msg;
    size_t len;
    xipc_err rv = xipc__rpc_conn_recv(sc->conn, &msg, &len, wait_ms);
    if (rv == XIPC_ETIMEDOUT) {
        *idle = 1;
        return XIPC_OK;
    }
    if (rv == XIPC_EPROTO)
        xipc__rpc_fault(sc);
    /* a malformed message ends the reading; the calls received before
     * it are answered, then the connection closes */
    if (rv == XIPC_OK)
        rv = xipc__rpc_dispatch(sc, msg, len, run);
    return rv;
}

/* May a reader of @p sc go on? Waits while its queue is full (back-
 * pressure); a rescuing worker (@p rescue) also stops waiting, and
 * reading, once the reader wants its connection back. Takes srv->mu. */
static int srv_may_read(srv_conn *sc, int rescue)
{
    xipc_rpc_server *srv = sc->srv;
    xipc_plat_mutex_lock(&srv->mu);
    while (!(rescue && sc->want_back) && !xipc__rpc_conn_done(sc) &&
           xipc__rpc_conn_full(sc))
        xipc_plat_cond_wait(&srv->change, &srv->mu, UINT64_MAX);
    int go = !(rescue && sc->want_back) && !xipc__rpc_conn_done(sc);
    xipc_plat_mutex_unlock(&srv->mu);
    return go;
}

/* A message-mode connection's reader: parse, run or queue until the client
 * leaves, the connection breaks, a timeout, or xipc__rpc_conn_done. */
static void srv_reader_main(void *arg)
{
    srv_conn *sc = arg;
    xipc_rpc_server *srv = sc->srv;
    while (srv_may_read(sc, 0)) {
        srv_job *job = NULL;
        int idle = 0;
        xipc_err rv =
            srv_read_one(sc, XIPC_RPC_LEADER ? &job : NULL, &idle, XIPC_RPC_POLL_MS);
        if (job != NULL && xipc__rpc_reader_run(sc, job) != 0)
            break; /* the worker that read meanwhile met the end */
        if (rv != XIPC_OK || (idle && srv_reader_idle(sc)))
            break;
    }
    xipc_plat_mutex_lock(&srv->mu);
    xipc__rpc_conn_unref(sc);
    xipc_plat_mutex_unlock(&srv->mu);
}

void xipc__rpc_rescue_read(srv_conn *sc)
{
    xipc_rpc_server *srv = sc->srv;
    xipc_plat_mutex_lock(&srv->mu);
    int mine = sc->rescued == SC_RESCUE_QUEUED; /* else cancelled, or another job reads */
    if (mine)
        sc->rescued = SC_RESCUE_READING;
    xipc_plat_mutex_unlock(&srv->mu);
    if (!mine)
        return;
    int end = 0;
    while (!end && srv_may_read(sc, 1)) {
        int idle = 0;
        end = srv_read_one(sc, NULL, &idle, XIPC_RPC_RESCUE_POLL_MS) != XIPC_OK;
    }
    xipc_plat_mutex_lock(&srv->mu);
    if (end)
        sc->read_end = 1;
    sc->rescued = SC_RESCUE_NONE;
    xipc_plat_cond_broadcast(&srv->change);
    xipc_plat_mutex_unlock(&srv->mu);
}

/* Admit @p sc, or mark it refused (over max_conns_per_peer, then over
 * max_conns: its peer's own excess is named first); srv->mu held. 0:
 * close it at once (too many refused ones wait, or out of memory). */
static int srv_admit(xipc_rpc_server *srv, srv_conn *sc)
{
    srv_peer *peer = peer_get(srv, &sc->conn->peer);
    if (peer == NULL)
        return 0;
    int why = peer->conns >= srv->o.max_conns_per_peer ? SC_REFUSED_PEER
              : srv->nconns >= srv->o.max_conns          ? SC_REFUSED_CONNS
                                                         : 0;
    if (why == 0) {
        peer->conns++;
        srv->nconns++;
        srv->st.accepted++;
        srv->st.conns = srv->nconns;
        return 1;
    }
    if (peer->conns == 0) /* made just now for this one: forget it */
        peer_put(srv, &sc->conn->peer);
    if (why == SC_REFUSED_PEER)
        srv->st.refused_peer++;
    else
        srv->st.refused_conns++;
    if (srv->nrefusing >= XIPC_RPC_REFUSE_MAX)
        return 0;
    srv->nrefusing++;
    sc->refused = why;
    sc->refuse_end = sc->start_ns + (uint64_t)XIPC_RPC_REFUSE_MS * 1000000u;
    return 1;
}

void xipc__rpc_conn_add(xipc_rpc_server *srv, xipc_rpc_conn *c)
{
    srv_conn *sc = calloc(1, sizeof(*sc));
    if (sc == NULL) {
        xipc__rpc_conn_close(c);
        return;
    }
    sc->srv = srv;
    sc->conn = c;
    sc->refs = 1;
    xipc_mp_buf_init(&sc->inl_out);
    sc->polled = c->stream;
    sc->start_ns = sc->active_ns = xipc_plat_now_ns();
    xipc_err rv = XIPC_ESTATE;
    /* a reader's first step takes srv->mu: the thread handle is stored
     * before the reader can finish and be joined */
    xipc_plat_mutex_lock(&srv->mu);
    if (!srv->stopping && srv_admit(srv, sc)) {
        if (sc->polled)
            rv = xipc__rpc_poll_add(sc);
        else
            rv = xipc_plat_thread_create_stack(&sc->thread, srv_reader_main, sc,
                                               XIPC_RPC_READER_STACK);
        if (rv == XIPC_OK) {
            sc->next = srv->conns;
            srv->conns = sc;
        } else if (sc->refused) {
            srv->nrefusing--;
        } else {
            srv->nconns--;
            srv->st.conns = srv->nconns;
            peer_put(srv, &c->peer);
        }
    }
    xipc_plat_mutex_unlock(&srv->mu);
    if (rv != XIPC_OK) {
        xipc__rpc_conn_close(c);
        free(sc);
    }
}
