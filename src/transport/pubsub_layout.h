/*
 * What pubsub:// tells a subscriber (same rules as ring_layout.h: fixed
 * widths, literal-offset asserts in all four builds).
 *
 * The publisher holds the lock file <rundir>/pubsub/NAME.pid and writes
 * the note <rundir>/pubsub/NAME.fds, one line of text:
 *
 *     xipc-pubsub VERSION RING_FD SIG_FD RING_SIZE KEY NAME_HASH\n
 *
 * (decimal, the last two hexadecimal). RING_FD is the ring's descriptor in
 * the publisher's process: a memfd sealed F_SEAL_SHRINK | F_SEAL_GROW |
 * F_SEAL_SEAL | F_SEAL_FUTURE_WRITE, of RING_SIZE bytes, whose header
 * (bcast_layout.h) carries KEY, NAME_HASH and the publisher's pid. SIG_FD
 * is the signals page's (xipc_bcast_sig), XIPC_PUBSUB_SIG_SIZE bytes,
 * sealed against resizing. A subscriber refuses a note or object that
 * disagrees in any of these.
 */
#ifndef XIPC_TRANSPORT_PUBSUB_LAYOUT_H
#define XIPC_TRANSPORT_PUBSUB_LAYOUT_H

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>

#include "ring/bcast_layout.h"

#define XIPC_PUBSUB_SIG_SIZE 4096u /* the signals page: one page */
#define XIPC_PUBSUB_NOTE_FMT                                                          \
    "xipc-pubsub %u %ld %ld %" SCNu64 " %" SCNx64 " %" SCNx64
#define XIPC_PUBSUB_NOTE_MAX 160 /* the same conversions serve printf and scanf */

_Static_assert(sizeof(xipc_bcast_sig) <= XIPC_PUBSUB_SIG_SIZE, "signals page");

#endif
