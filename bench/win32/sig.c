/* No SIGPIPE on Windows: a write to a closed pipe or socket fails with an
 * error there, which the drivers report (util.h). */
#include "harness/util.h"

void bench_sig_pipe(int on)
{
    (void)on;
}
