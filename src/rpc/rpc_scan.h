/*
 * Where one MessagePack value ends in a byte stream that arrives in pieces.
 *
 * A standard MessagePack-RPC peer writes bare values back to back on a
 * stream socket, so the only frame is the value itself. The codec's reader
 * reports truncation and malformed input alike (XIPC_EPROTO); this scanner
 * tells them apart, and resumes where it stopped when more bytes arrive,
 * so a large message received in many pieces is scanned once, not once
 * per piece.
 *
 * It checks only what framing needs: format bytes (0xc1 refused), header
 * and body lengths, the nesting limit, the message size limit, and that
 * the elements still owed fit in the bytes the size limit leaves. The
 * codec's reader validates the complete value afterwards.
 */
#ifndef XIPC_RPC_SCAN_H
#define XIPC_RPC_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "xipc/msgpack.h"

/* The deepest nesting a scanner tracks (the codec's inline limit). */
#define XIPC_RPC_SCAN_DEPTH XIPC_MP_DEPTH_DEFAULT

/* Why a scan failed (xipc_rpc_scan.why after XIPC_EPROTO). */
#define XIPC_RPC_SCAN_MALFORMED 1 /* not MessagePack (0xc1) */
#define XIPC_RPC_SCAN_TOO_LARGE 2 /* more than max_len bytes, or announces so */
#define XIPC_RPC_SCAN_TOO_DEEP 3  /* nested deeper than max_depth */

typedef struct xipc_rpc_scan {
    size_t pos;         /* bytes of the value accepted so far */
    int why;            /* XIPC_RPC_SCAN_* once it failed, else 0 */
    uint64_t owed;      /* elements owed by all open containers */
    uint32_t depth;     /* open containers */
    uint32_t max_depth; /* at most XIPC_RPC_SCAN_DEPTH */
    size_t max_len;     /* largest value in bytes */
    uint64_t left[XIPC_RPC_SCAN_DEPTH + 1]; /* elements left per level */
} xipc_rpc_scan;

/* Start scanning a new value. */
void xipc__rpc_scan_init(xipc_rpc_scan *s, uint32_t max_depth, size_t max_len);

/*
 * Continue over @p buf, the first @p len bytes of the value (the same
 * bytes as before plus whatever arrived since).
 * @return XIPC_OK with *@p vlen the value's length (it may be followed by
 *         more bytes), XIPC_OK with *@p vlen 0 when more bytes are needed,
 *         XIPC_EPROTO (malformed, too deep, or longer than max_len:
 *         s->why says which).
 */
xipc_err xipc__rpc_scan(xipc_rpc_scan *s, const uint8_t *buf, size_t len,
                        size_t *vlen);

/* One complete value of exactly @p len bytes? XIPC_OK or XIPC_EPROTO. */
xipc_err xipc__rpc_scan_exact(const void *buf, size_t len, uint32_t max_depth);

/* As xipc__rpc_scan_exact, and why not in @p why (MALFORMED: anything but
 * too deep, including a value shorter or longer than @p len). */
xipc_err xipc__rpc_scan_check(const void *buf, size_t len, uint32_t max_depth,
                              int *why);

#endif
