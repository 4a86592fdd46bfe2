/* Incremental framing of bare MessagePack values (see rpc_scan.h). */
#include "rpc/rpc_scan.h"

void xipc__rpc_scan_init(xipc_rpc_scan *s, uint32_t max_depth, size_t max_len)
{
    s->pos = 0;
    s->why = 0;
    s->owed = 1;
    s->depth = 0;
    s->max_depth = max_depth > XIPC_RPC_SCAN_DEPTH ? XIPC_RPC_SCAN_DEPTH : max_depth;
    s->max_len = max_len;
    s->left[0] = 1;
}

static uint64_t scan_load(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/*
 * Decode the header at @p p (@p avail bytes available): its size, the
 * body bytes that follow it, and the elements a container holds.
 * 0: decoded; 1: the header itself is incomplete; -1: 0xc1.
 */
static int scan_header(const uint8_t *p, size_t avail, unsigned *hs,
                       uint64_t *body, uint64_t *elems)
{
    uint8_t b = p[0];
    unsigned lenbytes = 0; /* bytes of a length field after the format byte */
    unsigned extra = 0;    /* fixed bytes between the length and the body */
    int kind = 0;          /* 0 scalar/body, 1 array, 2 map */
    *body = 0;
    *elems = 0;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
        *hs = 1;
        return 0;
    }
    if (b <= 0x8f) {
        *hs = 1;
        *elems = 2u * (b & 0x0fu);
        return 0;
    }
    if (b <= 0x9f) {
        *hs = 1;
        *elems = b & 0x0fu;
        return 0;
    }
    if (b <= 0xbf) {
        *hs = 1;
        *body = b & 0x1fu;
        return 0;
    }
    switch (b) {
    case 0xc1:
        return -1;
    case 0xc4: case 0xd9: lenbytes = 1; break;           /* bin 8, str 8 */
    case 0xc5: case 0xda: lenbytes = 2; break;           /* bin 16, str 16 */
    case 0xc6: case 0xdb: lenbytes = 4; break;           /* bin 32, str 32 */
    case 0xc7: lenbytes = 1; extra = 1; break;           /* ext 8 */
    case 0xc8: lenbytes = 2; extra = 1; break;           /* ext 16 */
    case 0xc9: lenbytes = 4; extra = 1; break;           /* ext 32 */
    case 0xca: case 0xce: case 0xd2: *hs = 5; return 0;  /* 32-bit scalars */
    case 0xcb: case 0xcf: case 0xd3: *hs = 9; return 0;  /* 64-bit scalars */
    case 0xcc: case 0xd0: *hs = 2; return 0;
    case 0xcd: case 0xd1: *hs = 3; return 0;
    case 0xd4: *hs = 3; return 0;                        /* fixext 1 */
    case 0xd5: *hs = 4; return 0;
    case 0xd6: *hs = 6; return 0;
    case 0xd7: *hs = 10; return 0;
    case 0xd8: *hs = 18; return 0;
    case 0xdc: lenbytes = 2; kind = 1; break;            /* array 16 */
    case 0xdd: lenbytes = 4; kind = 1; break;            /* array 32 */
    case 0xde: lenbytes = 2; kind = 2; break;            /* map 16 */
    default: lenbytes = 4; kind = 2; break;              /* 0xdf map 32 */
    }
    *hs = 1 + lenbytes + extra;
    if (avail < 1 + lenbytes)
        return 1;
    uint64_t n = scan_load(p + 1, lenbytes);
    if (kind == 0)
        *body = n;
    else
        *elems = kind == 2 ? 2 * n : n;
    return 0;
}

static xipc_err scan_fail(xipc_rpc_scan *s, int why)
{
    s->why = why;
    return XIPC_EPROTO;
}

xipc_err xipc__rpc_scan(xipc_rpc_scan *s, const uint8_t *buf, size_t len,
                        size_t *vlen)
{
    *vlen = 0;
    while (s->owed > 0) {
        if (s->pos >= len)
            return XIPC_OK; /* need more */
        unsigned hs;
        uint64_t body, elems;
        int h = scan_header(buf + s->pos, len - s->pos, &hs, &body, &elems);
        if (h < 0)
            return scan_fail(s, XIPC_RPC_SCAN_MALFORMED);
        uint64_t room = s->max_len - s->pos; /* pos <= max_len always */
        /* a header or body that cannot fit the size limit is refused at
         * once, before its bytes arrive */
        if (hs > room || body > room - hs)
            return scan_fail(s, XIPC_RPC_SCAN_TOO_LARGE);
        if (h > 0 || hs + body > len - s->pos)
            return XIPC_OK; /* need more */
        if (elems > 0) {
            if (s->depth + 1 > s->max_depth)
                return scan_fail(s, XIPC_RPC_SCAN_TOO_DEEP);
            /* every element owed takes at least a byte */
            if (s->owed - 1 + elems > room - hs)
                return scan_fail(s, XIPC_RPC_SCAN_TOO_LARGE);
        }
        s->pos += hs + (size_t)body;
        s->left[s->depth]--;
        s->owed--;
        if (elems > 0) {
            s->left[++s->depth] = elems;
            s->owed += elems;
        }
        while (s->depth > 0 && s->left[s->depth] == 0)
            s->depth--;
    }
    *vlen = s->pos;
    return XIPC_OK;
}

xipc_err xipc__rpc_scan_exact(const void *buf, size_t len, uint32_t max_depth)
{
    int why;
    return xipc__rpc_scan_check(buf, len, max_depth, &why);
}

xipc_err xipc__rpc_scan_check(const void *buf, size_t len, uint32_t max_depth,
                              int *why)
{
    xipc_rpc_scan s;
    size_t vlen;
    *why = 0;
    xipc__rpc_scan_init(&s, max_depth, len);
    if (buf == NULL) {
        *why = XIPC_RPC_SCAN_MALFORMED;
        return XIPC_EPROTO;
    }
    xipc_err rv = xipc__rpc_scan(&s, buf, len, &vlen);
    if (rv == XIPC_OK && vlen == len)
        return XIPC_OK;
    /* with the limit at the value's own length, too large means cut short */
    *why = s.why == XIPC_RPC_SCAN_TOO_DEEP ? XIPC_RPC_SCAN_TOO_DEEP
                                           : XIPC_RPC_SCAN_MALFORMED;
    return XIPC_EPROTO;
}
