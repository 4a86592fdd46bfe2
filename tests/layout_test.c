/*
 * Shared-memory layout check. The _Static_asserts in the layout headers do
 * the proof at compile time in every configuration (native, m32, win64,
 * win32); this program also prints the layout so the builds can be
 * compared by eye, and checks it again at run time.
 */
#include <stddef.h>
#include <stdio.h>

#include "ring/ring_layout.h"
#include "ring/bcast_layout.h"
#include "test.h"
#include "transport/pubsub_layout.h"
#include "transport/shm_layout.h"

/* pubsub:// broadcast ring: checked here too, in every configuration */
_Static_assert(sizeof(xipc_bcast_hdr) == 192, "bcast header size");
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

#define LAYOUT_FIELD(type, field, want)                                        \
    do {                                                                       \
        printf("  %-14s %-14s %4u\n", #type, #field,                           \
               (unsigned)offsetof(type, field));                               \
        XT_EQ(offsetof(type, field), want);                                    \
    } while (0)

int main(void)
{
    printf("layout (pointer width %u bits)\n", (unsigned)(sizeof(void *) * 8));
    XT_EQ(sizeof(xipc_ring_hdr), 256);
    XT_EQ(sizeof(xipc_shm_offer), 24);
    XT_EQ(sizeof(xipc_conn_hdr), 64);
    LAYOUT_FIELD(xipc_ring_hdr, capacity, 8);
    LAYOUT_FIELD(xipc_ring_hdr, data_off, 16);
    LAYOUT_FIELD(xipc_ring_hdr, head, 64);
    LAYOUT_FIELD(xipc_ring_hdr, tail, 128);
    LAYOUT_FIELD(xipc_ring_hdr, prod_closed, 192);
    LAYOUT_FIELD(xipc_ring_hdr, data_seq, 208);
    LAYOUT_FIELD(xipc_shm_offer, creator_bits, 8);
    LAYOUT_FIELD(xipc_shm_offer, ring_capacity, 16);
    LAYOUT_FIELD(xipc_conn_hdr, ring_capacity, 16);
    LAYOUT_FIELD(xipc_conn_hdr, creator_bits, 24);
    LAYOUT_FIELD(xipc_conn_hdr, ring_off, 40);
    /* pubsub:// broadcast ring */
    XT_EQ(sizeof(xipc_bcast_hdr), 192);
    XT_EQ(sizeof(xipc_bcast_slot), 16);
    LAYOUT_FIELD(xipc_bcast_hdr, total_size, 8);
    LAYOUT_FIELD(xipc_bcast_hdr, slot_count, 16);
    LAYOUT_FIELD(xipc_bcast_hdr, slot_size, 20);
    LAYOUT_FIELD(xipc_bcast_hdr, data_off, 24);
    LAYOUT_FIELD(xipc_bcast_hdr, creator_bits, 32);
    LAYOUT_FIELD(xipc_bcast_hdr, pub_pid, 36);
    LAYOUT_FIELD(xipc_bcast_hdr, head, 64);
    LAYOUT_FIELD(xipc_bcast_hdr, closed, 128);
    LAYOUT_FIELD(xipc_bcast_sig, data_seq, 0);
    LAYOUT_FIELD(xipc_bcast_sig, waiting, 4);
    LAYOUT_FIELD(xipc_bcast_slot, stamp, 0);
    LAYOUT_FIELD(xipc_bcast_slot, len, 8);
    LAYOUT_FIELD(xipc_bcast_slot, reserved, 12);
    /* the classic trap this layout avoids: a bare uint64_t after a
     * uint32_t is 4-aligned on i386 (struct of 12 bytes there, 16 here) */
    struct trap { uint32_t a; _Alignas(8) uint64_t b; };
    XT_EQ(sizeof(struct trap), 16);
    printf("layout ok\n");
    return 0;
}
