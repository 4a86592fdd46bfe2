/* The processor count for the POSIX port. */
#define _GNU_SOURCE
#include <unistd.h>

#include "core/platform.h"

uint32_t xipc_plat_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        return 1;
    return n > 4096 ? 4096u : (uint32_t)n;
}
