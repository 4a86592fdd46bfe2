/* xipc com-serve on a system without COM: a clear refusal (com.h). */
#include <stdio.h>

#include "cli.h"
#include "com.h"

int com_serve_run(const com_cfg *cfg)
{
    (void)cfg;
    fprintf(stderr, "xipc: com-serve: %s: COM is Windows only (use xipc.exe)\n",
            xipc_strerror(XIPC_ENOTSUP));
    return CLI_EXIT_FAIL;
}
