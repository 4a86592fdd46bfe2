/*
 * The xipc benchmark: one entry point, called by the CLI as
 * `xipc bench SUITE [OPTIONS]` and by the stand-alone xipc-bench program.
 */
#ifndef XIPC_BENCH_BENCH_H
#define XIPC_BENCH_BENCH_H

/*!
 * Run a benchmark suite.
 * @param argc  number of arguments
 * @param argv  argv[0] is "bench", argv[1] the suite ("shm"), then options:
 *              --json FILE, --quick (default), --full, --help
 * @return a process exit code: 0 ok (whether or not the targets were met),
 *         1 a measurement failed at run time, 2 usage error (a message
 *         "xipc: bench: <why>" went to stderr)
 */
int xipc_bench_main(int argc, char **argv);

#endif
