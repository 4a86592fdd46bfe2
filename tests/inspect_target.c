/*
 * The target of inspect_test: a process whose memory holds known bytes at
 * known addresses, one of them above 4 GiB. Started by xipc_spawn(); sends
 * its parent "PID HIGH LOW" (HIGH, LOW in hex), then waits for the parent
 * to close the channel.
 *
 * HIGH: the last 16 bytes of a page mapped at INSPECT_TARGET_HIGH (over
 * 4 GiB), followed by a page no one may read, so a read across the end
 * stops after 16 bytes. LOW: a static array of the program.
 */
#define _GNU_SOURCE /* MAP_ANONYMOUS, MAP_FIXED_NOREPLACE */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <sys/mman.h>
#include <unistd.h>
#endif

#include "xipc/xipc.h"

#include "inspect_target.h"

char inspect_target_low[16] = INSPECT_TARGET_LOW_BYTES;

/* Two pages at INSPECT_TARGET_HIGH, the second unreadable; NULL on failure. */
static uint8_t *target_map(void)
{
    size_t page = INSPECT_TARGET_PAGE;
#ifdef _WIN32
    uint8_t *p = VirtualAlloc((void *)(uintptr_t)INSPECT_TARGET_HIGH, 2 * page,
                              MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    DWORD old;
    if (p == NULL || !VirtualProtect(p + page, page, PAGE_NOACCESS, &old))
        return NULL;
#else
    uint8_t *p = mmap((void *)(uintptr_t)INSPECT_TARGET_HIGH, 2 * page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED || p != (uint8_t *)(uintptr_t)INSPECT_TARGET_HIGH ||
        mprotect(p + page, page, PROT_NONE) != 0)
        return NULL;
#endif
    return p;
}

int main(void)
{
    xipc_sock *s;
    if (xipc_sock_from_parent(&s) != XIPC_OK) {
        fprintf(stderr, "inspect_target: start me with xipc_spawn\n");
        return 2;
    }
    uint8_t *p = target_map();
    if (p == NULL) {
        fprintf(stderr, "inspect_target: cannot map a page at 0x%llx\n",
                (unsigned long long)INSPECT_TARGET_HIGH);
        return 1;
    }
    uint8_t *high = p + INSPECT_TARGET_PAGE - 16;
    memcpy(high, INSPECT_TARGET_HIGH_BYTES, 16);
    char m[96];
#ifdef _WIN32
    unsigned pid = (unsigned)GetCurrentProcessId();
#else
    unsigned pid = (unsigned)getpid();
#endif
    int n = snprintf(m, sizeof(m), "%u %llx %llx", pid, (unsigned long long)(uintptr_t)high,
                     (unsigned long long)(uintptr_t)inspect_target_low);
    if (xipc_send(s, m, (size_t)n, -1) != XIPC_OK)
        return 1;
    size_t len;
    while (xipc_recv(s, m, sizeof(m), &len, -1) == XIPC_OK)
        ; /* until the parent closes */
    xipc_close(s);
    return 0;
}
