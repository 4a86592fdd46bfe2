/*
 * The bytes of a broadcast ring (one publisher, any number of subscribers)
 * as they lie in shared memory. Same rules as ring_layout.h: fixed-width
 * integers only, every 64-bit field 8-aligned, literal-offset assertions
 * compiled by all four builds.
 *
 * Segment: [header: 3 cache lines, padded to 256 bytes][slot 0][slot 1]...
 * and, apart, a signals page with the wake-up words (xipc_bcast_sig).
 * Slot i holds message seq where seq % slot_count == i: a 16-byte slot
 * header, then at most slot_size - 16 payload bytes. The slot's stamp is a
 * seqlock word:
 *   0          never written
 *   2*seq + 1  the publisher is writing message seq (busy)
 *   2*seq + 2  message seq is complete
 * A reader copies, then re-reads the stamp; a changed stamp means the
 * publisher overwrote the slot under it (the reader was lapped).
 *
 * Written by whom (nothing else may write a field):
 *   line 0   publisher, before it publishes the magic
 *   line 1   publisher: head, the number of messages ever published
 *   line 2   publisher: closed
 *   slots    publisher
 *   signals  publisher: data_seq; subscribers set and the publisher
 *            clears `waiting`
 * The segment is mapped read-only by subscribers (pubsub:// seals it:
 * F_SEAL_FUTURE_WRITE), the signals page read-write by everyone. So a
 * subscriber can write only the wake-up words, never a message, the head
 * or the closed flag; the publisher never waits for subscribers.
 */
#ifndef XIPC_RING_BCAST_LAYOUT_H
#define XIPC_RING_BCAST_LAYOUT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define XIPC_BCAST_MAGIC 0x74736342u /* "Bcst" */
/* 2: the wake-up words moved to the signals page; 1 had them in line 2 */
#define XIPC_BCAST_VERSION 2u

#define XIPC_BCAST_DATA_OFF 256u   /* slot 0, from the segment start */
#define XIPC_BCAST_SLOT_HDR 16u    /* bytes of each slot before the payload */
#define XIPC_BCAST_MIN_SLOTS 2u
#define XIPC_BCAST_MAX_SLOTS (1u << 20)
#define XIPC_BCAST_MIN_SLOT 64u
#define XIPC_BCAST_MAX_SLOT (16u << 20)
/* Sequence numbers stay below this, so 2*seq+2 never wraps (at 10^9
 * messages per second that is 146 years). */
#define XIPC_BCAST_SEQ_MAX (UINT64_C(1) << 62)

/* Stamps of message seq. */
#define XIPC_BCAST_BUSY(seq) ((uint64_t)(seq) * 2u + 1u)
#define XIPC_BCAST_DONE(seq) ((uint64_t)(seq) * 2u + 2u)

typedef struct xipc_bcast_hdr {
    /* line 0: fixed at creation */
    uint32_t magic;                  /* written last, with release */
    uint32_t version;
    _Alignas(8) uint64_t total_size; /* bytes of the whole segment */
    uint32_t slot_count;             /* power of two */
    uint32_t slot_size;              /* bytes per slot incl. header, % 64 */
    _Alignas(8) uint64_t data_off;   /* XIPC_BCAST_DATA_OFF */
    uint32_t creator_bits;           /* pointer width of the publisher */
    uint32_t pub_pid;                /* the publisher's process */
    /* pubsub://: what binds the ring to the hand-out note (pubsub.c) */
    _Alignas(8) uint64_t key;        /* random per ring */
    _Alignas(8) uint64_t name_hash;  /* of the endpoint's NAME */
    uint8_t pad0[8];
    /* line 1: publisher */
    _Alignas(64) _Atomic uint64_t head; /* messages ever published */
    uint8_t pad1[56];
    /* line 2: the end */
    _Alignas(64) _Atomic uint32_t closed; /* publisher closed */
    uint32_t reserved2;
    uint8_t pad2[56];
} xipc_bcast_hdr;

/* The signals page: what subscribers may write. */
typedef struct xipc_bcast_sig {
    _Alignas(64) _Atomic uint32_t data_seq; /* futex: bumped to wake sleepers */
    /* 1: some subscriber is (about to be) asleep on data_seq. Every
     * sleeper sets it before each sleep; the publisher swaps it to 0 when
     * it wakes them all. A flag, not a count: a subscriber killed in its
     * sleep cannot leave the publisher paying a wake-up per message. */
    _Atomic uint32_t waiting;
    uint8_t pad[56];
} xipc_bcast_sig;

typedef struct xipc_bcast_slot {
    _Alignas(8) _Atomic uint64_t stamp; /* seqlock word, see above */
    uint32_t len;                       /* payload bytes */
    uint32_t reserved;
} xipc_bcast_slot;

_Static_assert(sizeof(xipc_bcast_hdr) == 192, "bcast header size");
_Static_assert(_Alignof(xipc_bcast_hdr) == 64, "bcast header alignment");
_Static_assert(offsetof(xipc_bcast_hdr, magic) == 0, "bcast magic");
_Static_assert(offsetof(xipc_bcast_hdr, version) == 4, "bcast version");
_Static_assert(offsetof(xipc_bcast_hdr, total_size) == 8, "bcast total_size");
_Static_assert(offsetof(xipc_bcast_hdr, slot_count) == 16, "bcast slot_count");
_Static_assert(offsetof(xipc_bcast_hdr, slot_size) == 20, "bcast slot_size");
_Static_assert(offsetof(xipc_bcast_hdr, data_off) == 24, "bcast data_off");
_Static_assert(offsetof(xipc_bcast_hdr, creator_bits) == 32, "bcast creator_bits");
_Static_assert(offsetof(xipc_bcast_hdr, pub_pid) == 36, "bcast pub_pid");
_Static_assert(offsetof(xipc_bcast_hdr, key) == 40, "bcast key");
_Static_assert(offsetof(xipc_bcast_hdr, name_hash) == 48, "bcast name_hash");
_Static_assert(offsetof(xipc_bcast_hdr, head) == 64, "bcast head");
_Static_assert(offsetof(xipc_bcast_hdr, closed) == 128, "bcast closed");
_Static_assert(sizeof(xipc_bcast_sig) == 64, "bcast signals size");
_Static_assert(offsetof(xipc_bcast_sig, data_seq) == 0, "bcast data_seq");
_Static_assert(offsetof(xipc_bcast_sig, waiting) == 4, "bcast waiting");
_Static_assert(sizeof(xipc_bcast_slot) == 16, "bcast slot header size");
_Static_assert(offsetof(xipc_bcast_slot, stamp) == 0, "bcast slot stamp");
_Static_assert(offsetof(xipc_bcast_slot, len) == 8, "bcast slot len");
_Static_assert(offsetof(xipc_bcast_slot, reserved) == 12, "bcast slot reserved");
_Static_assert(sizeof(xipc_bcast_slot) == XIPC_BCAST_SLOT_HDR, "slot header");
_Static_assert(XIPC_BCAST_DATA_OFF >= sizeof(xipc_bcast_hdr), "data placement");
_Static_assert(XIPC_BCAST_DATA_OFF % 64 == 0, "data alignment");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics not lock-free");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "32-bit atomics not lock-free");

#endif
