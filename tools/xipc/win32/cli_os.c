/* The operating system's name for `xipc serve`'s sysinfo. */
#include <stdio.h>

#include "cli.h"

void cli_os_name(char *buf, size_t cap)
{
    if (cap > 0)
        snprintf(buf, cap, "windows");
}
