/*
 * What shm:// shares between two processes, as it lies in memory and on
 * the wire (same rules as ring_layout.h: fixed widths, literal-offset
 * asserts, compiled by all four builds).
 *
 * The handshake (docs/design.md, "shm:// handshake"; docs/SECURITY.md):
 *  - A listener NAME is a Unix message socket (SOCK_SEQPACKET) at
 *    <rundir>/shm/NAME, in the per-user 0700 runtime directory.
 *  - A client makes its connection segment itself: an anonymous memfd
 *    holding a connection header and two rings (client-to-server,
 *    server-to-client), sealed so that nobody can shrink or grow it
 *    (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL). It connects and sends one
 *    offer message carrying the segment's descriptor (SCM_RIGHTS). The
 *    dial is done once the offer is queued, as a TCP connect into the
 *    backlog.
 *  - The listener accepts the connection, takes the offer, refuses a
 *    segment that is not sealed or not of the size the offer implies,
 *    checks the header once, and maps it.
 *  - The connection socket stays open for the connection's life: each
 *    side learns the other's pid and uid from the kernel (SO_PEERCRED) and
 *    sees it gone when the socket hangs up. Nothing either side writes into
 *    shared memory tells who the peer is or whether it lives.
 *
 * Nothing of a listener lives in shared memory, so there is nothing to
 * squat, to shrink or to overrun: the kernel queues pending connections
 * (the backlog) and refuses them when the listener goes.
 */
#ifndef XIPC_TRANSPORT_SHM_LAYOUT_H
#define XIPC_TRANSPORT_SHM_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "ring/ring_layout.h"

#define XIPC_OFFER_MAGIC 0x66666f78u /* "xoff" */
#define XIPC_CONN_MAGIC 0x6e6f6378u  /* "xcon" */
/* 2: the socket handshake; 1 was the control segment with request slots */
#define XIPC_SHM_VERSION 2u

/* The offer message a client sends with its segment. */
typedef struct xipc_shm_offer {
    uint32_t magic;        /* XIPC_OFFER_MAGIC */
    uint32_t version;      /* XIPC_SHM_VERSION */
    uint32_t creator_bits; /* pointer width of the client (informational) */
    uint32_t reserved;
    _Alignas(8) uint64_t ring_capacity; /* bytes of each ring's data area */
} xipc_shm_offer;

/*
 * The header of a connection segment. Written by the client before the
 * offer; the server checks it once against the offer and the segment's
 * size, and reads no field of it again.
 */
typedef struct xipc_conn_hdr {
    uint32_t magic;
    uint32_t version;
    _Alignas(8) uint64_t total_size;
    _Alignas(8) uint64_t ring_capacity;
    uint32_t creator_bits;
    uint32_t reserved0[3];
    _Alignas(8) uint64_t ring_off[2]; /* [0] client->server, [1] back */
    uint32_t reserved[2];
} xipc_conn_hdr;

/* Placement inside a connection segment. */
#define XIPC_CONN_RING0_OFF 256u
#define XIPC_CONN_RING1_OFF 512u
#define XIPC_CONN_DATA_OFF 4096u

_Static_assert(sizeof(xipc_shm_offer) == 24, "offer size");
_Static_assert(offsetof(xipc_shm_offer, magic) == 0, "offer magic");
_Static_assert(offsetof(xipc_shm_offer, version) == 4, "offer version");
_Static_assert(offsetof(xipc_shm_offer, creator_bits) == 8, "offer creator_bits");
_Static_assert(offsetof(xipc_shm_offer, ring_capacity) == 16, "offer ring_capacity");
_Static_assert(sizeof(xipc_conn_hdr) == 64, "conn header size");
_Static_assert(offsetof(xipc_conn_hdr, magic) == 0, "conn magic");
_Static_assert(offsetof(xipc_conn_hdr, version) == 4, "conn version");
_Static_assert(offsetof(xipc_conn_hdr, total_size) == 8, "conn total_size");
_Static_assert(offsetof(xipc_conn_hdr, ring_capacity) == 16, "conn ring_cap");
_Static_assert(offsetof(xipc_conn_hdr, creator_bits) == 24, "conn bits");
_Static_assert(offsetof(xipc_conn_hdr, ring_off) == 40, "conn ring_off");
_Static_assert(XIPC_CONN_RING0_OFF >= sizeof(xipc_conn_hdr), "ring0 placement");
_Static_assert(XIPC_CONN_RING1_OFF >= XIPC_CONN_RING0_OFF + sizeof(xipc_ring_hdr),
               "ring1 placement");

#endif
