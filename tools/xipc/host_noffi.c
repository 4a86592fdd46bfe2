/*
 * The host of a build without libffi (tools/xipc/CMakeLists.txt): the
 * supervisor and the signatures work, the host says what is missing.
 */
#include <stdio.h>

#include "cli.h"
#include "host.h"

int host_serve(const host_cfg *cfg, const host_sigs *s)
{
    (void)s;
    fprintf(stderr, "xipc: host: %s: this xipc (%u-bit) was built without libffi: install "
                    "libffi-dev%s (scripts/deps.sh) and build it again\n",
            cfg->lib, (unsigned)(sizeof(void *) * 8), sizeof(void *) == 4 ? ":i386" : "");
    return CLI_EXIT_FAIL;
}
