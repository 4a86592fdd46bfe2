/*
 * Client results: the outcome of a call (xipc_rpc_result), remote error
 * objects, and the calls that pack and unpack with format strings.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc_client.h"

_Thread_local struct xipc_rpc_last xipc__rpc_last;

void xipc_rpc_free(void *p)
{
    free(p);
}

/* ---- results ------------------------------------------------------------- */

typedef struct cli_store { /* what xipc_rpc_result.priv_ points to */
    uint8_t *msg;
    char message[XIPC_RPC_ERRMSG_MAX + 1];
} cli_store;

void xipc_rpc_result_init(xipc_rpc_result *r)
{
    if (r == NULL)
        return;
    memset(r, 0, sizeof(*r));
    r->message = "";
}

void xipc_rpc_result_fini(xipc_rpc_result *r)
{
    if (r == NULL)
        return;
    cli_store *s = r->priv_;
    if (s != NULL) {
        free(s->msg);
        free(s);
    }
    xipc_rpc_result_init(r);
}

/* Decode an error object: [code, message], a str, or anything else. */
static void cli_error_decode(const uint8_t *p, size_t len, int64_t *code,
                             char *msg, size_t cap)
{
    xipc_mp_reader r;
    uint32_t n, sl;
    const char *s;
    *code = 0;
    msg[0] = '\0';
    xipc_mp_reader_init(&r, p, len);
    if (xipc_mp_read_str(&r, &s, &sl) != XIPC_OK) {
        int64_t v;
        if (xipc_mp_read_array(&r, &n) != XIPC_OK || n < 1)
            return;
        if (xipc_mp_read_int(&r, &v) == XIPC_OK)
            *code = v;
        else if (xipc_mp_skip(&r) != XIPC_OK)
            return;
        if (n < 2 || xipc_mp_read_str(&r, &s, &sl) != XIPC_OK)
            return;
    }
    size_t k = sl < cap - 1 ? sl : cap - 1;
    memcpy(msg, s, k);
    msg[k] = '\0';
}

/* Move a completed future's outcome into @p res. */
xipc_err xipc__rpc_result_take(xipc_rpc_future *f, xipc_rpc_result *res)
{
    xipc_err st = f->status;
    if (st == XIPC_EREMOTE)
        cli_error_decode(f->msg + f->error_off, f->error_len, &xipc__rpc_last.code,
                         xipc__rpc_last.message, sizeof(xipc__rpc_last.message));
    xipc__rpc_last.set |= st == XIPC_EREMOTE;
    if (res != NULL)
        xipc_rpc_result_fini(res);
    if (res == NULL || f->msg == NULL)
        return st;
    cli_store *s = malloc(sizeof(*s));
    if (s == NULL)
        return XIPC_ENOMEM;
    s->msg = f->msg;
    f->msg = NULL;
    s->message[0] = '\0';
    res->priv_ = s;
    res->message = s->message;
    if (st == XIPC_EREMOTE) {
        res->error = s->msg + f->error_off;
        res->error_len = f->error_len;
        cli_error_decode(res->error, res->error_len, &res->code, s->message,
                         sizeof(s->message));
    } else {
        res->value = s->msg + f->value_off;
        res->value_len = f->value_len;
    }
    return st;
}

xipc_err xipc_rpc_last_error(int64_t *code, const char **message)
{
    if (!xipc__rpc_last.set)
        return XIPC_ENOENT;
    if (code != NULL)
        *code = xipc__rpc_last.code;
    if (message != NULL)
        *message = xipc__rpc_last.message;
    return XIPC_OK;
}

xipc_err xipc_rpc_result_scanf(const xipc_rpc_result *r, const char *fmt, ...)
{
    if (r == NULL)
        return XIPC_EINVAL;
    if (r->value == NULL)
        return XIPC_ESTATE;
    xipc_rpc_allocs a = {0};
    va_list ap;
    va_start(ap, fmt);
    xipc_err rv = xipc__rpc_fmt_read_value(r->value, r->value_len, fmt, &ap, &a);
    va_end(ap);
    xipc__rpc_allocs_forget(&a);
    return rv == XIPC_EPROTO ? XIPC_EINVAL : rv;
}

/* ---- format-string calls ------------------------------------------------------------ */

xipc_err xipc_rpc_pack(void **out, size_t *len, const char *fmt, ...)
{
    if (out == NULL || len == NULL)
        return XIPC_EINVAL;
    xipc_mp_buf b;
    xipc_mp_buf_init(&b);
    va_list ap;
    va_start(ap, fmt);
    xipc_err rv = xipc__rpc_fmt_write_value(&b, fmt, &ap, 1);
    va_end(ap);
    if (rv != XIPC_OK) {
        xipc_mp_buf_fini(&b);
        return rv;
    }
    *out = b.data;
    *len = b.len;
    return XIPC_OK;
}

xipc_err xipc_rpc_callf(xipc_rpc_client *c, const char *method,
                        const char *argfmt, ...)
{
    if (c == NULL)
        return XIPC_EINVAL;
    va_list ap;
    va_start(ap, argfmt);
    xipc_mp_buf b;
    xipc_mp_buf_init(&b);
    xipc_err rv = xipc__rpc_fmt_write_value(&b, argfmt, &ap, 1);
    const char *resfmt = NULL;
    uint32_t nres = 0;
    if (rv == XIPC_OK) { /* the arguments were all taken: the format is next */
        resfmt = va_arg(ap, const char *);
        rv = xipc__rpc_fmt_count(resfmt, &nres);
    }
    xipc_rpc_result res;
    xipc_rpc_result_init(&res);
    if (rv == XIPC_OK)
        rv = xipc_rpc_call(c, method, b.data, b.len, &res, c->o.timeout_ms);
    xipc_mp_buf_fini(&b);
    if (rv == XIPC_OK && nres > 0) {
        xipc_rpc_allocs a = {0};
        rv = xipc__rpc_fmt_read_value(res.value, res.value_len, resfmt, &ap, &a);
        xipc__rpc_allocs_forget(&a);
        if (rv == XIPC_EPROTO)
            rv = XIPC_EINVAL;
    }
    va_end(ap);
    xipc_rpc_result_fini(&res);
    return rv;
}

/* xipc_rpc_notify as an xipc_rpc_notify_send */
static xipc_err res_notify(void *c, const char *method, const void *params, size_t len,
                           int timeout_ms)
{
    return xipc_rpc_notify(c, method, params, len, timeout_ms);
}

xipc_err xipc_rpc_notifyf(xipc_rpc_client *c, const char *method,
                          const char *argfmt, ...)
{
    if (c == NULL)
        return XIPC_EINVAL;
    va_list ap;
    va_start(ap, argfmt);
    xipc_err rv = xipc__rpc_fmt_notify(res_notify, c, method, c->o.timeout_ms, argfmt, &ap);
    va_end(ap);
    return rv;
}
