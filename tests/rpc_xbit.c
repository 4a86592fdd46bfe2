/* Cross-bitness RPC values and checks (see rpc_xbit.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/platform.h"
#include "rpc_xbit.h"

static const int64_t rpcx_ints[] = {INT64_MIN, INT64_MIN + 1, -4294967297LL,
                                    -2147483649LL, -1, 0, 1, 2147483648LL,
                                    4294967296LL, INT64_MAX};
static const uint64_t rpcx_uints[] = {0, 255, 65536, 4294967295u, 4294967296u,
                                      UINT64_MAX - 1, UINT64_MAX};
static const uint64_t rpcx_dbits[] = {
    0x0000000000000000u, 0x8000000000000000u, /* +0.0, -0.0 */
    0x3fb999999999999au,                      /* 0.1 */
    0x400921fb54442d18u,                      /* pi */
    0x0000000000000001u, 0x000fffffffffffffu, /* denormals */
    0x7fefffffffffffffu,                      /* DBL_MAX */
    0x7ff0000000000000u, 0xfff0000000000000u, /* +inf, -inf */
    0x7ff8000000000123u, /* a quiet NaN with a payload */
    0xc1e0000000000001u};

static uint8_t rpcx_blob_byte(size_t i)
{
    return (uint8_t)(i * 131u + (i >> 12) + 7u);
}

int rpcx_build(xipc_mp_buf *b)
{
    size_t ni = sizeof(rpcx_ints) / sizeof(rpcx_ints[0]);
    size_t nu = sizeof(rpcx_uints) / sizeof(rpcx_uints[0]);
    size_t nd = sizeof(rpcx_dbits) / sizeof(rpcx_dbits[0]);
    xipc_mp_write_array(b, 8);
    xipc_mp_write_array(b, (uint32_t)ni);
    for (size_t i = 0; i < ni; i++)
        xipc_mp_write_int(b, rpcx_ints[i]);
    xipc_mp_write_array(b, (uint32_t)nu);
    for (size_t i = 0; i < nu; i++)
        xipc_mp_write_uint(b, rpcx_uints[i]);
    xipc_mp_write_array(b, (uint32_t)nd);
    for (size_t i = 0; i < nd; i++) {
        double d;
        memcpy(&d, &rpcx_dbits[i], sizeof(d));
        xipc_mp_write_double(b, d);
    }
    xipc_mp_write_float(b, 1.5f);
    uint8_t *blob = malloc(RPCX_BLOB);
    if (blob == NULL)
        return 1;
    for (size_t i = 0; i < RPCX_BLOB; i++)
        blob[i] = rpcx_blob_byte(i);
    xipc_mp_write_bin(b, blob, RPCX_BLOB);
    free(blob);
    /* {"a": {"b": {"c": [1, -2, {"d": nil}]}}, 7: "seven", true: [1.25, "x"],
     *  "deep": [[[[[[[[{"k": "v"}]]]]]]]]} */
    xipc_mp_write_map(b, 4);
    xipc_mp_write_cstr(b, "a");
    xipc_mp_write_map(b, 1);
    xipc_mp_write_cstr(b, "b");
    xipc_mp_write_map(b, 1);
    xipc_mp_write_cstr(b, "c");
    xipc_mp_write_array(b, 3);
    xipc_mp_write_int(b, 1);
    xipc_mp_write_int(b, -2);
    xipc_mp_write_map(b, 1);
    xipc_mp_write_cstr(b, "d");
    xipc_mp_write_nil(b);
    xipc_mp_write_int(b, 7);
    xipc_mp_write_cstr(b, "seven");
    xipc_mp_write_bool(b, true);
    xipc_mp_write_array(b, 2);
    xipc_mp_write_double(b, 1.25);
    xipc_mp_write_cstr(b, "x");
    xipc_mp_write_cstr(b, "deep");
    for (int i = 0; i < 8; i++)
        xipc_mp_write_array(b, 1);
    xipc_mp_write_map(b, 1);
    xipc_mp_write_cstr(b, "k");
    xipc_mp_write_cstr(b, "v");
    xipc_mp_write_timestamp(b, -1234567890123LL, 999999999u);
    xipc_mp_write_ext(b, 42, "\x01\x02\x03", 3);
    return b->err != XIPC_OK;
}

/* Decode one value into C types and write it again. */
static xipc_err rpcx_copy(xipc_mp_reader *r, xipc_mp_buf *b)
{
    xipc_mp_obj o;
    xipc_err rv = xipc_mp_read_next(r, &o);
    if (rv != XIPC_OK)
        return rv;
    switch (o.type) {
    case XIPC_MP_NIL: return xipc_mp_write_nil(b);
    case XIPC_MP_BOOL: return xipc_mp_write_bool(b, o.v.b);
    case XIPC_MP_UINT: return xipc_mp_write_uint(b, o.v.u);
    case XIPC_MP_INT: return xipc_mp_write_int(b, o.v.i);
    case XIPC_MP_FLOAT32: return xipc_mp_write_float(b, o.v.f32);
    case XIPC_MP_FLOAT64: return xipc_mp_write_double(b, o.v.f64);
    case XIPC_MP_STR: return xipc_mp_write_str(b, (const char *)o.ptr, o.len);
    case XIPC_MP_BIN: return xipc_mp_write_bin(b, o.ptr, o.len);
    case XIPC_MP_EXT: return xipc_mp_write_ext(b, o.ext_type, o.ptr, o.len);
    case XIPC_MP_TIMESTAMP: return xipc_mp_write_timestamp(b, o.v.ts.sec, o.v.ts.nsec);
    case XIPC_MP_ARRAY:
    case XIPC_MP_MAP: {
        uint64_t n = o.type == XIPC_MP_MAP ? 2u * o.len : o.len;
        rv = o.type == XIPC_MP_MAP ? xipc_mp_write_map(b, o.len)
                                   : xipc_mp_write_array(b, o.len);
        for (uint64_t i = 0; i < n && rv == XIPC_OK; i++)
            rv = rpcx_copy(r, b);
        return rv;
    }
    }
    return XIPC_EINVAL;
}

static xipc_err rpcx_echo(xipc_rpc_req *req, void *ud)
{
    size_t n;
    const void *p = xipc_rpc_req_params_raw(req, &n);
    return xipc_rpc_req_returnf(req, "m", p, n);
}

static xipc_err rpcx_reencode(xipc_rpc_req *req, void *ud)
{
    size_t n;
    const void *p = xipc_rpc_req_params_raw(req, &n);
    xipc_mp_reader r;
    xipc_mp_reader_init(&r, p, n);
    xipc_err rv = rpcx_copy(&r, xipc_rpc_req_result(req));
    return rv == XIPC_OK && xipc_mp_reader_left(&r) != 0 ? XIPC_EPROTO : rv;
}

static xipc_err rpcx_bits(xipc_rpc_req *req, void *ud)
{
    return xipc_rpc_req_returnf(req, "u", (unsigned)(sizeof(void *) * 8));
}

xipc_err rpcx_register(xipc_rpc_server *srv)
{
    xipc_err rv = xipc_rpc_server_register(srv, "echo", "(any...) -> [any...]", rpcx_echo, NULL);
    if (rv == XIPC_OK)
        rv = xipc_rpc_server_register(srv, "reencode", "(any...) -> [any...]",
                                      rpcx_reencode, NULL);
    if (rv == XIPC_OK)
        rv = xipc_rpc_server_register(srv, "bits", "() -> int", rpcx_bits, NULL);
    return rv;
}

#define RPCX_CHECK(cond)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "rpc_xbit %s:%d (%u-bit): %s failed\n", __FILE__,  \
                    __LINE__, (unsigned)(sizeof(void *) * 8), #cond);          \
            return 1;                                                          \
        }                                                                      \
    } while (0)

/* The decoded result equals the original values, read as C values. */
static int rpcx_verify_values(const void *p, size_t len)
{
    xipc_mp_reader r;
    uint32_t n;
    xipc_mp_reader_init(&r, p, len);
    RPCX_CHECK(xipc_mp_read_array(&r, &n) == XIPC_OK && n == 8);
    RPCX_CHECK(xipc_mp_read_array(&r, &n) == XIPC_OK &&
               n == sizeof(rpcx_ints) / sizeof(rpcx_ints[0]));
    for (uint32_t i = 0; i < n; i++) {
        int64_t v;
        RPCX_CHECK(xipc_mp_read_int(&r, &v) == XIPC_OK && v == rpcx_ints[i]);
    }
    RPCX_CHECK(xipc_mp_read_array(&r, &n) == XIPC_OK &&
               n == sizeof(rpcx_uints) / sizeof(rpcx_uints[0]));
    for (uint32_t i = 0; i < n; i++) {
        uint64_t v;
        RPCX_CHECK(xipc_mp_read_uint(&r, &v) == XIPC_OK && v == rpcx_uints[i]);
    }
    RPCX_CHECK(xipc_mp_read_array(&r, &n) == XIPC_OK &&
               n == sizeof(rpcx_dbits) / sizeof(rpcx_dbits[0]));
    for (uint32_t i = 0; i < n; i++) {
        xipc_mp_obj o;
        uint64_t bits;
        RPCX_CHECK(xipc_mp_read_next(&r, &o) == XIPC_OK && o.type == XIPC_MP_FLOAT64);
        memcpy(&bits, &o.v.f64, sizeof(bits));
        RPCX_CHECK(bits == rpcx_dbits[i]);
    }
    double f;
    RPCX_CHECK(xipc_mp_read_double(&r, &f) == XIPC_OK && f == 1.5);
    const void *blob;
    uint32_t bl;
    RPCX_CHECK(xipc_mp_read_bin(&r, &blob, &bl) == XIPC_OK && bl == RPCX_BLOB);
    for (uint32_t i = 0; i < bl; i++)
        RPCX_CHECK(((const uint8_t *)blob)[i] == rpcx_blob_byte(i));
    xipc_mp_obj mo;
    RPCX_CHECK(xipc_mp_peek(&r, &mo) == XIPC_OK && mo.type == XIPC_MP_MAP && mo.len == 4);
    RPCX_CHECK(xipc_mp_skip(&r) == XIPC_OK); /* compared byte for byte */
    int64_t sec;
    uint32_t nsec;
    RPCX_CHECK(xipc_mp_read_timestamp(&r, &sec, &nsec) == XIPC_OK &&
               sec == -1234567890123LL && nsec == 999999999u);
    int8_t et;
    const void *ep;
    uint32_t el;
    RPCX_CHECK(xipc_mp_read_ext(&r, &et, &ep, &el) == XIPC_OK && et == 42 && el == 3 &&
               memcmp(ep, "\x01\x02\x03", 3) == 0);
    RPCX_CHECK(xipc_mp_reader_left(&r) == 0);
    return 0;
}

int rpcx_client(const char *url, unsigned want_bits)
{
    xipc_rpc_client_opts o;
    xipc_rpc_client *c;
    xipc_rpc_client_opts_init(&o);
    o.sock.ring_capacity = 4u << 20; /* shm: room for the 1 MiB blob */
    o.timeout_ms = 60000;
    xipc_err rv = XIPC_ECONNREFUSED;
    for (int i = 0; i < 500 && (rv == XIPC_ECONNREFUSED || rv == XIPC_ENOENT); i++) {
        rv = xipc_rpc_client_dial(&c, url, &o, 10000);
        if (rv == XIPC_ECONNREFUSED || rv == XIPC_ENOENT)
            xipc_plat_sleep_us(10000);
    }
    if (rv != XIPC_OK) {
        fprintf(stderr, "rpc_xbit: dial %s: %s\n", url, xipc_strerror(rv));
        return 1;
    }
    int fail = 0;
    unsigned bits = 0;
    rv = xipc_rpc_callf(c, "bits", "", "u", &bits);
    if (rv != XIPC_OK || (want_bits != 0 && bits != want_bits)) {
        fprintf(stderr, "rpc_xbit: peer bits %u (%s), want %u\n", bits,
                xipc_strerror(rv), want_bits);
        fail = 1;
    }
    xipc_mp_buf b;
    xipc_mp_buf_init(&b);
    if (!fail && rpcx_build(&b) != 0)
        fail = 1;
    const char *methods[] = {"echo", "reencode"};
    for (int m = 0; m < 2 && !fail; m++) {
        xipc_rpc_result res;
        xipc_rpc_result_init(&res);
        rv = xipc_rpc_call(c, methods[m], b.data, b.len, &res, 60000);
        if (rv != XIPC_OK) {
            fprintf(stderr, "rpc_xbit: %s: %s (%s)\n", methods[m], xipc_strerror(rv),
                    res.message);
            fail = 1;
        } else if (res.value_len != b.len || memcmp(res.value, b.data, b.len) != 0) {
            fprintf(stderr, "rpc_xbit: %s: %zu bytes back, %zu sent, not the same\n",
                    methods[m], res.value_len, b.len);
            fail = 1;
        } else {
            fail = rpcx_verify_values(res.value, res.value_len);
        }
        xipc_rpc_result_fini(&res);
    }
    xipc_mp_buf_fini(&b);
    xipc_rpc_client_close(c);
    return fail;
}
