/*
 * libFuzzer target: the MessagePack reader (src/codec) over arbitrary bytes.
 *
 * Input: [control byte][bytes to decode]. The control byte picks the
 * nesting limit (default, 0, 1, 3, or 200 with a caller stack) and seeds
 * the choice of typed reads. Four passes over the same bytes:
 *   1. read_next to the end: every str/bin/ext lies inside the input,
 *      the depth stays within the limit, an error is sticky; each value is
 *      written again with the writer, and when the whole input decoded,
 *      the re-encoding decodes to the same values, is no longer than the
 *      input (the writer picks the smallest forms) and encodes to itself;
 *   2. skip to the end: succeeds exactly when pass 1 did and stops at the
 *      same top-level boundaries;
 *   3. peek before each read_next: the same value, the cursor unmoved;
 *   4. typed reads chosen by the seed: XIPC_EINVAL never moves the cursor.
 */
#include <math.h>

#include "xipc/msgpack.h"
#include "fuzz.h"

#define MP_FZ_DEEP 200

typedef struct mp_fz_limits {
    uint32_t depth;
    uint64_t stack[MP_FZ_DEEP];
} mp_fz_limits;

static void mp_fz_reader(xipc_mp_reader *r, const uint8_t *buf, size_t len,
                         uint8_t ctl, mp_fz_limits *lim)
{
    static const uint32_t depths[8] = {XIPC_MP_DEPTH_DEFAULT, XIPC_MP_DEPTH_DEFAULT,
                                       XIPC_MP_DEPTH_DEFAULT, XIPC_MP_DEPTH_DEFAULT,
                                       0, 1, 3, MP_FZ_DEEP};
    xipc_mp_reader_init(r, buf, len);
    lim->depth = depths[ctl & 7];
    if (lim->depth != XIPC_MP_DEPTH_DEFAULT)
        FZ_CHECK(xipc_mp_reader_set_depth(r, lim->depth,
                                          lim->depth > XIPC_MP_DEPTH_DEFAULT
                                              ? lim->stack
                                              : NULL) == XIPC_OK);
}

/* The payload of a str/bin/ext/timestamp lies inside the input. */
static void mp_fz_check_obj(const xipc_mp_obj *o, const uint8_t *buf, size_t len)
{
    switch (o->type) {
    case XIPC_MP_STR:
    case XIPC_MP_BIN:
    case XIPC_MP_EXT:
    case XIPC_MP_TIMESTAMP:
        FZ_CHECK(o->ptr >= buf && o->ptr <= buf + len);
        FZ_CHECK((size_t)(buf + len - o->ptr) >= o->len);
        break;
    case XIPC_MP_ARRAY:
    case XIPC_MP_MAP:
        /* every element takes a byte at least: the count is refused otherwise */
        FZ_CHECK((uint64_t)o->len * (o->type == XIPC_MP_MAP ? 2 : 1) <= len);
        break;
    case XIPC_MP_INT:
        FZ_CHECK(o->v.i < 0);
        break;
    default:
        break;
    }
    if (o->type == XIPC_MP_TIMESTAMP)
        FZ_CHECK(o->v.ts.nsec <= XIPC_MP_NSEC_MAX);
}

static void mp_fz_write(xipc_mp_buf *b, const xipc_mp_obj *o)
{
    switch (o->type) {
    case XIPC_MP_NIL: xipc_mp_write_nil(b); break;
    case XIPC_MP_BOOL: xipc_mp_write_bool(b, o->v.b); break;
    case XIPC_MP_UINT: xipc_mp_write_uint(b, o->v.u); break;
    case XIPC_MP_INT: xipc_mp_write_int(b, o->v.i); break;
    case XIPC_MP_FLOAT32: xipc_mp_write_float(b, o->v.f32); break;
    case XIPC_MP_FLOAT64: xipc_mp_write_double(b, o->v.f64); break;
    case XIPC_MP_STR: xipc_mp_write_str(b, (const char *)o->ptr, o->len); break;
    case XIPC_MP_BIN: xipc_mp_write_bin(b, o->ptr, o->len); break;
    case XIPC_MP_ARRAY: xipc_mp_write_array(b, o->len); break;
    case XIPC_MP_MAP: xipc_mp_write_map(b, o->len); break;
    case XIPC_MP_EXT: xipc_mp_write_ext(b, o->ext_type, o->ptr, o->len); break;
    case XIPC_MP_TIMESTAMP: xipc_mp_write_timestamp(b, o->v.ts.sec, o->v.ts.nsec); break;
    }
}

/* Same value (the encoding may differ). */
static int mp_fz_same(const xipc_mp_obj *a, const xipc_mp_obj *b)
{
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case XIPC_MP_NIL: return 1;
    case XIPC_MP_BOOL: return a->v.b == b->v.b;
    case XIPC_MP_UINT: return a->v.u == b->v.u;
    case XIPC_MP_INT: return a->v.i == b->v.i;
    case XIPC_MP_FLOAT32: return memcmp(&a->v.f32, &b->v.f32, 4) == 0;
    case XIPC_MP_FLOAT64: return memcmp(&a->v.f64, &b->v.f64, 8) == 0;
    case XIPC_MP_ARRAY:
    case XIPC_MP_MAP: return a->len == b->len;
    case XIPC_MP_TIMESTAMP:
        return a->v.ts.sec == b->v.ts.sec && a->v.ts.nsec == b->v.ts.nsec;
    case XIPC_MP_EXT:
        if (a->ext_type != b->ext_type)
            return 0;
        /* fall through */
    case XIPC_MP_STR:
    case XIPC_MP_BIN:
        return a->len == b->len && (a->len == 0 || memcmp(a->ptr, b->ptr, a->len) == 0);
    }
    return 0;
}

/* Pass 1 (and 3). @return 1 when the whole input decoded; the objects and
 * the top-level boundaries (cursor offsets) go to @p objs / @p ends. */
static int mp_fz_walk(const uint8_t *buf, size_t len, uint8_t ctl,
                      xipc_mp_obj *objs, size_t *nobj, size_t *ends, size_t *nend)
{
    mp_fz_limits lim;
    xipc_mp_reader r;
    mp_fz_reader(&r, buf, len, ctl, &lim);
    *nobj = *nend = 0;
    while (xipc_mp_reader_left(&r) > 0) {
        xipc_mp_obj o, p;
        size_t left = xipc_mp_reader_left(&r);
        xipc_err pv = xipc_mp_peek(&r, &p);
        FZ_CHECK(xipc_mp_reader_left(&r) == left);
        xipc_err rv = xipc_mp_read_next(&r, &o);
        FZ_CHECK(rv == pv);
        if (rv != XIPC_OK) {
            FZ_CHECK(rv == XIPC_EPROTO);
            FZ_CHECK(xipc_mp_read_next(&r, &o) == XIPC_EPROTO); /* sticky */
            FZ_CHECK(xipc_mp_skip(&r) == XIPC_EPROTO);
            return 0;
        }
        FZ_CHECK(mp_fz_same(&o, &p) && o.tag == p.tag);
        FZ_CHECK(xipc_mp_reader_left(&r) < left);
        FZ_CHECK(xipc_mp_reader_depth(&r) <= lim.depth);
        mp_fz_check_obj(&o, buf, len);
        objs[(*nobj)++] = o;
        if (xipc_mp_reader_depth(&r) == 0)
            ends[(*nend)++] = len - xipc_mp_reader_left(&r);
    }
    /* a container still open at the end is truncation, refused before */
    FZ_CHECK(xipc_mp_reader_depth(&r) == 0);
    xipc_mp_obj o;
    FZ_CHECK(xipc_mp_read_next(&r, &o) == XIPC_EPROTO);
    return 1;
}

/* Pass 1, second half: encode the values again and decode them back. */
static void mp_fz_roundtrip(const uint8_t *buf, size_t len, uint8_t ctl,
                            const xipc_mp_obj *objs, size_t nobj)
{
    xipc_mp_buf b, b2;
    xipc_mp_buf_init(&b);
    xipc_mp_buf_init(&b2);
    for (size_t i = 0; i < nobj; i++)
        mp_fz_write(&b, &objs[i]);
    FZ_CHECK(b.err == XIPC_OK);
    FZ_CHECK(b.len <= len);
    mp_fz_limits lim;
    xipc_mp_reader r;
    mp_fz_reader(&r, b.data, b.len, ctl, &lim);
    for (size_t i = 0; i < nobj; i++) {
        xipc_mp_obj o;
        FZ_CHECK(xipc_mp_read_next(&r, &o) == XIPC_OK);
        FZ_CHECK(mp_fz_same(&o, &objs[i]));
        mp_fz_write(&b2, &o);
    }
    FZ_CHECK(xipc_mp_reader_left(&r) == 0);
    FZ_CHECK(b2.err == XIPC_OK && b2.len == b.len);
    FZ_CHECK(b.len == 0 || memcmp(b.data, b2.data, b.len) == 0);
    xipc_mp_buf_fini(&b);
    xipc_mp_buf_fini(&b2);
    (void)buf;
}

/* Pass 2. */
static void mp_fz_skip(const uint8_t *buf, size_t len, uint8_t ctl, int walk_ok,
                       const size_t *ends, size_t nend)
{
    mp_fz_limits lim;
    xipc_mp_reader r;
    mp_fz_reader(&r, buf, len, ctl, &lim);
    size_t i = 0;
    while (xipc_mp_reader_left(&r) > 0) {
        xipc_err rv = xipc_mp_skip(&r);
        if (rv != XIPC_OK) {
            FZ_CHECK(rv == XIPC_EPROTO);
            FZ_CHECK(!walk_ok);
            /* the walk got exactly as many whole values as skip did */
            FZ_CHECK(nend == i);
            return;
        }
        FZ_CHECK(i < nend && ends[i] == len - xipc_mp_reader_left(&r));
        FZ_CHECK(xipc_mp_reader_depth(&r) == 0);
        i++;
    }
    FZ_CHECK(walk_ok && i == nend);
}

/* Pass 4: typed reads in an order the control byte seeds. */
static void mp_fz_typed(const uint8_t *buf, size_t len, uint8_t ctl)
{
    mp_fz_limits lim;
    xipc_mp_reader r;
    mp_fz_reader(&r, buf, len, ctl, &lim);
    uint32_t x = 0x9e3779b9u ^ ctl;
    for (size_t step = 0; step < len + 2; step++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        size_t left = xipc_mp_reader_left(&r);
        xipc_err rv;
        const char *s = NULL;
        const void *p = NULL;
        uint32_t n = 0;
        switch (x % 14) {
        case 0: rv = xipc_mp_read_nil(&r); break;
        case 1: { bool v; rv = xipc_mp_read_bool(&r, &v); break; }
        case 2: { int64_t v; rv = xipc_mp_read_int(&r, &v); break; }
        case 3: { uint64_t v; rv = xipc_mp_read_uint(&r, &v); break; }
        case 4: {
            int32_t v;
            rv = xipc_mp_read_int32(&r, &v);
            break;
        }
        case 5: { uint32_t v; rv = xipc_mp_read_uint32(&r, &v); break; }
        case 6: {
            double v;
            rv = xipc_mp_read_double(&r, &v);
            (void)isnan(v);
            break;
        }
        case 7: rv = xipc_mp_read_str(&r, &s, &n); p = s; break;
        case 8: rv = xipc_mp_read_bin(&r, &p, &n); break;
        case 9: rv = xipc_mp_read_array(&r, &n); break;
        case 10: rv = xipc_mp_read_map(&r, &n); break;
        case 11: { int8_t t; rv = xipc_mp_read_ext(&r, &t, &p, &n); break; }
        case 12: {
            int64_t sec;
            uint32_t nsec;
            rv = xipc_mp_read_timestamp(&r, &sec, &nsec);
            if (rv == XIPC_OK)
                FZ_CHECK(nsec <= XIPC_MP_NSEC_MAX);
            break;
        }
        default: rv = xipc_mp_skip(&r); break;
        }
        if (rv == XIPC_OK && p != NULL) {
            FZ_CHECK((const uint8_t *)p >= buf && (const uint8_t *)p <= buf + len);
            FZ_CHECK((size_t)(buf + len - (const uint8_t *)p) >= n);
        }
        if (rv == XIPC_EINVAL) {
            FZ_CHECK(xipc_mp_reader_left(&r) == left); /* nothing consumed */
            xipc_mp_obj o;
            rv = (x & 0x100) ? xipc_mp_skip(&r) : xipc_mp_read_next(&r, &o);
            FZ_CHECK(rv != XIPC_EINVAL);
        }
        if (rv == XIPC_EPROTO) {
            FZ_CHECK(xipc_mp_read_nil(&r) == XIPC_EPROTO);
            return;
        }
        FZ_CHECK(rv == XIPC_OK);
        if (xipc_mp_reader_left(&r) == 0)
            return;
    }
    FZ_CHECK(!"typed reads did not advance");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t ctl = data[0];
    const uint8_t *buf = data + 1;
    size_t len = size - 1;
    /* at most one value per byte; a malloc the size of the input lets
     * AddressSanitizer catch a read one past its end */
    uint8_t *copy = malloc(len ? len : 1);
    xipc_mp_obj *objs = malloc((len + 1) * sizeof(*objs));
    size_t *ends = malloc((len + 1) * sizeof(*ends));
    FZ_CHECK(copy != NULL && objs != NULL && ends != NULL);
    memcpy(copy, buf, len);
    size_t nobj, nend;
    int ok = mp_fz_walk(copy, len, ctl, objs, &nobj, ends, &nend);
    if (ok)
        mp_fz_roundtrip(copy, len, ctl, objs, nobj);
    mp_fz_skip(copy, len, ctl, ok, ends, nend);
    mp_fz_typed(copy, len, ctl);
    free(ends);
    free(objs);
    free(copy);
    return 0;
}
