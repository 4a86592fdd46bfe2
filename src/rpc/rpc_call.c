/*
 * The server's workers: take a queued call, find its handler, run it, and
 * send the response as soon as it is ready (so responses leave in the
 * order calls finish, not the order they came). Also the call API that
 * handlers use, and the built-in method xipc.methods.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc_server.h"

struct xipc_rpc_req {
    srv_job *job;
    uint32_t nparams;
    xipc_mp_reader params;
    xipc_mp_buf out;       /* [1, msgid, nil, then the handler's result */
    size_t hdr_len;        /* bytes of that header */
    uint8_t hdr[16];       /* a copy, to check the handler kept it */
    xipc_mp_buf err;       /* the error response, when set */
    int error_set;
    xipc_rpc_allocs allocs; /* argsf copies, freed after the handler */
};

const char *xipc_rpc_req_method(const xipc_rpc_req *call)
{
    return call->job->method;
}

bool xipc_rpc_req_is_notification(const xipc_rpc_req *call)
{
    return call->job->notify != 0;
}

uint32_t xipc_rpc_req_peer_pid(const xipc_rpc_req *call)
{
    return call->job->conn->conn->peer_pid;
}

srv_conn *xipc__rpc_req_conn(const xipc_rpc_req *call)
{
    return call->job->conn;
}

uint32_t xipc_rpc_req_nparams(const xipc_rpc_req *call)
{
    return call->nparams;
}

xipc_mp_reader *xipc_rpc_req_params(xipc_rpc_req *call)
{
    return &call->params;
}

const void *xipc_rpc_req_params_raw(const xipc_rpc_req *call, size_t *len)
{
    if (len != NULL)
        *len = call->job->params_len;
    return call->job->params;
}

xipc_mp_buf *xipc_rpc_req_result(xipc_rpc_req *call)
{
    return &call->out;
}

xipc_err xipc_rpc_req_error(xipc_rpc_req *call, int64_t code,
                             const char *message)
{
    if (call == NULL)
        return XIPC_EINVAL;
    xipc_mp_buf_reset(&call->err);
    xipc_err rv = xipc__rpc_write_error(&call->err, call->job->msgid, code, message);
    call->error_set = rv == XIPC_OK;
    return rv;
}

xipc_err xipc_rpc_req_argsf(xipc_rpc_req *call, const char *fmt, ...)
{
    uint32_t n;
    char why[160], msg[200];
    if (call == NULL || xipc__rpc_fmt_count(fmt, &n) != XIPC_OK)
        return XIPC_EINVAL;
    if (n != call->nparams) {
        snprintf(msg, sizeof(msg), "invalid params: expected %u arguments, got %u",
                 (unsigned)n, (unsigned)call->nparams);
        xipc_rpc_req_error(call, XIPC_RPC_EINVALID_PARAMS, msg);
        return XIPC_EINVAL;
    }
    va_list ap;
    va_start(ap, fmt);
    why[0] = '\0';
    xipc_err rv = xipc__rpc_fmt_read(&call->params, fmt, &ap, &call->allocs, why,
                                     sizeof(why));
    va_end(ap);
    if (rv == XIPC_EINVAL || rv == XIPC_EPROTO) {
        snprintf(msg, sizeof(msg), "invalid params: argument %s",
                 rv == XIPC_EPROTO ? "malformed" : why);
        xipc_rpc_req_error(call, XIPC_RPC_EINVALID_PARAMS, msg);
        return XIPC_EINVAL;
    }
    return rv;
}

xipc_err xipc_rpc_req_returnf(xipc_rpc_req *call, const char *fmt, ...)
{
    if (call == NULL)
        return XIPC_EINVAL;
    if (call->out.len != call->hdr_len)
        return XIPC_ESTATE;
    va_list ap;
    va_start(ap, fmt);
    xipc_err rv = xipc__rpc_fmt_write_value(&call->out, fmt, &ap, 0);
    va_end(ap);
    if (rv != XIPC_OK) { /* take back what was written */
        xipc_mp_buf_reset(&call->out);
        xipc__rpc_write_result_hdr(&call->out, call->job->msgid);
    }
    return rv;
}

xipc_err xipc__rpc_builtin_methods(xipc_rpc_req *call, void *arg)
{
    xipc_rpc_server *srv = arg;
    xipc_mp_buf *b = &call->out;
    xipc_plat_mutex_lock(&srv->mu);
    xipc_mp_write_array(b, (uint32_t)srv->nmethods);
    for (size_t i = 0; i < srv->nmethods; i++) {
        xipc_mp_write_array(b, 2);
        xipc_mp_write_cstr(b, srv->methods[i].name);
        xipc_mp_write_cstr(b, srv->methods[i].sig);
    }
    xipc_plat_mutex_unlock(&srv->mu);
    return b->err;
}

int xipc__rpc_method_find(xipc_rpc_server *srv, const char *name, size_t len,
                          xipc_rpc_handler *fn, void **ud, unsigned *flags)
{
    for (size_t i = 0; i < srv->nmethods; i++) {
        const srv_method *m = &srv->methods[i];
        if (strncmp(m->name, name, len) == 0 && m->name[len] == '\0') {
            *fn = m->fn;
            *ud = m->userdata;
            *flags = m->flags;
            return 1;
        }
    }
    return 0;
}

/* The handler of @p name, copied out under the lock (the table may grow). */
static int call_lookup(xipc_rpc_server *srv, const char *name,
                       xipc_rpc_handler *fn, void **ud)
{
    unsigned flags;
    xipc_plat_mutex_lock(&srv->mu);
    int found = xipc__rpc_method_find(srv, name, strlen(name), fn, ud, &flags);
    xipc_plat_mutex_unlock(&srv->mu);
    return found;
}

/* Is call->out the header followed by exactly one value? */
static int call_result_ok(xipc_rpc_req *call)
{
    xipc_mp_buf *b = &call->out;
    if (b->err != XIPC_OK || b->len < call->hdr_len ||
        memcmp(b->data, call->hdr, call->hdr_len) != 0)
        return 0;
    if (b->len == call->hdr_len && xipc_mp_write_nil(b) != XIPC_OK)
        return 0;
    return xipc__rpc_scan_exact(b->data + call->hdr_len, b->len - call->hdr_len,
                                XIPC_RPC_SCAN_DEPTH) == XIPC_OK;
}

/* Keep a response buffer up to this size for the next inline call. */
#define CALL_KEEP_MAX (64u << 10)

/* Run @p job: its handler is @p fn (NULL: look it up). @p keep (may be
 * NULL): a buffer to write the response in, kept for the next call. */
static void call_run(xipc_rpc_server *srv, srv_job *job, xipc_rpc_handler fn, void *ud,
                     xipc_mp_buf *keep)
{
    xipc_rpc_req call;
    memset(&call, 0, sizeof(call));
    call.job = job;
    if (keep != NULL) {
        call.out = *keep;
        xipc_mp_buf_reset(&call.out);
    } else {
        xipc_mp_buf_init(&call.out);
    }
    xipc_mp_buf_init(&call.err);
    xipc__rpc_write_result_hdr(&call.out, job->msgid);
    call.hdr_len = call.out.len;
    if (call.out.err == XIPC_OK)
        memcpy(call.hdr, call.out.data, call.hdr_len);
    xipc_mp_reader_init(&call.params, job->params, job->params_len);
    xipc_err rv = xipc_mp_read_array(&call.params, &call.nparams);

    if (rv != XIPC_OK) {
        xipc_rpc_req_error(&call, XIPC_RPC_EINVALID_REQUEST, "invalid request");
    } else if (fn == NULL && !call_lookup(srv, job->method, &fn, &ud)) {
        char msg[XIPC_RPC_METHOD_MAX + 32];
        snprintf(msg, sizeof(msg), "method not found: %s", job->method);
        xipc_rpc_req_error(&call, XIPC_RPC_EMETHOD_NOT_FOUND, msg);
    } else {
        rv = fn(&call, ud);
        if (rv != XIPC_OK && !call.error_set) {
            if (rv == XIPC_EINVAL)
                xipc_rpc_req_error(&call, XIPC_RPC_EINVALID_PARAMS, "invalid params");
            else
                xipc_rpc_req_error(&call, XIPC_RPC_EINTERNAL, xipc_strerror(rv));
        }
    }
    xipc__rpc_allocs_free(&call.allocs);
    /* the call is over before its response leaves: a client that has the
     * response finds the place free (max_inflight) */
    if (!job->on_reader) {
        xipc_plat_mutex_lock(&srv->mu);
        job->conn->inflight--;
        xipc_plat_mutex_unlock(&srv->mu);
    }
    if (!job->notify) {
        if (!call.error_set && !call_result_ok(&call))
            xipc_rpc_req_error(&call, XIPC_RPC_EINTERNAL,
                                "internal error: the handler wrote a bad result");
        xipc_mp_buf *b = call.error_set ? &call.err : &call.out;
        if (b->err == XIPC_OK)
            xipc__rpc_srv_send(job->conn, b->data, b->len);
        else
            xipc__rpc_conn_break(job->conn->conn, XIPC_ECLOSED); /* out of memory */
    }
    if (keep != NULL && call.out.cap <= CALL_KEEP_MAX) {
        *keep = call.out;
    } else {
        xipc__rpc_mem_freed(srv, call.out.cap);
        xipc_mp_buf_fini(&call.out);
        if (keep != NULL)
            xipc_mp_buf_init(keep);
    }
    xipc_mp_buf_fini(&call.err);
}

void xipc__rpc_call_inline(srv_conn *sc, const xipc_rpc_msg *m, xipc_rpc_handler fn,
                           void *ud)
{
    /* a job on the stack: the method and params stay in the reader's
     * receive buffer until the call is over */
    char name[XIPC_RPC_METHOD_MAX + 1];
    srv_job job;
    memset(&job, 0, sizeof(job));
    job.conn = sc;
    job.msgid = m->msgid;
    job.notify = m->type == XIPC_RPC_NOTIFICATION;
    memcpy(name, m->method, m->method_len);
    name[m->method_len] = '\0';
    job.method = name;
    job.params = m->params;
    job.params_len = m->params_len;
    job.on_reader = 1;
    call_run(sc->srv, &job, fn, ud, &sc->inl_out);
}

/* A job of @p sc is done: hand @p sc back to the poller if it waits for
 * that (room in its queue, the end of its last call while stopping, a
 * failed send); srv->mu held. */
static void worker_kick(srv_conn *sc)
{
    int done = xipc__rpc_conn_done(sc);
    if ((sc->pstate == SC_PAUSED && (done || !xipc__rpc_conn_full(sc))) ||
        (sc->pstate == SC_ARMED && done))
        xipc__rpc_conn_kick(sc);
}

/* @p job, taken from a queue, is over: its connection's accounting;
 * srv->mu held. */
void xipc__rpc_job_done(xipc_rpc_server *srv, srv_job *job)
{
    srv->running--;
    srv_conn *sc = job->conn; /* call_run counted the call out */
    sc->queued_bytes -= job->bytes;
    sc->active = 1; /* the idle time starts now, not at the request */
    xipc__rpc_mem_freed(srv, job->bytes);
    free(job);
    worker_kick(sc);
    xipc__rpc_conn_unref(sc);
    xipc_plat_cond_broadcast(&srv->change);
}

/* Take the first job of a queue, or NULL; srv->mu held. */
static srv_job *job_take(xipc_rpc_server *srv, srv_job **head, srv_job **tail)
{
    srv_job *job = *head;
    if (job != NULL) {
        *head = job->next;
        if (*head == NULL)
            *tail = NULL;
        srv->running++;
    }
    return job;
}

void xipc__rpc_job_run(xipc_rpc_server *srv, srv_job *job)
{
    call_run(srv, job, NULL, NULL, NULL);
}

void xipc__rpc_handler_over(xipc_rpc_server *srv)
{
    srv->busy--;
    if (srv->qhead != NULL) /* a worker may wait for this slot */
        xipc_plat_cond_signal(&srv->work);
}

/* A job a worker may take now: a rescue job, or a call while fewer than
 * nworkers handlers run; srv->mu held. */
static srv_job *worker_job(xipc_rpc_server *srv)
{
    if (srv->rhead != NULL)
        return job_take(srv, &srv->rhead, &srv->rtail);
    if (srv->qhead != NULL && srv->busy < srv->nworkers) {
        srv->busy++;
        return job_take(srv, &srv->qhead, &srv->qtail);
    }
    return NULL;
}

void xipc__rpc_worker_main(void *arg)
{
    xipc_rpc_server *srv = arg;
    xipc_plat_mutex_lock(&srv->mu);
    for (;;) {
        srv_job *job;
        while ((job = worker_job(srv)) == NULL &&
               !(srv->workers_exit && srv->qhead == NULL && srv->rhead == NULL))
            xipc_plat_cond_wait(&srv->work, &srv->mu, UINT64_MAX);
        if (job == NULL)
            break; /* exit, and nothing left to do */
        xipc_plat_mutex_unlock(&srv->mu);
        if (job->rescue)
            xipc__rpc_rescue_read(job->conn);
        else
            call_run(srv, job, NULL, NULL, NULL);
        xipc_plat_mutex_lock(&srv->mu);
        if (!job->rescue)
            xipc__rpc_handler_over(srv);
        xipc__rpc_job_done(srv, job);
    }
    xipc_plat_mutex_unlock(&srv->mu);
}

void xipc__rpc_answerer_main(void *arg)
{
    xipc_rpc_server *srv = arg;
    xipc_plat_mutex_lock(&srv->mu);
    for (;;) {
        while (srv->ahead == NULL && !srv->workers_exit)
            xipc_plat_cond_wait(&srv->answers, &srv->mu, UINT64_MAX);
        srv_job *job = job_take(srv, &srv->ahead, &srv->atail);
        if (job == NULL)
            break;
        xipc_plat_mutex_unlock(&srv->mu);
        xipc__rpc_srv_send_error(job->conn, job->msgid, job->err_code, job->method);
        xipc_plat_mutex_lock(&srv->mu);
        xipc__rpc_job_done(srv, job);
    }
    xipc_plat_mutex_unlock(&srv->mu);
}
