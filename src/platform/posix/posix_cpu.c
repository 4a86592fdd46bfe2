/* Processors for the POSIX port: spinning politely, yielding, counting. */
#define _GNU_SOURCE
#include <sched.h>
#include <unistd.h>

#include "core/platform.h"

uint32_t xipc_plat_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        return 1;
    return n > 4096 ? 4096u : (uint32_t)n;
}

void xipc_plat_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

void xipc_plat_yield(void)
{
    sched_yield();
}
