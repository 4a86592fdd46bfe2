/* --plot on Windows: not yet (POSIX's draws through gnuplot(1) run by
 * system() from a mkdtemp(3) directory: posix/plot.c). */
#include "harness/runner.h"
#include "suites/compare.h"

int cmp_plot(const cmp_suite *s, const char *file)
{
    (void)s;
    (void)file;
    bench_set_error("--plot is not available here (POSIX only so far)");
    return -1;
}
