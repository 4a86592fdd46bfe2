/*
 * MessagePack reader: a cursor that checks every header against the bytes
 * left before it trusts it, and keeps the elements owed by each open
 * container on a small stack (the depth limit bounds it).
 *
 * Invariant after every successful step: need (the sum of the stack) is at
 * most the bytes left, because every owed element takes at least one byte.
 * A header that would break it is refused before the cursor moves.
 */
#include <string.h>

#include "xipc/msgpack.h"

void xipc_mp_reader_init(xipc_mp_reader *r, const void *buf, size_t len)
{
    r->buf = buf;
    r->len = buf != NULL ? len : 0;
    r->pos = 0;
    r->need = 0;
    r->depth = 0;
    r->max_depth = XIPC_MP_DEPTH_DEFAULT;
    r->ext_stack = NULL;
    r->err = XIPC_OK;
}

xipc_err xipc_mp_reader_set_depth(xipc_mp_reader *r, uint32_t max_depth,
                                  uint64_t *stack)
{
    if (r == NULL)
        return XIPC_EINVAL;
    if (r->pos != 0 || r->err != XIPC_OK)
        return XIPC_ESTATE;
    if (stack == NULL && max_depth > XIPC_MP_DEPTH_DEFAULT)
        return XIPC_EINVAL;
    r->max_depth = max_depth;
    r->ext_stack = stack;
    return XIPC_OK;
}

size_t xipc_mp_reader_left(const xipc_mp_reader *r)
{
    return r->len - r->pos;
}

uint32_t xipc_mp_reader_depth(const xipc_mp_reader *r)
{
    return r->depth;
}

static uint64_t *mp_stack(xipc_mp_reader *r)
{
    return r->ext_stack != NULL ? r->ext_stack : r->inline_stack;
}

/* The big-endian unsigned number in @p n bytes at @p p. */
static uint64_t mp_load(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Sign-extend the @p n-byte two's complement number @p v. */
static int64_t mp_signed(uint64_t v, unsigned n)
{
    if (n < 8) {
        uint64_t sign = (uint64_t)1 << (8 * n - 1);
        if ((v & sign) == 0)
            return (int64_t)v;
        return (int64_t)(v - sign) - (int64_t)sign; /* v - 2^(8n) */
    }
    if (v <= INT64_MAX)
        return (int64_t)v;
    return -(int64_t)(~v) - 1;
}

/* How a format byte continues. */
enum mp_kind {
    MP_K_DONE,  /* complete in the format byte */
    MP_K_SCALAR, /* n bytes of value follow */
    MP_K_LEN,   /* n bytes of length follow, then (ext) a type byte */
    MP_K_COUNT, /* n bytes of element count follow */
};

/*
 * Decode the value at the cursor without moving it.
 * @param o     the value
 * @param size  bytes the value's header (and payload) take
 * @param kids  elements that follow (2n for a map)
 */
static xipc_err mp_decode(const xipc_mp_reader *r, xipc_mp_obj *o,
                          size_t *size, uint64_t *kids)
{
    size_t left = r->len - r->pos;
    if (left == 0)
        return XIPC_EPROTO;
    const uint8_t *p = r->buf + r->pos;
    uint8_t t = p[0];
    enum mp_kind kind = MP_K_DONE;
    unsigned n = 0;       /* bytes after the format byte */
    bool ext = false;     /* a type byte follows the length */
    uint64_t fixlen = 0;  /* length or count held in the format byte */

    memset(o, 0, sizeof(*o));
    o->tag = t;
    if (t <= 0x7f) {
        o->type = XIPC_MP_UINT;
        o->v.u = t;
    } else if (t <= 0x8f) {
        o->type = XIPC_MP_MAP;
        kind = MP_K_COUNT;
        fixlen = t & 0x0f;
    } else if (t <= 0x9f) {
        o->type = XIPC_MP_ARRAY;
        kind = MP_K_COUNT;
        fixlen = t & 0x0f;
    } else if (t <= 0xbf) {
        o->type = XIPC_MP_STR;
        kind = MP_K_LEN;
        fixlen = t & 0x1f;
    } else if (t >= 0xe0) {
        o->type = XIPC_MP_INT;
        o->v.i = (int64_t)t - 256;
    } else {
        switch (t) {
        case 0xc0: o->type = XIPC_MP_NIL; break;
        case 0xc1: return XIPC_EPROTO; /* never used */
        case 0xc2: o->type = XIPC_MP_BOOL; o->v.b = false; break;
        case 0xc3: o->type = XIPC_MP_BOOL; o->v.b = true; break;
        case 0xc4: case 0xc5: case 0xc6:
            o->type = XIPC_MP_BIN;
            kind = MP_K_LEN;
            n = 1u << (t - 0xc4);
            break;
        case 0xc7: case 0xc8: case 0xc9:
            o->type = XIPC_MP_EXT;
            kind = MP_K_LEN;
            n = 1u << (t - 0xc7);
            ext = true;
            break;
        case 0xca: o->type = XIPC_MP_FLOAT32; kind = MP_K_SCALAR; n = 4; break;
        case 0xcb: o->type = XIPC_MP_FLOAT64; kind = MP_K_SCALAR; n = 8; break;
        case 0xcc: case 0xcd: case 0xce: case 0xcf:
            o->type = XIPC_MP_UINT;
            kind = MP_K_SCALAR;
            n = 1u << (t - 0xcc);
            break;
        case 0xd0: case 0xd1: case 0xd2: case 0xd3:
            o->type = XIPC_MP_INT;
            kind = MP_K_SCALAR;
            n = 1u << (t - 0xd0);
            break;
        case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
            o->type = XIPC_MP_EXT;
            kind = MP_K_LEN;
            fixlen = 1u << (t - 0xd4);
            ext = true;
            break;
        case 0xd9: case 0xda: case 0xdb:
            o->type = XIPC_MP_STR;
            kind = MP_K_LEN;
            n = 1u << (t - 0xd9);
            break;
        case 0xdc: case 0xdd:
            o->type = XIPC_MP_ARRAY;
            kind = MP_K_COUNT;
            n = 2u << (t - 0xdc);
            break;
        default: /* 0xde, 0xdf */
            o->type = XIPC_MP_MAP;
            kind = MP_K_COUNT;
            n = 2u << (t - 0xde);
            break;
        }
    }

    size_t hdr = 1 + (size_t)n + (ext ? 1 : 0);
    if (left < hdr)
        return XIPC_EPROTO;
    uint64_t field = kind == MP_K_DONE ? 0 : mp_load(p + 1, n);
    size_t body = 0;
    *kids = 0;

    switch (kind) {
    case MP_K_DONE:
        break;
    case MP_K_SCALAR:
        if (o->type == XIPC_MP_UINT) {
            o->v.u = field;
        } else if (o->type == XIPC_MP_INT) {
            o->v.i = mp_signed(field, n);
            if (o->v.i >= 0) { /* a non-negative value is a UINT */
                o->type = XIPC_MP_UINT;
                o->v.u = (uint64_t)o->v.i;
            }
        } else if (o->type == XIPC_MP_FLOAT32) {
            uint32_t bits = (uint32_t)field;
            memcpy(&o->v.f32, &bits, 4);
        } else {
            memcpy(&o->v.f64, &field, 8);
        }
        break;
    case MP_K_LEN: {
        uint64_t len = n > 0 ? field : fixlen;
        if (len > left - hdr)
            return XIPC_EPROTO;
        body = (size_t)len;
        o->len = (uint32_t)len;
        o->ptr = p + hdr;
        if (ext) {
            o->ext_type = (int8_t)((int)p[hdr - 1] - (p[hdr - 1] > 127 ? 256 : 0));
            if (o->ext_type == -1) {
                const uint8_t *q = o->ptr;
                o->type = XIPC_MP_TIMESTAMP;
                if (len == 4) {
                    o->v.ts.sec = (int64_t)mp_load(q, 4);
                } else if (len == 8) {
                    uint64_t v = mp_load(q, 8);
                    o->v.ts.nsec = (uint32_t)(v >> 34);
                    o->v.ts.sec = (int64_t)(v & (((uint64_t)1 << 34) - 1));
                } else if (len == 12) {
                    o->v.ts.nsec = (uint32_t)mp_load(q, 4);
                    o->v.ts.sec = mp_signed(mp_load(q + 4, 8), 8);
                } else {
                    return XIPC_EPROTO;
                }
                if (o->v.ts.nsec > XIPC_MP_NSEC_MAX)
                    return XIPC_EPROTO;
            }
        }
        break;
    }
    case MP_K_COUNT: {
        uint64_t count = n > 0 ? field : fixlen;
        if (r->depth >= r->max_depth)
            return XIPC_EPROTO;
        o->len = (uint32_t)count;
        *kids = o->type == XIPC_MP_MAP ? 2 * count : count;
        break;
    }
    }

    /* The elements still owed after this value must fit in what is left. */
    size_t rest = left - hdr - body;
    uint64_t owed = r->need - (r->depth > 0 ? 1 : 0);
    if (*kids > rest || owed > rest - *kids)
        return XIPC_EPROTO;
    *size = hdr + body;
    return XIPC_OK;
}

/* Move past a value mp_decode accepted. */
static void mp_commit(xipc_mp_reader *r, size_t size, uint64_t kids)
{
    uint64_t *st = mp_stack(r);
    r->pos += size;
    if (r->depth > 0) {
        st[r->depth - 1]--;
        r->need--;
    }
    if (kids > 0) {
        st[r->depth++] = kids;
        r->need += kids;
    }
    while (r->depth > 0 && st[r->depth - 1] == 0)
        r->depth--;
}

/* Decode the next value; a failure breaks the reader for good. */
static xipc_err mp_look(xipc_mp_reader *r, xipc_mp_obj *o, size_t *size,
                        uint64_t *kids)
{
    if (r->err != XIPC_OK)
        return r->err;
    xipc_err rv = mp_decode(r, o, size, kids);
    if (rv != XIPC_OK)
        r->err = rv;
    return rv;
}

xipc_err xipc_mp_peek(xipc_mp_reader *r, xipc_mp_obj *out)
{
    size_t size;
    uint64_t kids;
    if (r == NULL || out == NULL)
        return XIPC_EINVAL;
    return mp_look(r, out, &size, &kids);
}

xipc_err xipc_mp_read_next(xipc_mp_reader *r, xipc_mp_obj *out)
{
    size_t size;
    uint64_t kids;
    if (r == NULL || out == NULL)
        return XIPC_EINVAL;
    xipc_err rv = mp_look(r, out, &size, &kids);
    if (rv == XIPC_OK)
        mp_commit(r, size, kids);
    return rv;
}

xipc_err xipc_mp_skip(xipc_mp_reader *r)
{
    xipc_mp_obj o;
    if (r == NULL)
        return XIPC_EINVAL;
    /* The value is over when the stack is back at (or, when it was the
     * last element of its container, below) the depth it started at. */
    uint32_t start = r->depth;
    do {
        xipc_err rv = xipc_mp_read_next(r, &o);
        if (rv != XIPC_OK)
            return rv;
    } while (r->depth > start);
    return XIPC_OK;
}

/*
 * Typed reads: look at the next value, let @p take accept it (filling the
 * caller's outputs) or refuse it; consume it only when accepted.
 */
#define MP_TYPED(r, o, accept)                                                 \
    do {                                                                       \
        size_t mp_size_;                                                       \
        uint64_t mp_kids_;                                                     \
        if ((r) == NULL)                                                       \
            return XIPC_EINVAL;                                                \
        xipc_err mp_rv_ = mp_look((r), &(o), &mp_size_, &mp_kids_);            \
        if (mp_rv_ != XIPC_OK)                                                 \
            return mp_rv_;                                                     \
        if (!(accept))                                                         \
            return XIPC_EINVAL;                                                \
        mp_commit((r), mp_size_, mp_kids_);                                    \
        return XIPC_OK;                                                        \
    } while (0)

xipc_err xipc_mp_read_nil(xipc_mp_reader *r)
{
    xipc_mp_obj o;
    MP_TYPED(r, o, o.type == XIPC_MP_NIL);
}

xipc_err xipc_mp_read_bool(xipc_mp_reader *r, bool *v)
{
    xipc_mp_obj o;
    if (v == NULL)
        return XIPC_EINVAL;
    MP_TYPED(r, o, o.type == XIPC_MP_BOOL && (*v = o.v.b, true));
}

/* Accept an integer in [lo, hi] into @p *v. */
static bool mp_int_in(const xipc_mp_obj *o, int64_t lo, int64_t hi,
                      int64_t *v)
{
    if (o->type == XIPC_MP_UINT && o->v.u <= (uint64_t)hi)
        *v = (int64_t)o->v.u;
    else if (o->type == XIPC_MP_INT && o->v.i >= lo)
        *v = o->v.i;
    else
        return false;
    return true;
}

xipc_err xipc_mp_read_int(xipc_mp_reader *r, int64_t *v)
{
    xipc_mp_obj o;
    if (v == NULL)
        return XIPC_EINVAL;
    MP_TYPED(r, o, mp_int_in(&o, INT64_MIN, INT64_MAX, v));
}

xipc_err xipc_mp_read_int32(xipc_mp_reader *r, int32_t *v)
{
    xipc_mp_obj o;
    int64_t w = 0;
    if (v == NULL)
        return XIPC_EINVAL;
    MP_TYPED(r, o, mp_int_in(&o, INT32_MIN, INT32_MAX, &w) &&
                       (*v = (int32_t)w, true));
}

xipc_err xipc_mp_read_uint(xipc_mp_reader *r, uint64_t *v)
{
    xipc_mp_obj o;
    if (v == NULL)
        return XIPC_EINVAL;
    MP_TYPED(r, o, o.type == XIPC_MP_UINT && (*v = o.v.u, true));
}

xipc_err xipc_mp_read_uint32(xipc_mp_reader *r, uint32_t *v)
{
    xipc_mp_obj o;
    if (v == NULL)
        return XIPC_EINVAL;
    MP_TYPED(r, o, o.type == XIPC_MP_UINT && o.v.u <= UINT32_MAX &&
                       (*v = (uint32_t)o.v.u, true));
}

xipc_err xipc_mp_read_double(xipc_mp_reader *r, double *v)
{
    xipc_mp_obj o;
    if (v == NULL)
        return XIPC_EINVAL;
    MP_TYPED(r, o,
             (o.type == XIPC_MP_FLOAT64 && (*v = o.v.f64, true)) ||
                 (o.type == XIPC_MP_FLOAT32 && (*v = (double)o.v.f32, true)));
}

xipc_err xipc_mp_read_str(xipc_mp_reader *r, const char **s, uint32_t *len)
{
    xipc_mp_obj o;
    if (s == NULL || len == NULL)
        return XIPC_EINVAL;
    MP_TYPED(r, o, o.type == XIPC_MP_STR &&
                       (*s = (const char *)o.ptr, *len = o.len, true));
}

xipc_err xipc_mp_read_bin(xipc_mp_reader *r, const void **p, uint32_t *len)
{
    xipc_mp_obj o;
    if (p == NULL || len == NULL)
        return XIPC_EINVAL;
    MP_TYPED(r, o, o.type == XIPC_MP_BIN && (*p = o.ptr, *len = o.len, true));
}

xipc_err xipc_mp_read_array(xipc_mp_reader *r, uint32_t *n)
{
    xipc_mp_obj o;
    if (n == NULL)
        return XIPC_EINVAL;
    MP_TYPED(r, o, o.type == XIPC_MP_ARRAY && (*n = o.len, true));
}

xipc_err xipc_mp_read_map(xipc_mp_reader *r, uint32_t *n)
{
    xipc_mp_obj o;
    if (n == NULL)
        return XIPC_EINVAL;
    MP_TYPED(r, o, o.type == XIPC_MP_MAP && (*n = o.len, true));
}

xipc_err xipc_mp_read_ext(xipc_mp_reader *r, int8_t *type, const void **p,
                          uint32_t *len)
{
    xipc_mp_obj o;
    if (type == NULL || p == NULL || len == NULL)
        return XIPC_EINVAL;
    MP_TYPED(r, o, (o.type == XIPC_MP_EXT || o.type == XIPC_MP_TIMESTAMP) &&
                       (*type = o.ext_type, *p = o.ptr, *len = o.len, true));
}

xipc_err xipc_mp_read_timestamp(xipc_mp_reader *r, int64_t *sec,
                                uint32_t *nsec)
{
    xipc_mp_obj o;
    if (sec == NULL || nsec == NULL)
        return XIPC_EINVAL;
    MP_TYPED(r, o, o.type == XIPC_MP_TIMESTAMP &&
                       (*sec = o.v.ts.sec, *nsec = o.v.ts.nsec, true));
}

const char *xipc_mp_type_name(xipc_mp_type t)
{
    switch (t) {
    case XIPC_MP_NIL: return "nil";
    case XIPC_MP_BOOL: return "bool";
    case XIPC_MP_UINT: return "uint";
    case XIPC_MP_INT: return "int";
    case XIPC_MP_FLOAT32: return "float32";
    case XIPC_MP_FLOAT64: return "float64";
    case XIPC_MP_STR: return "str";
    case XIPC_MP_BIN: return "bin";
    case XIPC_MP_ARRAY: return "array";
    case XIPC_MP_MAP: return "map";
    case XIPC_MP_EXT: return "ext";
    case XIPC_MP_TIMESTAMP: return "timestamp";
    }
    return "?";
}
