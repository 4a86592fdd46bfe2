/* xipc bench [ARGS...]: the benchmark harness of bench/, when built. */
#include <stdio.h>

#include "cli.h"
#include "cmd.h"

#ifdef XIPC_HAVE_BENCH
#include "bench.h"
#endif

const char cmd_bench_usage[] = "usage: xipc bench [ARGS...]  (xipc bench --help)";

int cmd_bench(int argc, char **argv)
{
#ifdef XIPC_HAVE_BENCH
    return xipc_bench_main(argc, argv); /* argv[0] is "bench" */
#else
    (void)argc;
    (void)argv;
    fprintf(stderr, "xipc: bench: not available: this xipc was built "
                    "without the xipc_bench library\n");
    return CLI_EXIT_FAIL;
#endif
}
