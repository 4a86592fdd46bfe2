/* Pid files (pidfile.h). */
#include <stdio.h>
#include <stdlib.h>

#include "core/pidfile.h"
#include "core/platform.h"

xipc_err xipc__pidfile_write(const char *path)
{
    char text[32];
    snprintf(text, sizeof(text), "%u\n", (unsigned)xipc_plat_getpid());
    return xipc_plat_textfile_write(path, text);
}

uint32_t xipc__pidfile_read(const char *path)
{
    char text[32];
    if (xipc_plat_textfile_read(path, text, sizeof(text)) != XIPC_OK)
        return 0;
    char *end;
    unsigned long v = strtoul(text, &end, 10);
    if (end == text || (*end != '\n' && *end != '\0') || v == 0 || v > 0x3fffffffu)
        return 0;
    return (uint32_t)v;
}
