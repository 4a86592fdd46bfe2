/* One side of the cross-bitness test, built in every Linux configuration:
 *   xbit_peer listen|dial URL COUNT copy|zc [PEER_BITS] */
#include <stdlib.h>
#include <string.h>

#include "xbit.h"

int main(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    unsigned bits = argc > 5 ? (unsigned)strtoul(argv[5], NULL, 10) : 0;
    return xbit_run(argv[1], argv[2], strtol(argv[3], NULL, 10),
                    strcmp(argv[4], "zc") == 0, bits);
}
