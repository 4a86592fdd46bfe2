/*
 * `xipc host` on Windows: not offered yet (docs/host.md, "Windows"). The
 * host would load a DLL of the other bitness through libffi, which is not
 * packaged for mingw-w64 here; the command says so instead of failing
 * in some other way.
 */
#include <stdio.h>
#include <windows.h>

#include "cli.h"
#include "host.h"

const char *host_self_path(void)
{
    return ""; /* never started: host_supervise says why */
}

long host_self_pid(void)
{
    return (long)GetCurrentProcessId();
}

int host_supervise(const host_cfg *cfg, char *const argv[])
{
    (void)argv;
    fprintf(stderr, "xipc: host: %s: xipc host is not offered on Windows yet "
                    "(no libffi for mingw-w64 here: docs/host.md)\n",
            cfg->lib);
    return CLI_EXIT_FAIL;
}
