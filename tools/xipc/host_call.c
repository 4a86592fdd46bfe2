/*
 * Calling a library function through libffi on behalf of an RPC call.
 *
 * Every argument is read and checked against the signature before the
 * call: its MessagePack type, an integer's range in its C type, a
 * string's NUL bytes, a buffer's length (at most HOST_BUF_MAX and what
 * its length parameter can hold), a struct's fields. A mismatch is an
 * XIPC_RPC_EINVALID_PARAMS error to the caller and the function is not
 * called: only the library itself can bring the host down.
 *
 * The result: the return value alone, or, when the function has out
 * buffers, out structs or errno, the array [return, outs..., errno].
 */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <errno.h>
#include <float.h>
#include <ffi.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_call.h"
#include "xipc/msgpack.h"

typedef struct call_struct {
    ffi_type type;
    ffi_type *elems[HOST_FIELDS_MAX + 1];
    size_t offsets[HOST_FIELDS_MAX];
} call_struct;

typedef struct call_fn {
    const host_fn *fn;
    host_lib *lib;
    void (*sym)(void);
    ffi_cif cif;
    ffi_type *args[HOST_PARAMS_MAX];
    char sig[512]; /* as xipc.methods shows it, and error messages */
} call_fn;

struct host_lib {
    const host_sigs *sigs;
    call_struct structs[HOST_STRUCTS_MAX];
    call_fn *fns; /* sigs->nfns */
};

/* A scalar argument or a pointer, where libffi reads it from. */
typedef union call_slot {
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    float f;
    double d;
    void *p;
} call_slot;

/* One call's arguments and the memory it owns. */
typedef struct call_args {
    call_slot slots[HOST_PARAMS_MAX];
    void *values[HOST_PARAMS_MAX];
    void *mem[HOST_PARAMS_MAX]; /* buffers, strings, structs: freed after */
    size_t lens[HOST_PARAMS_MAX];
    void *strs[HOST_PARAMS_MAX * HOST_FIELDS_MAX]; /* str fields' copies */
    unsigned nstrs;
} call_args;

static ffi_type *call_ffi_type(const host_lib *h, host_kind k, int strct)
{
    switch (k) {
    case HOST_VOID: return &ffi_type_void;
    case HOST_I8: return &ffi_type_sint8;
    case HOST_I16: return &ffi_type_sint16;
    case HOST_I32: return &ffi_type_sint32;
    case HOST_I64: return &ffi_type_sint64;
    case HOST_U8: return &ffi_type_uint8;
    case HOST_U16: return &ffi_type_uint16;
    case HOST_U32: return &ffi_type_uint32;
    case HOST_U64: return &ffi_type_uint64;
    case HOST_FLOAT: return &ffi_type_float;
    case HOST_DOUBLE: return &ffi_type_double;
    case HOST_STRUCT: return (ffi_type *)&h->structs[strct].type;
    default: return &ffi_type_pointer; /* str, buf */
    }
}

/* The struct's libffi type and its fields' offsets, as this ABI lays
 * them out (int64 is 4-aligned in an i386 struct: libffi knows). */
static int call_prepare_struct(host_lib *h, unsigned i)
{
    const host_struct *st = &h->sigs->structs[i];
    call_struct *cs = &h->structs[i];
    for (unsigned f = 0; f < st->nfields; f++)
        cs->elems[f] = call_ffi_type(h, st->fields[f].kind, -1);
    cs->elems[st->nfields] = NULL;
    cs->type.size = 0;
    cs->type.alignment = 0;
    cs->type.type = FFI_TYPE_STRUCT;
    cs->type.elements = cs->elems;
    return ffi_get_struct_offsets(FFI_DEFAULT_ABI, &cs->type, cs->offsets) == FFI_OK ? 0 : -1;
}

int host_lib_prepare(host_lib **out, const host_sigs *s, void *handle, char *why, size_t cap)
{
    host_lib *h = calloc(1, sizeof(*h));
    if (h == NULL || (h->fns = calloc(s->nfns + 1, sizeof(call_fn))) == NULL) {
        free(h);
        snprintf(why, cap, "out of memory");
        return -1;
    }
    h->sigs = s;
    for (unsigned i = 0; i < s->nstructs; i++)
        if (call_prepare_struct(h, i) != 0) {
            snprintf(why, cap, "struct %s: libffi cannot lay it out", s->structs[i].name);
            host_lib_free(h);
            return -1;
        }
    for (unsigned i = 0; i < s->nfns; i++) {
        const host_fn *f = &s->fns[i];
        call_fn *c = &h->fns[i];
        c->fn = f;
        c->lib = h;
        host_fn_format(s, f, c->sig, sizeof(c->sig));
        /* dlsym's object pointer as a function pointer: POSIX allows it */
        void *sym = dlsym(handle, f->name);
        if (sym == NULL) {
            snprintf(why, cap, "%s: no such function in the library", f->name);
            host_lib_free(h);
            return -1;
        }
        memcpy(&c->sym, &sym, sizeof(sym));
        for (unsigned p = 0; p < f->nparams; p++)
            c->args[p] = call_ffi_type(h, f->params[p].kind == HOST_STRUCT &&
                                                  f->params[p].dir == HOST_OUT
                                              ? HOST_BUF
                                              : f->params[p].kind,
                                       f->params[p].strct);
        if (ffi_prep_cif(&c->cif, FFI_DEFAULT_ABI, f->nparams,
                         call_ffi_type(h, f->ret, f->ret_struct), c->args) != FFI_OK) {
            snprintf(why, cap, "%s: libffi cannot prepare this call", f->name);
            host_lib_free(h);
            return -1;
        }
    }
    *out = h;
    return 0;
}

void host_lib_free(host_lib *h)
{
    if (h == NULL)
        return;
    free(h->fns);
    free(h);
}

/* Answer the call with [XIPC_RPC_EINVALID_PARAMS, "invalid params: SIG:
 * argument N (NAME): WHY"]. @return XIPC_EINVAL */
static xipc_err call_bad(xipc_rpc_req *req, const call_fn *c, unsigned arg, int param,
                         const char *fmt, ...)
{
    char why[256], msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (param < 0)
        snprintf(msg, sizeof(msg), "invalid params: %s: %s", c->sig, why);
    else
        snprintf(msg, sizeof(msg), "invalid params: %s: argument %u%s%s%s: %s", c->sig, arg,
                 c->fn->params[param].name[0] ? " (" : "", c->fn->params[param].name,
                 c->fn->params[param].name[0] ? ")" : "", why);
    xipc_rpc_req_error(req, XIPC_RPC_EINVALID_PARAMS, msg);
    return XIPC_EINVAL;
}

/* The range of each integer kind, HOST_I8..HOST_U64 */
static const int64_t call_min[] = {INT8_MIN, INT16_MIN, INT32_MIN, INT64_MIN, 0, 0, 0, 0};
static const uint64_t call_max[] = {INT8_MAX, INT16_MAX, INT32_MAX, INT64_MAX,
                                    UINT8_MAX, UINT16_MAX, UINT32_MAX, UINT64_MAX};

/* Store the integer @p neg ? -@p mag... as kind @p k at @p dst */
static void call_store_int(host_kind k, int64_t i, uint64_t u, int is_neg, void *dst)
{
    call_slot v;
    switch (k) {
    case HOST_I8: v.i8 = (int8_t)i; break;
    case HOST_I16: v.i16 = (int16_t)i; break;
    case HOST_I32: v.i32 = (int32_t)i; break;
    case HOST_I64: v.i64 = is_neg ? i : (int64_t)u; break;
    case HOST_U8: v.u8 = (uint8_t)u; break;
    case HOST_U16: v.u16 = (uint16_t)u; break;
    case HOST_U32: v.u32 = (uint32_t)u; break;
    default: v.u64 = u; break;
    }
    static const size_t sizes[] = {1, 2, 4, 8, 1, 2, 4, 8};
    memcpy(dst, &v, sizes[k - HOST_I8]);
}

/* Check @p o against scalar kind @p k and store it at @p dst.
 * @return NULL, or why not (in @p why) */
static const char *call_scalar_in(host_kind k, const xipc_mp_obj *o, void *dst, char *why,
                                  size_t cap)
{
    if (k == HOST_FLOAT || k == HOST_DOUBLE) {
        double d;
        if (o->type == XIPC_MP_FLOAT32)
            d = o->v.f32;
        else if (o->type == XIPC_MP_FLOAT64)
            d = o->v.f64;
        else if (o->type == XIPC_MP_UINT)
            d = (double)o->v.u;
        else if (o->type == XIPC_MP_INT)
            d = (double)o->v.i;
        else {
            snprintf(why, cap, "expected a number, got %s", xipc_mp_type_name(o->type));
            return why;
        }
        if (k == HOST_DOUBLE) {
            memcpy(dst, &d, sizeof(d));
            return NULL;
        }
        if (d == d && (d > FLT_MAX || d < -FLT_MAX) && d - d == 0) {
            snprintf(why, cap, "%g does not fit float", d);
            return why;
        }
        float f = (float)d;
        memcpy(dst, &f, sizeof(f));
        return NULL;
    }
    int neg = o->type == XIPC_MP_INT;
    if (!neg && o->type != XIPC_MP_UINT) {
        snprintf(why, cap, "expected an integer (%s), got %s", host_kind_name(k),
                 xipc_mp_type_name(o->type));
        return why;
    }
    int bad = neg ? o->v.i < call_min[k - HOST_I8] : o->v.u > call_max[k - HOST_I8];
    if (bad) {
        if (neg)
            snprintf(why, cap, "%lld does not fit %s", (long long)o->v.i, host_kind_name(k));
        else
            snprintf(why, cap, "%llu does not fit %s", (unsigned long long)o->v.u,
                     host_kind_name(k));
        return why;
    }
    call_store_int(k, neg ? o->v.i : (int64_t)o->v.u, neg ? (uint64_t)o->v.i : o->v.u, neg,
                   dst);
    return NULL;
}

/* Write the scalar of kind @p k at @p src. */
static xipc_err call_scalar_out(xipc_mp_buf *b, host_kind k, const void *src)
{
    call_slot v;
    static const size_t sizes[] = {0, 1, 2, 4, 8, 1, 2, 4, 8, 4, 8};
    memcpy(&v, src, sizes[k]);
    switch (k) {
    case HOST_I8: return xipc_mp_write_int(b, v.i8);
    case HOST_I16: return xipc_mp_write_int(b, v.i16);
    case HOST_I32: return xipc_mp_write_int(b, v.i32);
    case HOST_I64: return xipc_mp_write_int(b, v.i64);
    case HOST_U8: return xipc_mp_write_uint(b, v.u8);
    case HOST_U16: return xipc_mp_write_uint(b, v.u16);
    case HOST_U32: return xipc_mp_write_uint(b, v.u32);
    case HOST_U64: return xipc_mp_write_uint(b, v.u64);
    case HOST_FLOAT: return xipc_mp_write_float(b, v.f);
    case HOST_DOUBLE: return xipc_mp_write_double(b, v.d);
    default: return xipc_mp_write_nil(b);
    }
}

/* Write the struct at @p mem as a map {field: value, ...}. */
static xipc_err call_struct_out(xipc_mp_buf *b, const call_fn *c, int strct, const void *mem)
{
    const host_struct *st = &c->lib->sigs->structs[strct];
    const call_struct *cs = &c->lib->structs[strct];
    xipc_err rv = xipc_mp_write_map(b, st->nfields);
    for (unsigned f = 0; f < st->nfields && rv == XIPC_OK; f++) {
        const char *at = (const char *)mem + cs->offsets[f], *s;
        xipc_mp_write_cstr(b, st->fields[f].name);
        if (st->fields[f].kind != HOST_STR) {
            rv = call_scalar_out(b, st->fields[f].kind, at);
            continue;
        }
        memcpy(&s, at, sizeof(s));
        rv = s == NULL ? xipc_mp_write_nil(b) : xipc_mp_write_str(b, s, strnlen(s, HOST_BUF_MAX));
    }
    return rv;
}

/* A str field's value @p v: a NUL-terminated copy (kept in @p a) at @p at,
 * or NULL for nil when nullable. @return NULL, or why not */
static const char *call_field_str(const host_field *f, const xipc_mp_obj *v, call_args *a,
                                  void *at, char *why, size_t cap)
{
    char *copy = NULL;
    if (v->type == XIPC_MP_NIL && f->nullable)
        return NULL; /* the struct is zeroed: NULL */
    if (v->type != XIPC_MP_STR) {
        snprintf(why, cap, "expected str%s, got %s", f->nullable ? " or nil" : "",
                 xipc_mp_type_name(v->type));
        return why;
    }
    if (memchr(v->ptr, 0, v->len) != NULL) {
        snprintf(why, cap, "a C string cannot hold a NUL byte");
        return why;
    }
    if ((copy = malloc((size_t)v->len + 1)) == NULL) {
        snprintf(why, cap, "out of memory");
        return why;
    }
    memcpy(copy, v->ptr, v->len);
    copy[v->len] = 0;
    a->strs[a->nstrs++] = copy;
    memcpy(at, &copy, sizeof(copy));
    return NULL;
}

/* Read a struct argument (a map naming every field once) into @p mem. */
static xipc_err call_struct_in(xipc_rpc_req *req, const call_fn *c, unsigned arg, int param,
                               const xipc_mp_obj *o, void *mem, call_args *a)
{
    int strct = c->fn->params[param].strct;
    const host_struct *st = &c->lib->sigs->structs[strct];
    const call_struct *cs = &c->lib->structs[strct];
    xipc_mp_reader *r = xipc_rpc_req_params(req);
    unsigned seen = 0;
    char why[160];
    if (o->type != XIPC_MP_MAP)
        return call_bad(req, c, arg, param, "expected a map (struct %s), got %s", st->name,
                        xipc_mp_type_name(o->type));
    if (o->len != st->nfields)
        return call_bad(req, c, arg, param, "struct %s has %u fields, the map %u", st->name,
                        st->nfields, o->len);
    for (uint32_t i = 0; i < o->len; i++) {
        xipc_mp_obj k, v;
        if (xipc_mp_read_next(r, &k) != XIPC_OK || xipc_mp_read_next(r, &v) != XIPC_OK)
            return XIPC_EPROTO;
        unsigned f = 0;
        while (k.type == XIPC_MP_STR && f < st->nfields &&
               !(strlen(st->fields[f].name) == k.len &&
                 memcmp(st->fields[f].name, k.ptr, k.len) == 0))
            f++;
        if (k.type != XIPC_MP_STR || f == st->nfields)
            return call_bad(req, c, arg, param, "struct %s: a key that names no field",
                            st->name);
        if (seen & (1u << f))
            return call_bad(req, c, arg, param, "struct %s: field %s given twice", st->name,
                            st->fields[f].name);
        seen |= 1u << f;
        void *at = (char *)mem + cs->offsets[f];
        if (st->fields[f].kind == HOST_STR
                ? call_field_str(&st->fields[f], &v, a, at, why, sizeof(why)) != NULL
                : call_scalar_in(st->fields[f].kind, &v, at, why, sizeof(why)) != NULL)
            return call_bad(req, c, arg, param, "field %s: %s", st->fields[f].name, why);
    }
    return XIPC_OK;
}

/* The largest length @p len_kind holds, at most HOST_BUF_MAX. */
static uint64_t call_len_max(host_kind len_kind)
{
    uint64_t m = call_max[len_kind - HOST_I8];
    return m < HOST_BUF_MAX ? m : HOST_BUF_MAX;
}

/* A str argument: a NUL-terminated copy, or NULL for nil when nullable. */
static xipc_err call_str_in(xipc_rpc_req *req, const call_fn *c, unsigned arg, int param,
                            const xipc_mp_obj *o, call_args *a)
{
    const host_param *p = &c->fn->params[param];
    if (o->type == XIPC_MP_NIL && p->nullable)
        return XIPC_OK; /* slots[param].p stays NULL */
    if (o->type != XIPC_MP_STR)
        return call_bad(req, c, arg, param, "expected str%s, got %s",
                        p->nullable ? " or nil" : "", xipc_mp_type_name(o->type));
    if (memchr(o->ptr, 0, o->len) != NULL)
        return call_bad(req, c, arg, param, "a C string cannot hold a NUL byte");
    if ((a->mem[param] = malloc((size_t)o->len + 1)) == NULL)
        return XIPC_ENOMEM;
    memcpy(a->mem[param], o->ptr, o->len);
    ((char *)a->mem[param])[o->len] = 0;
    a->slots[param].p = a->mem[param];
    return XIPC_OK;
}

/* A buffer argument: in and inout take bin (a copy is passed), out takes
 * its length; nil is NULL and length 0 when nullable. */
static xipc_err call_buf_in(xipc_rpc_req *req, const call_fn *c, unsigned arg, int param,
                            const xipc_mp_obj *o, call_args *a)
{
    const host_param *p = &c->fn->params[param];
    uint64_t max = call_len_max(c->fn->params[p->len_param].kind), n;
    if (o->type == XIPC_MP_NIL && p->nullable)
        return XIPC_OK;
    if (p->dir == HOST_OUT) {
        if (o->type != XIPC_MP_UINT)
            return call_bad(req, c, arg, param, "expected the out buffer's length, got %s",
                            xipc_mp_type_name(o->type));
        n = o->v.u;
    } else {
        if (o->type != XIPC_MP_BIN)
            return call_bad(req, c, arg, param, "expected bin%s, got %s",
                            p->nullable ? " or nil" : "", xipc_mp_type_name(o->type));
        n = o->len;
    }
    if (n > max)
        return call_bad(req, c, arg, param, "%llu bytes: at most %llu", (unsigned long long)n,
                        (unsigned long long)max);
    if ((a->mem[param] = calloc(1, n ? (size_t)n : 1)) == NULL)
        return XIPC_ENOMEM;
    if (p->dir != HOST_OUT)
        memcpy(a->mem[param], o->ptr, (size_t)n);
    a->slots[param].p = a->mem[param];
    a->lens[param] = (size_t)n;
    return XIPC_OK;
}

/* One RPC argument into parameter @p param. */
static xipc_err call_arg_in(xipc_rpc_req *req, const call_fn *c, unsigned arg, int param,
                            call_args *a)
{
    const host_param *p = &c->fn->params[param];
    xipc_mp_obj o;
    char why[160];
    xipc_err rv = xipc_mp_read_next(xipc_rpc_req_params(req), &o);
    if (rv != XIPC_OK)
        return rv;
    switch (p->kind) {
    case HOST_STR: return call_str_in(req, c, arg, param, &o, a);
    case HOST_BUF: return call_buf_in(req, c, arg, param, &o, a);
    case HOST_STRUCT:
        if ((a->mem[param] = calloc(1, c->lib->structs[p->strct].type.size)) == NULL)
            return XIPC_ENOMEM;
        a->values[param] = a->mem[param];
        return call_struct_in(req, c, arg, param, &o, a->mem[param], a);
    default:
        if (call_scalar_in(p->kind, &o, &a->slots[param], why, sizeof(why)) != NULL)
            return call_bad(req, c, arg, param, "%s", why);
        return XIPC_OK;
    }
}

/* Read and check every argument; fill in lengths and out structs. */
static xipc_err call_args_in(xipc_rpc_req *req, const call_fn *c, call_args *a)
{
    const host_fn *f = c->fn;
    unsigned arg = 0;
    if (xipc_rpc_req_nparams(req) != f->nargs)
        return call_bad(req, c, 0, -1, "expected %u argument%s, got %u", f->nargs,
                        f->nargs == 1 ? "" : "s", (unsigned)xipc_rpc_req_nparams(req));
    for (unsigned i = 0; i < f->nparams; i++) {
        const host_param *p = &f->params[i];
        a->values[i] = &a->slots[i];
        if (p->len_of >= 0)
            continue;
        if (p->kind == HOST_STRUCT && p->dir == HOST_OUT) {
            if ((a->mem[i] = calloc(1, c->lib->structs[p->strct].type.size)) == NULL)
                return XIPC_ENOMEM;
            a->slots[i].p = a->mem[i];
            continue;
        }
        xipc_err rv = call_arg_in(req, c, ++arg, (int)i, a);
        if (rv != XIPC_OK)
            return rv;
    }
    for (unsigned i = 0; i < f->nparams; i++)
        if (f->params[i].len_of >= 0)
            call_store_int(f->params[i].kind, (int64_t)a->lens[f->params[i].len_of],
                           a->lens[f->params[i].len_of], 0, &a->slots[i]);
    return XIPC_OK;
}

/* The return value at @p ret. libffi widens an integer narrower than a
 * register to ffi_arg. */
static xipc_err call_ret_out(xipc_mp_buf *b, const call_fn *c, void *ret)
{
    host_kind k = c->fn->ret;
    static const size_t sizes[] = {0, 1, 2, 4, 8, 1, 2, 4, 8};
    if (k == HOST_VOID)
        return xipc_mp_write_nil(b);
    if (k == HOST_STRUCT)
        return call_struct_out(b, c, c->fn->ret_struct, ret);
    if (k == HOST_STR) {
        const char *s;
        memcpy(&s, ret, sizeof(s));
        return s == NULL ? xipc_mp_write_nil(b) : xipc_mp_write_str(b, s, strnlen(s, HOST_BUF_MAX));
    }
    if (host_kind_is_int(k) && sizes[k] < sizeof(ffi_arg)) {
        ffi_arg u;
        ffi_sarg s;
        memcpy(&u, ret, sizeof(u));
        memcpy(&s, ret, sizeof(s));
        return k <= HOST_I64 ? xipc_mp_write_int(b, (int64_t)s) : xipc_mp_write_uint(b, u);
    }
    return call_scalar_out(b, k, ret);
}

/* [return, outs..., errno], or the return value alone */
static xipc_err call_result_out(xipc_rpc_req *req, const call_fn *c, call_args *a, void *ret,
                                int err)
{
    const host_fn *f = c->fn;
    xipc_mp_buf *b = xipc_rpc_req_result(req);
    if (f->nouts == 0 && !f->want_errno)
        return call_ret_out(b, c, ret);
    xipc_mp_write_array(b, 1 + f->nouts + (f->want_errno ? 1u : 0u));
    call_ret_out(b, c, ret);
    for (unsigned i = 0; i < f->nparams; i++) {
        const host_param *p = &f->params[i];
        if (p->kind == HOST_STRUCT && p->dir == HOST_OUT)
            call_struct_out(b, c, p->strct, a->mem[i]);
        else if (p->kind == HOST_BUF && p->dir != HOST_IN && a->slots[i].p == NULL)
            xipc_mp_write_nil(b);
        else if (p->kind == HOST_BUF && p->dir != HOST_IN)
            xipc_mp_write_bin(b, a->mem[i], a->lens[i]);
    }
    if (f->want_errno)
        xipc_mp_write_int(b, err);
    return XIPC_OK; /* a failed write leaves a bad value: an EINTERNAL answer */
}

static xipc_err call_handler(xipc_rpc_req *req, void *ud)
{
    const call_fn *c = ud;
    call_args a;
    union {
        ffi_arg a;
        uint64_t u;
        double d;
        void *p;
    } small;
    memset(&a, 0, sizeof(a));
    xipc_err rv = call_args_in(req, c, &a);
    void *ret = &small;
    size_t rsize = c->cif.rtype->size;
    if (rv == XIPC_OK && rsize > sizeof(small) && (ret = calloc(1, rsize)) == NULL)
        rv = XIPC_ENOMEM;
    if (rv == XIPC_OK) {
        int err = 0;
        if (c->fn->want_errno)
            errno = 0;
        ffi_call((ffi_cif *)&c->cif, c->sym, ret, a.values);
        if (c->fn->want_errno)
            err = errno;
        rv = call_result_out(req, c, &a, ret, err);
        if (ret != &small)
            free(ret);
    }
    for (unsigned i = 0; i < c->fn->nparams; i++)
        free(a.mem[i]);
    for (unsigned i = 0; i < a.nstrs; i++)
        free(a.strs[i]);
    return rv;
}

xipc_err host_lib_register(host_lib *h, xipc_rpc_server *srv, unsigned flags)
{
    xipc_err rv = XIPC_OK;
    for (unsigned i = 0; i < h->sigs->nfns && rv == XIPC_OK; i++)
        rv = xipc_rpc_server_register_ex(srv, h->fns[i].fn->name, h->fns[i].sig, call_handler,
                                         &h->fns[i], flags);
    return rv;
}
