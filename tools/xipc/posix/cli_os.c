/* What `xipc serve` asks of the OS: its name (uname), a whole sleep. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdio.h>
#include <sys/utsname.h>
#include <time.h>

#include "cli.h"

void cli_os_name(char *buf, size_t cap)
{
    struct utsname u;
    if (cap == 0)
        return;
    snprintf(buf, cap, "%s", uname(&u) >= 0 ? u.sysname : "unknown");
    for (char *p = buf; *p != '\0'; p++)
        *p = (char)tolower((unsigned char)*p);
}

void cli_nap_ms(long ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) /* a signal: sleep the rest */
        ;
}
