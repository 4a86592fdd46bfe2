/*
 * MessagePack codec unit tests: exact bytes of every format and of every
 * boundary of the smallest-encoding rule (expected encodings written by
 * hand from the spec), decoding of every format including non-canonical
 * ones, typed reads, the fixed-buffer writer, round trips, and hostile
 * input (truncation at every byte, depth bombs, huge counts and lengths,
 * 0xc1, bad timestamps, random garbage).
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "xipc/msgpack.h"
#include "test.h"

/* ------------------------------------------------------------ helpers */

static unsigned hexval(char c)
{
    if (c >= '0' && c <= '9')
        return (unsigned)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (unsigned)(c - 'a' + 10);
    XT_FAIL("bad hex digit '%c' in a test vector", c);
    return 0;
}

/* Decode hex @p hex (spaces ignored) into @p out; @return the length. */
static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (*hex != '\0') {
        if (*hex == ' ') {
            hex++;
            continue;
        }
        XT_ASSERT(hex[1] != '\0' && n < cap);
        out[n++] = (uint8_t)(hexval(hex[0]) << 4 | hexval(hex[1]));
        hex += 2;
    }
    return n;
}

static void dump(const char *what, const uint8_t *p, size_t n)
{
    fprintf(stderr, "%s (%zu bytes):", what, n);
    for (size_t i = 0; i < n && i < 48; i++)
        fprintf(stderr, " %02x", p[i]);
    fprintf(stderr, n > 48 ? " ...\n" : "\n");
}

/*
 * The buffer must hold exactly the bytes of @p hex followed by @p fill_n
 * bytes of value @p fill (a payload).
 */
static void expect_bytes(const char *what, const xipc_mp_buf *b,
                         const char *hex, size_t fill_n, uint8_t fill)
{
    uint8_t want[64];
    size_t n = unhex(hex, want, sizeof(want));
    bool ok = b->err == XIPC_OK && b->len == n + fill_n &&
              memcmp(b->data, want, n) == 0;
    for (size_t i = 0; ok && i < fill_n; i++)
        ok = b->data[n + i] == fill;
    if (!ok) {
        dump("got", b->data, b->len);
        dump("want", want, n);
        XT_FAIL("%s: wrong encoding (err %s, want %zu+%zu bytes)", what,
                xipc_err_name(b->err), n, fill_n);
    }
}

/* Read one value from @p p/@p n, which must be exactly that value. */
static xipc_mp_obj read_one(const uint8_t *p, size_t n)
{
    xipc_mp_reader r;
    xipc_mp_obj o;
    xipc_mp_reader_init(&r, p, n);
    XT_OK(xipc_mp_read_next(&r, &o));
    if (o.type != XIPC_MP_ARRAY && o.type != XIPC_MP_MAP)
        XT_EQ(xipc_mp_reader_left(&r), 0);
    return o;
}

static xipc_mp_obj read_hex(const char *hex)
{
    static uint8_t bytes[64];
    size_t n = unhex(hex, bytes, sizeof(bytes));
    return read_one(bytes, n);
}

/* ------------------------------------------------- writer: exact bytes */

static void uint_case(uint64_t v, const char *hex)
{
    xipc_mp_buf b;
    xipc_mp_buf_init(&b);
    XT_OK(xipc_mp_write_uint(&b, v));
    char what[64];
    snprintf(what, sizeof(what), "uint %" PRIu64, v);
    expect_bytes(what, &b, hex, 0, 0);
    xipc_mp_obj o = read_one(b.data, b.len);
    XT_EQ(o.type, XIPC_MP_UINT);
    XT_ASSERT(o.v.u == v);
    XT_EQ(o.tag, b.data[0]);
    xipc_mp_buf_fini(&b);
}

static void int_case(int64_t v, const char *hex)
{
    xipc_mp_buf b;
    xipc_mp_buf_init(&b);
    XT_OK(xipc_mp_write_int(&b, v));
    char what[64];
    snprintf(what, sizeof(what), "int %" PRId64, v);
    expect_bytes(what, &b, hex, 0, 0);
    xipc_mp_obj o = read_one(b.data, b.len);
    if (v >= 0) {
        XT_EQ(o.type, XIPC_MP_UINT);
        XT_ASSERT(o.v.u == (uint64_t)v);
    } else {
        XT_EQ(o.type, XIPC_MP_INT);
        XT_ASSERT(o.v.i == v);
    }
    xipc_mp_buf_fini(&b);
}

static void test_ints(void)
{
    uint_case(0, "00");
    uint_case(1, "01");
    uint_case(127, "7f");
    uint_case(128, "cc80");
    uint_case(255, "ccff");
    uint_case(256, "cd0100");
    uint_case(65535, "cdffff");
    uint_case(65536, "ce00010000");
    uint_case(4294967295u, "ceffffffff");
    uint_case(4294967296u, "cf0000000100000000");
    uint_case(UINT64_MAX, "cfffffffffffffffff");

    int_case(0, "00");
    int_case(127, "7f");
    int_case(128, "cc80");
    int_case(255, "ccff");
    int_case(256, "cd0100");
    int_case(65535, "cdffff");
    int_case(65536, "ce00010000");
    int_case(4294967295, "ceffffffff");
    int_case(4294967296, "cf0000000100000000");
    int_case(INT64_MAX, "cf7fffffffffffffff");
    int_case(-1, "ff");
    int_case(-32, "e0");
    int_case(-33, "d0df");
    int_case(-128, "d080");
    int_case(-129, "d1ff7f");
    int_case(-32768, "d18000");
    int_case(-32769, "d2ffff7fff");
    int_case(INT32_MIN, "d280000000");
    int_case((int64_t)INT32_MIN - 1, "d3ffffffff7fffffff");
    int_case(INT64_MIN, "d38000000000000000");
}

static void test_nil_bool_float(void)
{
    xipc_mp_buf b;
    xipc_mp_buf_init(&b);
    XT_OK(xipc_mp_write_nil(&b));
    expect_bytes("nil", &b, "c0", 0, 0);
    XT_EQ(read_one(b.data, b.len).type, XIPC_MP_NIL);
    xipc_mp_buf_reset(&b);
    XT_OK(xipc_mp_write_bool(&b, false));
    XT_OK(xipc_mp_write_bool(&b, true));
    expect_bytes("false true", &b, "c2c3", 0, 0);
    xipc_mp_obj o = read_hex("c2");
    XT_ASSERT(o.type == XIPC_MP_BOOL && !o.v.b);
    o = read_hex("c3");
    XT_ASSERT(o.type == XIPC_MP_BOOL && o.v.b);

    xipc_mp_buf_reset(&b);
    XT_OK(xipc_mp_write_float(&b, 1.5f));
    expect_bytes("float 1.5", &b, "ca3fc00000", 0, 0);
    o = read_one(b.data, b.len);
    XT_ASSERT(o.type == XIPC_MP_FLOAT32 && o.v.f32 == 1.5f);

    xipc_mp_buf_reset(&b);
    XT_OK(xipc_mp_write_double(&b, 1.5));
    expect_bytes("double 1.5", &b, "cb3ff8000000000000", 0, 0);
    o = read_one(b.data, b.len);
    XT_ASSERT(o.type == XIPC_MP_FLOAT64 && o.v.f64 == 1.5);

    /* a double that a float32 would hold exactly is still float64 */
    xipc_mp_buf_reset(&b);
    XT_OK(xipc_mp_write_double(&b, 0.0));
    expect_bytes("double 0", &b, "cb0000000000000000", 0, 0);
    xipc_mp_buf_reset(&b);
    XT_OK(xipc_mp_write_double(&b, -0.0));
    expect_bytes("double -0", &b, "cb8000000000000000", 0, 0);
    o = read_one(b.data, b.len);
    XT_ASSERT(o.v.f64 == 0.0 && signbit(o.v.f64));
    xipc_mp_buf_reset(&b);
    XT_OK(xipc_mp_write_double(&b, -INFINITY));
    expect_bytes("double -inf", &b, "cbfff0000000000000", 0, 0);
    xipc_mp_buf_reset(&b);
    XT_OK(xipc_mp_write_float(&b, INFINITY));
    expect_bytes("float inf", &b, "ca7f800000", 0, 0);

    /* NaN payloads go through bit for bit */
    uint64_t nan_bits = 0x7ff0000000000123u, back;
    double nan;
    memcpy(&nan, &nan_bits, 8);
    xipc_mp_buf_reset(&b);
    XT_OK(xipc_mp_write_double(&b, nan));
    expect_bytes("double nan", &b, "cb7ff0000000000123", 0, 0);
    o = read_one(b.data, b.len);
    memcpy(&back, &o.v.f64, 8);
    XT_ASSERT(back == nan_bits);

    o = read_hex("cbc00921fb54442d18"); /* -pi */
    XT_ASSERT(o.type == XIPC_MP_FLOAT64 && o.v.f64 == -0x1.921fb54442d18p+1);
    o = read_hex("ca00000001"); /* smallest float32 subnormal */
    XT_ASSERT(o.type == XIPC_MP_FLOAT32 && o.v.f32 == 0x1p-149f);
    xipc_mp_buf_fini(&b);
}

/* Largest payload the boundary tests write. */
#define BIG (65536 + 16)

/* str, bin or ext writer, by kind: 's', 'b', 'e' */
static void payload_case(int kind, size_t len, const char *hdr_hex)
{
    static uint8_t payload[BIG];
    memset(payload, 'x', sizeof(payload));
    xipc_mp_buf b;
    xipc_mp_buf_init(&b);
    char what[64];
    snprintf(what, sizeof(what), "%c of %zu bytes", kind, len);
    if (kind == 's')
        XT_OK(xipc_mp_write_str(&b, (const char *)payload, len));
    else if (kind == 'b')
        XT_OK(xipc_mp_write_bin(&b, payload, len));
    else
        XT_OK(xipc_mp_write_ext(&b, 7, payload, len));
    expect_bytes(what, &b, hdr_hex, len, 'x');

    /* the header-only writers give the same bytes */
    xipc_mp_buf h;
    xipc_mp_buf_init(&h);
    if (kind == 's')
        XT_OK(xipc_mp_write_str_hdr(&h, (uint32_t)len));
    else if (kind == 'b')
        XT_OK(xipc_mp_write_bin_hdr(&h, (uint32_t)len));
    else
        XT_OK(xipc_mp_write_ext_hdr(&h, 7, (uint32_t)len));
    XT_OK(xipc_mp_write_raw(&h, payload, len));
    XT_ASSERT(h.len == b.len && memcmp(h.data, b.data, b.len) == 0);
    xipc_mp_buf_fini(&h);

    xipc_mp_obj o = read_one(b.data, b.len);
    XT_EQ(o.type, kind == 's' ? XIPC_MP_STR
                  : kind == 'b' ? XIPC_MP_BIN
                                : XIPC_MP_EXT);
    XT_EQ(o.len, len);
    XT_ASSERT(o.ptr == b.data + b.len - len);
    if (kind == 'e')
        XT_EQ(o.ext_type, 7);
    xipc_mp_buf_fini(&b);
}

static void test_str_bin_ext(void)
{
    payload_case('s', 0, "a0");
    payload_case('s', 1, "a1");
    payload_case('s', 31, "bf");
    payload_case('s', 32, "d920");
    payload_case('s', 255, "d9ff");
    payload_case('s', 256, "da0100");
    payload_case('s', 65535, "daffff");
    payload_case('s', 65536, "db00010000");

    payload_case('b', 0, "c400");
    payload_case('b', 1, "c401");
    payload_case('b', 255, "c4ff");
    payload_case('b', 256, "c50100");
    payload_case('b', 65535, "c5ffff");
    payload_case('b', 65536, "c600010000");

    payload_case('e', 0, "c70007");
    payload_case('e', 1, "d407");
    payload_case('e', 2, "d507");
    payload_case('e', 3, "c70307");
    payload_case('e', 4, "d607");
    payload_case('e', 5, "c70507");
    payload_case('e', 8, "d707");
    payload_case('e', 16, "d807");
    payload_case('e', 17, "c71107");
    payload_case('e', 255, "c7ff07");
    payload_case('e', 256, "c8010007");
    payload_case('e', 65535, "c8ffff07");
    payload_case('e', 65536, "c90001000007");

    /* negative ext types, and the cstr helper */
    xipc_mp_buf b;
    xipc_mp_buf_init(&b);
    XT_OK(xipc_mp_write_ext(&b, -128, "ab", 2));
    XT_OK(xipc_mp_write_cstr(&b, "hi"));
    expect_bytes("ext -128, cstr", &b, "d5806162 a26869", 0, 0);
    xipc_mp_obj o = read_one(b.data, 4);
    XT_ASSERT(o.type == XIPC_MP_EXT && o.ext_type == -128 && o.len == 2);
    xipc_mp_buf_fini(&b);
}

static void container_case(bool map, uint32_t n, const char *hex)
{
    xipc_mp_buf b;
    xipc_mp_buf_init(&b);
    XT_OK(map ? xipc_mp_write_map(&b, n) : xipc_mp_write_array(&b, n));
    char what[64];
    snprintf(what, sizeof(what), "%s of %u", map ? "map" : "array", n);
    expect_bytes(what, &b, hex, 0, 0);
    /* fill the elements (nil) so that the header is readable */
    size_t hdr = b.len;
    for (uint64_t i = 0; i < (map ? 2ull : 1ull) * n; i++)
        XT_OK(xipc_mp_write_nil(&b));
    xipc_mp_reader r;
    xipc_mp_obj o;
    xipc_mp_reader_init(&r, b.data, b.len);
    XT_OK(xipc_mp_read_next(&r, &o));
    XT_EQ(o.type, map ? XIPC_MP_MAP : XIPC_MP_ARRAY);
    XT_EQ(o.len, n);
    XT_EQ(xipc_mp_reader_left(&r), b.len - hdr);
    XT_EQ(xipc_mp_reader_depth(&r), n > 0 ? 1 : 0);
    xipc_mp_reader_init(&r, b.data, b.len);
    XT_OK(xipc_mp_skip(&r));
    XT_EQ(xipc_mp_reader_left(&r), 0);
    XT_EQ(xipc_mp_reader_depth(&r), 0);
    xipc_mp_buf_fini(&b);
}

static void test_containers(void)
{
    container_case(false, 0, "90");
    container_case(false, 15, "9f");
    container_case(false, 16, "dc0010");
    container_case(false, 65535, "dcffff");
    container_case(false, 65536, "dd00010000");
    container_case(true, 0, "80");
    container_case(true, 15, "8f");
    container_case(true, 16, "de0010");
    container_case(true, 65535, "deffff");
    container_case(true, 65536, "df00010000");
    /* headers of the largest counts (no elements: not readable) */
    xipc_mp_buf b;
    xipc_mp_buf_init(&b);
    XT_OK(xipc_mp_write_array(&b, UINT32_MAX));
    XT_OK(xipc_mp_write_map(&b, UINT32_MAX));
    expect_bytes("array/map 2^32-1", &b, "ddffffffff dfffffffff", 0, 0);
    xipc_mp_buf_fini(&b);
}

static void ts_case(int64_t sec, uint32_t nsec, const char *hex)
{
    xipc_mp_buf b;
    xipc_mp_buf_init(&b);
    XT_OK(xipc_mp_write_timestamp(&b, sec, nsec));
    char what[80];
    snprintf(what, sizeof(what), "timestamp %" PRId64 ".%09u", sec, nsec);
    expect_bytes(what, &b, hex, 0, 0);
    xipc_mp_obj o = read_one(b.data, b.len);
    XT_EQ(o.type, XIPC_MP_TIMESTAMP);
    XT_EQ(o.ext_type, -1);
    XT_ASSERT(o.v.ts.sec == sec);
    XT_EQ(o.v.ts.nsec, nsec);
    xipc_mp_reader r;
    int64_t s;
    uint32_t ns;
    xipc_mp_reader_init(&r, b.data, b.len);
    XT_OK(xipc_mp_read_timestamp(&r, &s, &ns));
    XT_ASSERT(s == sec && ns == nsec);
    xipc_mp_buf_fini(&b);
}

static void test_timestamps(void)
{
    ts_case(0, 0, "d6ff00000000");
    ts_case(1, 0, "d6ff00000001");
    ts_case(4294967295, 0, "d6ffffffffff");
    ts_case(4294967296, 0, "d7ff0000000100000000");
    ts_case(1, 1, "d7ff0000000400000001");
    ts_case(0, 999999999, "d7ffee6b27fc00000000");
    ts_case(17179869183, 999999999, "d7ffee6b27ffffffffff"); /* 2^34-1 */
    ts_case(17179869184, 0, "c70cff000000000000000400000000");
    ts_case(-1, 0, "c70cff00000000ffffffffffffffff");
    ts_case(-1, 999999999, "c70cff3b9ac9ffffffffffffffffff");
    ts_case(INT64_MIN, 0, "c70cff000000008000000000000000");
    ts_case(INT64_MAX, 999999999, "c70cff3b9ac9ff7fffffffffffffff");

    /* the non-smallest forms decode too */
    xipc_mp_obj o = read_hex("d7ff0000000000000005"); /* 64-bit form of 5s */
    XT_ASSERT(o.type == XIPC_MP_TIMESTAMP && o.v.ts.sec == 5 &&
              o.v.ts.nsec == 0);
    o = read_hex("c70cff00000007 0000000000000005"); /* 96-bit form */
    XT_ASSERT(o.type == XIPC_MP_TIMESTAMP && o.v.ts.sec == 5 &&
              o.v.ts.nsec == 7);
    o = read_hex("c704ff00000009"); /* ext 8 holding a 32-bit timestamp */
    XT_ASSERT(o.type == XIPC_MP_TIMESTAMP && o.v.ts.sec == 9);
}

/* Non-canonical encodings decode to the value, typed as its sign says. */
static void test_decode_noncanonical(void)
{
    xipc_mp_obj o = read_hex("d005");
    XT_ASSERT(o.type == XIPC_MP_UINT && o.v.u == 5 && o.tag == 0xd0);
    o = read_hex("d3000000000000002a");
    XT_ASSERT(o.type == XIPC_MP_UINT && o.v.u == 42);
    o = read_hex("cd0001");
    XT_ASSERT(o.type == XIPC_MP_UINT && o.v.u == 1);
    o = read_hex("d1fffe");
    XT_ASSERT(o.type == XIPC_MP_INT && o.v.i == -2);
    o = read_hex("d2ffffffff");
    XT_ASSERT(o.type == XIPC_MP_INT && o.v.i == -1);
    o = read_hex("d3ffffffffffffffff");
    XT_ASSERT(o.type == XIPC_MP_INT && o.v.i == -1);
    o = read_hex("d90161");
    XT_ASSERT(o.type == XIPC_MP_STR && o.len == 1 && o.ptr[0] == 'a');
    o = read_hex("db0000000161");
    XT_ASSERT(o.type == XIPC_MP_STR && o.len == 1 && o.ptr[0] == 'a');
    o = read_hex("c60000000161");
    XT_ASSERT(o.type == XIPC_MP_BIN && o.len == 1 && o.ptr[0] == 'a');
    o = read_hex("dc0001c0");
    XT_ASSERT(o.type == XIPC_MP_ARRAY && o.len == 1);
    o = read_hex("df00000001c0c0");
    XT_ASSERT(o.type == XIPC_MP_MAP && o.len == 1);
}

/* ------------------------------------------------------- typed reads */

static void test_typed_reads(void)
{
    static const char *hex =
        "cf8000000000000000" /* 2^63 */
        "ff"                 /* -1 */
        "ce80000000"         /* 2^31 */
        "d280000000"         /* INT32_MIN */
        "d3ffffffff7fffffff" /* INT32_MIN - 1 */
        "cf0000000100000000" /* 2^32 */
        "a178"               /* "x" */
        "cb4000000000000000" /* 2.0 */
        "ca40400000"         /* 3.0f */
        "c0" "c3"
        "92 01 c40100"       /* [1, bin "\0"] */
        "81 a16b d6ff00000005" /* {"k": timestamp 5} */
        "d40963";             /* ext 9 "c" */
    uint8_t buf[128];
    size_t n = unhex(hex, buf, sizeof(buf));
    xipc_mp_reader r;
    xipc_mp_reader_init(&r, buf, n);
    int64_t i;
    uint64_t u;
    int32_t i32;
    uint32_t u32, len;
    double d;
    bool bo;
    const char *s;
    const void *p;
    int8_t et;
    int64_t sec;
    uint32_t nsec;

    /* 2^63: not an int64, not a uint32, not a str: nothing consumed */
    size_t left = xipc_mp_reader_left(&r);
    XT_ERR(xipc_mp_read_int(&r, &i), XIPC_EINVAL);
    XT_ERR(xipc_mp_read_uint32(&r, &u32), XIPC_EINVAL);
    XT_ERR(xipc_mp_read_str(&r, &s, &len), XIPC_EINVAL);
    XT_ERR(xipc_mp_read_nil(&r), XIPC_EINVAL);
    XT_EQ(xipc_mp_reader_left(&r), left);
    XT_OK(xipc_mp_read_uint(&r, &u));
    XT_ASSERT(u == (uint64_t)1 << 63);
    /* -1: not unsigned */
    XT_ERR(xipc_mp_read_uint(&r, &u), XIPC_EINVAL);
    XT_ERR(xipc_mp_read_uint32(&r, &u32), XIPC_EINVAL);
    XT_ERR(xipc_mp_read_double(&r, &d), XIPC_EINVAL);
    XT_OK(xipc_mp_read_int32(&r, &i32));
    XT_EQ(i32, -1);
    /* 2^31: uint32 and int64 yes, int32 no */
    XT_ERR(xipc_mp_read_int32(&r, &i32), XIPC_EINVAL);
    XT_OK(xipc_mp_read_int(&r, &i));
    XT_EQ(i, 2147483648ll);
    XT_OK(xipc_mp_read_int32(&r, &i32));
    XT_EQ(i32, INT32_MIN);
    XT_ERR(xipc_mp_read_int32(&r, &i32), XIPC_EINVAL);
    XT_OK(xipc_mp_read_int(&r, &i));
    XT_EQ(i, (int64_t)INT32_MIN - 1);
    XT_ERR(xipc_mp_read_uint32(&r, &u32), XIPC_EINVAL);
    XT_OK(xipc_mp_read_uint(&r, &u));
    XT_ASSERT(u == 4294967296u);
    XT_ERR(xipc_mp_read_bin(&r, &p, &len), XIPC_EINVAL);
    XT_OK(xipc_mp_read_str(&r, &s, &len));
    XT_ASSERT(len == 1 && s[0] == 'x');
    XT_ERR(xipc_mp_read_int(&r, &i), XIPC_EINVAL);
    XT_OK(xipc_mp_read_double(&r, &d));
    XT_ASSERT(d == 2.0);
    XT_OK(xipc_mp_read_double(&r, &d));
    XT_ASSERT(d == 3.0);
    XT_ERR(xipc_mp_read_bool(&r, &bo), XIPC_EINVAL);
    XT_OK(xipc_mp_read_nil(&r));
    XT_ERR(xipc_mp_read_nil(&r), XIPC_EINVAL);
    XT_OK(xipc_mp_read_bool(&r, &bo));
    XT_ASSERT(bo);
    XT_ERR(xipc_mp_read_map(&r, &u32), XIPC_EINVAL);
    XT_OK(xipc_mp_read_array(&r, &u32));
    XT_EQ(u32, 2);
    XT_OK(xipc_mp_read_uint32(&r, &u32));
    XT_EQ(u32, 1);
    XT_OK(xipc_mp_read_bin(&r, &p, &len));
    XT_ASSERT(len == 1 && ((const uint8_t *)p)[0] == 0);
    XT_ERR(xipc_mp_read_array(&r, &u32), XIPC_EINVAL);
    XT_OK(xipc_mp_read_map(&r, &u32));
    XT_EQ(u32, 1);
    XT_OK(xipc_mp_read_str(&r, &s, &len));
    XT_ERR(xipc_mp_read_bin(&r, &p, &len), XIPC_EINVAL);
    {
        /* a timestamp is also an ext of type -1 */
        xipc_mp_reader r2 = r;
        XT_OK(xipc_mp_read_ext(&r2, &et, &p, &len));
        XT_ASSERT(et == -1 && len == 4);
    }
    XT_OK(xipc_mp_read_timestamp(&r, &sec, &nsec));
    XT_ASSERT(sec == 5 && nsec == 0);
    XT_ERR(xipc_mp_read_timestamp(&r, &sec, &nsec), XIPC_EINVAL);
    XT_OK(xipc_mp_read_ext(&r, &et, &p, &len));
    XT_ASSERT(et == 9 && len == 1 && ((const uint8_t *)p)[0] == 'c');
    XT_EQ(xipc_mp_reader_left(&r), 0);
    XT_EQ(xipc_mp_reader_depth(&r), 0);
    /* past the end: truncation */
    XT_ERR(xipc_mp_read_nil(&r), XIPC_EPROTO);

    /* NULL arguments */
    xipc_mp_reader_init(&r, buf, n);
    XT_ERR(xipc_mp_read_int(&r, NULL), XIPC_EINVAL);
    XT_ERR(xipc_mp_read_next(&r, NULL), XIPC_EINVAL);
    XT_ERR(xipc_mp_read_next(NULL, NULL), XIPC_EINVAL);
    XT_ERR(xipc_mp_skip(NULL), XIPC_EINVAL);
    XT_EQ(xipc_mp_reader_left(&r), n);
}

static void test_peek_skip_stream(void)
{
    xipc_mp_buf b;
    xipc_mp_buf_init(&b);
    /* [ {"a": [1, 2, {"x": nil}], "b": "s"}, 7 ] then 8, then [1, [2, 3]] */
    XT_OK(xipc_mp_write_array(&b, 2));
    XT_OK(xipc_mp_write_map(&b, 2));
    XT_OK(xipc_mp_write_cstr(&b, "a"));
    XT_OK(xipc_mp_write_array(&b, 3));
    XT_OK(xipc_mp_write_int(&b, 1));
    XT_OK(xipc_mp_write_int(&b, 2));
    XT_OK(xipc_mp_write_map(&b, 1));
    XT_OK(xipc_mp_write_cstr(&b, "x"));
    XT_OK(xipc_mp_write_nil(&b));
    XT_OK(xipc_mp_write_cstr(&b, "b"));
    XT_OK(xipc_mp_write_cstr(&b, "s"));
    XT_OK(xipc_mp_write_int(&b, 7));
    XT_OK(xipc_mp_write_int(&b, 8));
    XT_OK(xipc_mp_write_array(&b, 2));
    XT_OK(xipc_mp_write_int(&b, 1));
    XT_OK(xipc_mp_write_array(&b, 2));
    XT_OK(xipc_mp_write_int(&b, 2));
    XT_OK(xipc_mp_write_int(&b, 3));
    expect_bytes("nested", &b,
                 "92 82 a161 93 01 02 81 a178 c0 a162 a173 07 08 92 01 92 02 03",
                 0, 0);

    xipc_mp_reader r;
    xipc_mp_obj o, o2;
    uint32_t n;
    uint64_t u;
    xipc_mp_reader_init(&r, b.data, b.len);
    XT_OK(xipc_mp_peek(&r, &o));
    XT_EQ(xipc_mp_reader_left(&r), b.len);
    XT_OK(xipc_mp_read_next(&r, &o2));
    XT_ASSERT(o.type == XIPC_MP_ARRAY && o2.type == o.type && o2.len == 2);
    XT_EQ(xipc_mp_reader_depth(&r), 1);
    XT_OK(xipc_mp_skip(&r)); /* the whole map */
    XT_EQ(xipc_mp_reader_depth(&r), 1);
    XT_OK(xipc_mp_read_uint(&r, &u));
    XT_EQ(u, 7);
    XT_EQ(xipc_mp_reader_depth(&r), 0);
    XT_OK(xipc_mp_read_uint(&r, &u));
    XT_EQ(u, 8);
    XT_OK(xipc_mp_read_array(&r, &n));
    XT_OK(xipc_mp_read_uint(&r, &u));
    XT_EQ(xipc_mp_reader_depth(&r), 1);
    XT_OK(xipc_mp_skip(&r)); /* the last element, itself an array */
    XT_EQ(xipc_mp_reader_depth(&r), 0);
    XT_EQ(xipc_mp_reader_left(&r), 0);
    XT_ERR(xipc_mp_skip(&r), XIPC_EPROTO);

    /* three top-level values skipped one by one */
    xipc_mp_reader_init(&r, b.data, b.len);
    for (int k = 0; k < 3; k++)
        XT_OK(xipc_mp_skip(&r));
    XT_EQ(xipc_mp_reader_left(&r), 0);
    xipc_mp_buf_fini(&b);
}

/* ------------------------------------------------------- writer errors */

/* The writes the fixed-buffer test replays; @p first gets the first error. */
static void fixed_script(xipc_mp_buf *b, xipc_err *first)
{
    static const uint8_t bin[20] = {1, 2, 3};
    xipc_err rv[16];
    int k = 0;
    rv[k++] = xipc_mp_write_uint(b, 300);
    rv[k++] = xipc_mp_write_cstr(b, "hello world");
    rv[k++] = xipc_mp_write_array(b, 3);
    rv[k++] = xipc_mp_write_nil(b);
    rv[k++] = xipc_mp_write_bool(b, true);
    rv[k++] = xipc_mp_write_double(b, 0.25);
    rv[k++] = xipc_mp_write_bin(b, bin, sizeof(bin));
    rv[k++] = xipc_mp_write_timestamp(b, 17179869184, 5);
    rv[k++] = xipc_mp_write_int(b, -129);
    rv[k++] = xipc_mp_write_map(b, 1);
    rv[k++] = xipc_mp_write_cstr(b, "k");
    rv[k++] = xipc_mp_write_float(b, 2.5f);
    *first = XIPC_OK;
    for (int i = 0; i < k; i++)
        if (rv[i] != XIPC_OK && *first == XIPC_OK)
            *first = rv[i];
}

static void test_fixed_buffer(void)
{
    /* the reference, with the end of each value */
    xipc_mp_buf ref;
    xipc_mp_buf_init(&ref);
    xipc_err first;
    size_t ends[16];
    int k = 0;
    {
        xipc_mp_buf tmp;
        xipc_mp_buf_init(&tmp);
        fixed_script(&tmp, &first);
        XT_OK(first);
        /* the ends are the boundaries where a prefix decodes whole */
        xipc_mp_reader r;
        xipc_mp_obj o;
        xipc_mp_reader_init(&r, tmp.data, tmp.len);
        while (xipc_mp_reader_left(&r) > 0) {
            XT_OK(xipc_mp_read_next(&r, &o));
            ends[k++] = tmp.len - xipc_mp_reader_left(&r);
        }
        XT_OK(xipc_mp_write_raw(&ref, tmp.data, tmp.len));
        xipc_mp_buf_fini(&tmp);
    }
    XT_EQ(k, 12);
    size_t total = ref.len;
    uint8_t mem[256];
    XT_ASSERT(total + 64 <= sizeof(mem));
    for (size_t cap = 0; cap <= total + 2; cap++) {
        memset(mem, 0xaa, sizeof(mem));
        xipc_mp_buf b;
        xipc_mp_buf_init_fixed(&b, mem, cap);
        fixed_script(&b, &first);
        size_t want = 0;
        for (int i = 0; i < k; i++)
            if (ends[i] <= cap)
                want = ends[i];
        if (cap >= total) {
            XT_OK(first);
            XT_EQ(b.len, total);
        } else {
            XT_ERR(first, XIPC_EMSGSIZE);
            XT_ERR(b.err, XIPC_EMSGSIZE);
            XT_EQ(b.len, want); /* whole values only, then nothing */
            XT_ERR(xipc_mp_write_nil(&b), XIPC_EMSGSIZE); /* sticky */
        }
        XT_ASSERT(memcmp(mem, ref.data, b.len) == 0);
        for (size_t i = b.len; i < sizeof(mem); i++)
            if (mem[i] != 0xaa)
                XT_FAIL("cap %zu: byte %zu written beyond the values", cap, i);
        xipc_mp_buf_fini(&b); /* caller storage: not freed */
    }
    /* reset clears the sticky error */
    xipc_mp_buf b;
    xipc_mp_buf_init_fixed(&b, mem, 1);
    XT_ERR(xipc_mp_write_uint(&b, 128), XIPC_EMSGSIZE);
    xipc_mp_buf_reset(&b);
    XT_OK(xipc_mp_write_uint(&b, 127));
    XT_EQ(b.len, 1);
    xipc_mp_buf_init_fixed(&b, NULL, 100);
    XT_ERR(xipc_mp_write_nil(&b), XIPC_EMSGSIZE);
    xipc_mp_buf_fini(&ref);
}

static void test_writer_errors(void)
{
    xipc_mp_buf b;
    xipc_mp_buf_init(&b);
    XT_OK(xipc_mp_write_str(&b, NULL, 0));
    XT_OK(xipc_mp_write_bin(&b, NULL, 0));
    expect_bytes("empty str, bin", &b, "a0c400", 0, 0);
    XT_ERR(xipc_mp_write_str(&b, NULL, 3), XIPC_EINVAL);
    XT_ERR(xipc_mp_write_nil(&b), XIPC_EINVAL); /* sticky */
    XT_EQ(b.len, 3);
    xipc_mp_buf_reset(&b);
    XT_ERR(xipc_mp_write_timestamp(&b, 0, 1000000000), XIPC_EINVAL);
    xipc_mp_buf_reset(&b);
    XT_ERR(xipc_mp_write_ext(&b, -1, "abc", 3), XIPC_EINVAL);
    xipc_mp_buf_reset(&b);
    /* 64-bit timestamp payload with nsec = 10^9 */
    static const uint8_t bad64[8] = {0xee, 0x6b, 0x28, 0, 0, 0, 0, 0};
    XT_ERR(xipc_mp_write_ext(&b, -1, bad64, 8), XIPC_EINVAL);
    xipc_mp_buf_reset(&b);
    XT_OK(xipc_mp_write_ext(&b, -1, "\0\0\0\5", 4));
    expect_bytes("ext -1 raw", &b, "d6ff00000005", 0, 0);
    XT_ERR(xipc_mp_write_cstr(&b, NULL), XIPC_EINVAL);
    xipc_mp_buf_reset(&b);
    XT_ERR(xipc_mp_write_raw(&b, NULL, 1), XIPC_EINVAL);
    xipc_mp_buf_reset(&b);
#if SIZE_MAX > UINT32_MAX
    /* lengths the format cannot carry: refused before any byte is read */
    size_t huge = (size_t)UINT32_MAX + 1;
    XT_ERR(xipc_mp_write_str(&b, "x", huge), XIPC_EMSGSIZE);
    xipc_mp_buf_reset(&b);
    XT_ERR(xipc_mp_write_bin(&b, "x", huge), XIPC_EMSGSIZE);
    xipc_mp_buf_reset(&b);
    XT_ERR(xipc_mp_write_ext(&b, 1, "x", huge), XIPC_EMSGSIZE);
    XT_EQ(b.len, 0);
#endif
    /* a growable buffer grows far */
    xipc_mp_buf_reset(&b);
    for (uint32_t i = 0; i < 300000; i++)
        XT_OK(xipc_mp_write_uint(&b, i));
    XT_ASSERT(b.len > 300000 && b.cap >= b.len);
    xipc_mp_reader r;
    uint64_t u;
    xipc_mp_reader_init(&r, b.data, b.len);
    for (uint32_t i = 0; i < 300000; i++) {
        XT_OK(xipc_mp_read_uint(&r, &u));
        XT_ASSERT(u == i);
    }
    XT_EQ(xipc_mp_reader_left(&r), 0);
    xipc_mp_buf_fini(&b);
    xipc_mp_buf_fini(&b); /* twice: harmless */
    xipc_mp_buf_fini(NULL);
}

/* ---------------------------------------------------------- round trip */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnd(rng *g)
{
    /* splitmix64 */
    uint64_t z = (g->s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* An integer near a boundary of the encodings, or anywhere. */
static uint64_t rnd_u(rng *g)
{
    static const uint64_t edges[] = {0, 127, 255, 65535, 4294967295u,
                                     UINT64_MAX, 31, 32, 15, 16};
    uint64_t r = rnd(g);
    if (r % 3 == 0)
        return rnd(g) >> (rnd(g) % 64);
    return edges[(r >> 8) % 10] + (uint64_t)((int)((r >> 16) % 5) - 2);
}

static size_t rnd_len(rng *g)
{
    static const size_t edges[] = {0, 1, 4, 8, 16, 31, 32, 255, 256, 65535,
                                   65536};
    uint64_t r = rnd(g);
    if (r % 8 != 0)
        return (size_t)((r >> 8) % 40);
    size_t e = edges[(r >> 8) % 11];
    if (e > 255 && (r >> 16) % 16 != 0) /* big ones rarely */
        return (size_t)((r >> 20) % 300);
    return e + (e > 0 ? (size_t)((r >> 24) % 3) - 1 : 0);
}

static uint8_t rt_payload[70000];

static void rt_fill(rng *g, size_t n)
{
    uint64_t x = rnd(g);
    for (size_t i = 0; i < n; i++)
        rt_payload[i] = (uint8_t)(x >> (8 * (i % 8)) ^ (i >> 3));
}

/*
 * Write (@p b) or read back and check (@p r) one random value: the same
 * seed makes the same value in both modes.
 */
static void rt_value(rng *g, int depth, xipc_mp_buf *b, xipc_mp_reader *r)
{
    int kind = (int)(rnd(g) % (depth < 5 ? 12 : 10));
    uint64_t u;
    uint32_t n;
    const void *p;
    switch (kind) {
    case 0:
        if (b != NULL)
            XT_OK(xipc_mp_write_nil(b));
        else
            XT_OK(xipc_mp_read_nil(r));
        break;
    case 1: {
        bool v = rnd(g) & 1, got;
        if (b != NULL) {
            XT_OK(xipc_mp_write_bool(b, v));
        } else {
            XT_OK(xipc_mp_read_bool(r, &got));
            XT_EQ(got, v);
        }
        break;
    }
    case 2: {
        uint64_t v = rnd_u(g);
        if (b != NULL) {
            XT_OK(xipc_mp_write_uint(b, v));
        } else {
            XT_OK(xipc_mp_read_uint(r, &u));
            XT_ASSERT(u == v);
        }
        break;
    }
    case 3: {
        int64_t v = (int64_t)rnd_u(g), got;
        if (rnd(g) & 1)
            v = v == INT64_MIN ? v : -v;
        if (b != NULL) {
            XT_OK(xipc_mp_write_int(b, v));
        } else {
            XT_OK(xipc_mp_read_int(r, &got));
            XT_ASSERT(got == v);
        }
        break;
    }
    case 4: {
        uint32_t bits = (uint32_t)rnd(g), gb;
        float f;
        memcpy(&f, &bits, 4);
        if (b != NULL) {
            XT_OK(xipc_mp_write_float(b, f));
        } else {
            xipc_mp_obj o;
            XT_OK(xipc_mp_read_next(r, &o));
            XT_EQ(o.type, XIPC_MP_FLOAT32);
            memcpy(&gb, &o.v.f32, 4);
            XT_ASSERT(gb == bits);
        }
        break;
    }
    case 5: {
        uint64_t bits = rnd(g), gb;
        double d;
        memcpy(&d, &bits, 8);
        if (b != NULL) {
            XT_OK(xipc_mp_write_double(b, d));
        } else {
            xipc_mp_obj o;
            XT_OK(xipc_mp_read_next(r, &o));
            XT_EQ(o.type, XIPC_MP_FLOAT64);
            memcpy(&gb, &o.v.f64, 8);
            XT_ASSERT(gb == bits);
        }
        break;
    }
    case 6:
    case 7:
    case 8: {
        size_t len = rnd_len(g);
        int8_t type = (int8_t)((int)(rnd(g) % 255) - 127); /* -127..127 */
        if (type == -1)
            type = 0;
        rt_fill(g, len);
        if (b != NULL) {
            if (kind == 6)
                XT_OK(xipc_mp_write_str(b, (const char *)rt_payload, len));
            else if (kind == 7)
                XT_OK(xipc_mp_write_bin(b, rt_payload, len));
            else
                XT_OK(xipc_mp_write_ext(b, type, rt_payload, len));
            break;
        }
        int8_t et = type;
        const char *sp;
        if (kind == 6) {
            XT_OK(xipc_mp_read_str(r, &sp, &n));
            p = sp;
        } else if (kind == 7)
            XT_OK(xipc_mp_read_bin(r, &p, &n));
        else
            XT_OK(xipc_mp_read_ext(r, &et, &p, &n));
        XT_ASSERT(n == len && et == type && memcmp(p, rt_payload, len) == 0);
        break;
    }
    case 9: {
        int64_t sec = (int64_t)rnd_u(g), s;
        uint32_t nsec = (uint32_t)(rnd(g) % 3 == 0 ? 0 : rnd(g) % 1000000000), ns;
        if (rnd(g) % 4 == 0)
            sec = (int64_t)(rnd(g) % ((uint64_t)1 << 34)); /* 32/64-bit forms */
        if (b != NULL) {
            XT_OK(xipc_mp_write_timestamp(b, sec, nsec));
        } else {
            XT_OK(xipc_mp_read_timestamp(r, &s, &ns));
            XT_ASSERT(s == sec && ns == nsec);
        }
        break;
    }
    default: {
        bool map = kind == 11;
        uint32_t count = (uint32_t)(rnd(g) % 20 == 0 ? 14 + rnd(g) % 4
                                                       : rnd(g) % 5);
        if (b != NULL) {
            XT_OK(map ? xipc_mp_write_map(b, count)
                      : xipc_mp_write_array(b, count));
        } else {
            XT_OK(map ? xipc_mp_read_map(r, &n) : xipc_mp_read_array(r, &n));
            XT_EQ(n, count);
        }
        for (uint32_t i = 0; i < (map ? 2 : 1) * count; i++)
            rt_value(g, depth + 1, b, r);
        break;
    }
    }
}

/* Encode the value of @p seed into @p b (reset first). */
static void rt_encode(uint64_t seed, xipc_mp_buf *b)
{
    rng g = {seed};
    xipc_mp_buf_reset(b);
    rt_value(&g, 0, b, NULL);
    XT_OK(b->err);
}

static void test_round_trip(void)
{
    xipc_mp_buf b;
    xipc_mp_buf_init(&b);
    long values = 0;
    for (uint64_t seed = 1; seed <= 100000; seed++) {
        rt_encode(seed, &b);
        rng g = {seed};
        xipc_mp_reader r;
        xipc_mp_reader_init(&r, b.data, b.len);
        rt_value(&g, 0, NULL, &r);
        XT_EQ(xipc_mp_reader_left(&r), 0);
        /* skip agrees with the typed walk */
        xipc_mp_reader_init(&r, b.data, b.len);
        XT_OK(xipc_mp_skip(&r));
        XT_EQ(xipc_mp_reader_left(&r), 0);
        values++;
    }
    xipc_mp_buf_fini(&b);
    printf("round trip: %ld random values\n", values);
}

/* ------------------------------------------------------- hostile input */

/* Walk @p p/@p n with read_next to the end or the first error. */
static xipc_err walk(const uint8_t *p, size_t n, long *reads)
{
    xipc_mp_reader r;
    xipc_mp_obj o;
    xipc_mp_reader_init(&r, p, n);
    long k = 0;
    size_t left = n;
    while (xipc_mp_reader_left(&r) > 0) {
        xipc_err rv = xipc_mp_read_next(&r, &o);
        if (rv != XIPC_OK) {
            XT_ERR(rv, XIPC_EPROTO); /* the only error bytes can cause */
            XT_EQ(xipc_mp_reader_left(&r), left); /* cursor did not move */
            XT_ERR(xipc_mp_read_next(&r, &o), XIPC_EPROTO); /* sticky */
            XT_ERR(xipc_mp_skip(&r), XIPC_EPROTO);
            if (reads != NULL)
                *reads = k;
            return rv;
        }
        k++;
        size_t now = xipc_mp_reader_left(&r);
        XT_ASSERT(now < left); /* progress: at least one byte a value */
        left = now;
        if (o.type == XIPC_MP_STR || o.type == XIPC_MP_BIN ||
            o.type == XIPC_MP_EXT || o.type == XIPC_MP_TIMESTAMP)
            XT_ASSERT(o.ptr >= p && o.len <= n && o.ptr + o.len <= p + n &&
                      o.ptr + o.len == p + (n - now));
        /* the element budget: owed elements never exceed bytes left */
        if (now == 0)
            XT_EQ(xipc_mp_reader_depth(&r), 0);
        XT_ASSERT(xipc_mp_reader_depth(&r) <= XIPC_MP_DEPTH_DEFAULT);
    }
    if (reads != NULL)
        *reads = k;
    return XIPC_OK;
}

/* Every proper prefix of one whole value must be refused, without a read
 * outside it (each prefix is copied into its own allocation so that the
 * sanitizer build sees any overread). */
static long truncate_all(const uint8_t *p, size_t n)
{
    for (size_t len = 0; len < n; len++) {
        uint8_t *cut = malloc(len > 0 ? len : 1);
        XT_ASSERT(cut != NULL);
        memcpy(cut, p, len);
        xipc_mp_reader r;
        xipc_mp_reader_init(&r, cut, len);
        xipc_err rv = xipc_mp_skip(&r);
        if (rv != XIPC_EPROTO)
            XT_FAIL("prefix of %zu of %zu bytes: skip gave %s, want EPROTO",
                    len, n, xipc_err_name(rv));
        XT_ERR(walk(cut, len, NULL), len == 0 ? XIPC_OK : XIPC_EPROTO);
        free(cut);
    }
    xipc_mp_reader r;
    xipc_mp_reader_init(&r, p, n);
    XT_OK(xipc_mp_skip(&r));
    XT_EQ(xipc_mp_reader_left(&r), 0);
    return (long)n;
}

static void test_truncation(void)
{
    /* one message holding every format */
    xipc_mp_buf b;
    static uint8_t pay[300];
    memset(pay, 'p', sizeof(pay));
    xipc_mp_buf_init(&b);
    XT_OK(xipc_mp_write_array(&b, 23));
    XT_OK(xipc_mp_write_nil(&b));
    XT_OK(xipc_mp_write_bool(&b, true));
    XT_OK(xipc_mp_write_uint(&b, 5));
    XT_OK(xipc_mp_write_uint(&b, 200));
    XT_OK(xipc_mp_write_uint(&b, 60000));
    XT_OK(xipc_mp_write_uint(&b, 70000));
    XT_OK(xipc_mp_write_uint(&b, UINT64_MAX));
    XT_OK(xipc_mp_write_int(&b, -5));
    XT_OK(xipc_mp_write_int(&b, -100));
    XT_OK(xipc_mp_write_int(&b, -1000));
    XT_OK(xipc_mp_write_int(&b, -100000));
    XT_OK(xipc_mp_write_int(&b, INT64_MIN));
    XT_OK(xipc_mp_write_float(&b, 1.0f));
    XT_OK(xipc_mp_write_double(&b, 1.0));
    XT_OK(xipc_mp_write_map(&b, 2));
    XT_OK(xipc_mp_write_str(&b, (const char *)pay, 3));
    XT_OK(xipc_mp_write_str(&b, (const char *)pay, 40));
    XT_OK(xipc_mp_write_str(&b, (const char *)pay, 260));
    XT_OK(xipc_mp_write_array(&b, 17));
    for (int i = 0; i < 17; i++)
        XT_OK(xipc_mp_write_int(&b, i));
    XT_OK(xipc_mp_write_bin(&b, pay, 10));
    XT_OK(xipc_mp_write_bin(&b, pay, 300));
    XT_OK(xipc_mp_write_ext(&b, 3, pay, 1));
    XT_OK(xipc_mp_write_ext(&b, 3, pay, 16));
    XT_OK(xipc_mp_write_ext(&b, 3, pay, 20));
    XT_OK(xipc_mp_write_timestamp(&b, 1, 0));
    XT_OK(xipc_mp_write_timestamp(&b, 1, 1));
    XT_OK(xipc_mp_write_timestamp(&b, -1, 1));
    long bytes = truncate_all(b.data, b.len);
    /* and the random round-trip messages up to 4 KiB */
    int msgs = 1;
    for (uint64_t seed = 1; msgs < 3000; seed++) {
        rt_encode(seed, &b);
        if (b.len > 4096)
            continue;
        bytes += truncate_all(b.data, b.len);
        msgs++;
    }
    xipc_mp_buf_fini(&b);
    printf("truncation: every prefix of %d messages (%ld positions) refused\n",
           msgs, bytes);
}

/* @p hex must be refused at read number @p at (0: the first read). */
static void refuse_at(const char *what, const char *hex, size_t zeros,
                      long at)
{
    static uint8_t buf[4096];
    size_t n = unhex(hex, buf, sizeof(buf));
    XT_ASSERT(n + zeros <= sizeof(buf));
    memset(buf + n, 0, zeros);
    long reads = -1;
    xipc_err rv = walk(buf, n + zeros, &reads);
    if (rv != XIPC_EPROTO || reads != at)
        XT_FAIL("%s: %s after %ld reads, want EPROTO after %ld", what,
                xipc_err_name(rv), reads, at);
}

/* @p hex must walk to its end. */
static void accept_all(const char *what, const char *hex, size_t zeros)
{
    static uint8_t buf[4096];
    size_t n = unhex(hex, buf, sizeof(buf));
    memset(buf + n, 0, zeros);
    xipc_err rv = walk(buf, n + zeros, NULL);
    if (rv != XIPC_OK)
        XT_FAIL("%s: %s, want OK", what, xipc_err_name(rv));
}

static void test_hostile_headers(void)
{
    /* counts that cannot fit in what is left: refused at the header */
    refuse_at("array32 of 2^32-1 in 10 bytes", "ddffffffff", 10, 0);
    refuse_at("map32 of 2^32-1 in 10 bytes", "dfffffffff", 10, 0);
    refuse_at("array16 of 65535", "dcffff", 1000, 0);
    refuse_at("fixarray 15 with 14 bytes", "9f", 14, 0);
    accept_all("fixarray 15 with 15 bytes", "9f", 15);
    refuse_at("fixmap 15 (30 elements) with 29 bytes", "8f", 29, 0);
    accept_all("fixmap 15 with 30 bytes", "8f", 30);
    /* the budget counts what outer containers still owe */
    refuse_at("[[5 elements], x] with 5 bytes", "92 dc0005", 5, 1);
    accept_all("[[5 elements], x] with 6 bytes", "92 dc0005", 6);
    refuse_at("str8 eats the bytes an array owes", "92 d903", 3, 1);
    accept_all("array with str8", "92 d903 616263 c0", 0);
    /* lengths beyond the input */
    refuse_at("str32 of 2^32-1", "dbffffffff 616263", 0, 0);
    refuse_at("str16 of 4 with 3", "da0004 616263", 0, 0);
    refuse_at("fixstr of 5 with 2", "a5 6162", 0, 0);
    refuse_at("bin32 of 16 with 3", "c600000010 010203", 0, 0);
    refuse_at("bin8 of 1 with 0", "c401", 0, 0);
    refuse_at("ext32 of 256 with 1", "c900000100 07 00", 0, 0);
    refuse_at("ext8 without type", "c701", 0, 0);
    refuse_at("fixext16 with 5", "d807 0102030405", 0, 0);
    refuse_at("fixext1 without type", "d4", 0, 0);
    /* truncated scalars and length fields */
    refuse_at("uint64 cut", "cf00000000000000", 0, 0);
    refuse_at("int32 cut", "d2000000", 0, 0);
    refuse_at("float64 cut", "cb00", 0, 0);
    refuse_at("float32 cut", "ca000000", 0, 0);
    refuse_at("array32 cut", "dd000000", 0, 0);
    refuse_at("map16 cut", "de00", 0, 0);
    refuse_at("str32 length cut", "db0000", 0, 0);
    /* the reserved byte */
    refuse_at("0xc1", "c1", 0, 0);
    refuse_at("0xc1 inside an array", "93 c0 c1 c0", 0, 2);
    refuse_at("0xc1 as a map key", "81 c1 c0", 0, 1);
    /* timestamps that are not */
    refuse_at("fixext1 timestamp", "d4ff00", 0, 0);
    refuse_at("fixext2 timestamp", "d5ff0000", 0, 0);
    refuse_at("fixext16 timestamp", "d8ff", 16, 0);
    refuse_at("ext8 timestamp of 0", "c700ff", 0, 0);
    refuse_at("ext8 timestamp of 5", "c705ff", 5, 0);
    refuse_at("timestamp64 nsec 1e9", "d7ff ee6b2800 00000000", 0, 0);
    refuse_at("timestamp96 nsec 1e9", "c70cff 3b9aca00", 8, 0);
    refuse_at("timestamp96 nsec 2^32-1", "c70cff ffffffff", 8, 0);
    accept_all("timestamp64 nsec 999999999", "d7ff ee6b27fc 00000000", 0);
    accept_all("ext -2 of 1 byte", "d4fe00", 0);
    /* nothing there */
    xipc_mp_reader r;
    xipc_mp_obj o;
    xipc_mp_reader_init(&r, "", 0);
    XT_ERR(xipc_mp_read_next(&r, &o), XIPC_EPROTO);
    xipc_mp_reader_init(&r, NULL, 5);
    XT_EQ(xipc_mp_reader_left(&r), 0);
    XT_ERR(xipc_mp_read_next(&r, &o), XIPC_EPROTO);
}

static void test_depth(void)
{
    enum { BOMB = 100000 };
    uint8_t *bomb = malloc(BOMB + 1);
    XT_ASSERT(bomb != NULL);
    memset(bomb, 0x91, BOMB);
    bomb[BOMB] = 0xc0;
    xipc_mp_reader r;
    xipc_mp_obj o;

    /* 100000 nested arrays: refused at the 65th, skip too */
    long reads = -1;
    XT_ERR(walk(bomb, BOMB + 1, &reads), XIPC_EPROTO);
    XT_EQ(reads, XIPC_MP_DEPTH_DEFAULT);
    xipc_mp_reader_init(&r, bomb, BOMB + 1);
    XT_ERR(xipc_mp_skip(&r), XIPC_EPROTO);
    /* maps nest the same way */
    uint8_t *mbomb = malloc(2 * BOMB + 2);
    XT_ASSERT(mbomb != NULL);
    for (int i = 0; i < BOMB; i++) {
        mbomb[2 * i] = 0x81;
        mbomb[2 * i + 1] = 0xc0; /* key nil, value the next map */
    }
    mbomb[2 * BOMB] = 0xc0;
    mbomb[2 * BOMB + 1] = 0xc0;
    xipc_mp_reader_init(&r, mbomb, 2 * BOMB + 1);
    XT_ERR(xipc_mp_skip(&r), XIPC_EPROTO);

    /* exactly 64 deep passes, 65 does not (an empty innermost array too) */
    xipc_mp_reader_init(&r, bomb + BOMB - 64, 65);
    XT_OK(xipc_mp_skip(&r));
    XT_EQ(xipc_mp_reader_left(&r), 0);
    xipc_mp_reader_init(&r, bomb + BOMB - 65, 66);
    XT_ERR(xipc_mp_skip(&r), XIPC_EPROTO);
    uint8_t empty[65];
    memset(empty, 0x91, 64);
    empty[64] = 0x90; /* 65 levels, the last empty */
    xipc_mp_reader_init(&r, empty, 65);
    XT_ERR(xipc_mp_skip(&r), XIPC_EPROTO);
    xipc_mp_reader_init(&r, empty + 1, 64);
    XT_OK(xipc_mp_skip(&r));

    /* a smaller limit */
    xipc_mp_reader_init(&r, bomb + BOMB - 3, 4);
    XT_OK(xipc_mp_reader_set_depth(&r, 3, NULL));
    XT_OK(xipc_mp_skip(&r));
    xipc_mp_reader_init(&r, bomb + BOMB - 4, 5);
    XT_OK(xipc_mp_reader_set_depth(&r, 3, NULL));
    XT_ERR(xipc_mp_skip(&r), XIPC_EPROTO);
    /* 0 refuses every container, not scalars */
    xipc_mp_reader_init(&r, (const uint8_t *)"\x90\x01", 2);
    XT_OK(xipc_mp_reader_set_depth(&r, 0, NULL));
    XT_ERR(xipc_mp_read_next(&r, &o), XIPC_EPROTO);
    xipc_mp_reader_init(&r, (const uint8_t *)"\x01", 1);
    XT_OK(xipc_mp_reader_set_depth(&r, 0, NULL));
    XT_OK(xipc_mp_read_next(&r, &o));

    /* deeper needs the caller's stack; not after reading has begun */
    xipc_mp_reader_init(&r, bomb, BOMB + 1);
    XT_ERR(xipc_mp_reader_set_depth(&r, 65, NULL), XIPC_EINVAL);
    uint64_t *stack = malloc(sizeof(uint64_t) * BOMB);
    XT_ASSERT(stack != NULL);
    XT_OK(xipc_mp_reader_set_depth(&r, BOMB, stack));
    XT_OK(xipc_mp_skip(&r)); /* 100000 levels, iteratively */
    XT_EQ(xipc_mp_reader_left(&r), 0);
    XT_ERR(xipc_mp_reader_set_depth(&r, 3, NULL), XIPC_ESTATE);
    xipc_mp_reader_init(&r, bomb, BOMB + 1);
    XT_OK(xipc_mp_reader_set_depth(&r, BOMB - 1, stack));
    XT_ERR(xipc_mp_skip(&r), XIPC_EPROTO);
    free(stack);
    free(mbomb);
    free(bomb);
}

/* Random bytes biased toward format bytes: never a crash, only EPROTO. */
static void test_garbage(void)
{
    static const uint8_t hot[] = {0xc1, 0xdc, 0xdd, 0xde, 0xdf, 0xc4, 0xc5,
                                  0xc6, 0xc7, 0xc8, 0xc9, 0xd4, 0xd5, 0xd6,
                                  0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xff, 0x00,
                                  0x9f, 0x8f, 0xbf, 0x91, 0x81, 0xcb, 0xcf};
    rng g = {42};
    uint8_t buf[96];
    long ok = 0, bad = 0, reads = 0, k;
    for (int it = 0; it < 300000; it++) {
        size_t n = (size_t)(rnd(&g) % sizeof(buf));
        for (size_t i = 0; i < n; i++) {
            uint64_t x = rnd(&g);
            buf[i] = x % 3 == 0 ? hot[(x >> 8) % sizeof(hot)] : (uint8_t)(x >> 16);
        }
        if (walk(buf, n, &k) == XIPC_OK)
            ok++;
        else
            bad++;
        reads += k;
    }
    /* valid messages with bytes changed */
    xipc_mp_buf b;
    xipc_mp_buf_init(&b);
    for (uint64_t seed = 1; seed <= 20000; seed++) {
        rt_encode(seed, &b);
        for (int m = 0; m < 3; m++) {
            size_t at = (size_t)(rnd(&g) % b.len);
            uint64_t x = rnd(&g);
            b.data[at] = x % 2 ? hot[(x >> 8) % sizeof(hot)] : (uint8_t)(x >> 16);
        }
        if (walk(b.data, b.len, &k) == XIPC_OK)
            ok++;
        else
            bad++;
        reads += k;
    }
    xipc_mp_buf_fini(&b);
    XT_ASSERT(ok > 1000 && bad > 1000); /* both paths exercised */
    printf("garbage: %ld inputs walked to the end, %ld refused, %ld reads\n",
           ok, bad, reads);
}

int main(void)
{
    test_ints();
    test_nil_bool_float();
    test_str_bin_ext();
    test_containers();
    test_timestamps();
    test_decode_noncanonical();
    test_typed_reads();
    test_peek_skip_stream();
    test_fixed_buffer();
    test_writer_errors();
    test_round_trip();
    test_truncation();
    test_hostile_headers();
    test_depth();
    test_garbage();
    printf("codec_test ok\n");
    return 0;
}
