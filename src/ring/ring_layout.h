/*
 * The bytes of a single-producer/single-consumer ring as they lie in shared
 * memory. A 32-bit and a 64-bit process map the same bytes, so only
 * fixed-width integers appear here, every 64-bit field is 8-aligned, and
 * the static assertions below pin every offset with literal numbers: all
 * four builds (Linux x86_64 and i686, Windows x64 and x86) compile them.
 *
 * Positions are 64-bit byte counters that only grow; the index into the
 * data area is position & (capacity - 1). Records are 8-aligned:
 *   [u32 len][u32 tag][len bytes][padding to 8]
 * A record never wraps; when one does not fit before the end, the
 * producer first writes a PAD record that fills the rest of the area.
 *
 * The tag is the record's commit word (version 2). The 8 bytes at head
 * always hold tag XIPC_REC_NONE: before it publishes a record the
 * producer stores NONE into the tag after it (so it keeps 8 bytes free
 * beyond every record), then the record's own tag with release. The
 * consumer polls the tag at its tail, the line the payload is in, and
 * never reads head after attach: a message costs one cache line less
 * to cross (docs/design.md, "Header polling"). head is still published,
 * for attach, inspection and the tests.
 *
 * Written by whom (nothing else may write a field):
 *   line 0  creator, before the ring is published
 *   line 1  producer (head)
 *   line 2  consumer (tail)
 *   line 3  either side: close flags, sleep flags, futex words
 */
#ifndef XIPC_RING_LAYOUT_H
#define XIPC_RING_LAYOUT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define XIPC_RING_MAGIC 0x676e6952u /* "Ring" */
#define XIPC_RING_VERSION 2u

#define XIPC_REC_NONE 0u         /* not written yet: the slot at head */
#define XIPC_REC_MSG 0x3167734du /* "Msg1" */
#define XIPC_REC_PAD 0x31646150u /* "Pad1" */
#define XIPC_REC_HDR 8u

typedef struct xipc_ring_hdr {
    /* line 0: fixed at creation */
    uint32_t magic;
    uint32_t version;
    _Alignas(8) uint64_t capacity; /* bytes in the data area, power of 2 */
    _Alignas(8) uint64_t data_off; /* data area, from the segment start */
    uint8_t pad0[40];
    /* line 1: producer */
    _Alignas(64) _Atomic uint64_t head; /* bytes ever published */
    uint8_t pad1[56];
    /* line 2: consumer */
    _Alignas(64) _Atomic uint64_t tail; /* bytes ever released */
    uint8_t pad2[56];
    /* line 3: signals */
    _Alignas(64) _Atomic uint32_t prod_closed; /* producer end closed */
    _Atomic uint32_t cons_closed;              /* consumer end closed */
    _Atomic uint32_t cons_waiting; /* consumer asleep on data_seq */
    _Atomic uint32_t prod_waiting; /* producer asleep on space_seq */
    _Atomic uint32_t data_seq;     /* futex: bumped when data arrives */
    _Atomic uint32_t space_seq;    /* futex: bumped when space frees */
    uint8_t pad3[40];
} xipc_ring_hdr;

typedef struct xipc_rec_hdr {
    uint32_t len;
    uint32_t tag;
} xipc_rec_hdr;

_Static_assert(sizeof(xipc_ring_hdr) == 256, "ring header size");
_Static_assert(_Alignof(xipc_ring_hdr) == 64, "ring header alignment");
_Static_assert(offsetof(xipc_ring_hdr, magic) == 0, "magic");
_Static_assert(offsetof(xipc_ring_hdr, version) == 4, "version");
_Static_assert(offsetof(xipc_ring_hdr, capacity) == 8, "capacity");
_Static_assert(offsetof(xipc_ring_hdr, data_off) == 16, "data_off");
_Static_assert(offsetof(xipc_ring_hdr, head) == 64, "head");
_Static_assert(offsetof(xipc_ring_hdr, tail) == 128, "tail");
_Static_assert(offsetof(xipc_ring_hdr, prod_closed) == 192, "prod_closed");
_Static_assert(offsetof(xipc_ring_hdr, cons_closed) == 196, "cons_closed");
_Static_assert(offsetof(xipc_ring_hdr, cons_waiting) == 200, "cons_waiting");
_Static_assert(offsetof(xipc_ring_hdr, prod_waiting) == 204, "prod_waiting");
_Static_assert(offsetof(xipc_ring_hdr, data_seq) == 208, "data_seq");
_Static_assert(offsetof(xipc_ring_hdr, space_seq) == 212, "space_seq");
_Static_assert(sizeof(xipc_rec_hdr) == XIPC_REC_HDR, "record header");
_Static_assert(sizeof(_Atomic uint64_t) == 8, "atomic u64 size");
_Static_assert(_Alignof(_Atomic uint64_t) == 8, "atomic u64 alignment");
_Static_assert(sizeof(_Atomic uint32_t) == 4, "atomic u32 size");
/* 64-bit atomics must be lock-free (cmpxchg8b on i686): a lock would live
 * in one process only and protect nothing across the two. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics not lock-free");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "32-bit atomics not lock-free");

#endif
