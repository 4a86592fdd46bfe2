/*
 * What pubsub:// hands a subscriber, on the wire (same rules as
 * ring_layout.h: fixed widths, literal-offset asserts in all four builds).
 *
 * The publisher listens on a Unix message socket at <rundir>/pubsub/NAME.
 * To each subscriber that connects it sends two messages and hangs up:
 *  1. a hello of kind XIPC_PUBSUB_RING with the ring's descriptor: a memfd
 *     sealed F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL | F_SEAL_FUTURE_WRITE
 *     (bcast_layout.h), which the subscriber maps read-only;
 *  2. a hello of kind XIPC_PUBSUB_SIGNALS with the signals page's: a memfd
 *     sealed against resizing, mapped read-write (xipc_bcast_sig).
 * A subscriber refuses anything else: a wrong size, a missing seal, a
 * third descriptor.
 */
#ifndef XIPC_TRANSPORT_PUBSUB_LAYOUT_H
#define XIPC_TRANSPORT_PUBSUB_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "ring/bcast_layout.h"

#define XIPC_PUBSUB_MAGIC 0x62757078u /* "xpub" */
#define XIPC_PUBSUB_RING 1u
#define XIPC_PUBSUB_SIGNALS 2u
#define XIPC_PUBSUB_SIG_SIZE 4096u /* the signals page: one page */

typedef struct xipc_pubsub_hello {
    uint32_t magic;        /* XIPC_PUBSUB_MAGIC */
    uint32_t version;      /* XIPC_BCAST_VERSION */
    uint32_t what;         /* XIPC_PUBSUB_RING or XIPC_PUBSUB_SIGNALS */
    uint32_t creator_bits; /* the publisher's pointer width (informational) */
    _Alignas(8) uint64_t size; /* bytes of the object */
} xipc_pubsub_hello;

_Static_assert(sizeof(xipc_pubsub_hello) == 24, "pubsub hello size");
_Static_assert(offsetof(xipc_pubsub_hello, what) == 8, "pubsub hello what");
_Static_assert(offsetof(xipc_pubsub_hello, size) == 16, "pubsub hello size field");
_Static_assert(sizeof(xipc_bcast_sig) <= XIPC_PUBSUB_SIG_SIZE, "signals page");

#endif
