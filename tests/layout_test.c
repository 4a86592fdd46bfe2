/*
 * Shared-memory layout check. The _Static_asserts in the layout headers do
 * the proof at compile time in every configuration (native, m32, win64,
 * win32); this program also prints the layout so the builds can be
 * compared by eye, and checks it again at run time.
 */
#include <stddef.h>
#include <stdio.h>

#include "ring/ring_layout.h"
#include "test.h"
#include "transport/shm_layout.h"

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
    XT_EQ(sizeof(xipc_ctl_hdr), 64);
    XT_EQ(sizeof(xipc_ctl_slot), 16);
    XT_EQ(sizeof(xipc_conn_hdr), 64);
    LAYOUT_FIELD(xipc_ring_hdr, capacity, 8);
    LAYOUT_FIELD(xipc_ring_hdr, data_off, 16);
    LAYOUT_FIELD(xipc_ring_hdr, head, 64);
    LAYOUT_FIELD(xipc_ring_hdr, tail, 128);
    LAYOUT_FIELD(xipc_ring_hdr, prod_closed, 192);
    LAYOUT_FIELD(xipc_ring_hdr, data_seq, 208);
    LAYOUT_FIELD(xipc_ctl_hdr, total_size, 8);
    LAYOUT_FIELD(xipc_ctl_hdr, listener_pid, 20);
    LAYOUT_FIELD(xipc_ctl_slot, word, 0);
    LAYOUT_FIELD(xipc_ctl_slot, conn_id, 8);
    LAYOUT_FIELD(xipc_conn_hdr, ring_capacity, 16);
    LAYOUT_FIELD(xipc_conn_hdr, state, 28);
    LAYOUT_FIELD(xipc_conn_hdr, ring_off, 40);
    /* the classic trap this layout avoids: a bare uint64_t after a
     * uint32_t is 4-aligned on i386 (struct of 12 bytes there, 16 here) */
    struct trap { uint32_t a; _Alignas(8) uint64_t b; };
    XT_EQ(sizeof(struct trap), 16);
    printf("layout ok\n");
    return 0;
}
