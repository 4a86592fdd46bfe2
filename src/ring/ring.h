/*
 * A process-local handle on one end of a shared-memory SPSC ring.
 *
 * The handle keeps private copies of everything it must trust (capacity,
 * data pointer, its own position). After attach the producer reads only
 * the consumer's tail and the signal words, the consumer only the record
 * headers in the data area and the signal words; every value read is
 * checked before use: a corrupt or hostile ring yields XIPC_EPROTO, which
 * is sticky.
 *
 * Threading: one thread drives the producer end and one the consumer end.
 */
#ifndef XIPC_RING_RING_H
#define XIPC_RING_RING_H

#include <stddef.h>
#include <stdint.h>

#include "core/platform.h"
#include "ring/ring_layout.h"

typedef enum xipc_ring_role { XIPC_RING_PRODUCER, XIPC_RING_CONSUMER } xipc_ring_role;

typedef struct xipc_ring {
    xipc_ring_hdr *hdr;
    uint8_t *data;
    uint64_t cap;     /* validated private copy */
    uint64_t pos;     /* producer: head; consumer: tail (private) */
    uint64_t seen;    /* producer: last tail read; consumer: head at attach */
    uint64_t pending; /* bytes of the open reservation / peeked record */
    uint64_t pend_max;   /* producer: largest length of the reservation */
    uint32_t spin_us;
    xipc_ring_role role;
    xipc_err broken;     /* sticky XIPC_EPROTO */
    xipc_plat_proc *peer; /* the other end's process, or NULL */
} xipc_ring;

/* Largest message a ring of @p cap bytes carries: its record and the
 * empty header after it fill the area. */
static inline uint64_t xipc_ring_max_msg(uint64_t cap)
{
    return cap - 2 * XIPC_REC_HDR;
}

/*
 * Initialise a ring header inside a fresh (zeroed) segment: the data area
 * of @p cap bytes (power of two, >= 4096) starts @p data_off bytes from
 * the segment start.
 */
void xipc_ring_format(xipc_ring_hdr *hdr, uint64_t cap, uint64_t data_off);

/*
 * Attach to the ring whose header is @p hdr_off bytes into the segment at
 * @p base of @p seg_size bytes. Checks magic, version, capacity and bounds.
 * @return XIPC_OK or XIPC_EPROTO
 */
xipc_err xipc_ring_attach(xipc_ring *r, void *base, uint64_t seg_size,
                          uint64_t hdr_off, xipc_ring_role role,
                          uint32_t spin_us, xipc_plat_proc *peer);

/* Producer. */
xipc_err xipc_ring_reserve(xipc_ring *r, size_t len, void **buf,
                           int timeout_ms);
xipc_err xipc_ring_commit(xipc_ring *r, size_t len);
xipc_err xipc_ring_send(xipc_ring *r, const void *buf, size_t len,
                        int timeout_ms);

/* Consumer. */
xipc_err xipc_ring_peek(xipc_ring *r, const void **buf, size_t *len,
                        int timeout_ms);
xipc_err xipc_ring_release(xipc_ring *r);
xipc_err xipc_ring_recv(xipc_ring *r, void *buf, size_t cap, size_t *len,
                        int timeout_ms);

/* Mark this end closed and wake the other side. */
void xipc_ring_close(xipc_ring *r);

#endif
