/* What inspect_target puts where (inspect_test checks it). */
#ifndef XIPC_TESTS_INSPECT_TARGET_H
#define XIPC_TESTS_INSPECT_TARGET_H

/* Above 4 GiB and inside the 47-bit user space of x86-64 Linux and
 * Windows; free in a fresh process of either. */
#define INSPECT_TARGET_HIGH 0x5a5a00000000ull
#define INSPECT_TARGET_PAGE 65536u /* a page, and Windows's allocation grain */
#define INSPECT_TARGET_HIGH_BYTES "xipc high 4GiB+\n"
#define INSPECT_TARGET_LOW_BYTES "xipc low static\n"

#endif
