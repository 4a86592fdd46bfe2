/* Processors for the Windows port: spinning politely, yielding, counting. */
#include <windows.h>

#include "core/platform.h"

uint32_t xipc_plat_cpu_count(void)
{
    DWORD n = GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
    if (n < 1)
        return 1;
    return n > 4096 ? 4096u : (uint32_t)n;
}

void xipc_plat_cpu_relax(void)
{
    YieldProcessor();
}

void xipc_plat_yield(void)
{
    SwitchToThread();
}
