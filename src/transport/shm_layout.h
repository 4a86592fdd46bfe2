/*
 * Shared-memory objects of the shm:// transport, as they lie in memory
 * (same rules as ring_layout.h: fixed widths, literal-offset asserts).
 *
 * A listener NAME owns the control segment "/xipc.<uid>.NAME": a header
 * and a table of connection-request slots. A client creates its own
 * connection segment "/xipc.<uid>.NAME@<pid>.<id>" holding a connection
 * header and two rings (client-to-server, server-to-client), claims a
 * slot by compare-and-swap with its pid, and waits. The listener opens
 * the segment, checks it, unlinks its name (from then on it lives only as
 * long as the two mappings) and sets state ACCEPTED. '@' cannot appear in
 * NAME, so no name of one listener collides with another's.
 */
#ifndef XIPC_TRANSPORT_SHM_LAYOUT_H
#define XIPC_TRANSPORT_SHM_LAYOUT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ring/ring_layout.h"

#define XIPC_CTL_MAGIC 0x6c746378u  /* "xctl" */
#define XIPC_CONN_MAGIC 0x6e6f6378u /* "xcon" */
#define XIPC_SHM_VERSION 1u

/* slot.state */
#define XIPC_SLOT_FREE 0u
#define XIPC_SLOT_CLAIMED 1u /* owner written, request being filled in */
#define XIPC_SLOT_PENDING 2u /* request complete, waiting for accept */
#define XIPC_SLOT_TAKEN 3u   /* the listener is handling it */

/* conn.state (also a futex word) */
#define XIPC_CONN_OFFERED 1u
#define XIPC_CONN_ACCEPTED 2u
#define XIPC_CONN_ABANDONED 3u

typedef struct xipc_ctl_hdr {
    uint32_t magic;
    uint32_t version;
    _Alignas(8) uint64_t total_size;
    uint32_t creator_bits;           /* pointer width of the creator */
    _Atomic uint32_t listener_pid;
    uint32_t backlog;                /* number of slots */
    _Atomic uint32_t req_seq;        /* futex: bumped per new request */
    _Atomic uint32_t closed;         /* listener closed */
    uint32_t reserved[7];
} xipc_ctl_hdr;

/* word = (claimer pid << 32) | state, changed only by compare-and-swap so
 * that owner and state move together; 0 when free. */
typedef struct xipc_ctl_slot {
    _Alignas(8) _Atomic uint64_t word;
    uint32_t conn_id;
    uint32_t reserved;
} xipc_ctl_slot;

#define XIPC_SLOT_WORD(pid, state) (((uint64_t)(pid) << 32) | (state))
#define XIPC_SLOT_PID(word) ((uint32_t)((word) >> 32))
#define XIPC_SLOT_STATE(word) ((uint32_t)(word))

typedef struct xipc_conn_hdr {
    uint32_t magic;
    uint32_t version;
    _Alignas(8) uint64_t total_size;
    _Alignas(8) uint64_t ring_capacity;
    uint32_t creator_bits;
    _Atomic uint32_t state;
    _Atomic uint32_t client_pid;
    _Atomic uint32_t server_pid;
    _Alignas(8) uint64_t ring_off[2]; /* [0] client->server, [1] back */
    uint32_t reserved[2];
} xipc_conn_hdr;

/* Placement inside a connection segment. */
#define XIPC_CONN_RING0_OFF 256u
#define XIPC_CONN_RING1_OFF 512u
#define XIPC_CONN_DATA_OFF 4096u

_Static_assert(sizeof(xipc_ctl_hdr) == 64, "ctl header size");
_Static_assert(offsetof(xipc_ctl_hdr, magic) == 0, "ctl magic");
_Static_assert(offsetof(xipc_ctl_hdr, version) == 4, "ctl version");
_Static_assert(offsetof(xipc_ctl_hdr, total_size) == 8, "ctl total_size");
_Static_assert(offsetof(xipc_ctl_hdr, creator_bits) == 16, "ctl creator_bits");
_Static_assert(offsetof(xipc_ctl_hdr, listener_pid) == 20, "ctl listener_pid");
_Static_assert(offsetof(xipc_ctl_hdr, backlog) == 24, "ctl backlog");
_Static_assert(offsetof(xipc_ctl_hdr, req_seq) == 28, "ctl req_seq");
_Static_assert(offsetof(xipc_ctl_hdr, closed) == 32, "ctl closed");
_Static_assert(sizeof(xipc_ctl_slot) == 16, "slot size");
_Static_assert(offsetof(xipc_ctl_slot, word) == 0, "slot word");
_Static_assert(offsetof(xipc_ctl_slot, conn_id) == 8, "slot conn_id");
_Static_assert(sizeof(xipc_conn_hdr) == 64, "conn header size");
_Static_assert(offsetof(xipc_conn_hdr, magic) == 0, "conn magic");
_Static_assert(offsetof(xipc_conn_hdr, version) == 4, "conn version");
_Static_assert(offsetof(xipc_conn_hdr, total_size) == 8, "conn total_size");
_Static_assert(offsetof(xipc_conn_hdr, ring_capacity) == 16, "conn ring_cap");
_Static_assert(offsetof(xipc_conn_hdr, creator_bits) == 24, "conn bits");
_Static_assert(offsetof(xipc_conn_hdr, state) == 28, "conn state");
_Static_assert(offsetof(xipc_conn_hdr, client_pid) == 32, "conn client_pid");
_Static_assert(offsetof(xipc_conn_hdr, server_pid) == 36, "conn server_pid");
_Static_assert(offsetof(xipc_conn_hdr, ring_off) == 40, "conn ring_off");
_Static_assert(XIPC_CONN_RING0_OFF >= sizeof(xipc_conn_hdr), "ring0 placement");
_Static_assert(XIPC_CONN_RING1_OFF >= XIPC_CONN_RING0_OFF + sizeof(xipc_ring_hdr),
               "ring1 placement");

#endif
