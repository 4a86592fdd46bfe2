/* The clock for the POSIX port (deadlines on top of it: core/deadline.h). */
#define _GNU_SOURCE
#include <time.h>

#include "core/platform.h"

uint64_t xipc_plat_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void xipc_plat_sleep_us(uint32_t us)
{
    struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000};
    while (nanosleep(&ts, &ts) != 0)
        ;
}
