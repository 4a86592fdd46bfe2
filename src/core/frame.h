/*
 * Framing of messages on byte streams: a 4-byte little-endian length, then
 * the payload. The length comes from the peer: xipc__frame_len() checks it
 * against the receiver's maximum before anything is allocated or read.
 */
#ifndef XIPC_CORE_FRAME_H
#define XIPC_CORE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "xipc/xipc.h"

#define XIPC_FRAME_HDR 4u

static inline void xipc__frame_put(uint8_t hdr[XIPC_FRAME_HDR], uint32_t len)
{
    hdr[0] = (uint8_t)len;
    hdr[1] = (uint8_t)(len >> 8);
    hdr[2] = (uint8_t)(len >> 16);
    hdr[3] = (uint8_t)(len >> 24);
}

/* Decode a header; XIPC_EPROTO when the length exceeds @p max. */
static inline xipc_err xipc__frame_len(const uint8_t hdr[XIPC_FRAME_HDR],
                                       uint32_t max, uint32_t *len)
{
    uint32_t n = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 |
                 (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 24;
    if (n > max)
        return XIPC_EPROTO;
    *len = n;
    return XIPC_OK;
}

#endif
