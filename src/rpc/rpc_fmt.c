/* Format strings for packing and unpacking RPC values (see rpc_fmt.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc_fmt.h"
#include "rpc/rpc_scan.h"

static const char fmt_letters[] = "nBiIuUdsbm";

void xipc__rpc_allocs_free(xipc_rpc_allocs *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->p[i]);
    xipc__rpc_allocs_forget(a);
}

void xipc__rpc_allocs_forget(xipc_rpc_allocs *a)
{
    free(a->p);
    a->p = NULL;
    a->n = a->cap = 0;
}

/* A copy of @p len bytes plus a NUL, recorded in @p a. */
static void *fmt_copy(xipc_rpc_allocs *a, const void *src, size_t len)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 8;
        void **p = realloc(a->p, cap * sizeof(*p));
        if (p == NULL)
            return NULL;
        a->p = p;
        a->cap = cap;
    }
    uint8_t *m = malloc(len + 1);
    if (m == NULL)
        return NULL;
    if (len > 0)
        memcpy(m, src, len);
    m[len] = 0;
    a->p[a->n++] = m;
    return m;
}

xipc_err xipc__rpc_fmt_count(const char *fmt, uint32_t *n)
{
    *n = 0;
    if (fmt == NULL)
        return XIPC_OK;
    for (const char *p = fmt; *p; p++) {
        if (strchr(fmt_letters, *p) == NULL)
            return XIPC_EINVAL;
        (*n)++;
    }
    return XIPC_OK;
}

xipc_err xipc__rpc_fmt_write(xipc_mp_buf *b, const char *fmt, va_list *ap)
{
    for (const char *p = fmt; p != NULL && *p; p++) {
        xipc_err rv;
        switch (*p) {
        case 'n':
            rv = xipc_mp_write_nil(b);
            break;
        case 'B':
            rv = xipc_mp_write_bool(b, va_arg(*ap, int) != 0);
            break;
        case 'i':
            rv = xipc_mp_write_int(b, va_arg(*ap, int));
            break;
        case 'I':
            rv = xipc_mp_write_int(b, va_arg(*ap, int64_t));
            break;
        case 'u':
            rv = xipc_mp_write_uint(b, va_arg(*ap, unsigned));
            break;
        case 'U':
            rv = xipc_mp_write_uint(b, va_arg(*ap, uint64_t));
            break;
        case 'd':
            rv = xipc_mp_write_double(b, va_arg(*ap, double));
            break;
        case 's': {
            const char *s = va_arg(*ap, const char *);
            rv = s == NULL ? XIPC_EINVAL : xipc_mp_write_cstr(b, s);
            break;
        }
        case 'b': {
            const void *ptr = va_arg(*ap, const void *);
            size_t len = va_arg(*ap, size_t);
            rv = xipc_mp_write_bin(b, ptr, len);
            break;
        }
        case 'm': {
            const void *ptr = va_arg(*ap, const void *);
            size_t len = va_arg(*ap, size_t);
            rv = xipc__rpc_scan_exact(ptr, len, XIPC_RPC_SCAN_DEPTH) != XIPC_OK
                     ? XIPC_EINVAL
                     : xipc_mp_write_raw(b, ptr, len);
            break;
        }
        default:
            return XIPC_EINVAL;
        }
        if (rv != XIPC_OK)
            return rv;
    }
    return XIPC_OK;
}

xipc_err xipc__rpc_fmt_write_value(xipc_mp_buf *b, const char *fmt,
                                   va_list *ap, int as_array)
{
    uint32_t n;
    xipc_err rv = xipc__rpc_fmt_count(fmt, &n);
    if (rv != XIPC_OK)
        return rv;
    if (as_array || n > 1)
        rv = xipc_mp_write_array(b, n);
    else if (n == 0)
        rv = xipc_mp_write_nil(b);
    if (rv != XIPC_OK)
        return rv;
    return xipc__rpc_fmt_write(b, fmt, ap);
}

static const char *fmt_want(char c)
{
    switch (c) {
    case 'n': return "nil";
    case 'B': return "bool";
    case 'i': case 'I': case 'u': case 'U': return "int";
    case 'd': return "float";
    case 's': return "str";
    case 'b': return "bin";
    default: return "value";
    }
}

/* Read one value for letter @p c; XIPC_EINVAL when it does not match. */
static xipc_err fmt_read_one(xipc_mp_reader *r, char c, va_list *ap,
                             xipc_rpc_allocs *a)
{
    xipc_err rv;
    switch (c) {
    case 'n':
        return xipc_mp_read_nil(r);
    case 'B': {
        bool *out = va_arg(*ap, bool *);
        return xipc_mp_read_bool(r, out);
    }
    case 'i': {
        int *out = va_arg(*ap, int *);
        int64_t v;
        xipc_mp_reader save = *r;
        if ((rv = xipc_mp_read_int(r, &v)) != XIPC_OK)
            return rv;
        if (v < INT_MIN || v > INT_MAX) {
            *r = save;
            return XIPC_EINVAL;
        }
        *out = (int)v;
        return XIPC_OK;
    }
    case 'I': {
        int64_t *out = va_arg(*ap, int64_t *);
        return xipc_mp_read_int(r, out);
    }
    case 'u': {
        unsigned *out = va_arg(*ap, unsigned *);
        uint64_t v;
        xipc_mp_reader save = *r;
        if ((rv = xipc_mp_read_uint(r, &v)) != XIPC_OK)
            return rv;
        if (v > UINT_MAX) {
            *r = save;
            return XIPC_EINVAL;
        }
        *out = (unsigned)v;
        return XIPC_OK;
    }
    case 'U': {
        uint64_t *out = va_arg(*ap, uint64_t *);
        return xipc_mp_read_uint(r, out);
    }
    case 'd': {
        double *out = va_arg(*ap, double *);
        xipc_mp_obj o;
        if ((rv = xipc_mp_peek(r, &o)) != XIPC_OK)
            return rv;
        if (o.type == XIPC_MP_UINT || o.type == XIPC_MP_INT) {
            xipc_mp_read_next(r, &o);
            *out = o.type == XIPC_MP_UINT ? (double)o.v.u : (double)o.v.i;
            return XIPC_OK;
        }
        return xipc_mp_read_double(r, out);
    }
    case 's': {
        char **out = va_arg(*ap, char **);
        const char *s;
        uint32_t len;
        if ((rv = xipc_mp_read_str(r, &s, &len)) != XIPC_OK)
            return rv;
        char *m = fmt_copy(a, s, len);
        if (m == NULL)
            return XIPC_ENOMEM;
        *out = m;
        return XIPC_OK;
    }
    case 'b': {
        void **out = va_arg(*ap, void **);
        size_t *outlen = va_arg(*ap, size_t *);
        const void *p;
        uint32_t len;
        if ((rv = xipc_mp_read_bin(r, &p, &len)) != XIPC_OK)
            return rv;
        void *m = fmt_copy(a, p, len);
        if (m == NULL)
            return XIPC_ENOMEM;
        *out = m;
        *outlen = len;
        return XIPC_OK;
    }
    case 'm': {
        void **out = va_arg(*ap, void **);
        size_t *outlen = va_arg(*ap, size_t *);
        size_t left = xipc_mp_reader_left(r);
        const uint8_t *start = r->buf + r->pos;
        if ((rv = xipc_mp_skip(r)) != XIPC_OK)
            return rv;
        size_t len = left - xipc_mp_reader_left(r);
        void *m = fmt_copy(a, start, len);
        if (m == NULL)
            return XIPC_ENOMEM;
        *out = m;
        *outlen = len;
        return XIPC_OK;
    }
    default:
        return XIPC_EINVAL;
    }
}

xipc_err xipc__rpc_fmt_read(xipc_mp_reader *r, const char *fmt, va_list *ap,
                            xipc_rpc_allocs *a, char *why, size_t whycap)
{
    unsigned i = 0;
    for (const char *p = fmt; p != NULL && *p; p++, i++) {
        xipc_mp_obj o;
        xipc_err rv = xipc_mp_peek(r, &o);
        if (rv == XIPC_OK)
            rv = fmt_read_one(r, *p, ap, a);
        if (rv == XIPC_EINVAL && why != NULL) {
            int range = (*p == 'i' || *p == 'u' || *p == 'I' || *p == 'U') &&
                        (o.type == XIPC_MP_UINT || o.type == XIPC_MP_INT);
            snprintf(why, whycap, "%u: expected %s, got %s", i + 1, fmt_want(*p),
                     range ? "an int out of range" : xipc_mp_type_name(o.type));
        }
        if (rv != XIPC_OK)
            return rv;
    }
    return XIPC_OK;
}

void xipc__rpc_fmt_skip_read_args(const char *fmt, va_list *ap)
{
    for (const char *p = fmt; p != NULL && *p; p++) {
        if (*p == 'n')
            continue;
        (void)va_arg(*ap, void *);
        if (*p == 'b' || *p == 'm')
            (void)va_arg(*ap, void *);
    }
}

xipc_err xipc__rpc_fmt_read_value(const void *buf, size_t len, const char *fmt,
                                  va_list *ap, xipc_rpc_allocs *a)
{
    uint32_t n, count;
    xipc_err rv = xipc__rpc_fmt_count(fmt, &n);
    if (rv != XIPC_OK || n == 0)
        return rv;
    xipc_mp_reader r;
    xipc_mp_reader_init(&r, buf, len);
    if (n > 1) {
        if ((rv = xipc_mp_read_array(&r, &count)) != XIPC_OK)
            return rv;
        if (count != n)
            return XIPC_EINVAL;
    }
    rv = xipc__rpc_fmt_read(&r, fmt, ap, a, NULL, 0);
    if (rv != XIPC_OK)
        xipc__rpc_allocs_free(a);
    return rv;
}

xipc_err xipc__rpc_fmt_notify(xipc_rpc_notify_send send, void *to, const char *method,
                              int timeout_ms, const char *fmt, va_list *ap)
{
    xipc_mp_buf b;
    xipc_mp_buf_init(&b);
    xipc_err rv = xipc__rpc_fmt_write_value(&b, fmt, ap, 1);
    if (rv == XIPC_OK)
        rv = send(to, method, b.data, b.len, timeout_ms);
    xipc_mp_buf_fini(&b);
    return rv;
}
