/* Futex on a word shared between processes (never FUTEX_PRIVATE). */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/platform.h"

/*
 * The timeout goes to the kernel in the layout of the call, not in libc's
 * struct timespec: with _TIME_BITS=64 a 32-bit build's time_t is 64 bits,
 * while its SYS_futex still reads two 32-bit longs. A 32-bit build uses
 * futex_time64 (Linux 5.1) and falls back to SYS_futex where that is
 * missing (ENOSYS); a timeout in microseconds fits either.
 */
static long futex_wait_call(uint32_t *addr, uint32_t expected, uint32_t timeout_us)
{
    long sec = (long)(timeout_us / 1000000u), nsec = (long)(timeout_us % 1000000u) * 1000;
#if defined(SYS_futex_time64) && UINTPTR_MAX == UINT32_MAX
    struct {
        int64_t tv_sec, tv_nsec;
    } ts64 = {sec, nsec};
    long rc = syscall(SYS_futex_time64, addr, FUTEX_WAIT, expected, &ts64, NULL, 0);
    if (rc != -1 || errno != ENOSYS)
        return rc;
#endif
    struct {
        long tv_sec, tv_nsec;
    } ts = {sec, nsec};
    return syscall(SYS_futex, addr, FUTEX_WAIT, expected, &ts, NULL, 0);
}

xipc_err xipc_plat_futex_wait(uint32_t *addr, uint32_t expected,
                              uint32_t timeout_us)
{
    long rc = futex_wait_call(addr, expected, timeout_us);
    if (rc == -1 && errno == ETIMEDOUT)
        return XIPC_ETIMEDOUT;
    return XIPC_OK; /* woken, value changed (EAGAIN) or signal (EINTR) */
}

void xipc_plat_futex_wake(uint32_t *addr)
{
    syscall(SYS_futex, addr, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}
