/*
 * `xipc bridge` in a build without libmosquitto (tools/xipc/CMakeLists.txt):
 * Windows, the m32 build (no libmosquitto-dev:i386), or a machine without
 * it. The command line is still checked; running says what is missing.
 */
#include <stdio.h>

#include "bridge.h"
#include "cli.h"

int bridge_run(const bridge_cfg *cfg)
{
#ifdef _WIN32
    fprintf(stderr, "xipc: bridge: %s: not available on Windows (this xipc was built "
                    "without libmosquitto)\n", cfg->mqtt_url);
#else
    fprintf(stderr, "xipc: bridge: %s: this xipc (%u-bit) was built without libmosquitto: "
                    "install libmosquitto-dev (scripts/deps.sh) and build it again\n",
            cfg->mqtt_url, (unsigned)(sizeof(void *) * 8));
#endif
    return CLI_EXIT_FAIL;
}
