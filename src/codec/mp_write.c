/*
 * MessagePack writer: smallest encodings, all-or-nothing appends, sticky
 * errors. Big-endian bytes are assembled with shifts, so the host's byte
 * order and alignment never matter.
 */
#include <stdlib.h>
#include <string.h>

#include "xipc/msgpack.h"

/* A header is at most 1 + 4 + 1 bytes (ext 32), a scalar 1 + 8. */
#define MP_HDR_MAX 12

void xipc_mp_buf_init(xipc_mp_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->fixed = false;
    b->err = XIPC_OK;
}

void xipc_mp_buf_init_fixed(xipc_mp_buf *b, void *mem, size_t cap)
{
    b->data = mem;
    b->len = 0;
    b->cap = mem != NULL ? cap : 0;
    b->fixed = true;
    b->err = XIPC_OK;
}

void xipc_mp_buf_fini(xipc_mp_buf *b)
{
    if (b == NULL)
        return;
    if (!b->fixed)
        free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void xipc_mp_buf_reset(xipc_mp_buf *b)
{
    b->len = 0;
    b->err = XIPC_OK;
}

/* Record @p err as the buffer's sticky error. */
static xipc_err mp_fail(xipc_mp_buf *b, xipc_err err)
{
    b->err = err;
    return err;
}

/* Make room for @p n more bytes. */
static xipc_err mp_room(xipc_mp_buf *b, size_t n)
{
    if (n <= b->cap - b->len)
        return XIPC_OK;
    if (b->fixed)
        return mp_fail(b, XIPC_EMSGSIZE);
    if (n > SIZE_MAX - b->len)
        return mp_fail(b, XIPC_ENOMEM);
    size_t want = b->len + n;
    size_t cap = b->cap < 64 ? 64 : b->cap;
    while (cap < want)
        cap = cap > SIZE_MAX / 2 ? want : cap * 2;
    uint8_t *p = realloc(b->data, cap);
    if (p == NULL)
        return mp_fail(b, XIPC_ENOMEM);
    b->data = p;
    b->cap = cap;
    return XIPC_OK;
}

/* Append header @p h of @p hn bytes and body @p body of @p bn bytes, whole. */
static xipc_err mp_put(xipc_mp_buf *b, const uint8_t *h, size_t hn,
                       const void *body, size_t bn)
{
    if (b->err != XIPC_OK)
        return b->err;
    if (bn > SIZE_MAX - hn)
        return mp_fail(b, XIPC_EMSGSIZE);
    xipc_err rv = mp_room(b, hn + bn);
    if (rv != XIPC_OK)
        return rv;
    if (hn > 0)
        memcpy(b->data + b->len, h, hn);
    if (bn > 0)
        memcpy(b->data + b->len + hn, body, bn);
    b->len += hn + bn;
    return XIPC_OK;
}

/* Store @p v big-endian in @p n bytes at @p p. */
static void mp_be(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* Format byte @p tag followed by @p v in @p n big-endian bytes. */
static xipc_err mp_tagged(xipc_mp_buf *b, uint8_t tag, uint64_t v, unsigned n)
{
    uint8_t h[9];
    h[0] = tag;
    mp_be(h + 1, v, n);
    return mp_put(b, h, 1 + n, NULL, 0);
}

/* Can @p len be carried by a 32-bit length field? */
static bool mp_len_ok(size_t len)
{
#if SIZE_MAX > UINT32_MAX
    return len <= UINT32_MAX;
#else
    (void)len;
    return true;
#endif
}

/*
 * Check a str/bin/ext payload argument: sticky error first, then NULL
 * with a length, then a length beyond the format.
 */
static xipc_err mp_payload_check(xipc_mp_buf *b, const void *p, size_t len)
{
    if (b->err != XIPC_OK)
        return b->err;
    if (p == NULL && len > 0)
        return mp_fail(b, XIPC_EINVAL);
    if (!mp_len_ok(len))
        return mp_fail(b, XIPC_EMSGSIZE);
    return XIPC_OK;
}

/*
 * Header of a length-prefixed family into @p h: @p fix (the fix form's
 * base byte, 0 when the family has none) for lengths below @p fixmax,
 * then the 8/16/32-bit forms @p t8 (0 when absent), @p t16, @p t32.
 * @return the header's size
 */
static size_t mp_len_hdr(uint8_t *h, uint32_t len, uint8_t fix,
                         uint32_t fixmax, uint8_t t8, uint8_t t16,
                         uint8_t t32)
{
    if (fix != 0 && len < fixmax) {
        h[0] = (uint8_t)(fix | len);
        return 1;
    }
    if (t8 != 0 && len <= 0xff) {
        h[0] = t8;
        h[1] = (uint8_t)len;
        return 2;
    }
    if (len <= 0xffff) {
        h[0] = t16;
        mp_be(h + 1, len, 2);
        return 3;
    }
    h[0] = t32;
    mp_be(h + 1, len, 4);
    return 5;
}

xipc_err xipc_mp_write_nil(xipc_mp_buf *b)
{
    static const uint8_t h = 0xc0;
    return mp_put(b, &h, 1, NULL, 0);
}

xipc_err xipc_mp_write_bool(xipc_mp_buf *b, bool v)
{
    uint8_t h = v ? 0xc3 : 0xc2;
    return mp_put(b, &h, 1, NULL, 0);
}

xipc_err xipc_mp_write_uint(xipc_mp_buf *b, uint64_t v)
{
    if (v <= 0x7f) {
        uint8_t h = (uint8_t)v;
        return mp_put(b, &h, 1, NULL, 0);
    }
    if (v <= 0xff)
        return mp_tagged(b, 0xcc, v, 1);
    if (v <= 0xffff)
        return mp_tagged(b, 0xcd, v, 2);
    if (v <= 0xffffffff)
        return mp_tagged(b, 0xce, v, 4);
    return mp_tagged(b, 0xcf, v, 8);
}

xipc_err xipc_mp_write_int(xipc_mp_buf *b, int64_t v)
{
    if (v >= 0)
        return xipc_mp_write_uint(b, (uint64_t)v);
    /* (uint64_t)v is v modulo 2^64: its low bytes are two's complement */
    if (v >= -32) {
        uint8_t h = (uint8_t)(uint64_t)v;
        return mp_put(b, &h, 1, NULL, 0);
    }
    if (v >= INT8_MIN)
        return mp_tagged(b, 0xd0, (uint64_t)v, 1);
    if (v >= INT16_MIN)
        return mp_tagged(b, 0xd1, (uint64_t)v, 2);
    if (v >= INT32_MIN)
        return mp_tagged(b, 0xd2, (uint64_t)v, 4);
    return mp_tagged(b, 0xd3, (uint64_t)v, 8);
}

xipc_err xipc_mp_write_float(xipc_mp_buf *b, float v)
{
    uint32_t bits;
    _Static_assert(sizeof(float) == 4, "IEEE 754 binary32 float");
    memcpy(&bits, &v, 4);
    return mp_tagged(b, 0xca, bits, 4);
}

xipc_err xipc_mp_write_double(xipc_mp_buf *b, double v)
{
    uint64_t bits;
    _Static_assert(sizeof(double) == 8, "IEEE 754 binary64 double");
    memcpy(&bits, &v, 8);
    return mp_tagged(b, 0xcb, bits, 8);
}

xipc_err xipc_mp_write_str_hdr(xipc_mp_buf *b, uint32_t len)
{
    uint8_t h[MP_HDR_MAX];
    size_t n = mp_len_hdr(h, len, 0xa0, 32, 0xd9, 0xda, 0xdb);
    return mp_put(b, h, n, NULL, 0);
}

xipc_err xipc_mp_write_str(xipc_mp_buf *b, const char *s, size_t len)
{
    xipc_err rv = mp_payload_check(b, s, len);
    if (rv != XIPC_OK)
        return rv;
    uint8_t h[MP_HDR_MAX];
    size_t n = mp_len_hdr(h, (uint32_t)len, 0xa0, 32, 0xd9, 0xda, 0xdb);
    return mp_put(b, h, n, s, len);
}

xipc_err xipc_mp_write_cstr(xipc_mp_buf *b, const char *s)
{
    if (b->err != XIPC_OK)
        return b->err;
    if (s == NULL)
        return mp_fail(b, XIPC_EINVAL);
    return xipc_mp_write_str(b, s, strlen(s));
}

xipc_err xipc_mp_write_bin_hdr(xipc_mp_buf *b, uint32_t len)
{
    uint8_t h[MP_HDR_MAX];
    size_t n = mp_len_hdr(h, len, 0, 0, 0xc4, 0xc5, 0xc6);
    return mp_put(b, h, n, NULL, 0);
}

xipc_err xipc_mp_write_bin(xipc_mp_buf *b, const void *p, size_t len)
{
    xipc_err rv = mp_payload_check(b, p, len);
    if (rv != XIPC_OK)
        return rv;
    uint8_t h[MP_HDR_MAX];
    size_t n = mp_len_hdr(h, (uint32_t)len, 0, 0, 0xc4, 0xc5, 0xc6);
    return mp_put(b, h, n, p, len);
}

xipc_err xipc_mp_write_array(xipc_mp_buf *b, uint32_t n)
{
    uint8_t h[MP_HDR_MAX];
    size_t hn = mp_len_hdr(h, n, 0x90, 16, 0, 0xdc, 0xdd);
    return mp_put(b, h, hn, NULL, 0);
}

xipc_err xipc_mp_write_map(xipc_mp_buf *b, uint32_t n)
{
    uint8_t h[MP_HDR_MAX];
    size_t hn = mp_len_hdr(h, n, 0x80, 16, 0, 0xde, 0xdf);
    return mp_put(b, h, hn, NULL, 0);
}

/* Header of an ext of @p type and @p len payload bytes into @p h. */
static size_t mp_ext_hdr(uint8_t *h, int8_t type, uint32_t len)
{
    size_t n;
    switch (len) {
    case 1: h[0] = 0xd4; n = 1; break;
    case 2: h[0] = 0xd5; n = 1; break;
    case 4: h[0] = 0xd6; n = 1; break;
    case 8: h[0] = 0xd7; n = 1; break;
    case 16: h[0] = 0xd8; n = 1; break;
    default:
        n = mp_len_hdr(h, len, 0, 0, 0xc7, 0xc8, 0xc9);
        break;
    }
    h[n] = (uint8_t)type;
    return n + 1;
}

/* Is @p p of @p len bytes a valid timestamp payload? */
static bool mp_ts_valid(const uint8_t *p, size_t len)
{
    switch (len) {
    case 4:
        return true;
    case 8:
        return ((uint32_t)p[0] << 22 | (uint32_t)p[1] << 14 |
                (uint32_t)p[2] << 6 | p[3] >> 2) <= XIPC_MP_NSEC_MAX;
    case 12:
        return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                (uint32_t)p[2] << 8 | p[3]) <= XIPC_MP_NSEC_MAX;
    default:
        return false;
    }
}

xipc_err xipc_mp_write_ext_hdr(xipc_mp_buf *b, int8_t type, uint32_t len)
{
    uint8_t h[MP_HDR_MAX];
    size_t n = mp_ext_hdr(h, type, len);
    return mp_put(b, h, n, NULL, 0);
}

xipc_err xipc_mp_write_ext(xipc_mp_buf *b, int8_t type, const void *p,
                           size_t len)
{
    xipc_err rv = mp_payload_check(b, p, len);
    if (rv != XIPC_OK)
        return rv;
    if (type == -1 && !mp_ts_valid(p, len))
        return mp_fail(b, XIPC_EINVAL);
    uint8_t h[MP_HDR_MAX];
    size_t n = mp_ext_hdr(h, type, (uint32_t)len);
    return mp_put(b, h, n, p, len);
}

xipc_err xipc_mp_write_timestamp(xipc_mp_buf *b, int64_t sec, uint32_t nsec)
{
    if (b->err != XIPC_OK)
        return b->err;
    if (nsec > XIPC_MP_NSEC_MAX)
        return mp_fail(b, XIPC_EINVAL);
    uint8_t h[MP_HDR_MAX + 12];
    size_t n;
    if (sec >= 0 && sec < ((int64_t)1 << 34)) {
        uint64_t v = (uint64_t)nsec << 34 | (uint64_t)sec;
        if (v <= 0xffffffff) {
            n = mp_ext_hdr(h, -1, 4);
            mp_be(h + n, v, 4);
            n += 4;
        } else {
            n = mp_ext_hdr(h, -1, 8);
            mp_be(h + n, v, 8);
            n += 8;
        }
    } else {
        n = mp_ext_hdr(h, -1, 12);
        mp_be(h + n, nsec, 4);
        mp_be(h + n + 4, (uint64_t)sec, 8);
        n += 12;
    }
    return mp_put(b, h, n, NULL, 0);
}

xipc_err xipc_mp_write_raw(xipc_mp_buf *b, const void *p, size_t len)
{
    if (b->err != XIPC_OK)
        return b->err;
    if (p == NULL && len > 0)
        return mp_fail(b, XIPC_EINVAL);
    return mp_put(b, NULL, 0, p, len);
}
