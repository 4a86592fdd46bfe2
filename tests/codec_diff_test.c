/*
 * Differential test of the MessagePack codec against msgpack-c, used as an
 * oracle only (64-bit Linux: the package exists nowhere else).
 *
 * For each of N random value trees (seeded; nested arrays and maps of all
 * types with a bias to the encodings' boundaries):
 *   1. xipc encodes it; msgpack-c's unpacker decodes those bytes to the
 *      same tree;
 *   2. msgpack-c packs it (msgpack_pack_*): the bytes must equal xipc's,
 *      byte for byte (both emit the smallest encoding);
 *   3. xipc's reader decodes msgpack-c's bytes to the same tree;
 *   4. msgpack-c packs it again with random fixed-width integer encodings
 *      (msgpack_pack_fix_*: not the smallest); xipc decodes those to the
 *      same tree too.
 *
 * usage: codec_diff_test [trees [seed]]   (default 100000 trees, seed 1)
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include <msgpack.h>

#include "xipc/msgpack.h"
#include "test.h"

enum kind {
    K_NIL, K_BOOL, K_UINT, K_INT, K_F32, K_F64, K_STR, K_BIN, K_EXT, K_TS,
    K_ARRAY, K_MAP, K_COUNT
};

typedef struct val {
    enum kind kind;
    bool b;
    uint64_t u;     /* UINT */
    int64_t i;      /* INT (any sign: written with write_int) */
    uint32_t f32;   /* F32 bits */
    uint64_t f64;   /* F64 bits */
    int8_t et;      /* EXT type */
    int64_t sec;    /* TS */
    uint32_t nsec;
    uint32_t len;   /* STR/BIN/EXT payload bytes, ARRAY elements, MAP pairs */
    uint8_t *p;     /* payload */
    struct val *kids; /* ARRAY: len, MAP: 2 * len (key, value, ...) */
} val;

/* ---------------------------------------------------------- generator */

static uint64_t rng_s;

static uint64_t rnd(void)
{
    uint64_t z = (rng_s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)
{
    return rnd() % n;
}

/* An unsigned number: a boundary +-2, a random width, or anything. */
static uint64_t gen_u(void)
{
    static const uint64_t edges[] = {0, 15, 16, 31, 32, 127, 128, 255, 256,
                                     32767, 65535, 65536, 2147483647u,
                                     4294967295u, 4294967296u, INT64_MAX,
                                     UINT64_MAX};
    switch (below(3)) {
    case 0:
        return edges[below(sizeof(edges) / sizeof(edges[0]))] + below(5) - 2;
    case 1:
        return rnd() >> below(64);
    default:
        return rnd();
    }
}

static int64_t gen_i(void)
{
    uint64_t u = gen_u();
    /* negate half of them; (int64_t) of a value > INT64_MAX wraps */
    int64_t v = (int64_t)u;
    if (below(2) && v != INT64_MIN)
        v = -v;
    return v;
}

static uint32_t gen_len(void)
{
    static const uint32_t edges[] = {0, 1, 2, 4, 8, 16, 31, 32, 255, 256,
                                     65535, 65536};
    uint64_t r = below(100);
    if (r < 80)
        return (uint32_t)below(20);
    if (r < 99) {
        uint32_t e = edges[below(10)]; /* up to 256 */
        return e + (uint32_t)below(3) - (e > 0 ? 1 : 0);
    }
    uint32_t e = edges[10 + below(2)]; /* 65535 / 65536, +-1 */
    return e + (uint32_t)below(3) - 1;
}

static void gen_payload(val *v)
{
    v->p = malloc(v->len > 0 ? v->len : 1);
    XT_ASSERT(v->p != NULL);
    uint64_t x = rnd();
    for (uint32_t k = 0; k < v->len; k++) {
        if (k % 8 == 0)
            x = rnd();
        v->p[k] = (uint8_t)(x >> (8 * (k % 8)));
    }
}

static long g_nodes;

static void gen(val *v, int depth)
{
    memset(v, 0, sizeof(*v));
    v->kind = (enum kind)below(depth < 6 ? K_COUNT : K_ARRAY);
    g_nodes++;
    switch (v->kind) {
    case K_NIL:
        break;
    case K_BOOL:
        v->b = below(2);
        break;
    case K_UINT:
        v->u = gen_u();
        break;
    case K_INT:
        v->i = gen_i();
        break;
    case K_F32:
        if (below(4) == 0) {
            static const uint32_t f[] = {0, 0x80000000u, 0x7f800000u,
                                         0xff800000u, 0x7fc00000u, 1,
                                         0x3f800000u};
            v->f32 = f[below(7)];
        } else {
            v->f32 = (uint32_t)rnd();
        }
        break;
    case K_F64:
        if (below(4) == 0) {
            static const uint64_t f[] = {0, 0x8000000000000000u,
                                         0x7ff0000000000000u,
                                         0xfff0000000000000u,
                                         0x7ff8000000000000u, 1,
                                         0x3ff0000000000000u};
            v->f64 = f[below(7)];
        } else {
            v->f64 = rnd();
        }
        break;
    case K_STR:
    case K_BIN:
    case K_EXT:
        v->len = depth >= 1000 ? (uint32_t)below(4) : gen_len();
        gen_payload(v);
        do
            v->et = (int8_t)((int)below(256) - 128);
        while (v->et == -1);
        break;
    case K_TS: {
        static const int64_t secs[] = {0, 1, 4294967295, 4294967296,
                                       17179869183, 17179869184, -1,
                                       INT64_MIN, INT64_MAX};
        uint64_t r = below(4);
        v->sec = r == 0   ? secs[below(9)]
                 : r == 1 ? (int64_t)below((uint64_t)1 << 34)
                          : (int64_t)rnd();
        r = below(4);
        v->nsec = r == 0 ? 0 : r == 1 ? 999999999 : (uint32_t)below(1000000000);
        break;
    }
    case K_ARRAY:
    case K_MAP: {
        uint64_t r = below(1000);
        v->len = r < 900   ? (uint32_t)below(5)
                 : r < 998 ? 14 + (uint32_t)below(4)
                           : (below(2) ? 65535 : 65536);
        uint64_t n = (v->kind == K_MAP ? 2u : 1u) * (uint64_t)v->len;
        v->kids = malloc((size_t)(n > 0 ? n : 1) * sizeof(val));
        XT_ASSERT(v->kids != NULL);
        /* the huge containers hold scalars only, to stay small */
        for (uint64_t k = 0; k < n; k++)
            gen(&v->kids[k], v->len >= 65535 ? 1000 : depth + 1);
        break;
    }
    default:
        break;
    }
}

static void val_free(val *v)
{
    if (v->kind == K_ARRAY || v->kind == K_MAP) {
        uint64_t n = (v->kind == K_MAP ? 2u : 1u) * (uint64_t)v->len;
        for (uint64_t k = 0; k < n; k++)
            val_free(&v->kids[k]);
        free(v->kids);
    }
    free(v->p);
}

/* --------------------------------------------------------- encoders */

static void xipc_encode(const val *v, xipc_mp_buf *b)
{
    float f;
    double d;
    switch (v->kind) {
    case K_NIL: XT_OK(xipc_mp_write_nil(b)); break;
    case K_BOOL: XT_OK(xipc_mp_write_bool(b, v->b)); break;
    case K_UINT: XT_OK(xipc_mp_write_uint(b, v->u)); break;
    case K_INT: XT_OK(xipc_mp_write_int(b, v->i)); break;
    case K_F32:
        memcpy(&f, &v->f32, 4);
        XT_OK(xipc_mp_write_float(b, f));
        break;
    case K_F64:
        memcpy(&d, &v->f64, 8);
        XT_OK(xipc_mp_write_double(b, d));
        break;
    case K_STR: XT_OK(xipc_mp_write_str(b, (const char *)v->p, v->len)); break;
    case K_BIN: XT_OK(xipc_mp_write_bin(b, v->p, v->len)); break;
    case K_EXT: XT_OK(xipc_mp_write_ext(b, v->et, v->p, v->len)); break;
    case K_TS: XT_OK(xipc_mp_write_timestamp(b, v->sec, v->nsec)); break;
    case K_ARRAY:
    case K_MAP: {
        bool map = v->kind == K_MAP;
        XT_OK(map ? xipc_mp_write_map(b, v->len) : xipc_mp_write_array(b, v->len));
        for (uint64_t k = 0; k < (map ? 2u : 1u) * (uint64_t)v->len; k++)
            xipc_encode(&v->kids[k], b);
        break;
    }
    default:
        break;
    }
}

/*
 * msgpack-c packs @p v. @p fixed: integers with a random fixed-width
 * encoding wide enough for them (msgpack_pack_fix_*), not the smallest.
 */
static void mpc_encode(const val *v, msgpack_packer *pk, bool fixed)
{
    float f;
    double d;
    switch (v->kind) {
    case K_NIL: msgpack_pack_nil(pk); break;
    case K_BOOL: v->b ? msgpack_pack_true(pk) : msgpack_pack_false(pk); break;
    case K_UINT: {
        uint64_t u = v->u;
        if (!fixed) {
            msgpack_pack_uint64(pk, u);
            break;
        }
        unsigned w = u <= 0xff ? (unsigned)below(4) : u <= 0xffff ? 1 + (unsigned)below(3)
                     : u <= 0xffffffff ? 2 + (unsigned)below(2) : 3;
        if (w == 0)
            msgpack_pack_fix_uint8(pk, (uint8_t)u);
        else if (w == 1)
            msgpack_pack_fix_uint16(pk, (uint16_t)u);
        else if (w == 2)
            msgpack_pack_fix_uint32(pk, (uint32_t)u);
        else
            msgpack_pack_fix_uint64(pk, u);
        break;
    }
    case K_INT: {
        int64_t i = v->i;
        if (!fixed) {
            msgpack_pack_int64(pk, i);
            break;
        }
        unsigned w = i >= INT8_MIN && i <= INT8_MAX ? (unsigned)below(4)
                     : i >= INT16_MIN && i <= INT16_MAX ? 1 + (unsigned)below(3)
                     : i >= INT32_MIN && i <= INT32_MAX ? 2 + (unsigned)below(2)
                                                        : 3;
        if (w == 0)
            msgpack_pack_fix_int8(pk, (int8_t)i);
        else if (w == 1)
            msgpack_pack_fix_int16(pk, (int16_t)i);
        else if (w == 2)
            msgpack_pack_fix_int32(pk, (int32_t)i);
        else
            msgpack_pack_fix_int64(pk, i);
        break;
    }
    case K_F32:
        memcpy(&f, &v->f32, 4);
        msgpack_pack_float(pk, f);
        break;
    case K_F64:
        memcpy(&d, &v->f64, 8);
        msgpack_pack_double(pk, d);
        break;
    case K_STR:
        msgpack_pack_str(pk, v->len);
        msgpack_pack_str_body(pk, v->p, v->len);
        break;
    case K_BIN:
        msgpack_pack_bin(pk, v->len);
        msgpack_pack_bin_body(pk, v->p, v->len);
        break;
    case K_EXT:
        msgpack_pack_ext(pk, v->len, v->et);
        msgpack_pack_ext_body(pk, v->p, v->len);
        break;
    case K_TS: {
        msgpack_timestamp ts = {v->sec, v->nsec};
        msgpack_pack_timestamp(pk, &ts);
        break;
    }
    case K_ARRAY:
    case K_MAP: {
        bool map = v->kind == K_MAP;
        if (map)
            msgpack_pack_map(pk, v->len);
        else
            msgpack_pack_array(pk, v->len);
        for (uint64_t k = 0; k < (map ? 2u : 1u) * (uint64_t)v->len; k++)
            mpc_encode(&v->kids[k], pk, fixed);
        break;
    }
    default:
        break;
    }
}

/* ---------------------------------------------------------- checkers */

static long g_tree; /* the tree being checked, for messages */

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            XT_FAIL("tree %ld: %s", g_tree, #cond);                            \
    } while (0)

/* Equal payloads (msgpack-c hands out NULL for an empty one). */
static bool same(const void *a, const void *b, size_t n)
{
    return n == 0 || (a != NULL && memcmp(a, b, n) == 0);
}

/* msgpack-c's decoded object @p o must be @p v. */
static void check_mpc(const val *v, const msgpack_object *o)
{
    switch (v->kind) {
    case K_NIL: CHECK(o->type == MSGPACK_OBJECT_NIL); break;
    case K_BOOL:
        CHECK(o->type == MSGPACK_OBJECT_BOOLEAN && o->via.boolean == v->b);
        break;
    case K_UINT:
        CHECK(o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 == v->u);
        break;
    case K_INT:
        if (v->i >= 0)
            CHECK(o->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
                  o->via.u64 == (uint64_t)v->i);
        else
            CHECK(o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER &&
                  o->via.i64 == v->i);
        break;
    case K_F32: {
        float f;
        memcpy(&f, &v->f32, 4);
        CHECK(o->type == MSGPACK_OBJECT_FLOAT32);
        /* msgpack-c widens to double: a signalling NaN comes back quiet */
        if (isnan(f)) {
            CHECK(isnan(o->via.f64));
        } else {
            float g = (float)o->via.f64;
            uint32_t bits;
            memcpy(&bits, &g, 4);
            CHECK(bits == v->f32);
        }
        break;
    }
    case K_F64: {
        uint64_t bits;
        memcpy(&bits, &o->via.f64, 8);
        CHECK(o->type == MSGPACK_OBJECT_FLOAT64 && bits == v->f64);
        break;
    }
    case K_STR:
        CHECK(o->type == MSGPACK_OBJECT_STR && o->via.str.size == v->len &&
              same(o->via.str.ptr, v->p, v->len));
        break;
    case K_BIN:
        CHECK(o->type == MSGPACK_OBJECT_BIN && o->via.bin.size == v->len &&
              same(o->via.bin.ptr, v->p, v->len));
        break;
    case K_EXT:
        CHECK(o->type == MSGPACK_OBJECT_EXT && o->via.ext.type == v->et &&
              o->via.ext.size == v->len &&
              same(o->via.ext.ptr, v->p, v->len));
        break;
    case K_TS: {
        msgpack_timestamp ts;
        CHECK(o->type == MSGPACK_OBJECT_EXT && o->via.ext.type == -1);
        CHECK(msgpack_object_to_timestamp(o, &ts));
        CHECK(ts.tv_sec == v->sec && ts.tv_nsec == v->nsec);
        break;
    }
    case K_ARRAY:
        CHECK(o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size == v->len);
        for (uint32_t k = 0; k < v->len; k++)
            check_mpc(&v->kids[k], &o->via.array.ptr[k]);
        break;
    case K_MAP:
        CHECK(o->type == MSGPACK_OBJECT_MAP && o->via.map.size == v->len);
        for (uint32_t k = 0; k < v->len; k++) {
            check_mpc(&v->kids[2 * k], &o->via.map.ptr[k].key);
            check_mpc(&v->kids[2 * k + 1], &o->via.map.ptr[k].val);
        }
        break;
    default:
        break;
    }
}

/* xipc's reader at @p r must read @p v. */
static void check_xipc(const val *v, xipc_mp_reader *r)
{
    xipc_mp_obj o;
    xipc_err rv = xipc_mp_read_next(r, &o);
    if (rv != XIPC_OK)
        XT_FAIL("tree %ld: xipc_mp_read_next: %s", g_tree, xipc_err_name(rv));
    switch (v->kind) {
    case K_NIL: CHECK(o.type == XIPC_MP_NIL); break;
    case K_BOOL: CHECK(o.type == XIPC_MP_BOOL && o.v.b == v->b); break;
    case K_UINT: CHECK(o.type == XIPC_MP_UINT && o.v.u == v->u); break;
    case K_INT:
        if (v->i >= 0)
            CHECK(o.type == XIPC_MP_UINT && o.v.u == (uint64_t)v->i);
        else
            CHECK(o.type == XIPC_MP_INT && o.v.i == v->i);
        break;
    case K_F32: {
        uint32_t bits;
        memcpy(&bits, &o.v.f32, 4);
        CHECK(o.type == XIPC_MP_FLOAT32 && bits == v->f32);
        break;
    }
    case K_F64: {
        uint64_t bits;
        memcpy(&bits, &o.v.f64, 8);
        CHECK(o.type == XIPC_MP_FLOAT64 && bits == v->f64);
        break;
    }
    case K_STR:
    case K_BIN:
    case K_EXT:
        CHECK(o.type == (v->kind == K_STR   ? XIPC_MP_STR
                         : v->kind == K_BIN ? XIPC_MP_BIN
                                            : XIPC_MP_EXT));
        CHECK(o.len == v->len && same(o.ptr, v->p, v->len));
        if (v->kind == K_EXT)
            CHECK(o.ext_type == v->et);
        break;
    case K_TS:
        CHECK(o.type == XIPC_MP_TIMESTAMP && o.ext_type == -1 &&
              o.v.ts.sec == v->sec && o.v.ts.nsec == v->nsec);
        break;
    case K_ARRAY:
    case K_MAP: {
        bool map = v->kind == K_MAP;
        CHECK(o.type == (map ? XIPC_MP_MAP : XIPC_MP_ARRAY) && o.len == v->len);
        for (uint64_t k = 0; k < (map ? 2u : 1u) * (uint64_t)v->len; k++)
            check_xipc(&v->kids[k], r);
        break;
    }
    default:
        break;
    }
}

static void dump_diff(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    size_t at = 0;
    while (at < an && at < bn && a[at] == b[at])
        at++;
    fprintf(stderr, "xipc %zu bytes, msgpack-c %zu bytes, first difference at "
                    "%zu:\n  xipc:     ", an, bn, at);
    for (size_t k = at > 8 ? at - 8 : 0; k < an && k < at + 16; k++)
        fprintf(stderr, "%02x ", a[k]);
    fprintf(stderr, "\n  msgpack-c:");
    for (size_t k = at > 8 ? at - 8 : 0; k < bn && k < at + 16; k++)
        fprintf(stderr, " %02x", b[k]);
    fprintf(stderr, "\n");
}

/* Decode @p p/@p n with msgpack-c (one whole value) and compare with @p v. */
static void mpc_decode_check(const val *v, const uint8_t *p, size_t n)
{
    msgpack_unpacked u;
    size_t off = 0;
    msgpack_unpacked_init(&u);
    msgpack_unpack_return ret = msgpack_unpack_next(&u, (const char *)p, n, &off);
    if (ret != MSGPACK_UNPACK_SUCCESS || off != n)
        XT_FAIL("tree %ld: msgpack-c unpack of xipc's bytes: %d, off %zu of %zu",
                g_tree, (int)ret, off, n);
    check_mpc(v, &u.data);
    msgpack_unpacked_destroy(&u);
}

static void xipc_decode_check(const val *v, const char *what, const char *p,
                              size_t n)
{
    xipc_mp_reader r;
    xipc_mp_reader_init(&r, p, n);
    check_xipc(v, &r);
    if (xipc_mp_reader_left(&r) != 0)
        XT_FAIL("tree %ld: %s: %zu bytes left", g_tree, what,
                xipc_mp_reader_left(&r));
    /* skip agrees */
    xipc_mp_reader_init(&r, p, n);
    XT_OK(xipc_mp_skip(&r));
    XT_EQ(xipc_mp_reader_left(&r), 0);
}

int main(int argc, char **argv)
{
    long trees = argc > 1 ? atol(argv[1]) : 100000;
    uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
    rng_s = seed;

    xipc_mp_buf b;
    xipc_mp_buf_init(&b);
    msgpack_sbuffer sb, sbfix;
    msgpack_sbuffer_init(&sb);
    msgpack_sbuffer_init(&sbfix);
    msgpack_packer pk, pkfix;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_packer_init(&pkfix, &sbfix, msgpack_sbuffer_write);
    long bytes = 0, fixbytes = 0;

    for (g_tree = 0; g_tree < trees; g_tree++) {
        val v;
        gen(&v, 0);

        xipc_mp_buf_reset(&b);
        xipc_encode(&v, &b);
        XT_OK(b.err);
        /* 1. msgpack-c reads xipc's bytes */
        mpc_decode_check(&v, b.data, b.len);

        /* 2. msgpack-c writes the same bytes */
        msgpack_sbuffer_clear(&sb);
        mpc_encode(&v, &pk, false);
        if (sb.size != b.len || memcmp(sb.data, b.data, b.len) != 0) {
            dump_diff(b.data, b.len, (const uint8_t *)sb.data, sb.size);
            XT_FAIL("tree %ld (seed %llu): encodings differ", g_tree,
                    (unsigned long long)seed);
        }
        /* 3. xipc reads msgpack-c's bytes */
        xipc_decode_check(&v, "msgpack-c bytes", sb.data, sb.size);

        /* 4. and msgpack-c's fixed-width integers */
        msgpack_sbuffer_clear(&sbfix);
        mpc_encode(&v, &pkfix, true);
        xipc_decode_check(&v, "msgpack-c fixed-width bytes", sbfix.data,
                          sbfix.size);
        mpc_decode_check(&v, (const uint8_t *)sbfix.data, sbfix.size);

        bytes += (long)b.len;
        fixbytes += (long)sbfix.size;
        val_free(&v);
    }
    printf("codec_diff_test: %ld trees (%ld values) agree with msgpack-c %d.%d.%d:"
           " %ld bytes byte-identical, %ld bytes of fixed-width encodings\n",
           trees, g_nodes, MSGPACK_VERSION_MAJOR, MSGPACK_VERSION_MINOR,
           MSGPACK_VERSION_REVISION, bytes, fixbytes);
    XT_ASSERT(trees == 0 || g_nodes >= trees);
    msgpack_sbuffer_destroy(&sb);
    msgpack_sbuffer_destroy(&sbfix);
    xipc_mp_buf_fini(&b);
    return 0;
}
