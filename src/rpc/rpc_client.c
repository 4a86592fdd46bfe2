/*
 * The RPC client (the proxy): one connection, any number of calling
 * threads, responses matched to calls by msgid.
 *
 * A call registers a future under a fresh msgid, sends the request (sends
 * are serialised per message inside rpc_conn), and waits for the future
 * to complete. One thread at a time receives (it holds c->token) and
 * completes futures as responses arrive, in whatever order the server
 * answers:
 *  - the direct path: a synchronous call that finds nobody receiving
 *    takes the token and receives until its own response is in, so the
 *    response reaches the caller with no thread hand-off (two fewer
 *    wake-ups per call). Responses to other calls, and notifications,
 *    that arrive meanwhile are handled by this caller as the reader
 *    thread would;
 *  - otherwise the reader thread receives, and callers wait on their
 *    future's condition variable. The reader receives only while it is
 *    needed (calls pending, or an on_notify handler set) and nobody else
 *    holds the token; else it parks on c->idle.
 * Futures hold a reference on the client, so a future outlives
 * xipc_rpc_client_close safely.
 */
#include <stdlib.h>
#include <string.h>

#include "core/deadline.h"
#include "core/opts.h"
#include "rpc/rpc_client.h"

#define CLI_POLL_MS 50

xipc_err xipc_rpc_client_opts_init(xipc_rpc_client_opts *o)
{
    if (o == NULL)
        return XIPC_EINVAL;
    memset(o, 0, sizeof(*o));
    o->magic = XIPC_RPC_OPTS_MAGIC;
    o->size = sizeof(*o);
    o->max_msg = 16u << 20;
    o->max_depth = XIPC_RPC_SCAN_DEPTH;
    o->timeout_ms = -1;
    return xipc_opts_init(&o->sock);
}

static void cli_unref(xipc_rpc_client *c)
{
    if (atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    xipc_plat_cond_fini(&c->idle);
    xipc_plat_mutex_fini(&c->mu);
    free(c);
}

/* ---- the pending table ------------------------------------------------------ */

static xipc_rpc_future **cli_slot(xipc_rpc_client *c, uint32_t msgid)
{
    xipc_rpc_future **pp = &c->pending[msgid % CLI_BUCKETS];
    while (*pp != NULL && (*pp)->msgid != msgid)
        pp = &(*pp)->next;
    return pp;
}

/* Remove @p f from the table; c->mu held. 1 when it was there. */
static int cli_unlink(xipc_rpc_client *c, xipc_rpc_future *f)
{
    xipc_rpc_future **pp = cli_slot(c, f->msgid);
    if (*pp != f)
        return 0;
    *pp = f->next;
    c->npending--;
    return 1;
}

static void cli_future_destroy(xipc_rpc_future *f);

/* Mark @p f done (c->mu held, f unlinked); returns its callback, which
 * the caller runs with cli_run_cb after unlocking, or NULL. */
static xipc_rpc_callback cli_complete(xipc_rpc_future *f, xipc_err status)
{
    f->state = FUT_DONE;
    f->status = status;
    if (f->cb != NULL)
        f->in_cb = 1;
    else
        f->settled = 1;
    xipc_plat_cond_broadcast(&f->cond);
    return f->cb;
}

/* Run the callback of a future cli_complete returned it for. */
static void cli_run_cb(xipc_rpc_future *f, xipc_rpc_callback cb)
{
    if (cb == NULL)
        return;
    xipc_rpc_client *c = f->c;
    cb(f, f->userdata);
    xipc_plat_mutex_lock(&c->mu);
    f->in_cb = 0;
    f->settled = 1;
    int destroy = f->auto_free || f->free_req;
    xipc_plat_cond_broadcast(&f->cond);
    xipc_plat_mutex_unlock(&c->mu);
    if (destroy)
        cli_future_destroy(f);
}

/* ---- the reader thread -------------------------------------------------------- */

/* Answer a request from the server: clients serve no methods. */
static void cli_refuse_request(xipc_rpc_client *c, uint32_t msgid)
{
    uint8_t mem[128];
    xipc_mp_buf b;
    xipc_mp_buf_init_fixed(&b, mem, sizeof(mem));
    if (xipc__rpc_write_error(&b, msgid, XIPC_RPC_EMETHOD_NOT_FOUND,
                              "method not found: this is a client") == XIPC_OK) {
        xipc_plat_iov iov = {b.data, b.len};
        xipc__rpc_conn_sendv(c->conn, &iov, 1, 1000);
    }
}

static void cli_on_notify(xipc_rpc_client *c, const xipc_rpc_msg *m)
{
    char name[XIPC_RPC_METHOD_MAX + 1];
    if (c->o.on_notify == NULL || m->method_len > XIPC_RPC_METHOD_MAX)
        return;
    memcpy(name, m->method, m->method_len);
    name[m->method_len] = '\0';
    c->o.on_notify(c, name, m->params, m->params_len, c->o.notify_userdata);
}

/* Handle one message; XIPC_EPROTO ends the connection. */
static xipc_err cli_on_message(xipc_rpc_client *c, const uint8_t *buf, size_t len)
{
    xipc_rpc_msg m;
    if (xipc__rpc_msg_parse(&m, buf, len) != XIPC_OK)
        return XIPC_EPROTO;
    if (m.type == XIPC_RPC_NOTIFICATION) {
        cli_on_notify(c, &m);
        return XIPC_OK;
    }
    if (m.type == XIPC_RPC_REQUEST) {
        cli_refuse_request(c, m.msgid);
        return XIPC_OK;
    }
    uint8_t *copy = malloc(len);
    if (copy == NULL)
        return XIPC_ENOMEM;
    memcpy(copy, buf, len);
    xipc_rpc_callback cb = NULL;
    xipc_rpc_future *f;
    xipc_plat_mutex_lock(&c->mu);
    f = *cli_slot(c, m.msgid);
    if (f != NULL) {
        cli_unlink(c, f);
        f->msg = copy;
        copy = NULL;
        f->error_off = (size_t)(m.error - buf);
        f->error_len = m.error_len;
        f->value_off = (size_t)(m.result - buf);
        f->value_len = m.result_len;
        int ok = m.error_len == 1 && m.error[0] == 0xc0; /* nil */
        cb = cli_complete(f, ok ? XIPC_OK : XIPC_EREMOTE);
    }
    xipc_plat_mutex_unlock(&c->mu);
    free(copy); /* a late response to a call given up */
    if (f != NULL)
        cli_run_cb(f, cb);
    return XIPC_OK;
}

/* Complete every pending call with @p why (the connection has ended). */
static void cli_fail_all(xipc_rpc_client *c, xipc_err why)
{
    for (;;) {
        xipc_rpc_future *f = NULL;
        xipc_rpc_callback cb = NULL;
        xipc_plat_mutex_lock(&c->mu);
        if (c->dead == XIPC_OK)
            c->dead = why;
        for (uint32_t i = 0; i < CLI_BUCKETS && f == NULL; i++)
            f = c->pending[i];
        if (f != NULL) {
            cli_unlink(c, f);
            cb = cli_complete(f, why);
        }
        xipc_plat_mutex_unlock(&c->mu);
        if (f == NULL)
            return;
        cli_run_cb(f, cb);
    }
}

/* Must the reader thread receive (nobody else does)? c->mu held. */
static int cli_reader_needed(const xipc_rpc_client *c)
{
    return c->npending > 0 || c->o.on_notify != NULL;
}

/* Give the token back, waking the reader if it has work; c->mu held. */
static void cli_token_release(xipc_rpc_client *c)
{
    c->token = CLI_TOK_NONE;
    if (c->reader_parked && cli_reader_needed(c))
        xipc_plat_cond_signal(&c->idle);
}

/* Receive one message with the token held and handle it. XIPC_OK or
 * XIPC_ETIMEDOUT: go on; else the connection is over (broken already). */
static xipc_err cli_receive(xipc_rpc_client *c, int timeout_ms)
{
    const uint8_t *msg;
    size_t len;
    xipc_err rv = xipc__rpc_conn_recv(c->conn, &msg, &len, timeout_ms);
    if (rv == XIPC_OK)
        rv = cli_on_message(c, msg, len);
    if (rv == XIPC_OK || rv == XIPC_ETIMEDOUT)
        return rv;
    rv = rv == XIPC_EPROTO ? XIPC_EPROTO : XIPC_ECLOSED;
    xipc__rpc_conn_break(c->conn, rv);
    return rv;
}

static void cli_reader_main(void *arg)
{
    xipc_rpc_client *c = arg;
    xipc_err why = XIPC_ECLOSED;
    for (;;) {
        xipc_plat_mutex_lock(&c->mu);
        if (c->token == CLI_TOK_READER)
            cli_token_release(c);
        while (!c->closing && c->dead == XIPC_OK &&
               (c->token != CLI_TOK_NONE || !cli_reader_needed(c))) {
            c->reader_parked = 1;
            xipc_plat_cond_wait(&c->idle, &c->mu, UINT64_MAX);
            c->reader_parked = 0;
        }
        int stop = c->closing || c->dead != XIPC_OK;
        if (c->dead != XIPC_OK)
            why = c->dead;
        if (!stop)
            c->token = CLI_TOK_READER;
        xipc_plat_mutex_unlock(&c->mu);
        if (stop)
            break;
        xipc_err rv = cli_receive(c, CLI_POLL_MS);
        if (rv != XIPC_OK && rv != XIPC_ETIMEDOUT) {
            why = rv;
            break;
        }
    }
    cli_fail_all(c, why);
}

/* ---- lifecycle ------------------------------------------------------------------ */

xipc_err xipc_rpc_client_dial(xipc_rpc_client **out, const char *url,
                              const xipc_rpc_client_opts *opts, int timeout_ms)
{
    if (out == NULL || url == NULL || timeout_ms < -1)
        return XIPC_EINVAL;
    *out = NULL;
    xipc_rpc_client_opts o;
    if (opts == NULL)
        xipc_rpc_client_opts_init(&o);
    else
        o = *opts;
    if (o.magic != XIPC_RPC_OPTS_MAGIC || o.size != sizeof(o) || o.max_msg < 16 ||
        o.max_msg > XIPC_MAX_MSG || o.max_depth < 2 || o.max_depth > XIPC_RPC_SCAN_DEPTH ||
        o.timeout_ms < -1)
        return XIPC_EINVAL;
    xipc_rpc_client *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return XIPC_ENOMEM;
    c->o = o;
    atomic_init(&c->refs, 1);
    c->next_id = (uint32_t)(xipc_plat_now_ns() & 0xffff); /* any start will do */
    if (xipc_plat_mutex_init(&c->mu) != XIPC_OK) {
        free(c);
        return XIPC_ENOMEM;
    }
    if (xipc_plat_cond_init(&c->idle) != XIPC_OK) {
        xipc_plat_mutex_fini(&c->mu);
        free(c);
        return XIPC_ENOMEM;
    }
    xipc_rpc_limits lim = {o.max_msg, o.max_depth};
    xipc_err rv = xipc__rpc_conn_dial(&c->conn, url, &lim, &o.sock, timeout_ms);
    if (rv == XIPC_OK) {
        rv = xipc_plat_thread_create(&c->reader, cli_reader_main, c);
        if (rv != XIPC_OK)
            xipc__rpc_conn_close(c->conn);
    }
    if (rv != XIPC_OK) {
        cli_unref(c);
        return rv;
    }
    *out = c;
    return XIPC_OK;
}

void xipc_rpc_client_close(xipc_rpc_client *c)
{
    if (c == NULL)
        return;
    xipc_plat_mutex_lock(&c->mu);
    c->closing = 1;
    xipc_plat_cond_broadcast(&c->idle);
    xipc_plat_mutex_unlock(&c->mu);
    xipc_plat_thread_join(&c->reader); /* it fails what is pending */
    xipc__rpc_conn_close(c->conn);
    c->conn = NULL;
    cli_unref(c);
}

/* ---- calls ---------------------------------------------------------------------- */

/* Send a request or notification: header, then the params (or []). */
static xipc_err cli_send(xipc_rpc_client *c, int type, uint32_t msgid,
                         const char *method, const void *params, size_t len,
                         int timeout_ms, void (*before_wait)(void *), void *arg)
{
    xipc_rpc_call_out o;
    xipc_err rv = xipc__rpc_call_out(&o, type, msgid, method, params, len);
    return rv != XIPC_OK ? rv
                         : xipc__rpc_conn_sendv_or(c->conn, o.iov, 2, timeout_ms,
                                                   before_wait, arg);
}

static xipc_err cli_future_new(xipc_rpc_client *c, xipc_rpc_callback cb,
                               void *ud, xipc_rpc_future **out)
{
    xipc_rpc_future *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return XIPC_ENOMEM;
    if (xipc_plat_cond_init(&f->cond) != XIPC_OK) {
        free(f);
        return XIPC_ENOMEM;
    }
    f->c = c;
    f->cb = cb;
    f->userdata = ud;
    f->state = FUT_PENDING;
    atomic_fetch_add(&c->refs, 1);
    *out = f;
    return XIPC_OK;
}

/* Register @p f under a fresh msgid. @p direct (NULL: no) asks for the
 * token: set to 1 when this caller got it. */
static xipc_err cli_register(xipc_rpc_client *c, xipc_rpc_future *f, int *direct)
{
    xipc_err rv = XIPC_OK;
    xipc_plat_mutex_lock(&c->mu);
    if (c->dead != XIPC_OK || c->closing) {
        rv = c->dead != XIPC_OK ? c->dead : XIPC_ECLOSED;
    } else if (c->npending == UINT32_MAX) {
        rv = XIPC_EBUSY;
    } else {
        /* msgid wraps; skip ids still waiting for their response */
        do
            f->msgid = c->next_id++;
        while (*cli_slot(c, f->msgid) != NULL);
        xipc_rpc_future **pp = cli_slot(c, f->msgid);
        f->next = NULL;
        *pp = f;
        c->npending++;
        if (direct != NULL && c->token == CLI_TOK_NONE) {
            c->token = CLI_TOK_CALLER;
            *direct = 1;
        } else if (c->token == CLI_TOK_NONE && c->reader_parked) {
            xipc_plat_cond_signal(&c->idle);
        }
    }
    xipc_plat_mutex_unlock(&c->mu);
    return rv;
}

/* The direct path's request cannot go out at once: give the token back
 * before waiting to send (the server may be blocked sending us responses
 * that only a receiver can make room for); the call then waits as any
 * other. */
typedef struct cli_direct {
    xipc_rpc_client *c;
    int *direct;
} cli_direct;

static void cli_direct_give_up(void *arg)
{
    cli_direct *d = arg;
    xipc_plat_mutex_lock(&d->c->mu);
    if (*d->direct) {
        *d->direct = 0;
        cli_token_release(d->c);
    }
    xipc_plat_mutex_unlock(&d->c->mu);
}

/*
 * Register and send a call. The callback is attached only once the request
 * is out: a failure returns with no callback run, and a response that
 * came back before then gets its callback run here. @p direct as for
 * cli_register, cleared if the token had to be given back before the
 * request was out; on failure the token is given back.
 */
static xipc_err cli_start(xipc_rpc_client *c, const char *method,
                          const void *params, size_t len, xipc_rpc_callback cb,
                          void *ud, int auto_free, int timeout_ms, int *direct,
                          xipc_rpc_future **out)
{
    xipc_rpc_future *f;
    xipc_err rv;
    if ((rv = xipc__rpc_check_call(method, params, len)) != XIPC_OK ||
        (rv = cli_future_new(c, NULL, ud, &f)) != XIPC_OK)
        return rv;
    rv = cli_register(c, f, direct);
    cli_direct d = {c, direct};
    if (rv == XIPC_OK)
        rv = cli_send(c, XIPC_RPC_REQUEST, f->msgid, method, params, len, timeout_ms,
                      direct != NULL && *direct ? cli_direct_give_up : NULL, &d);
    if (rv == XIPC_OK && cb == NULL && !auto_free) {
        *out = f; /* a synchronous call: nothing to attach */
        return XIPC_OK;
    }
    xipc_plat_mutex_lock(&c->mu);
    int done = f->state == FUT_DONE;
    if (rv != XIPC_OK) {
        cli_unlink(c, f); /* unless the reader completed it already */
        if (direct != NULL && *direct)
            cli_token_release(c);
    } else {
        f->cb = cb;
        f->auto_free = auto_free;
        if (done && cb != NULL) { /* answered before we got here */
            f->in_cb = 1;
            f->settled = 0;
        }
    }
    xipc_plat_mutex_unlock(&c->mu);
    if (rv != XIPC_OK) {
        xipc_rpc_future_free(f);
        return rv;
    }
    *out = f;
    if (done)
        cli_run_cb(f, cb);
    return XIPC_OK;
}

/* The direct path: with the token, receive until @p f (a synchronous
 * call's future) completes or deadline @p d passes, then give the token
 * back. Only this thread completes @p f meanwhile. @return XIPC_OK (@p f
 * is done, read under the lock: once the token is back, the reader may
 * complete it) or XIPC_ETIMEDOUT. */
static xipc_err cli_receive_for(xipc_rpc_client *c, xipc_rpc_future *f, xipc_deadline *d)
{
    xipc_err why = XIPC_OK;
    for (int first = 1; f->state != FUT_DONE; first = 0) {
        int ms = xipc__deadline_left_ms(d);
        if (ms == 0 && !first)
            break;
        xipc_err rv = cli_receive(c, ms);
        if (rv != XIPC_OK && rv != XIPC_ETIMEDOUT) {
            why = rv;
            break;
        }
    }
    xipc_plat_mutex_lock(&c->mu);
    cli_token_release(c);
    xipc_err rv = f->state == FUT_DONE ? XIPC_OK : XIPC_ETIMEDOUT;
    xipc_plat_mutex_unlock(&c->mu);
    if (why != XIPC_OK) {
        cli_fail_all(c, why); /* f among them */
        rv = XIPC_OK;
    }
    return rv;
}

xipc_err xipc_rpc_call_async(xipc_rpc_client *c, const char *method,
                             const void *params, size_t params_len,
                             xipc_rpc_callback cb, void *userdata,
                             xipc_rpc_future **out)
{
    if (c == NULL || (out == NULL && cb == NULL))
        return XIPC_EINVAL;
    xipc_rpc_future *f;
    xipc_err rv = cli_start(c, method, params, params_len, cb, userdata,
                            out == NULL, c->o.timeout_ms, NULL, &f);
    if (rv == XIPC_OK && out != NULL)
        *out = f;
    return rv;
}

/* Wait for @p f to settle by deadline @p d. */
static xipc_err cli_wait(xipc_rpc_future *f, xipc_deadline *d)
{
    uint64_t until = xipc__deadline_ns(d);
    xipc_rpc_client *c = f->c;
    xipc_err rv = XIPC_OK;
    xipc_plat_mutex_lock(&c->mu);
    while (!f->settled && rv == XIPC_OK)
        rv = xipc_plat_cond_wait(&f->cond, &c->mu, until);
    rv = f->settled ? XIPC_OK : XIPC_ETIMEDOUT;
    xipc_plat_mutex_unlock(&c->mu);
    return rv;
}

xipc_err xipc_rpc_future_wait(xipc_rpc_future *f, int timeout_ms)
{
    if (f == NULL || timeout_ms < -1)
        return XIPC_EINVAL;
    xipc_deadline d = xipc__deadline(timeout_ms);
    return cli_wait(f, &d);
}

xipc_err xipc_rpc_future_result(xipc_rpc_future *f, xipc_rpc_result *res)
{
    if (f == NULL)
        return XIPC_EINVAL;
    xipc_plat_mutex_lock(&f->c->mu);
    int done = f->state == FUT_DONE;
    xipc_plat_mutex_unlock(&f->c->mu);
    if (!done)
        return XIPC_ESTATE;
    return xipc__rpc_result_take(f, res);
}

xipc_err xipc_rpc_future_cancel(xipc_rpc_future *f)
{
    if (f == NULL)
        return XIPC_EINVAL;
    xipc_rpc_client *c = f->c;
    xipc_plat_mutex_lock(&c->mu);
    xipc_err rv = XIPC_ESTATE;
    if (f->state == FUT_PENDING && cli_unlink(c, f)) {
        f->cb = NULL;
        cli_complete(f, XIPC_EINTR);
        rv = XIPC_OK;
    }
    xipc_plat_mutex_unlock(&c->mu);
    return rv;
}

static void cli_future_destroy(xipc_rpc_future *f)
{
    xipc_rpc_client *c = f->c;
    xipc_plat_cond_fini(&f->cond);
    free(f->msg);
    free(f);
    cli_unref(c);
}

void xipc_rpc_future_free(xipc_rpc_future *f)
{
    if (f == NULL)
        return;
    xipc_rpc_future_cancel(f);
    xipc_plat_mutex_lock(&f->c->mu);
    int later = f->in_cb; /* from inside its callback: free after it */
    f->free_req = 1;
    xipc_plat_mutex_unlock(&f->c->mu);
    if (!later)
        cli_future_destroy(f);
}

xipc_err xipc_rpc_call(xipc_rpc_client *c, const char *method,
                       const void *params, size_t params_len,
                       xipc_rpc_result *res, int timeout_ms)
{
    if (c == NULL || timeout_ms < -1)
        return XIPC_EINVAL;
    /* the call's whole time counts, sending included: fix the deadline now */
    xipc_deadline d = xipc__deadline(timeout_ms);
    xipc__deadline_left_ms(&d);
    xipc_rpc_future *f;
    int direct = 0;
    xipc_err rv = cli_start(c, method, params, params_len, NULL, NULL, 0, timeout_ms,
                            &direct, &f);
    if (rv != XIPC_OK)
        return rv;
    rv = direct ? cli_receive_for(c, f, &d) : cli_wait(f, &d);
    if (rv == XIPC_ETIMEDOUT && xipc_rpc_future_cancel(f) == XIPC_OK) {
        xipc_rpc_future_free(f);
        return XIPC_ETIMEDOUT;
    }
    rv = xipc__rpc_result_take(f, res);
    cli_future_destroy(f); /* done, unlinked, no callback: ours alone */
    return rv;
}

xipc_err xipc_rpc_notify(xipc_rpc_client *c, const char *method,
                         const void *params, size_t params_len, int timeout_ms)
{
    if (c == NULL || timeout_ms < -1)
        return XIPC_EINVAL;
    xipc_err rv = xipc__rpc_check_call(method, params, params_len);
    if (rv != XIPC_OK)
        return rv;
    xipc_plat_mutex_lock(&c->mu);
    rv = c->dead != XIPC_OK ? c->dead : XIPC_OK;
    xipc_plat_mutex_unlock(&c->mu);
    if (rv != XIPC_OK)
        return rv;
    return cli_send(c, XIPC_RPC_NOTIFICATION, 0, method, params, params_len, timeout_ms,
                    NULL, NULL);
}

void xipc__rpc_client_set_next_id(xipc_rpc_client *c, uint32_t id)
{
    xipc_plat_mutex_lock(&c->mu);
    c->next_id = id;
    xipc_plat_mutex_unlock(&c->mu);
}
