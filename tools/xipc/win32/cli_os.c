/* What `xipc serve` asks of the OS: its name, a whole sleep. */
#include <stdio.h>

#include <windows.h>

#include "cli.h"

void cli_os_name(char *buf, size_t cap)
{
    if (cap > 0)
        snprintf(buf, cap, "windows");
}

void cli_nap_ms(long ms)
{
    Sleep((DWORD)ms);
}
