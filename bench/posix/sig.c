/* SIGPIPE ignored while a suite runs (util.h). */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <string.h>

#include "harness/util.h"

static struct sigaction sig_old;

void bench_sig_pipe(int on)
{
    if (!on) {
        sigaction(SIGPIPE, &sig_old, NULL);
        return;
    }
    struct sigaction ign;
    memset(&ign, 0, sizeof(ign));
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &sig_old);
}
