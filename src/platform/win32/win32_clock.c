/* The clock for the Windows port (deadlines on top of it: core/deadline.h). */
#include <windows.h>

#include "core/platform.h"

#ifndef CREATE_WAITABLE_TIMER_HIGH_RESOLUTION
#define CREATE_WAITABLE_TIMER_HIGH_RESOLUTION 0x00000002 /* Windows 10 1803 */
#endif

uint64_t xipc_plat_now_ns(void)
{
    static LARGE_INTEGER freq; /* fixed at boot: a benign race to set it */
    LARGE_INTEGER now;
    if (freq.QuadPart == 0)
        QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&now);
    uint64_t t = (uint64_t)now.QuadPart, f = (uint64_t)freq.QuadPart;
    return t / f * 1000000000u + t % f * 1000000000u / f;
}

void xipc_plat_sleep_us(uint32_t us)
{
    /* a waitable timer has 100 ns units; Sleep() only milliseconds */
    HANDLE t = CreateWaitableTimerExW(NULL, NULL, CREATE_WAITABLE_TIMER_HIGH_RESOLUTION,
                                      TIMER_ALL_ACCESS);
    if (t == NULL)
        t = CreateWaitableTimerW(NULL, TRUE, NULL); /* before Windows 10 1803 */
    LARGE_INTEGER due;
    due.QuadPart = -(LONGLONG)us * 10; /* relative */
    if (t != NULL && SetWaitableTimer(t, &due, 0, NULL, NULL, FALSE)) {
        WaitForSingleObject(t, INFINITE);
    } else {
        Sleep((us + 999u) / 1000u);
    }
    if (t != NULL)
        CloseHandle(t);
}
