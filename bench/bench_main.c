/* xipc-bench: xipc_bench_main as a program of its own, `xipc-bench shm`. */
#include "bench.h"

int main(int argc, char **argv)
{
    if (argc > 0)
        argv[0] = "bench";
    return xipc_bench_main(argc, argv);
}
