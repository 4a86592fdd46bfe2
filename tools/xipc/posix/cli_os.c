/* The operating system's name for `xipc serve`'s sysinfo (POSIX uname). */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdio.h>
#include <sys/utsname.h>

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
