/* Futex on a word shared between processes (never FUTEX_PRIVATE). */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/platform.h"

xipc_err xipc_plat_futex_wait(uint32_t *addr, uint32_t expected,
                              uint32_t timeout_us)
{
    struct timespec ts = {(time_t)(timeout_us / 1000000u),
                          (long)(timeout_us % 1000000u) * 1000};
    long rc = syscall(SYS_futex, addr, FUTEX_WAIT, expected, &ts, NULL, 0);
    if (rc == -1 && errno == ETIMEDOUT)
        return XIPC_ETIMEDOUT;
    return XIPC_OK; /* woken, value changed (EAGAIN) or signal (EINTR) */
}

void xipc_plat_futex_wake(uint32_t *addr)
{
    syscall(SYS_futex, addr, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}
