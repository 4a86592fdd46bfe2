/*
 * The 64-bit helper's protocol (docs/inspect.md, "The 64-bit helper"):
 * messages on an xipc_spawn() channel, every integer little-endian.
 *
 *   request  'P' 0 0 0 | pid u32 | addr u64 | len u32    read memory
 *            'M' 0 0 0 | pid u32 | 0 u64    | 0 u32      list modules
 *   answers  'D' | bytes                                 what was read
 *            'M' 0 0 0 | bits u32 | base u64 | size u64 | path
 *            'E' 0 0 0 | err u32 | detail               the end
 *
 * A request gets 'D' (peek) or any number of 'M' (modules), then one 'E'
 * carrying the xipc_err and xipc_last_detail() of the helper's call. The
 * caller checks every answer against what it asked (a 'D' longer than
 * asked, a path with a NUL, an unknown error number are XIPC_EPROTO): the
 * helper is our program, but what comes over a channel is checked.
 */
#ifndef XIPC_INSPECT_WIRE_H
#define XIPC_INSPECT_WIRE_H

#include <stdint.h>

#define INSPECT_REQ_LEN 20u
#define INSPECT_MOD_HDR 24u  /* 'M' answer before the path */
#define INSPECT_END_HDR 8u   /* 'E' answer before the detail */
#define INSPECT_PATH_MAX 4095u
#define INSPECT_DETAIL_MAX 255u
#define INSPECT_CHUNK 65536u /* the most one 'P' request asks for */

static inline void inspect_put32(uint8_t *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static inline void inspect_put64(uint8_t *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t inspect_get32(const uint8_t *b)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

static inline uint64_t inspect_get64(const uint8_t *b)
{
    return (uint64_t)inspect_get32(b + 4) << 32 | inspect_get32(b);
}

/* A request or an answer's 4-byte kind: the letter and three zeros. */
static inline void inspect_put_kind(uint8_t *b, char kind)
{
    b[0] = (uint8_t)kind;
    b[1] = b[2] = b[3] = 0;
}

#endif
