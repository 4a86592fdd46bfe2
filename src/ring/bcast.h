/*
 * A process-local handle on a broadcast ring (bcast_layout.h): one
 * publisher writes each message once, any number of subscribers read it.
 *
 * The publisher never waits: it overwrites the oldest slot whatever the
 * subscribers are doing. A subscriber that was lapped learns it from the
 * slot stamps and gets XIPC_EOVERRUN with the exact number of messages it
 * lost; its next call continues with the oldest message still present.
 *
 * The handle keeps private copies of everything it must trust (slot count
 * and size, data pointer, its own sequence number). A subscriber reads
 * from shared memory only the head, the closed flag, the slot stamps and
 * lengths, and checks each against what is possible: a corrupt or hostile
 * segment yields XIPC_EPROTO (sticky), never an access outside the slots.
 *
 * Threading: one thread per handle.
 */
#ifndef XIPC_RING_BCAST_H
#define XIPC_RING_BCAST_H

#include <stddef.h>
#include <stdint.h>

#include "core/platform.h"
#include "ring/bcast_layout.h"

typedef enum xipc_bcast_role {
    XIPC_BCAST_PUBLISHER,
    XIPC_BCAST_SUBSCRIBER
} xipc_bcast_role;

typedef struct xipc_bcast {
    xipc_bcast_hdr *hdr;
    xipc_bcast_sig *sig; /* the wake-up words (another mapping) */
    uint8_t *data;       /* slot 0 */
    uint64_t slots;      /* validated private copies */
    uint64_t slot_size;
    uint64_t next;       /* publisher: seq of the next message;
                            subscriber: seq of the next to read */
    uint64_t seen;       /* subscriber: the last head read (monotonic) */
    uint64_t last_lost;  /* subscriber: the count of the last XIPC_EOVERRUN */
    uint32_t pend_len;   /* the peeked message's length / reservation's max */
    int pending;         /* a reservation open / a message peeked */
    uint32_t spin_us;
    xipc_bcast_role role;
    xipc_err broken;        /* sticky XIPC_EPROTO */
    xipc_plat_proc *peer;   /* subscriber: the publisher's process, or NULL */
} xipc_bcast;

/* Bytes of a segment with @p slots slots of @p slot_size bytes. */
uint64_t xipc_bcast_seg_size(uint32_t slots, uint32_t slot_size);

/* Largest message of a ring with slots of @p slot_size bytes. */
static inline uint64_t xipc_bcast_max_msg(uint64_t slot_size)
{
    return slot_size - XIPC_BCAST_SLOT_HDR;
}

/*
 * Write the header into a fresh (zeroed) segment at @p base of
 * xipc_bcast_seg_size(slots, slot_size) bytes; the magic goes last, with
 * release, so an attacher sees either nothing or a complete header.
 * @p slots and @p slot_size must be valid (see bcast_layout.h).
 */
void xipc_bcast_format(void *base, uint32_t slots, uint32_t slot_size,
                       uint32_t pub_pid);

/*
 * Check the segment at @p base of @p seg_size bytes (mapped from another
 * process) and attach, with the signals page at @p sig (at least
 * sizeof(xipc_bcast_sig) bytes, 64-aligned). A subscriber starts at the
 * current head: it sees the messages published after this call.
 * @return XIPC_OK, XIPC_EBUSY (magic still 0: being created) or XIPC_EPROTO
 */
xipc_err xipc_bcast_attach(xipc_bcast *b, void *base, uint64_t seg_size, void *sig,
                           xipc_bcast_role role, uint32_t spin_us,
                           xipc_plat_proc *peer);

/* The publisher's pid recorded in an attached segment. */
uint32_t xipc_bcast_pub_pid(const xipc_bcast *b);

/* 1 when the publisher has closed the ring. */
int xipc_bcast_closed(const xipc_bcast *b);

/*
 * Publisher. Never blocks. reserve marks the next slot busy and returns
 * its payload; commit publishes @p len (at most the reserved length) bytes.
 * @return XIPC_OK, XIPC_EMSGSIZE, XIPC_ESTATE (reservation open / none),
 *         XIPC_EINVAL (commit longer than reserved)
 */
xipc_err xipc_bcast_reserve(xipc_bcast *b, size_t len, void **buf);
xipc_err xipc_bcast_commit(xipc_bcast *b, size_t len);
xipc_err xipc_bcast_send(xipc_bcast *b, const void *buf, size_t len);

/*
 * Subscriber. peek shows the next message in place; the publisher may
 * overwrite it while the caller reads, which release detects: release
 * returns XIPC_EOVERRUN (one message lost: discard what was read) instead
 * of XIPC_OK. recv copies and checks in one call.
 * @return XIPC_OK, XIPC_EOVERRUN (*len = messages lost, also in
 *         last_lost), XIPC_ETIMEDOUT, XIPC_ECLOSED (publisher closed or
 *         dead and every message read), XIPC_EPROTO, XIPC_EMSGSIZE (recv:
 *         *len = the size needed; the message stays next)
 */
xipc_err xipc_bcast_peek(xipc_bcast *b, const void **buf, size_t *len,
                         int timeout_ms);
xipc_err xipc_bcast_release(xipc_bcast *b);
xipc_err xipc_bcast_recv(xipc_bcast *b, void *buf, size_t cap, size_t *len,
                         int timeout_ms);

/* Publisher: mark the ring closed and wake every subscriber. */
void xipc_bcast_close(xipc_bcast *b);

#endif
